// The labeling screen: the page from the work queue, the live connection, drafts kept in step
// with the log, undo/redo through the server's history, submit and skip. The per-type views
// (classify.js, editor.js, ner.js) draw and turn gestures into events through `gesture`.
import { api, projectPath, itemPath, ApiError } from "../api.js";
import { h, mount, kbd, swatch, inkOn } from "../dom.js";
import { app, notify, banner, go, toggleHelp, confirmDialog } from "../app.js";
import { Outbox, newId } from "../outbox.js";
import { Live } from "../live.js";
import { tagForKey } from "../keys.js";
import { CLASSIFICATION, MULTI_LABEL, draftFromJson, applyGesture, isDrawingGesture, incompleteReason, emptyDraft } from "../draft.js";
import { TYPE_NAMES, instructionsDialog } from "./projects.js";

const LAYOUTS = [1, 4, 9, 16];

export async function label(projectId) {
  const session = new LabelSession(projectId);
  await session.start();
  return session;
}

class LabelSession {
  constructor(projectId) {
    this.projectId = projectId;
    this.me = app.me.user;
    this.outbox = new Outbox(localStorage, `annolog-outbox:${this.me}:${projectId}`);
    this.page = { items: [], counts: {}, lease_until: null, finished: false };
    this.items = new Map(); // item → ImportedItem
    this.mine = new Map(); // item → my draft
    this.others = new Map(); // item → Map(labeler → draft)
    this.proposals = new Map(); // item → {latest, proposals}
    this.knownSeq = new Map(); // item → last seq folded into what we show
    this.viewers = new Map(); // item → other viewers
    this.myIds = new Set();
    this.stackKey = `annolog-undo:${this.me}:${projectId}`;
    this.currentTag = null;
    this.view = null;
    this.busy = false;
    this.el = h("section", { class: "label-screen" });
  }

  async start() {
    this.project = await api.get(projectPath(this.projectId));
    this.type = this.project.project_type;
    this.multi = MULTI_LABEL.has(this.type);
    this.tags = this.project.tags;
    const layout = Number(localStorage.getItem(`annolog-layout:${this.projectId}`)) || null;
    const answer = await api.post(`${projectPath(this.projectId)}/page`, CLASSIFICATION.has(this.type) && layout ? { page_size: layout } : {});
    await this.takePage(answer);
    const beat = Math.max(2, Math.min(10, this.project.lease_seconds / 4));
    this.live = new Live({
      project: this.projectId, outbox: this.outbox, heartbeatSeconds: beat,
      onFrame: (f) => this.frame(f), onStatus: (s) => this.connection(s),
    });
    this.live.lastSeq = answer.seq;
    this.live.watching = [...this.page.items];
    this.live.holdsPage = this.page.items.length > 0;
    this.live.connect();
  }

  mounted() { this.render(); }

  async destroy() {
    this.live?.close();
    this.view?.destroy?.();
    banner(null);
  }

  // The page and the items' state.

  async takePage(answer) {
    this.page = answer;
    const items = answer.items;
    await Promise.all(items.map((item) => this.loadItem(item)));
    for (const batch of this.outbox.batches) {
      batch.resent = true; // made before this page load: the state may already hold it
      const draft = this.mine.get(batch.item);
      if (!draft) continue;
      for (const e of batch.events) { applyGesture(draft, e.event, this.multi); this.myIds.add(e.event_id); }
    }
    if (this.live) {
      this.live.holdsPage = items.length > 0;
      this.live.watch(items);
    }
  }

  async loadItem(item) {
    const state = await api.get(`${itemPath(this.projectId, item)}/state`);
    this.items.set(item, state.item);
    this.mine.set(item, draftFromJson(state.drafts[this.me]));
    const others = new Map();
    for (const [who, d] of Object.entries(state.drafts)) if (who !== this.me) others.set(who, draftFromJson(d));
    this.others.set(item, others);
    this.proposals.set(item, { latest: state.latest_proposal, proposals: state.proposals, taken: !!state.drafts[this.me]?.prelabel });
    this.knownSeq.set(item, state.last_seq);
    this.undoTargets = { ...(this.undoTargets || {}), [item]: { undo: state.undo[this.me], redo: state.redo[this.me] } };
  }

