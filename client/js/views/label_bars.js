// The labeling screen's bars around the per-type view: the head (project, queue state,
// presence, layout, instructions), the tag bar, the footer (undo/redo, saving, skip, submit),
// and what the body says when the page is empty.
import { h, mount, kbd, swatch, inkOn } from "../dom.js";
import { toggleHelp } from "../app.js";
import { CLASSIFICATION } from "../draft.js";
import { TYPE_NAMES } from "./projects.js";

const LAYOUTS = [1, 4, 9, 16];

/** What the body shows when the page has no items: lost to the queue, or nothing left. */
export function emptyState(s) {
  if (s.lostPage) {
    return h("div", { class: "empty card" }, h("h2", {}, "Your page went back to the queue"),
      h("p", {}, "Your lease lapsed while you were away, so the items were handed on. Your strokes stay in the history."),
      h("button", { class: "primary", onclick: () => { s.lostPage = false; s.nextPage(); } }, "Get a new page"));
  }
  return h("div", { class: "empty card" }, h("h2", {}, "Nothing left to label"),
    h("p", {}, "Every item of this project is labeled or being labeled by someone else. New items will appear here by themselves."),
    h("a", { class: "button primary", href: "#/" }, "Back to projects"));
}

/** The head bar: the project, the queue's counts, who else is here, layout, help. */
export function renderHead(s) {
  if (!s.head) return;
  const c = s.page.counts || {};
  const viewers = [...new Set(s.page.items.flatMap((i) => s.viewers.get(i) || []))];
  const lease = s.page.lease_until ? new Date(s.page.lease_until * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : null;
  mount(s.head,
    h("div", { class: "title" }, h("h1", {}, s.project.name), h("span", { class: "pill" }, TYPE_NAMES[s.type])),
    h("div", { class: "queue-state", "aria-label": "Queue state" },
      h("span", {}, h("b", {}, String(c.open ?? "–")), " items left"),
      c.prelabeled ? h("span", { class: "pill accent" }, `Tasks prelabeled: ${c.prelabeled}`) : null,
      c.clustered ? h("span", { class: "pill accent" }, `Tasks clustered: ${c.clustered}`) : null,
      h("span", { class: "muted" }, `${c.done ?? 0} / ${c.total ?? 0} done`),
      lease ? h("span", { class: "muted", title: "Your page is yours until then; the page renews it while open" }, `lease until ${lease}`) : null),
    viewers.length ? h("span", { class: "presence", role: "status" }, "Also here: ", viewers.join(", ")) : null,
    h("span", { class: "spacer" }),
    CLASSIFICATION.has(s.type) ? layoutPicker(s) : null,
    h("button", { class: "ghost", onclick: () => s.showInstructions() }, "Instructions"),
    h("button", { class: "ghost icon", "aria-label": "Keyboard shortcuts", title: "Keyboard shortcuts (?)", onclick: toggleHelp }, "?"));
}

function layoutPicker(s) {
  const current = s.page.items.length || s.project.page_size;
  const choices = [...new Set([...LAYOUTS, s.project.page_size])].sort((a, b) => a - b);
  return h("label", { class: "inline" }, "Layout ",
    h("select", { "aria-label": "Layout", onchange: (e) => s.switchLayout(Number(e.target.value)) },
      choices.map((n) => h("option", { value: n, selected: n === current }, n === 1 ? "1 item" : `${Math.sqrt(n) % 1 ? n : `${Math.sqrt(n)}×${Math.sqrt(n)}`}`))));
}

/** The tag bar: one chip per tag, the active ones pressed. */
export function renderTagBar(s) {
  if (!s.tagbar) return;
  const highlight = s.view?.activeTags?.() ?? new Set([s.currentTag]);
  mount(s.tagbar, h("span", { class: "muted small" }, CLASSIFICATION.has(s.type) ? "Apply tag:" : "Tag:"),
    s.tags.map((t) => h("button", {
      class: ["chip", highlight.has(t.name) && "active"], "aria-pressed": String(highlight.has(t.name)),
      style: highlight.has(t.name) ? { background: t.colour, color: inkOn(t.colour), borderColor: t.colour } : { borderColor: t.colour },
      onclick: () => s.chooseTag(t), title: t.key ? `${t.name} (key ${t.key})` : t.name,
    }, swatch(t.colour), h("span", { class: "chip-name" }, t.name), t.key ? kbd(String(t.key)) : null)));
}

/** The footer: undo, redo, whether everything is saved, skip and submit. */
export function renderFooter(s) {
  if (!s.footer) return;
  const reason = s.incomplete();
  const pending = s.outbox.size;
  mount(s.footer,
    h("button", { class: "ghost", onclick: () => s.undo(false), title: "Undo (Ctrl+Z)" }, "↶ Undo"),
    h("button", { class: "ghost", onclick: () => s.undo(true), title: "Redo (Ctrl+Shift+Z)" }, "↷ Redo"),
    h("span", { class: "status muted", role: "status" }, pending ? `Saving ${pending}…` : "All changes saved",
      reason && s.page.items.length ? ` · ${reason}` : ""),
    h("span", { class: "spacer" }),
    h("button", { class: "ghost", disabled: !s.page.items.length, onclick: () => s.skip() }, "Skip"),
    h("button", { class: "primary", disabled: !!reason, onclick: () => s.submit(), title: "Submit (Ctrl+Enter)" }, "Submit ", kbd("Ctrl+Enter")));
}
