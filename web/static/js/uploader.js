// Sending a recording with the resumable, chunked upload API:
//   declare (size, SHA-256, type) -> PUT the chunks the server does not have -> complete.
// Any network failure just pauses: when the connection is back it asks the server which
// chunks arrived and sends only the rest. Permanent refusals (expired, already used ...)
// are thrown to the caller.
import { ApiError, NetworkError, api, isTransient } from './api.js';
import { putItem } from './outbox.js';

export const CHUNK_TIMEOUT_MS = 60_000;
export const MAX_BACKOFF_MS = 30_000;
export const ONLINE_RECHECK_MS = 15_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function sha256Hex(blob) {
  if (!(crypto && crypto.subtle)) return null;
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Resolves when the browser says it is online again (or after a while, to re-check). */
export function waitForOnline() {
  if (navigator.onLine) return sleep(1000);
  return new Promise((resolve) => {
    const done = () => { window.removeEventListener('online', done); clearTimeout(timer); resolve(); };
    const timer = setTimeout(done, ONLINE_RECHECK_MS);
    window.addEventListener('online', done);
  });
}

function putChunk(url, blob, headers, onLoaded) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.timeout = CHUNK_TIMEOUT_MS;
    Object.entries(headers).forEach(([k, v]) => xhr.setRequestHeader(k, v));
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (event) => onLoaded(event.loaded);
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else {
        const error = (data && data.error) || {};
        reject(new ApiError(xhr.status, error.code || `http_${xhr.status}`, error.message, error));
      }
    };
    xhr.onerror = () => reject(new NetworkError('connection lost'));
    xhr.ontimeout = () => reject(new NetworkError('timed out'));
    xhr.onabort = () => reject(new NetworkError('aborted'));
    xhr.send(blob);
  });
}

/**
 * Send one outbox item; resolves with the attempt.
 * onProgress(fraction 0..1), onState('sending' | 'offline' | 'retrying').
 */
export async function sendRecording(item, { onProgress = () => {}, onState = () => {} } = {}) {
  const headers = { 'X-Session-Nonce': item.session.nonce };
  const size = item.blob.size;
  let backoff = 1000;
  let soft = 0; // retries after the server said "not yet" or "send that chunk again"
  if (!item.sha256) {
    item.sha256 = await sha256Hex(item.blob);
    await putItem(item);
  }
  for (;;) {
    try {
      if (!navigator.onLine) throw new NetworkError('offline');
      onState('sending');
      let upload = null;
      if (item.uploadId) {
        try {
          upload = await api('GET', `/v1/uploads/${item.uploadId}`, { headers });
        } catch (error) {
          if (!(error instanceof ApiError && error.code === 'upload_not_found')) throw error;
          item.uploadId = null; // purged on the server: declare it again
        }
      }
      if (!upload) {
        upload = await api('POST', item.session.uploads_url, {
          headers, json: { size_bytes: size, sha256: item.sha256, content_type: item.mimeType || 'video/webm' },
        });
        item.uploadId = upload.id;
        await putItem(item);
      }
      if (upload.status !== 'complete') {
        const have = new Set(upload.received);
        let done = upload.received_bytes;
        onProgress(done / size);
        for (let index = 0; index < upload.chunk_count; index += 1) {
          if (have.has(index)) continue;
          const start = index * upload.chunk_bytes;
          const part = item.blob.slice(start, Math.min(size, start + upload.chunk_bytes));
          const url = upload.chunk_url.replace('{index}', String(index));
          await putChunk(url, part, headers, (loaded) => onProgress(Math.min(1, (done + loaded) / size)));
          done += part.size;
          onProgress(done / size);
          backoff = 1000;
        }
      }
      onProgress(1);
      return await api('POST', upload.complete_url, { headers });
    } catch (error) {
      if (error instanceof ApiError && ['upload_incomplete', 'chunk_checksum_mismatch', 'chunk_size_mismatch', 'upload_complete'].includes(error.code)) {
        soft += 1;
        if (soft <= 5) continue; // ask the server again what it has, and go on from there
        throw error;
      }
      if (!isTransient(error)) throw error;
      if (!navigator.onLine) {
        onState('offline');
        await waitForOnline();
      } else {
        onState('retrying');
        await sleep(backoff);
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }
  }
}
