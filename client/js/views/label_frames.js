// What the labeling screen does with the server's frames: events on the page's items (the
// assistant's proposals, other labelers' strokes, our own from another tab), page changes and
// notices from the queue, progress, presence, the lease, and the connection's state.
import { app, notify, banner } from "../app.js";
import { applyGesture, isDrawingGesture, emptyDraft } from "../draft.js";

/** Acts on one frame from the live connection. */
export function handleFrame(s, f) {
  switch (f.type) {
    case "event": return itemEvent(s, f.data);
    case "ack":
      if (f.batch?.resent) s.refresh(f.batch.item);
      return s.updateFooter();
    case "reject": {
      const item = f.batch?.item;
      notify(f.error?.message || "The server refused a gesture.", "error", { timeout: 8000 });
      if (item) s.refresh(item);
      return s.updateFooter();
    }
    case "page": return pageFrame(s, f);
    case "notice": return notice(s, f);
    case "progress":
      s.page.counts = f.counts;
      s.updateHead();
      if (s.page.finished && f.counts.open > f.counts.held) retryFinished(s);
      return;
    case "presence": {
      const item = f.stream.slice(`item-${s.projectId}-`.length);
      s.viewers.set(item, f.viewers.filter((v) => v !== s.me));
      s.view?.presence?.(item);
      return s.updateHead();
    }
    case "lease":
      s.page.lease_until = f.lease_until;
      return s.updateHead();
    default:
  }
}

function itemEvent(s, r) {
  const prefix = `item-${s.projectId}-`;
  if (r.event.type === "queue.session_expired" && r.event.session_id === app.me.session) {
    if (s.page.items.length) notice(s, { kind: "reassigned", message: "Your lease lapsed while you were away: your page went back to the queue and may be handed to someone else." });
    return;
  }
  if (!r.stream.startsWith(prefix)) return;
  const item = r.stream.slice(prefix.length);
  if (!s.page.items.includes(item)) return;
  if (r.seq <= (s.knownSeq.get(item) ?? 0)) return;
  s.knownSeq.set(item, r.seq);
  if (s.myIds.has(r.event_id)) return; // our own gesture, already drawn
  const type = r.event.type;
  if (type === "assist.prelabel_proposed") {
    const p = s.proposals.get(item) || { proposals: {} };
    p.latest = r.event_id;
    p.proposals = { ...p.proposals, [r.event_id]: r.event };
    s.proposals.set(item, p);
    notify("The assistant proposed labels for an item on your page.", "info", { id: "prelabel" });
    s.view?.changed(item, {});
    return;
  }
  if (r.actor === s.me || !isDrawingGesture(type)) { s.refresh(item); return; }
  const others = s.others.get(item) || new Map();
  if (!others.has(r.actor)) others.set(r.actor, emptyDraft());
  applyGesture(others.get(r.actor), r.event, s.multi);
  s.others.set(item, others);
  s.view?.changed(item, { others: true, event: r.event, actor: r.actor });
}

function pageFrame(s, f) {
  s.page.counts = f.counts;
  s.page.lease_until = f.lease_until;
  const same = f.items.length === s.page.items.length && f.items.every((i) => s.page.items.includes(i));
  if (!same && !s.busy) {
    const lost = s.page.items.filter((i) => !f.items.includes(i));
    if (lost.length && !f.items.length) {
      s.page.items = [];
      s.lostPage = true;
      s.render();
    } else {
      s.takePage({ ...s.page, items: f.items }).then(() => s.render());
    }
  }
  s.updateHead();
}

function notice(s, f) {
  if (f.kind === "reassigned") {
    s.lostPage = true;
    notify(f.message, "warn", { timeout: 0, id: "reassigned", action: { label: "Get a new page", run: () => s.nextPage() } });
  } else if (f.kind === "lease_warning") {
    notify(f.message, "warn", { id: "lease", timeout: 8000 });
  } else if (f.kind !== "finished") {
    notify(f.message, "info");
  }
}

async function retryFinished(s) {
  if (s.retrying || Date.now() - (s.lastRetry || 0) < 2000) return;
  s.retrying = true;
  s.lastRetry = Date.now();
  try {
    const answer = await s.nextPage();
    if (answer.items.length) notify("Items came back to the queue: they are on your page now.", "info", { id: "handed" });
  } finally {
    s.retrying = false;
  }
}

/** Shows the connection's state; gestures made while offline are resent when it is back. */
export function connectionChanged(s, { online, pending }) {
  if (online) banner(null);
  else banner(`Connection lost — reconnecting. ${pending ? `${pending} gesture${pending > 1 ? "s" : ""} kept here, sent when back.` : "Your work so far is saved."}`, "warn");
  if (!online) for (const b of s.outbox.batches) b.resent = true;
  s.updateFooter();
}
