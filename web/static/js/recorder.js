// MediaRecorder with a container the browser supports: WebM (VP8/Opus) on Chrome and
// Android, MP4 (H.264/AAC) on Safari and iOS. The server accepts both.

export const MIME_CANDIDATES = [
  'video/webm;codecs=vp8,opus',
  'video/webm;codecs=vp8',
  'video/webm',
  'video/mp4;codecs=avc1.42E01E,mp4a.40.2',
  'video/mp4;codecs=avc1.42E01E',
  'video/mp4',
];

export const VIDEO_BITS_PER_SECOND = 1_000_000;
// ~1 MB for 8 s at 640x480: enough detail for the face checks, small for slow networks.

export function canRecord() { return 'MediaRecorder' in window; }

export function pickMimeType() {
  if (!canRecord() || typeof MediaRecorder.isTypeSupported !== 'function') return '';
  return MIME_CANDIDATES.find((type) => MediaRecorder.isTypeSupported(type)) || '';
}

/** Start recording; returns { mimeType, stop() -> Promise<Blob> }. */
export function startRecording(stream) {
  const mimeType = pickMimeType();
  const options = { videoBitsPerSecond: VIDEO_BITS_PER_SECOND };
  if (mimeType) options.mimeType = mimeType;
  const recorder = new MediaRecorder(stream, options);
  const parts = [];
  recorder.addEventListener('dataavailable', (event) => { if (event.data && event.data.size) parts.push(event.data); });
  const stopped = new Promise((resolve, reject) => {
    recorder.addEventListener('stop', () => resolve(new Blob(parts, { type: (recorder.mimeType || mimeType || 'video/webm') })));
    recorder.addEventListener('error', (event) => reject(event.error || new Error('recording failed')));
  });
  recorder.start(1000);
  return {
    mimeType: recorder.mimeType || mimeType,
    stop() { if (recorder.state !== 'inactive') recorder.stop(); return stopped; },
  };
}
