// The gestures made but not yet acknowledged, in order, kept in (injected) storage so that a
// lost connection, or even a reload, loses nothing. Each batch keeps its event ids: sending
// it again after a reconnect is harmless, the server answers a known id with its original
// result, so every gesture lands exactly once.

let counter = 0;

/** A fresh id for an event or a batch (the server's pattern: [A-Za-z0-9][A-Za-z0-9_.:-]*). */
export function newId(prefix = "e") {
  const c = globalThis.crypto;
  const rand = c && c.randomUUID ? c.randomUUID().replaceAll("-", "")
    : Math.random().toString(36).slice(2) + Date.now().toString(36);
  counter = (counter + 1) % 1e6;
  return `${prefix}${rand.slice(0, 20)}${counter.toString(36)}`;
}

export class Outbox {
  /** `storage` is a Storage-like object (getItem / setItem / removeItem) or null. */
  constructor(storage = null, key = "annolog-outbox") {
    this.storage = storage;
    this.key = key;
    this.batches = [];
    this.sent = new Set();
    this.load();
  }

  load() {
    if (!this.storage) return;
    try {
      const raw = this.storage.getItem(this.key);
      this.batches = raw ? JSON.parse(raw) : [];
    } catch {
      this.batches = [];
    }
  }

  save() {
    if (!this.storage) return;
    if (this.batches.length) this.storage.setItem(this.key, JSON.stringify(this.batches));
    else this.storage.removeItem(this.key);
  }

  /** Queues the gestures on one item as one batch; returns the batch with its event ids. */
  add(item, events) {
    const batch = {
      id: newId("b"),
      item,
      events: events.map((event) => ({ event_id: event.event_id ?? newId(), event: stripId(event) })),
    };
    this.batches.push(batch);
    this.save();
    return batch;
  }

  /** Batches not yet sent on the current connection. */
  unsent() {
    return this.batches.filter((b) => !this.sent.has(b.id));
  }

  markSent(id) { this.sent.add(id); }

  /** A new connection: everything unacknowledged goes again. */
  resetSent() { this.sent.clear(); }

  /** Removes an acknowledged (or refused) batch; returns it. */
  settle(id) {
    const index = this.batches.findIndex((b) => b.id === id);
    if (index < 0) return null;
    const [batch] = this.batches.splice(index, 1);
    this.sent.delete(id);
    this.save();
    return batch;
  }

  get size() { return this.batches.reduce((n, b) => n + b.events.length, 0); }

  get empty() { return this.batches.length === 0; }

  /** Event ids still waiting (to tell our own echoes from others' events). */
  pendingIds() {
    const ids = new Set();
    for (const b of this.batches) for (const e of b.events) ids.add(e.event_id);
    return ids;
  }
}

function stripId(event) {
  const { event_id: _ignored, ...rest } = event;
  return rest;
}