  async refresh(item) {
    if (!this.page.items.includes(item)) return;
    await this.loadItem(item);
    for (const batch of this.outbox.batches.filter((b) => b.item === item)) {
      for (const e of batch.events) applyGesture(this.mine.get(item), e.event, this.multi);
    }
    this.view?.changed(item, { reload: true });
    this.updateFooter();
  }

  async nextPage(body = {}) {
    const answer = await api.post(`${projectPath(this.projectId)}/page`, body);
    await this.takePage(answer);
    this.render();
    return answer;
  }

  // Gestures.

  /** Records gestures on an item: applied here at once, queued, sent, acknowledged. */
  gesture(item, events) {
    if (!events.length) return;
    const draft = this.mine.get(item) ?? emptyDraft();
    this.mine.set(item, draft);
    const withIds = events.map((event) => ({ ...event, event_id: newId() }));
    for (const e of withIds) {
      this.myIds.add(e.event_id);
      if (isDrawingGesture(e.type)) applyGesture(draft, e, this.multi);
    }
    this.outbox.add(item, withIds);
    this.pushUndo([item]);
    this.live?.flush();
    this.view?.changed(item, {});
    this.updateFooter();
  }

  /** Gestures on several items as one undo step (a tag applied to a selection). */
  gestureMany(list) {
    const items = [...new Set(list.map((g) => g.item))];
    for (const item of items) this.gesture(item, list.filter((g) => g.item === item).map((g) => g.event));
    if (items.length > 1) {
      const stack = this.stack();
      stack.undo.splice(-items.length, items.length, items);
      this.saveStack(stack);
    }
  }

  stack() {
    try { return JSON.parse(sessionStorage.getItem(this.stackKey)) || { undo: [], redo: [] }; } catch { return { undo: [], redo: [] }; }
  }

  saveStack(s) { sessionStorage.setItem(this.stackKey, JSON.stringify({ undo: s.undo.slice(-200), redo: s.redo.slice(-200) })); }

  pushUndo(items) {
    const s = this.stack();
    s.undo.push(items);
    s.redo = [];
    this.saveStack(s);
  }

  /** Undo (or redo) through the server's history: the labeler's latest gesture on the items of
   * the last step, or on the item in view when this tab has no steps (e.g. after a reload). */
  undo(redo = false) {
    // Presses queue up: two quick Ctrl+Z undo two gestures, in order.
    this.undoChain = (this.undoChain || Promise.resolve()).then(() => this.undoOnce(redo));
    return this.undoChain;
  }

