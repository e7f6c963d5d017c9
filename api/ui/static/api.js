/**
 * Calls to the Larder API from the page: the API key (if auth is on) is kept for the browser
 * session and sent as `x-api-key`; failures become `ApiError`s carrying the server's
 * `{error: {code, message, hint}}` so the page can show them.
 */
const KEY = 'larder.apiKey';

export class ApiError extends Error {
  constructor(code, message, hint, status) {
    super(message);
    this.code = code;
    this.hint = hint;
    this.status = status;
  }
}

export const apiKey = () => sessionStorage.getItem(KEY) ?? '';
export const setApiKey = (k) =>
  k ? sessionStorage.setItem(KEY, k) : sessionStorage.removeItem(KEY);

/** GET (no body) or POST (JSON body) `path`; resolves with the parsed JSON. */
export async function api(path, body) {
  const headers = { accept: 'application/json' };
  if (apiKey()) headers['x-api-key'] = apiKey();
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method: body === undefined ? 'GET' : 'POST',
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(
      'NETWORK',
      `cannot reach the server: ${e.message}`,
      'is larder serve running?',
    );
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below
  }
  if (!res.ok) {
    // Feast's routes (/get-online-features) answer Feast's error detail, a JSON string.
    let e = json?.error ?? {};
    if (typeof json === 'string') {
      try {
        e = JSON.parse(json);
      } catch {
        e = {};
      }
    }
    throw new ApiError(
      e.code ?? `HTTP ${res.status}`,
      e.message ?? (text.slice(0, 200) || res.statusText),
      e.hint ?? (res.status === 401 ? 'enter an API key with the "read" scope above' : undefined),
      res.status,
    );
  }
  if (json === null) throw new ApiError('BAD_RESPONSE', `${path} did not return JSON`);
  return json;
}
