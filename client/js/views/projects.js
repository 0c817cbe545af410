// The project list (with progress) and a project's instructions page.
import { api, projectPath } from "../api.js";
import { h, renderTree, swatch, kbd } from "../dom.js";
import { parse } from "../markdown.js";
import { app } from "../app.js";

export const TYPE_NAMES = {
  image_multiclass: "Image · multi-class",
  image_multilabel: "Image · multi-label",
  bounding_boxes: "Bounding boxes",
  polygons: "Polygons",
  semantic_segmentation: "Semantic segmentation",
  text_multiclass: "Text · multi-class",
  text_multilabel: "Text · multi-label",
  ner: "Named entities",
};

export function progressBar(done, total, label = "items done") {
  const pct = total ? Math.round((100 * done) / total) : 0;
  return h("div", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": total, "aria-valuenow": done, "aria-label": label },
    h("div", { class: "bar", style: { width: `${pct}%` } }),
    h("span", { class: "progress-text" }, `${done} / ${total} ${label} (${pct}%)`));
}

export const canAudit = (role) => app.me?.is_admin || role === "admin" || role === "auditor";
export const canLabel = (role) => app.me?.is_admin || role === "admin" || role === "labeler";

export async function projects() {
  const { projects: list } = await api.get("/api/projects");
  const cards = list.map((p) => h("article", { class: "card project", "aria-label": p.name },
    h("div", { class: "card-head" },
      h("h2", {}, h("a", { href: `#/p/${p.project_id}` }, p.name)),
      h("span", { class: "pill" }, TYPE_NAMES[p.project_type] || p.project_type)),
    progressBar(p.counts.done, p.counts.total),
    h("p", { class: "muted small" },
      `${p.counts.open} open · ${p.counts.held} being labeled · ${p.progress.submissions} submissions`,
      p.role ? ` · you are ${p.role}` : ""),
    h("div", { class: "actions" },
      h("a", { class: "button ghost", href: `#/p/${p.project_id}` }, "Instructions"),
      canAudit(p.role) ? h("a", { class: "button ghost", href: `#/p/${p.project_id}/audit` }, "Audit") : null,
      app.me?.is_admin ? h("a", { class: "button ghost", href: `#/admin/p/${p.project_id}` }, "Manage") : null,
      canLabel(p.role) ? h("a", { class: "button primary", href: `#/p/${p.project_id}/label` }, "Start labeling") : null)));
  return {
    el: h("section", { class: "page" },
      h("div", { class: "page-head" }, h("h1", {}, "Projects"),
        app.me?.is_admin ? h("a", { class: "button primary", href: "#/admin/new" }, "New project") : null),
      list.length ? h("div", { class: "cards" }, cards) : h("p", { class: "muted" }, "You are not a member of any project yet.")),
  };
}

/** The instructions as safe DOM (markdown.js tree, text set as text). */
export const instructionsDom = (markdown) =>
  h("div", { class: "markdown" }, markdown ? renderTree(parse(markdown)) : h("p", { class: "muted" }, "No instructions."));

/** The instructions in a dialog, reachable at any time while labeling. */
export function instructionsDialog(markdown) {
  const close = () => el.remove();
  const el = h("div", { class: "overlay", role: "dialog", "aria-modal": "true", "aria-label": "Instructions", onclick: (e) => e.target === el && close() },
    h("div", { class: "dialog wide" }, h("div", { class: "dialog-head" }, h("h2", {}, "Instructions"), h("button", { class: "ghost close", "aria-label": "Close", onclick: close }, "×")),
      instructionsDom(markdown)));
  document.body.appendChild(el);
}

export function tagList(tags) {
  return h("ul", { class: "tag-list" }, tags.map((t) => h("li", {}, swatch(t.colour), h("span", {}, t.name), t.key ? kbd(String(t.key)) : null)));
}

export async function instructions(projectId) {
  const p = await api.get(projectPath(projectId));
  return {
    el: h("section", { class: "page narrow" },
      h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Projects"), " / ", p.name),
      h("div", { class: "page-head" }, h("h1", {}, p.name), h("span", { class: "pill" }, TYPE_NAMES[p.project_type])),
      progressBar(p.counts.done, p.counts.total),
      h("h2", { class: "section" }, "Detailed instructions"),
      instructionsDom(p.instructions),
      h("h2", { class: "section" }, "Tags"),
      tagList(p.tags),
      h("div", { class: "actions" },
        canAudit(p.role) ? h("a", { class: "button ghost", href: `#/p/${projectId}/audit` }, "Audit") : null,
        canLabel(p.role) ? h("a", { class: "button primary", href: `#/p/${projectId}/label` }, "Start labeling") : null)),
  };
}