  async undoOnce(redo) {
    this.busy = true;
    try {
      await this.live.drained();
      const s = this.stack();
      const from = redo ? s.redo : s.undo;
      let items = from.pop()?.filter((i) => this.page.items.includes(i));
      if (!items?.length) items = this.view?.focusItems?.() ?? [];
      if (!items.length) { notify(`Nothing to ${redo ? "redo" : "undo"}.`); return; }
      let done = 0;
      for (const item of items) {
        try {
          await api.post(`${itemPath(this.projectId, item)}/${redo ? "redo" : "undo"}`);
          done++;
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 409)) throw e;
        }
        await this.refresh(item);
      }
      if (done) (redo ? s.undo : s.redo).push(items);
      this.saveStack(s);
      if (!done) notify(`Nothing to ${redo ? "redo" : "undo"} here.`);
    } catch (e) {
      notify(e.message, "error");
    } finally {
      this.busy = false;
    }
  }

  // Frames from the server.

  frame(f) {
    switch (f.type) {
      case "event": return this.event(f.data);
      case "ack":
        if (f.batch?.resent) this.refresh(f.batch.item);
        return this.updateFooter();
      case "reject": {
        const item = f.batch?.item;
        notify(f.error?.message || "The server refused a gesture.", "error", { timeout: 8000 });
        if (item) this.refresh(item);
        return this.updateFooter();
      }
      case "page": return this.pageFrame(f);
      case "notice": return this.notice(f);
      case "progress":
        this.page.counts = f.counts;
        this.updateHead();
        if (this.page.finished && f.counts.open > f.counts.held) this.retryFinished();
        return;
      case "presence": {
        const item = f.stream.slice(`item-${this.projectId}-`.length);
        this.viewers.set(item, f.viewers.filter((v) => v !== this.me));
        this.view?.presence?.(item);
        return this.updateHead();
      }
      case "lease":
        this.page.lease_until = f.lease_until;
        return this.updateHead();
      default:
    }
  }

  event(r) {
    const prefix = `item-${this.projectId}-`;
    if (r.event.type === "queue.session_expired" && r.event.session_id === app.me.session) {
      if (this.page.items.length) this.notice({ kind: "reassigned", message: "Your lease lapsed while you were away: your page went back to the queue and may be handed to someone else." });
      return;
    }
    if (!r.stream.startsWith(prefix)) return;
    const item = r.stream.slice(prefix.length);
    if (!this.page.items.includes(item)) return;
    if (r.seq <= (this.knownSeq.get(item) ?? 0)) return;
    this.knownSeq.set(item, r.seq);
    if (this.myIds.has(r.event_id)) return; // our own gesture, already drawn
    const type = r.event.type;
    if (type === "assist.prelabel_proposed") {
      const p = this.proposals.get(item) || { proposals: {} };
      p.latest = r.event_id;
      p.proposals = { ...p.proposals, [r.event_id]: r.event };
      this.proposals.set(item, p);
      notify("The assistant proposed labels for an item on your page.", "info", { id: "prelabel" });
      this.view?.changed(item, {});
      return;
    }
    if (r.actor === this.me || !isDrawingGesture(type)) { this.refresh(item); return; }
    const others = this.others.get(item) || new Map();
    if (!others.has(r.actor)) others.set(r.actor, emptyDraft());
    applyGesture(others.get(r.actor), r.event, this.multi);
    this.others.set(item, others);
    this.view?.changed(item, { others: true, event: r.event, actor: r.actor });
  }

  pageFrame(f) {
    this.page.counts = f.counts;
    this.page.lease_until = f.lease_until;
    const same = f.items.length === this.page.items.length && f.items.every((i) => this.page.items.includes(i));
    if (!same && !this.busy) {
      const lost = this.page.items.filter((i) => !f.items.includes(i));
      if (lost.length && !f.items.length) {
        this.page.items = [];
        this.lostPage = true;
        this.render();
      } else {
        this.takePage({ ...this.page, items: f.items }).then(() => this.render());
      }
    }
    this.updateHead();
  }

  notice(f) {
    if (f.kind === "reassigned") {
      this.lostPage = true;
      notify(f.message, "warn", { timeout: 0, id: "reassigned", action: { label: "Get a new page", run: () => this.nextPage() } });
    } else if (f.kind === "lease_warning") {
      notify(f.message, "warn", { id: "lease", timeout: 8000 });
    } else if (f.kind !== "finished") {
      notify(f.message, "info");
    }
  }

  async retryFinished() {
    if (this.retrying || Date.now() - (this.lastRetry || 0) < 2000) return;
    this.retrying = true;
    this.lastRetry = Date.now();
    try {
      const answer = await this.nextPage();
      if (answer.items.length) notify("Items came back to the queue: they are on your page now.", "info", { id: "handed" });
    } finally {
      this.retrying = false;
    }
  }

  connection({ online, pending }) {
    if (online) banner(null);
    else banner(`Connection lost — reconnecting. ${pending ? `${pending} gesture${pending > 1 ? "s" : ""} kept here, sent when back.` : "Your work so far is saved."}`, "warn");
    if (!online) for (const b of this.outbox.batches) b.resent = true;
    this.updateFooter();
  }

  // Tags and keys.

  chooseTag(tag) {
    if (this.view?.onTag?.(tag)) { this.renderTags(); return; }
    this.currentTag = this.currentTag === tag.name && !CLASSIFICATION.has(this.type) ? this.currentTag : tag.name;
    this.renderTags();
  }

  onKey(name, e) {
    if (name === "ctrl+z") { this.undo(false); return true; }
    if (name === "ctrl+shift+z" || name === "ctrl+y") { this.undo(true); return true; }
    if (name === "ctrl+enter") { this.submit(); return true; }
    const tag = tagForKey(name, this.tags);
    if (tag && !e.ctrlKey && !e.metaKey && !e.altKey) { this.chooseTag(tag); return true; }
    return this.view?.onKey?.(name, e) ?? false;
  }

  // Submit, skip, layout.

  incomplete() {
    if (!this.page.items.length) return "no items on the page";
    for (const item of this.page.items) {
      const reason = incompleteReason(this.type, this.mine.get(item) ?? emptyDraft());
      if (reason) return this.page.items.length > 1 ? `${this.items.get(item)?.name || item}: ${reason}` : reason;
    }
    return null;
  }

  async submit() {
    const reason = this.incomplete();
    if (reason) { notify(`Not yet: ${reason}.`, "warn"); return; }
    if (this.busy) return;
    this.busy = true;
    try {
      if (!(await this.live.drained())) throw new Error("gestures are still waiting to be saved; try again when the connection is back");
      const answer = await api.post(`${projectPath(this.projectId)}/submit`, {});
      notify(`Submitted ${answer.submitted.length} item${answer.submitted.length > 1 ? "s" : ""}.`, "ok", { timeout: 2500 });
      sessionStorage.removeItem(this.stackKey);
      await this.nextPage();
    } catch (e) {
      notify(e.message, "error");
    } finally {
      this.busy = false;
      this.render();
    }
  }

  async skip() {
    const items = this.view?.focusItems?.() ?? [];
    if (!items.length) { notify("Select the item to skip first.", "warn"); return; }
    this.busy = true;
    try {
      await this.live.drained();
      for (const item of items) await api.post(`${projectPath(this.projectId)}/skip`, { item });
      notify(`Skipped ${items.length} item${items.length > 1 ? "s" : ""}: they go to someone else.`, "info", { timeout: 2500 });
      const answer = await api.get(`${projectPath(this.projectId)}/page`);
      if (answer.items.length) await this.takePage(answer);
      else await this.nextPage();
    } catch (e) {
      notify(e.message, "error");
    } finally {
      this.busy = false;
      this.render();
    }
  }

  async switchLayout(size) {
    const touched = this.page.items.some((i) => !isEmpty(this.mine.get(i)));
    if (touched && !(await confirmDialog("Switch layout?", "Switching the layout discards the labels on this page (the history keeps them).", "Discard and switch"))) {
      this.render();
      return;
    }
    localStorage.setItem(`annolog-layout:${this.projectId}`, String(size));
    this.busy = true;
    try {
      await this.live.drained();
      const answer = await api.post(`${projectPath(this.projectId)}/layout`, { page_size: size });
      sessionStorage.removeItem(this.stackKey);
      await this.takePage(answer);
    } catch (e) {
      notify(e.message, "error");
    } finally {
      this.busy = false;
      this.render();
    }
  }

  // Rendering.

  async render() {
    this.view?.destroy?.();
    this.view = null;
    this.head = h("div", { class: "label-head" });
    this.tagbar = h("div", { class: "tagbar", role: "toolbar", "aria-label": "Tags" });
    this.footer = h("div", { class: "label-foot" });
    const body = h("div", { class: "label-body" });
    mount(this.el, this.head, this.tagbar, body, this.footer);
    this.updateHead();
    if (!this.page.items.length) {
      this.renderTags();
      mount(body, this.emptyState());
      this.updateFooter();
      return;
    }
    const module = CLASSIFICATION.has(this.type) ? await import("./classify.js")
      : this.type === "ner" ? await import("./ner.js") : await import("./editor.js");
    this.view = module.create(this);
    mount(body, this.view.el);
    this.view.mounted?.();
    this.renderTags();
    this.updateFooter();
  }

  emptyState() {
    if (this.lostPage) {
      return h("div", { class: "empty card" }, h("h2", {}, "Your page went back to the queue"),
        h("p", {}, "Your lease lapsed while you were away, so the items were handed on. Your strokes stay in the history."),
        h("button", { class: "primary", onclick: () => { this.lostPage = false; this.nextPage(); } }, "Get a new page"));
    }
    return h("div", { class: "empty card" }, h("h2", {}, "Nothing left to label"),
      h("p", {}, "Every item of this project is labeled or being labeled by someone else. New items will appear here by themselves."),
      h("a", { class: "button primary", href: "#/" }, "Back to projects"));
  }

  updateHead() {
    if (!this.head) return;
    const c = this.page.counts || {};
    const viewers = [...new Set(this.page.items.flatMap((i) => this.viewers.get(i) || []))];
    const lease = this.page.lease_until ? new Date(this.page.lease_until * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : null;
    mount(this.head,
      h("div", { class: "title" }, h("h1", {}, this.project.name), h("span", { class: "pill" }, TYPE_NAMES[this.type])),
      h("div", { class: "queue-state", "aria-label": "Queue state" },
        h("span", {}, h("b", {}, String(c.open ?? "–")), " items left"),
        c.prelabeled ? h("span", { class: "pill accent" }, `Tasks prelabeled: ${c.prelabeled}`) : null,
        c.clustered ? h("span", { class: "pill accent" }, `Tasks clustered: ${c.clustered}`) : null,
        h("span", { class: "muted" }, `${c.done ?? 0} / ${c.total ?? 0} done`),
        lease ? h("span", { class: "muted", title: "Your page is yours until then; the page renews it while open" }, `lease until ${lease}`) : null),
      viewers.length ? h("span", { class: "presence", role: "status" }, "Also here: ", viewers.join(", ")) : null,
      h("span", { class: "spacer" }),
      CLASSIFICATION.has(this.type) ? this.layoutPicker() : null,
      h("button", { class: "ghost", onclick: () => this.showInstructions() }, "Instructions"),
      h("button", { class: "ghost icon", "aria-label": "Keyboard shortcuts", title: "Keyboard shortcuts (?)", onclick: toggleHelp }, "?"));
  }

  layoutPicker() {
    const current = this.page.items.length || this.project.page_size;
    const choices = [...new Set([...LAYOUTS, this.project.page_size])].sort((a, b) => a - b);
    return h("label", { class: "inline" }, "Layout ",
      h("select", { "aria-label": "Layout", onchange: (e) => this.switchLayout(Number(e.target.value)) },
        choices.map((n) => h("option", { value: n, selected: n === current }, n === 1 ? "1 item" : `${Math.sqrt(n) % 1 ? n : `${Math.sqrt(n)}×${Math.sqrt(n)}`}`))));
  }

  renderTags() {
    if (!this.tagbar) return;
    const highlight = this.view?.activeTags?.() ?? new Set([this.currentTag]);
    mount(this.tagbar, h("span", { class: "muted small" }, CLASSIFICATION.has(this.type) ? "Apply tag:" : "Tag:"),
      this.tags.map((t) => h("button", {
        class: ["chip", highlight.has(t.name) && "active"], "aria-pressed": String(highlight.has(t.name)),
        style: highlight.has(t.name) ? { background: t.colour, color: inkOn(t.colour), borderColor: t.colour } : { borderColor: t.colour },
        onclick: () => this.chooseTag(t), title: t.key ? `${t.name} (key ${t.key})` : t.name,
      }, swatch(t.colour), h("span", { class: "chip-name" }, t.name), t.key ? kbd(String(t.key)) : null)));
  }

  updateFooter() {
    if (!this.footer) return;
    const reason = this.incomplete();
    const pending = this.outbox.size;
    mount(this.footer,
      h("button", { class: "ghost", onclick: () => this.undo(false), title: "Undo (Ctrl+Z)" }, "↶ Undo"),
      h("button", { class: "ghost", onclick: () => this.undo(true), title: "Redo (Ctrl+Shift+Z)" }, "↷ Redo"),
      h("span", { class: "status muted", role: "status" }, pending ? `Saving ${pending}…` : "All changes saved",
        reason && this.page.items.length ? ` · ${reason}` : ""),
      h("span", { class: "spacer" }),
      h("button", { class: "ghost", disabled: !this.page.items.length, onclick: () => this.skip() }, "Skip"),
      h("button", { class: "primary", disabled: !!reason, onclick: () => this.submit(), title: "Submit (Ctrl+Enter)" }, "Submit ", kbd("Ctrl+Enter")));
  }

  showInstructions() { instructionsDialog(this.project.instructions); }

  mediaUrl(item, query = "") {
    return `${itemPath(this.projectId, item)}/media${query}`;
  }

  tag(name) { return this.tags.find((t) => t.name === name); }

  colour(name) { return this.tag(name)?.colour ?? "#9aa0a6"; }
}

const isEmpty = (d) => !d || (!d.tags.length && !d.regions.size && !d.strokes.length && !d.spans.size);

export { go };
