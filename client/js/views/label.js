// The labeling screen: the page from the work queue, drafts kept in step with the log,
// gestures, submit, skip and layout. The per-type views (classify.js, editor.js, ner.js) draw
// and turn gestures into events through `gesture`; label_frames.js takes the live
// connection's frames, label_undo.js undo/redo, label_bars.js the bars around the view.
import { api, projectPath, itemPath } from "../api.js";
import { h, mount } from "../dom.js";
import { app, notify, banner, confirmDialog, sessionEnded } from "../app.js";
import { Outbox, newId } from "../outbox.js";
import { Live } from "../live.js";
import { tagForKey } from "../keys.js";
import { CLASSIFICATION, MULTI_LABEL, draftFromJson, applyGesture, isDrawingGesture, incompleteReason, emptyDraft } from "../draft.js";
import { instructionsDialog } from "./projects.js";
import { handleFrame, connectionChanged } from "./label_frames.js";
import { UndoSteps } from "./label_undo.js";
import { emptyState, renderHead, renderTagBar, renderFooter } from "./label_bars.js";

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
    this.undoSteps = new UndoSteps(this);
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
      onSignedOut: sessionEnded,
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
    this.undoSteps.push([item]);
    this.live?.flush();
    this.view?.changed(item, {});
    this.updateFooter();
  }

  /** Gestures on several items as one undo step (a tag applied to a selection). */
  gestureMany(list) {
    const items = [...new Set(list.map((g) => g.item))];
    for (const item of items) this.gesture(item, list.filter((g) => g.item === item).map((g) => g.event));
    if (items.length > 1) this.undoSteps.merge(items);
  }

  undo(redo = false) { return this.undoSteps.run(redo); }

  // Frames from the server (label_frames.js).

  frame(f) { return handleFrame(this, f); }

  connection(status) { connectionChanged(this, status); }

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
      this.undoSteps.clear();
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
      this.undoSteps.clear();
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
      mount(body, emptyState(this));
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

  updateHead() { renderHead(this); }

  renderTags() { renderTagBar(this); }

  updateFooter() { renderFooter(this); }

  showInstructions() { instructionsDialog(this.project.instructions); }

  mediaUrl(item, query = "") {
    return `${itemPath(this.projectId, item)}/media${query}`;
  }

  tag(name) { return this.tags.find((t) => t.name === name); }

  colour(name) { return this.tag(name)?.colour ?? "#9aa0a6"; }
}

const isEmpty = (d) => !d || (!d.tags.length && !d.regions.size && !d.strokes.length && !d.spans.size);

