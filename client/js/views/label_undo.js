// Undo and redo on the labeling screen, through the server's history. This tab keeps its steps
// (the items each gesture touched) in sessionStorage, so that a tag applied to a selection
// undoes as one step and a reload keeps them; with no step left, the item in view is undone.
import { api, itemPath, ApiError } from "../api.js";
import { notify } from "../app.js";

const KEPT = 200;

/** The undo and redo steps of one labeler's session on one project. */
export class UndoSteps {
  constructor(session) {
    this.s = session;
    this.key = `annolog-undo:${session.me}:${session.projectId}`;
    this.chain = null;
  }

  load() {
    try { return JSON.parse(sessionStorage.getItem(this.key)) || { undo: [], redo: [] }; } catch { return { undo: [], redo: [] }; }
  }

  save(steps) { sessionStorage.setItem(this.key, JSON.stringify({ undo: steps.undo.slice(-KEPT), redo: steps.redo.slice(-KEPT) })); }

  /** A new step over these items; it clears what could be redone. */
  push(items) {
    const steps = this.load();
    steps.undo.push(items);
    steps.redo = [];
    this.save(steps);
  }

  /** Folds the latest steps, one per item, into one step over all of them. */
  merge(items) {
    const steps = this.load();
    steps.undo.splice(-items.length, items.length, items);
    this.save(steps);
  }

  clear() { sessionStorage.removeItem(this.key); }

  /** Undo (or redo) through the server's history: the labeler's latest gesture on the items of
   * the last step, or on the item in view when this tab has no steps (e.g. after a reload). */
  run(redo = false) {
    // Presses queue up: two quick Ctrl+Z undo two gestures, in order.
    this.chain = (this.chain || Promise.resolve()).then(() => this.once(redo));
    return this.chain;
  }

  async once(redo) {
    const s = this.s;
    s.busy = true;
    try {
      await s.live.drained();
      const steps = this.load();
      const from = redo ? steps.redo : steps.undo;
      let items = from.pop()?.filter((i) => s.page.items.includes(i));
      if (!items?.length) items = s.view?.focusItems?.() ?? [];
      if (!items.length) { notify(`Nothing to ${redo ? "redo" : "undo"}.`); return; }
      let done = 0;
      for (const item of items) {
        try {
          await api.post(`${itemPath(s.projectId, item)}/${redo ? "redo" : "undo"}`);
          done++;
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 409)) throw e;
        }
        await s.refresh(item);
      }
      if (done) (redo ? steps.undo : steps.redo).push(items);
      this.save(steps);
      if (!done) notify(`Nothing to ${redo ? "redo" : "undo"} here.`);
    } catch (e) {
      notify(e.message, "error");
    } finally {
      s.busy = false;
    }
  }
}
