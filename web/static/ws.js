// A WebSocket that reconnects with exponential backoff and jitter.
//
// States reported to onState: "connecting", "open", "closed" (will retry,
// with the delay in ms as second argument) and "stopped" (close() called).
// The URL is rebuilt by urlFn on every attempt so a changed token applies.

const minDelay = 500;   // ms before the first retry
const maxDelay = 10000; // ms cap between retries

export class Conn {
  /**
   * @param {() => string} urlFn  builds the URL for each attempt
   * @param {{onMessage?: (msg: any) => void, onState?: (state: string, delay?: number) => void}} h
   */
  constructor(urlFn, h = {}) {
    this.urlFn = urlFn;
    this.onMessage = h.onMessage || (() => {});
    this.onState = h.onState || (() => {});
    this.ws = null;
    this.attempt = 0;
    this.timer = 0;
    this.stopped = false;
    this.lastClose = null;
    queueMicrotask(() => this.connect()); // callbacks never run inside the constructor
  }

  connect() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.onState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.urlFn());
    } catch (e) {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => { this.attempt = 0; this.onState('open'); };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (msg && typeof msg === 'object') this.onMessage(msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.lastClose = ev;
      this.retry();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  retry() {
    if (this.stopped) return;
    const base = Math.min(maxDelay, minDelay * 2 ** this.attempt);
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt++;
    this.onState('closed', delay);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Reconnect now (for example after the token changed). */
  reconnect() {
    this.attempt = 0;
    if (this.ws) { const ws = this.ws; this.ws = null; ws.close(); }
    this.connect();
  }

  get open() { return !!this.ws && this.ws.readyState === WebSocket.OPEN; }

  /** Send obj as JSON; false when not connected or the socket is backed up. */
  send(obj) {
    if (!this.open) return false;
    if (this.ws.bufferedAmount > 64 * 1024) return false; // do not queue stale commands
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) { const ws = this.ws; this.ws = null; ws.close(); }
    this.onState('stopped');
  }
}
