// The image editor's side panel: the item pager, the item's name (and patient, when shown),
// the assistant's suggestion, and the regions of the frame on screen.
import { h, swatch } from "../dom.js";
import { lockedNotice } from "./tools.js";
import { draftFromProposal } from "../draft.js";

/** The side panel's children for the editor's current item. */
export function sidePanel(ed) {
  const draft = ed.shown();
  const items = ed.s.page.items;
  const proposal = suggestion(ed);
  const regions = [...draft.regions.values()];
  const away = draft.elsewhere;
  return [
    items.length > 1 ? h("div", { class: "pager" },
      h("button", { class: "ghost", disabled: ed.index === 0, onclick: () => ed.go(-1) }, "‹ Prev"),
      h("span", {}, `Item ${ed.index + 1} of ${items.length}`),
      h("button", { class: "ghost", disabled: ed.index === items.length - 1, onclick: () => ed.go(1) }, "Next ›")) : null,
    h("h3", {}, ed.info.name || ed.item),
    patientLine(ed),
    proposal ? h("button", { class: "suggestion wide", onclick: () => ed.s.gesture(ed.item, [{ type: "annotation.prelabel_applied", proposal_event_id: proposal.id }]) },
      `Apply the assistant's suggestion (${proposal.count} region${proposal.count === 1 ? "" : "s"}, ${Math.round(proposal.confidence * 100)}%)`) : null,
    h("h4", {}, `Regions (${regions.length})`),
    regions.length > 200 ? h("p", { class: "muted small" }, `${regions.length} regions (list hidden)`)
      : h("ul", { class: "regions", "aria-label": "Regions" }, regions.map((r) => h("li", {
        class: r.region_id === ed.selected ? "selected" : null,
      },
      h("button", { class: "region-name", onclick: () => ed.select(r.region_id), "aria-label": `Select ${r.kind} ${r.tag ?? "untagged"}` },
        swatch(r.tag ? ed.s.colour(r.tag) : "#999"), `${r.tag ?? "untagged"} · ${r.kind}`),
      h("button", { class: ["ghost", "small", "lock", r.locked && "on"], title: r.locked ? "Unlock (L)" : "Lock (L)", "aria-label": `${r.locked ? "Unlock" : "Lock"} ${r.tag ?? "region"}`, onclick: () => ed.s.gesture(ed.item, [{ type: "annotation.region_lock_toggled", region_id: r.region_id, locked: !r.locked }]) }, r.locked ? "locked" : "lock"),
      h("button", { class: "ghost icon", title: "Delete", "aria-label": `Delete ${r.tag ?? "region"}`, onclick: () => { if (r.locked) lockedNotice(); else { ed.emit({ type: "annotation.region_deleted", region_id: r.region_id }); ed.select(null); } } }, "✕")))),
    away ? h("p", { class: "muted small", "aria-label": "Regions on other frames" }, `${away} region${away === 1 ? "" : "s"} on other frames`) : null,
    ed.mask ? h("p", { class: "muted small" }, `${draft.strokes.length} brush stroke${draft.strokes.length === 1 ? "" : "s"}; polygons join the mask on submit.`) : null,
    h("p", { class: "muted small hint" }, "Wheel zooms, Space+drag or middle-drag pans.", ed.dicom?.window ? " Right-drag (or W) sets window/level." : ""),
  ];
}

/** The patient, when the server shows this project's members the identifiers. */
function patientLine(ed) {
  const p = ed.dicom?.meta?.patient;
  const parts = p ? [p.patient_name, p.patient_id && `ID ${p.patient_id}`, p.patient_birth_date && `born ${p.patient_birth_date}`, p.patient_sex, p.patient_age].filter(Boolean) : [];
  return parts.length ? h("p", { class: "muted small", "aria-label": "Patient" }, `Patient: ${parts.join(" · ")}`) : null;
}

function suggestion(ed) {
  const p = ed.s.proposals.get(ed.item);
  if (!p?.latest || ed.draft().prelabel === p.latest) return null;
  const proposal = p.proposals[p.latest];
  const d = draftFromProposal(p.latest, proposal, false);
  return d.regions.size ? { id: p.latest, count: d.regions.size, confidence: proposal.confidence } : null;
}
