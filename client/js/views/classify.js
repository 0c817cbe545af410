// Classification pages (image or text, multi-class or multi-label): a grid of items, each with
// a selection circle; a tag applies to every selected item.
import { h, mount, inkOn } from "../dom.js";
import { notify } from "../app.js";
import { classifyGestures, draftFromProposal } from "../draft.js";
import { textPrefs, textTools } from "./textprefs.js";

export function create(s) {
  const selected = new Set(s.page.items.length === 1 ? s.page.items : []);
  const isText = s.type.startsWith("text_");
  const grid = h("div", { class: "grid", role: "list" });
  const cards = new Map();
  const cols = Math.ceil(Math.sqrt(s.page.items.length));
  grid.style.gridTemplateColumns = `repeat(${cols}, minmax(0, 1fr))`;
  const prefs = textPrefs();

  function card(item) {
    const info = s.items.get(item);
    const draft = s.mine.get(item);
    const isSel = selected.has(item);
    const others = [...(s.others.get(item) || new Map())].filter(([, d]) => d.tags.length);
    const proposal = suggestion(item);
    const media = isText
      ? h("div", { class: "text-card", style: { fontSize: `${prefs.size}px`, fontFamily: prefs.font } }, info.text ?? "")
      : h("img", { class: "thumb", alt: info.name || item, draggable: "false", src: s.mediaUrl(item, info.kind === "dicom" ? "?view=png" : "") });
    const el = h("div", {
      class: ["item-card", isSel && "selected"], role: "listitem", "aria-label": info.name || item, dataset: { item },
      onclick: (e) => { if (!e.target.closest("button")) toggle(item); },
    },
    h("button", { class: "select-circle", role: "checkbox", "aria-checked": String(isSel), "aria-label": `Select ${info.name || item}`, onclick: () => toggle(item) }, isSel ? "✓" : ""),
    media,
    h("div", { class: "item-tags" },
      draft.tags.map((t) => h("span", { class: "chip small", style: { background: s.colour(t), color: inkOn(s.colour(t)) } }, t,
        h("button", { class: "chip-x", "aria-label": `Remove ${t} from ${info.name || item}`, title: "Remove this tag", onclick: () => s.gesture(item, [{ type: "annotation.tag_cleared", tag: t }]) }, "×"))),
      proposal ? h("button", { class: "chip small suggestion", title: `The assistant suggests this (confidence ${Math.round(proposal.confidence * 100)}%)`, onclick: () => s.gesture(item, [{ type: "annotation.prelabel_applied", proposal_event_id: proposal.id }]) },
        `Suggested: ${proposal.tags.join(", ")} — apply`) : null,
      others.length ? h("span", { class: "muted small" }, others.map(([who, d]) => `${who}: ${d.tags.join(", ")}`).join(" · ")) : null));
    return el;
  }

  function suggestion(item) {
    const p = s.proposals.get(item);
    if (!p?.latest || s.mine.get(item)?.prelabel === p.latest) return null;
    const proposal = p.proposals[p.latest];
    if (!proposal?.tags?.length) return null;
    const d = draftFromProposal(p.latest, proposal, s.multi);
    return { id: p.latest, tags: d.tags, confidence: proposal.confidence };
  }

  function draw(item) {
    const el = card(item);
    cards.get(item)?.replaceWith(el);
    cards.set(item, el);
  }

  function drawAll() {
    mount(grid);
    cards.clear();
    for (const item of s.page.items) {
      const el = card(item);
      cards.set(item, el);
      grid.appendChild(el);
    }
    s.renderTags();
  }

  function toggle(item) {
    if (selected.has(item)) selected.delete(item);
    else selected.add(item);
    draw(item);
    s.renderTags();
  }

  function selectAll(on = true) {
    selected.clear();
    if (on) s.page.items.forEach((i) => selected.add(i));
    drawAll();
  }

  const toolbar = h("div", { class: "toolbar" },
    h("button", { class: "ghost", onclick: () => selectAll(selected.size !== s.page.items.length) }, "Select all"),
    h("span", { class: "muted small" }, s.multi ? "Choose tags for the selected items; choosing a tag they all carry removes it." : "Choose the one tag of the selected items."),
    isText ? textTools(() => drawAll()) : null);

  const el = h("div", { class: "classify" }, toolbar, grid);
  drawAll();

  return {
    el,
    changed(item) { if (cards.has(item)) draw(item); s.renderTags(); },
    presence() {},
    focusItems: () => (selected.size ? [...selected] : s.page.items.length === 1 ? [...s.page.items] : []),
    activeTags() {
      const sel = [...selected];
      if (!sel.length) return new Set();
      return new Set(s.tags.map((t) => t.name).filter((t) => sel.every((i) => s.mine.get(i)?.tags.includes(t))));
    },
    onTag(tag) {
      const result = classifyGestures(s.mine, [...selected], tag.name, s.multi);
      if (result.error) { notify(result.error, "warn", { id: "select-first" }); return true; }
      s.gestureMany(result.gestures);
      if (s.multi && s.page.items.length > 1) { selected.clear(); drawAll(); }
      return true;
    },
    onKey(name) {
      if (name === "ctrl+a") { selectAll(true); return true; }
      if (name === "escape") { selectAll(false); return true; }
      return false;
    },
  };
}
