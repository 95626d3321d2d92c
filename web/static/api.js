// REST access, the operator token and short-lived messages.
//
// The token comes from ?token= in the page URL (then removed from the address
// bar) or from the settings box, and lives in localStorage. REST calls carry
// it as "Authorization: Bearer"; WebSocket URLs carry it as ?token=.

const tokenKey = 'tandem.token';
const listeners = new Set();
let memoryToken = '';
// rejected is the stored token the server answered 401 to. While it is
// the stored token the console sends none and falls back to read-only
// viewing; saving another token (or the same one again) tries it afresh.
let rejected = '';

/** The token the user saved (shown in the settings box), or "". */
export function storedToken() {
  try { return localStorage.getItem(tokenKey) || memoryToken; } catch { return memoryToken; }
}

/**
 * The operator token the console sends, or "" for a read-only viewer: no
 * token saved, or the saved one was rejected by the server.
 */
export function token() {
  const t = storedToken();
  return t && t !== rejected ? t : '';
}

/** "operator", "viewer" (no token) or "rejected" (the server refused the saved token). */
export function authState() {
  const t = storedToken();
  if (!t) return 'viewer';
  return t === rejected ? 'rejected' : 'operator';
}

/** Store (or with "" forget) the token and notify listeners. */
export function setToken(t) {
  t = (t || '').trim();
  rejected = '';
  memoryToken = '';
  try {
    if (t) localStorage.setItem(tokenKey, t); else localStorage.removeItem(tokenKey);
  } catch { /* private mode: keep it for this page only */ memoryToken = t; }
  for (const f of listeners) f(t);
}

// tokenRejected marks t rejected and tells listeners (the console remounts
// its view read-only, so every socket reconnects without the token).
function tokenRejected(t) {
  if (!t || rejected === t) return;
  rejected = t;
  for (const f of listeners) f('');
}

/** Call f(token) whenever the token changes. */
export function onToken(f) { listeners.add(f); return () => listeners.delete(f); }

/**
 * Move ?token=… (and ?operator=NAME) from the page URL into storage, so the
 * token does not linger in the address bar or history.
 */
export function adoptURLToken() {
  const u = new URL(location.href);
  const t = u.searchParams.get('token');
  const n = u.searchParams.get('operator');
  if (t === null && n === null) return;
  if (n !== null) setOperatorName(n);
  if (t !== null) setToken(t);
  u.searchParams.delete('token');
  u.searchParams.delete('operator');
  history.replaceState(null, '', u.pathname + u.search + u.hash);
}

const netListeners = new Set();
let lastNet = '';
/** Call f(state) when server reachability (REST or the open session's socket) changes: online, offline, unauthorized, error. */
export function onNet(f) { netListeners.add(f); if (lastNet) f(lastNet); }
export function netState(s) {
  if (s === lastNet) return;
  lastNet = s;
  for (const f of netListeners) f(s);
}

/** Error carrying the HTTP status and the server's message. */
export class APIError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

/**
 * fetch JSON from the API. body (if any) is sent as JSON. Throws APIError with
 * the server's {"error": "..."} text on a non-2xx answer.
 */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const t = token();
  if (t) headers.Authorization = 'Bearer ' + t;
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
    if (res.status === 401 && t) {
      // A wrong token: watch read-only instead of failing every request.
      tokenRejected(t);
      delete headers.Authorization;
      if (method === 'GET') res = await fetch(path, init);
    }
  } catch (e) {
    netState('offline');
    throw new APIError(0, 'network error: ' + e.message);
  }
  netState(res.status === 401 ? 'unauthorized' : res.status >= 500 ? 'error' : 'online');
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!res.ok) {
    const msg = (data && (data.error || data.message)) || (typeof data === 'string' && data) || res.statusText;
    throw new APIError(res.status, `${method} ${path}: ${res.status} ${msg}`);
  }
  return data;
}

/** Build a query string from an object, skipping empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== '' && v !== undefined && v !== null) q.set(k, v);
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

const nameKey = 'tandem.operator';

/** The operator's display name (sent as ?operator= on WebSockets), or "". */
export function operatorName() {
  try { return localStorage.getItem(nameKey) || ''; } catch { return ''; }
}

/** Store the operator name (letters, digits, -_.@; at most 64). */
export function setOperatorName(n) {
  n = (n || '').replace(/[^A-Za-z0-9_.@-]/g, '').slice(0, 64);
  try { if (n) localStorage.setItem(nameKey, n); else localStorage.removeItem(nameKey); } catch { /* ignore */ }
  return n;
}

/**
 * Absolute ws:// or wss:// URL for path, with the token (and operator name)
 * appended. opts.viewer asks for a read-only connection (role=viewer; the
 * token still goes along because off-loopback servers require it to watch).
 */
export function wsURL(path, opts = {}) {
  const u = new URL(path, location.href);
  u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const t = token();
  if (t) u.searchParams.set('token', t);
  if (opts.viewer) {
    u.searchParams.set('role', 'viewer');
  } else {
    const n = operatorName();
    if (t && n) u.searchParams.set('operator', n);
  }
  return u.toString();
}

/** Add the token to a download link (exports are plain GETs). */
export function withToken(path) {
  const t = token();
  if (!t) return path;
  const u = new URL(path, location.href);
  u.searchParams.set('token', t);
  return u.pathname + u.search;
}

/** Show a message for a few seconds. kind: "info" | "error". */
export function toast(msg, kind = 'info', ms = 4000) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const el = document.createElement('div');
  el.className = 'toast ' + kind;
  el.textContent = msg;
  box.append(el);
  while (box.children.length > 5) box.firstChild.remove();
  setTimeout(() => el.remove(), ms);
}

/** Clone a <template> by id and return its first element. */
export function fromTemplate(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

/** Format a number with d decimals, or "–" when absent. */
export function fmt(v, d = 2) {
  return typeof v === 'number' && isFinite(v) ? v.toFixed(d) : '–';
}

/**
 * A time (RFC 3339 string or milliseconds) as a short local date and time:
 * "" when absent or Go's zero time, the value itself when unreadable.
 */
export function when(v) {
  if (!v) return '';
  const d = new Date(typeof v === 'number' ? v : String(v));
  if (isNaN(d)) return String(v);
  if (d.getFullYear() < 2000) return '';
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
