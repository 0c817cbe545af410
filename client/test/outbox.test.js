import { test } from "node:test";
import assert from "node:assert/strict";
import { Outbox, newId } from "../js/outbox.js";
import { isTyping, keyName, tagForKey } from "../js/keys.js";

class MemoryStorage {
  constructor() { this.data = new Map(); }
  getItem(k) { return this.data.has(k) ? this.data.get(k) : null; }
  setItem(k, v) { this.data.set(k, String(v)); }
  removeItem(k) { this.data.delete(k); }
}

test("ids match the server's pattern and differ", () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newId()));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/);
});

test("batches survive a reload and are resent after a reconnect until acknowledged", () => {
  const storage = new MemoryStorage();
  const box = new Outbox(storage, "k");
  const a = box.add("item1", [{ type: "annotation.tag_applied", tag: "x" }]);
  const b = box.add("item2", [{ type: "annotation.tag_applied", tag: "y" }, { type: "annotation.tag_cleared", tag: "y" }]);
  assert.equal(box.size, 3);
  box.markSent(a.id);
  assert.deepEqual(box.unsent().map((x) => x.id), [b.id]);
  const reloaded = new Outbox(storage, "k");
  assert.deepEqual(reloaded.batches, box.batches);
  reloaded.resetSent();
  assert.equal(reloaded.unsent().length, 2);
  assert.deepEqual(reloaded.settle(a.id).events, a.events);
  assert.equal(reloaded.settle(a.id), null);
  assert.ok(reloaded.pendingIds().has(b.events[1].event_id));
  reloaded.settle(b.id);
  assert.ok(reloaded.empty);
  assert.equal(storage.getItem("k"), null);
});

test("shortcuts never fire while typing and keys are named consistently", () => {
  assert.ok(isTyping({ tagName: "INPUT", type: "text" }));
  assert.ok(isTyping({ tagName: "TEXTAREA" }));
  assert.ok(isTyping({ tagName: "DIV", isContentEditable: true }));
  assert.ok(!isTyping({ tagName: "INPUT", type: "checkbox" }));
  assert.ok(!isTyping({ tagName: "CANVAS" }));
  assert.equal(keyName({ key: "Z", ctrlKey: true, shiftKey: true }), "ctrl+shift+z");
  assert.equal(keyName({ key: "?", shiftKey: true }), "?");
  assert.equal(keyName({ key: "Enter", metaKey: true }), "ctrl+enter");
  assert.equal(keyName({ key: "Delete", shiftKey: true }), "shift+delete");
  const tags = [{ name: "0", key: null }, { name: "a", key: 1 }];
  assert.equal(tagForKey("1", tags).name, "a");
  assert.equal(tagForKey("x", tags), null);
});
