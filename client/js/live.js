// The websocket to the server (docs: server/api/ws.py): hello with the last seq seen, watch
// the page's items, heartbeats while a page is held, gestures sent from the outbox and
// settled by ack / reject. On a lost connection it reconnects with backoff, resumes from
// the last seq (no gap, no duplicate) and sends again whatever was not acknowledged.

export class Live {
  constructor({ project, outbox, onFrame, onStatus, onSignedOut, heartbeatSeconds = 10 }) {
    this.project = project;
    this.outbox = outbox;
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.onSignedOut = onSignedOut;
    this.heartbeatMs = heartbeatSeconds * 1000;
    this.lastSeq = 0;
    this.watching = [];
    this.ws = null;
    this.ready = false;
    this.closed = false;
    this.retry = 0;
    this.holdsPage = false;
    this.waiters = [];
    this.onOffline = () => this.drop("offline");
    this.onOnline = () => this.reconnectSoon(0);
    window.addEventListener("offline", this.onOffline);
    window.addEventListener("online", this.onOnline);
    this.beat = setInterval(() => this.holdsPage && this.send({ type: "heartbeat" }), this.heartbeatMs);
  }

  connect() {
    if (this.closed) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    this.ws = ws;
    this.ready = false;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "hello", project: this.project, after: this.lastSeq, watch: this.watching }));
    };
    ws.onmessage = (m) => this.receive(m.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ready = false;
      this.status(false);
      this.reconnectSoon();
    };
    ws.onerror = () => {};
  }

  receive(text) {
    let frame;
    try { frame = JSON.parse(text); } catch { return; }
    if (frame.type === "event") this.lastSeq = Math.max(this.lastSeq, frame.data.seq);
    if (frame.type === "caught_up") {
      this.lastSeq = Math.max(this.lastSeq, frame.seq);
      this.ready = true;
      this.retry = 0;
      this.outbox.resetSent();
      this.status(true);
      this.flush();
      if (this.holdsPage) this.send({ type: "heartbeat" });
    }
    // The session ended (signed out everywhere, a new password, the user disabled): reconnecting
    // cannot help; what is still in the outbox is sent after the next sign-in.
    if (frame.type === "reject" && !frame.id && ["unauthorized", "forbidden"].includes(frame.error?.code) && frame.error?.field !== "project") {
      this.close();
      this.onSignedOut?.(frame.error.message);
      return;
    }
    if (frame.type === "ack" || frame.type === "reject") {
      const batch = frame.id ? this.outbox.settle(frame.id) : null;
      frame.batch = batch;
      this.settleWaiters();
    }
    this.onFrame(frame);
  }

  status(online) {
    this.onStatus?.({ online, pending: this.outbox.size });
  }

  /** Sends every batch not yet sent on this connection, in order. */
  flush() {
    if (!this.ready) { this.status(false); return; }
    for (const batch of this.outbox.unsent()) {
      this.ws.send(JSON.stringify({ type: "append", id: batch.id, item: batch.item, events: batch.events }));
      this.outbox.markSent(batch.id);
    }
    this.status(true);
  }

  send(message) {
    if (this.ready && this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  watch(items) {
    this.watching = [...items];
    this.send({ type: "watch", items: this.watching });
  }

  drop(reason) {
    if (!this.ws) return;
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    try { ws.close(4000, reason); } catch { /* already closed */ }
    this.status(false);
    if (reason !== "offline") this.reconnectSoon();
  }

  reconnectSoon(delay) {
    if (this.closed || this.timer) return;
    if (this.ws && this.ws.readyState <= WebSocket.OPEN && delay !== 0) return;
    const wait = delay ?? Math.min(8000, 300 * 2 ** this.retry++);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.closed) return;
      if (typeof navigator !== "undefined" && navigator.onLine === false) return; // "online" reconnects
      if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
      this.connect();
    }, wait);
  }

  /** Resolves once every queued gesture has been acknowledged (or refused). */
  drained(timeoutMs = 15000) {
    if (this.outbox.empty) return Promise.resolve(true);
    return new Promise((resolve) => {
      const entry = { resolve, timer: setTimeout(() => { this.waiters = this.waiters.filter((w) => w !== entry); resolve(false); }, timeoutMs) };
      this.waiters.push(entry);
    });
  }

  settleWaiters() {
    if (!this.outbox.empty) return;
    for (const w of this.waiters.splice(0)) { clearTimeout(w.timer); w.resolve(true); }
  }

  close() {
    this.closed = true;
    clearInterval(this.beat);
    clearTimeout(this.timer);
    window.removeEventListener("offline", this.onOffline);
    window.removeEventListener("online", this.onOnline);
    if (this.ws) { const ws = this.ws; this.ws = null; ws.close(1000, "leaving"); }
  }
}
