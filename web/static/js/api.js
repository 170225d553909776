// Calls to the JSON API. Errors come back as ApiError (status + stable code) or
// NetworkError (no answer at all: offline, dropped connection).
import { has, t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

export class NetworkError extends Error {}

/** The CSRF double-submit header staff requests need (the cookie's value). */
export function csrfHeader() {
  const match = document.cookie.match(/(?:^|;\s*)certify_csrf=([^;]+)/);
  return match ? { 'X-CSRF-Token': decodeURIComponent(match[1]) } : {};
}

async function request(method, url, { json, headers = {}, body } = {}) {
  const sendHeaders = { Accept: 'application/json', ...headers };
  if (json !== undefined) sendHeaders['Content-Type'] = 'application/json';
  if (method !== 'GET') Object.assign(sendHeaders, csrfHeader());
  let response;
  try {
    response = await fetch(url, {
      method, headers: sendHeaders, credentials: 'same-origin',
      body: json !== undefined ? JSON.stringify(json) : body,
    });
  } catch (error) {
    throw new NetworkError(String(error));
  }
  if (!response.ok) {
    const data = parseJson(await response.text());
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || `http_${response.status}`, error.message, error);
  }
  return response;
}

function parseJson(text) {
  try { return text ? JSON.parse(text) : null; } catch (e) { return null; }
}

/** The API's JSON answer (null when there is none). */
export async function api(method, url, options) {
  const response = await request(method, url, options);
  return parseJson(await response.text());
}

/** A file the API answers with (an export), as a Blob; errors as for api(). */
export async function apiBlob(method, url, options) {
  const response = await request(method, url, options);
  return response.blob();
}

/** Errors a retry may fix (nothing reached the server, or the server was busy). */
export function isTransient(error) {
  if (error instanceof NetworkError) return true;
  return error instanceof ApiError && (error.status >= 500 || error.status === 408 || error.status === 429);
}

/** The catalogue key of what to tell a person about an error. */
export function errorKey(error) {
  if (error instanceof NetworkError) return 'error.network';
  if (error instanceof ApiError && has(`error.${error.code}`)) return `error.${error.code}`;
  if (error instanceof ApiError && has(`reason.${error.code}.advice`)) return `reason.${error.code}.advice`;
  return 'common.error_generic';
}

/** What to tell a person about an error, in their language. */
export function errorText(error) { return t(errorKey(error)); }

export function deviceId() {
  const key = 'certify.deviceId';
  try {
    let id = localStorage.getItem(key);
    if (!id) {
      id = (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`).slice(0, 36);
      localStorage.setItem(key, id);
    }
    return id;
  } catch (e) {
    return 'no-storage';
  }
}
