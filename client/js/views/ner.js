// Named-entity labeling: double-click a word or drag over words to tag a span with the current
// tag; spans shown inline in their tag's colour. Clicking a tag's chip in the legend selects all
// its spans, clicking spans toggles them, choosing a tag then retags what is selected.
import { h, mount, swatch, inkOn } from "../dom.js";
import { notify } from "../app.js";
import { Offsets, runs, snapToWords, spanFromRange, overlapping } from "../text.js";
import { textPrefs, textTools, resize } from "./textprefs.js";
import { draftFromProposal } from "../draft.js";

export function create(s) {
  let index = 0;
  const selection = new Set();
  const textEl = h("div", { class: "ner-text", "aria-label": "Text to annotate" });
  const legend = h("div", { class: "ner-legend" });
  const side = h("aside", { class: "side" });
  const item = () => s.page.items[index];
  const info = () => s.items.get(item());
  const draft = () => s.mine.get(item());
  let offsets = new Offsets(info().text ?? "");

  function drawText() {
    const text = info().text ?? "";
    if (offsets.text !== text) offsets = new Offsets(text);
    const prefs = textPrefs();
    textEl.style.fontSize = `${prefs.size}px`;
    textEl.style.fontFamily = prefs.font;
    const spans = [...draft().spans.values()];
    mount(textEl, runs(text, spans, offsets).map((run) => {
      const chunk = text.slice(run.start, run.end);
      if (!run.span) return h("span", { dataset: { start: run.start } }, chunk);
      const colour = s.colour(run.span.tag);
      return h("mark", {
        class: ["span", selection.has(run.span.span_id) && "selected"],
        dataset: { start: run.start, span: run.span.span_id, tag: run.span.tag },
        style: { background: colour, color: inkOn(colour) },
        title: `${run.span.tag} — click to select`,
        onclick: (e) => { e.stopPropagation(); toggle(run.span.span_id); },
      }, chunk);
    }));
    drawLegend();
    drawSide();
  }

  function drawLegend() {
    const counts = new Map();
    for (const sp of draft().spans.values()) counts.set(sp.tag, (counts.get(sp.tag) || 0) + 1);
    mount(legend, h("span", { class: "muted small" }, counts.size ? "In this text (click to select all of a tag):" : "No spans yet: pick a tag, then double-click a word or drag over words."),
      [...counts].map(([tag, n]) => h("button", {
        class: "chip small", style: { borderColor: s.colour(tag) }, "aria-label": `Select all ${tag} spans`,
        onclick: () => selectTag(tag),
      }, swatch(s.colour(tag)), `${tag} × ${n}`)),
      selection.size ? h("span", { class: "selection-note" }, `${selection.size} selected — pick a tag to retag, Delete to remove, Esc to clear`) : null);
  }

  function drawSide() {
    const text = info().text ?? "";
    const spans = [...draft().spans.values()].sort((a, b) => a.start - b.start);
    const proposal = suggestion();
    mount(side,
      s.page.items.length > 1 ? h("div", { class: "pager" },
        h("button", { class: "ghost", disabled: index === 0, onclick: () => go(-1) }, "‹ Prev"),
        h("span", {}, `Text ${index + 1} of ${s.page.items.length}`),
        h("button", { class: "ghost", disabled: index === s.page.items.length - 1, onclick: () => go(1) }, "Next ›")) : null,
      proposal ? h("button", { class: "suggestion wide", onclick: () => s.gesture(item(), [{ type: "annotation.prelabel_applied", proposal_event_id: proposal.id }]) },
        `Apply the assistant's suggestion (${proposal.count} span${proposal.count === 1 ? "" : "s"})`) : null,
      h("h4", {}, `Spans (${spans.length})`),
      h("ul", { class: "regions", "aria-label": "Spans" }, spans.map((sp) => h("li", { class: selection.has(sp.span_id) ? "selected" : null },
        h("button", { class: "region-name", onclick: () => toggle(sp.span_id) }, swatch(s.colour(sp.tag)),
          `${text.slice(offsets.u16(sp.start), offsets.u16(sp.end))} · ${sp.tag}`),
        h("button", { class: "ghost icon", "aria-label": `Remove span ${sp.tag}`, title: "Remove", onclick: () => s.gesture(item(), [{ type: "annotation.spans_cleared", span_ids: [sp.span_id] }]) }, "✕")))));
  }

  function suggestion() {
    const p = s.proposals.get(item());
    if (!p?.latest || draft().prelabel === p.latest) return null;
    const d = draftFromProposal(p.latest, p.proposals[p.latest], false);
    return d.spans.size ? { id: p.latest, count: d.spans.size } : null;
  }

  function toggle(id) {
    if (selection.has(id)) selection.delete(id);
    else selection.add(id);
    drawText();
    s.renderTags();
  }

  function selectTag(tag) {
    selection.clear();
    for (const sp of draft().spans.values()) if (sp.tag === tag) selection.add(sp.span_id);
    drawText();
    s.renderTags();
  }

  function go(step) {
    const next = index + step;
    if (next < 0 || next >= s.page.items.length) return false;
    index = next;
    selection.clear();
    drawText();
    return true;
  }

  /** UTF-16 offset in the text of a DOM (node, offset) inside textEl. */
  function u16Of(node, off) {
    if (node === textEl) {
      const child = textEl.childNodes[off] || null;
      return child ? Number(child.dataset.start) : (info().text ?? "").length;
    }
    const run = (node.nodeType === Node.TEXT_NODE ? node.parentElement : node).closest("[data-start]");
    if (!run || !textEl.contains(run)) return null;
    return Number(run.dataset.start) + (node.nodeType === Node.TEXT_NODE ? off : 0);
  }

  function tagSelection() {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return;
    const range = sel.getRangeAt(0);
    if (!textEl.contains(range.commonAncestorContainer)) return;
    const a = u16Of(range.startContainer, range.startOffset), b = u16Of(range.endContainer, range.endOffset);
    sel.removeAllRanges();
    if (a == null || b == null) return;
    const text = info().text ?? "";
    const snapped = snapToWords(text, a, b);
    if (!snapped) return;
    if (!s.currentTag) { notify("Pick a tag first (click it or press its number), then select the words.", "warn", { id: "need-tag" }); return; }
    const { start, end } = spanFromRange(offsets, snapped[0], snapped[1]);
    if (overlapping(draft().spans.values(), start, end).length) { notify("That overlaps a span already tagged: remove it first.", "warn", { id: "overlap" }); return; }
    s.gesture(item(), [{ type: "annotation.span_tagged", span_id: `sp${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`, tag: s.currentTag, start, end }]);
  }

  textEl.addEventListener("mouseup", () => setTimeout(tagSelection, 0));
  const toolbar = h("div", { class: "toolbar" }, textTools(() => drawText()),
    h("span", { class: "muted small" }, "Double-click a word or drag over words to tag them with the current tag."));
  const el = h("div", { class: "editor ner" }, toolbar, h("div", { class: "editor-main" },
    h("div", { class: "text-pane" }, legend, textEl), side));
  drawText();

  return {
    el,
    changed(changedItem) {
      if (changedItem !== item()) return;
      for (const id of [...selection]) if (!draft().spans.has(id)) selection.delete(id);
      drawText();
    },
    presence() {},
    focusItems: () => [item()],
    activeTags() {
      if (selection.size) return new Set([...selection].map((id) => draft().spans.get(id)?.tag));
      return new Set([s.currentTag]);
    },
    onTag(tag) {
      s.currentTag = tag.name;
      if (selection.size) {
        const ids = [...selection].filter((id) => draft().spans.get(id)?.tag !== tag.name);
        if (ids.length) s.gesture(item(), [{ type: "annotation.spans_retagged", span_ids: ids, tag: tag.name }]);
        selection.clear();
        drawText();
      }
      return true;
    },
    onKey(name) {
      if ((name === "delete" || name === "backspace") && selection.size) {
        s.gesture(item(), [{ type: "annotation.spans_cleared", span_ids: [...selection] }]);
        selection.clear();
        drawText();
        return true;
      }
      if (name === "escape") { selection.clear(); drawText(); s.renderTags(); return true; }
      if (name === "ctrl+=" || name === "ctrl++") { resize(1); drawText(); return true; }
      if (name === "ctrl+-") { resize(-1); drawText(); return true; }
      if (name === "arrowright") return go(1);
      if (name === "arrowleft") return go(-1);
      return false;
    },
  };
}
