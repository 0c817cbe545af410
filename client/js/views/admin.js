// Administration: users, creating a project, and per project: import, members and roles,
// progress per labeler, tags and instructions, patient identifiers, exports and label imports.
import { api, projectPath, enc } from "../api.js";
import { h, mount, swatch, kbd, when, field } from "../dom.js";
import { notify, go } from "../app.js";
import { TYPE_NAMES, progressBar, instructionsDom, tagList } from "./projects.js";
import { exportCard, importLabelsCard } from "./exports.js";
import { usersCard } from "./admin_users.js";

const PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45", "#469990", "#9a6324"];
const ROLES = ["labeler", "auditor", "reviewer", "admin"];


export async function adminHome() {
  const [{ users }, { projects }] = await Promise.all([api.get("/api/users"), api.get("/api/projects")]);
  const log = h("pre", { class: "log", hidden: true, "aria-label": "Rebuild progress" });
  return {
    el: h("section", { class: "page" },
      h("div", { class: "page-head" }, h("h1", {}, "Administration"), h("a", { class: "button primary", href: "#/admin/new" }, "New project")),
      h("div", { class: "two-col" },
        h("div", { class: "card" }, h("h2", {}, "Projects"),
          h("table", { class: "data" }, h("thead", {}, h("tr", {}, h("th", {}, "Project"), h("th", {}, "Type"), h("th", {}, "Done"))),
            h("tbody", {}, projects.map((p) => h("tr", {},
              h("td", {}, h("a", { href: `#/admin/p/${p.project_id}` }, p.name)), h("td", {}, TYPE_NAMES[p.project_type]),
              h("td", {}, `${p.counts.done} / ${p.counts.total}`)))))),
        h("div", { class: "stack" },
          usersCard(users),
          h("div", { class: "card" }, h("h2", {}, "Read model"),
            h("p", { class: "muted small" }, "Drop the projections and rebuild them from the log; the result is checked byte for byte against the live model."),
            h("button", { onclick: () => reproject(log) }, "Rebuild from the log"), log)))),
  };
}

async function reproject(log) {
  log.hidden = false;
  log.textContent = "";
  const response = await api.raw("/api/admin/reproject", "POST");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    const lines = buffer.split("\n");
    buffer = lines.pop();
    for (const line of lines) {
      if (!line.trim()) continue;
      const m = JSON.parse(line);
      log.textContent += m.phase === "folding" ? `folded ${m.seq} / ${m.of}\n`
        : m.phase === "done" ? `done at seq ${m.seq} in ${m.seconds} s (${m.bytes} bytes), equals live: ${m.equals_live}\n`
          : `${m.phase}: last seq ${m.last_seq}\n`;
      log.scrollTop = log.scrollHeight;
    }
  }
}

function tagEditor(initial) {
  const rows = h("div", { class: "tag-rows" });
  const add = (t = {}) => {
    const i = rows.children.length;
    const row = h("div", { class: "tag-row" },
      h("input", { type: "color", value: t.colour || PALETTE[i % PALETTE.length], "aria-label": "Tag colour" }),
      h("input", { value: t.name || "", placeholder: "tag name", "aria-label": "Tag name", required: true }),
      h("select", { "aria-label": "Tag key" }, h("option", { value: "" }, "no key"),
        [1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => h("option", { value: k, selected: (t.key ?? (i < 9 ? i + 1 : null)) === k }, `key ${k}`))),
      h("button", { type: "button", class: "ghost icon", "aria-label": "Remove tag", onclick: () => row.remove() }, "✕"));
    rows.appendChild(row);
  };
  (initial.length ? initial : [{}, {}]).forEach(add);
  const value = () => [...rows.children].map((r) => {
    const [colour, name, key] = r.querySelectorAll("input, select");
    return { name: name.value.trim(), colour: colour.value, key: key.value ? Number(key.value) : null };
  }).filter((t) => t.name);
  return { el: h("div", {}, rows, h("button", { type: "button", class: "ghost", onclick: () => add() }, "+ Add tag")), value };
}

function markdownField(initial) {
  const preview = h("div", { class: "preview markdown", "aria-label": "Preview" });
  const area = h("textarea", { oninput: () => mount(preview, instructionsDom(area.value)) }, "");
  area.value = initial;
  mount(preview, instructionsDom(initial));
  return { area, preview };
}

export function createProject() {
  const id = h("input", { required: true, pattern: "[a-z0-9][a-z0-9_]{0,39}", placeholder: "lowercase_id" });
  const name = h("input", { required: true });
  const type = h("select", {}, Object.entries(TYPE_NAMES).map(([k, v]) => h("option", { value: k }, v)));
  const tags = tagEditor([]);
  const md = markdownField("# What to label\n\nDescribe the task here. **Markdown** works.");
  const pageSize = h("input", { type: "number", min: 1, max: 100, value: 9 });
  const overlap = h("input", { type: "number", min: 1, max: 20, value: 1 });
  const lease = h("input", { type: "number", min: 10, max: 86400, value: 900 });
  const precision = h("input", { type: "number", min: 0.5, max: 1, step: 0.01, value: 0.95 });
  const form = h("form", {
    class: "card form-grid", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api.post("/api/projects", {
          project_id: id.value.trim(), name: name.value.trim(), project_type: type.value, tags: tags.value(),
          instructions: md.area.value, page_size: Number(pageSize.value), overlap: Number(overlap.value),
          lease_seconds: Number(lease.value), target_precision: Number(precision.value),
        });
        notify("Project created: import its items next.", "ok");
        go(`#/admin/p/${id.value.trim()}`);
      } catch (err) { notify(err.field ? `${err.message} (${err.field})` : err.message, "error"); }
    },
  },
  ...field("Project id", id, "p-id"), ...field("Name", name, "p-name"), ...field("Type", type, "p-type"),
  h("label", {}, "Tags"), tags.el,
  h("label", { for: "p-instructions" }, "Instructions (Markdown)"), h("div", { class: "stack" }, Object.assign(md.area, { id: "p-instructions" }), md.preview),
  ...field("Page size", pageSize, "p-page"), ...field("Overlap (labelers per item)", overlap, "p-overlap"),
  ...field("Lease (seconds)", lease, "p-lease"), ...field("Assistant's target precision", precision, "p-precision"),
  h("span", {}), h("div", { class: "actions" }, h("a", { class: "button ghost", href: "#/admin" }, "Cancel"), h("button", { class: "primary", type: "submit" }, "Create project")));
  return { el: h("section", { class: "page narrow" }, h("p", { class: "crumbs" }, h("a", { href: "#/admin" }, "Admin"), " / New project"), h("h1", {}, "New project"), h("p", {}), form) };
}

export async function manageProject(projectId) {
  const [p, stats, { users }, formats] = await Promise.all([
    api.get(projectPath(projectId)), api.get(`${projectPath(projectId)}/stats`), api.get("/api/users"), api.get(`${projectPath(projectId)}/export/formats`),
  ]);
  const files = h("input", { type: "file", multiple: true, "aria-label": "Files to import" });
  const report = h("div", { role: "status" });
  const who = h("select", { "aria-label": "User" }, users.map((u) => h("option", { value: u.username }, u.username)));
  const role = h("select", { "aria-label": "Role" }, ROLES.map((r) => h("option", { value: r }, r)));
  const md = markdownField(p.instructions);
  const tags = tagEditor(p.tags);
  const reload = () => go(`#/admin/p/${projectId}`);
  const members = Object.entries(p.members || {});
  return {
    el: h("section", { class: "page" },
      h("p", { class: "crumbs" }, h("a", { href: "#/admin" }, "Admin"), " / ", p.name),
      h("div", { class: "page-head" }, h("h1", {}, p.name), h("span", { class: "pill" }, TYPE_NAMES[p.project_type]),
        h("a", { class: "button ghost", href: `#/p/${projectId}/audit` }, "Audit"), h("a", { class: "button primary", href: `#/p/${projectId}/label` }, "Label")),
      progressBar(p.counts.done, p.counts.total),
      h("p", { class: "muted small" }, `page size ${p.page_size} · overlap ${p.overlap} · lease ${p.lease_seconds} s · ${stats.open_sessions.length} open session(s) · ${stats.models.length} model round(s)`),
      h("div", { class: "two-col" },
        h("div", { class: "stack" },
          h("div", { class: "card" }, h("h2", {}, "Import items"),
            h("p", { class: "muted small" }, "Images, DICOM files, text (CSV, JSONL, TXT) or zip / tar archives of them."),
            h("form", {
              onsubmit: async (e) => {
                e.preventDefault();
                if (!files.files.length) return;
                const form = new FormData();
                for (const f of files.files) form.append("files", f, f.name);
                try {
                  const r = await api.upload(`${projectPath(projectId)}/items`, form);
                  mount(report, h("p", {}, `${r.imported} imported`, r.skipped.length ? `, ${r.skipped.length} skipped` : "", r.errors.length ? `, ${r.errors.length} refused` : ""),
                    h("ul", {}, [...r.errors.map((x) => h("li", { class: "error" }, `${x.name}: ${x.message}`)), ...r.skipped.map((x) => h("li", { class: "muted" }, `${x.name}: ${x.reason}`))]));
                  notify(`${r.imported} item(s) imported.`, "ok");
                } catch (err) { mount(report, h("p", { class: "error" }, err.message)); }
              },
            }, files, " ", h("button", { class: "primary", type: "submit" }, "Import")), report),
          h("div", { class: "card" }, h("h2", {}, "Members"),
            h("table", { class: "data" }, h("tbody", {}, members.map(([user, r]) => h("tr", {}, h("td", {}, user), h("td", {}, r),
              h("td", {}, h("button", { class: "ghost small", "aria-label": `Remove ${user}`, onclick: async () => { try { await api.del(`${projectPath(projectId)}/members/${enc(user)}`); reload(); } catch (err) { notify(err.message, "error"); } } }, "Remove")))))),
            h("div", { class: "actions" }, who, role, h("button", { onclick: async () => { try { await api.post(`${projectPath(projectId)}/members`, { user: who.value, role: role.value }); reload(); } catch (err) { notify(err.message, "error"); } } }, "Add / change role"))),
          h("div", { class: "card" }, h("h2", {}, "Progress per labeler"),
            h("table", { class: "data" }, h("thead", {}, h("tr", {}, h("th", {}, "Labeler"), h("th", {}, "Submitted"))),
              h("tbody", {}, Object.entries(stats.progress.by_labeler).map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, String(v)))))),
            h("h4", {}, "Per tag"),
            h("table", { class: "data" }, h("tbody", {}, Object.entries(stats.progress.by_tag).map(([k, v]) => h("tr", {}, h("td", {}, swatch(p.tags.find((t) => t.name === k)?.colour ?? "#999"), " ", k), h("td", {}, String(v)))))),
            h("h4", {}, "Open sessions"),
            h("table", { class: "data" }, h("tbody", {}, stats.open_sessions.map((s) => h("tr", {}, h("td", {}, s.user), h("td", {}, `${s.page.length} item(s)`), h("td", {}, `lease until ${when(s.lease_until)}`)))))),
          exportCard(projectId, formats),
          importLabelsCard(projectId, formats)),
        h("div", { class: "stack" },
          h("div", { class: "card" }, h("h2", {}, "Tags"), tagList(p.tags), tags.el,
            h("div", { class: "actions" }, h("button", { onclick: async () => { try { await api.put(`${projectPath(projectId)}/tags`, { tags: tags.value() }); notify("Tags saved.", "ok"); reload(); } catch (err) { notify(err.message, "error"); } } }, "Save tags"))),
          h("div", { class: "card" }, h("h2", {}, "Instructions"), md.area, h("h4", {}, "Preview"), md.preview,
            h("div", { class: "actions" }, h("button", { class: "primary", onclick: async () => { try { await api.put(`${projectPath(projectId)}/instructions`, { instructions: md.area.value }); notify("Instructions saved.", "ok"); } catch (err) { notify(err.message, "error"); } } }, "Save instructions"))),
          patientIdentifiersCard(projectId, p.patient_identifiers_shown),
          h("p", { class: "muted small" }, "Keys: ", kbd("1"), "–", kbd("9"), " pick the first nine tags while labeling.")))),
  };
}

/** Whether DICOM patient identifiers are shown to the project's labelers, reviewers and auditors. */
function patientIdentifiersCard(projectId, shown) {
  const box = h("input", {
    type: "checkbox", id: "p-phi", checked: shown,
    onchange: async () => {
      try {
        await api.put(`${projectPath(projectId)}/patient-identifiers`, { shown: box.checked });
        notify(box.checked ? "Members now see patient identifiers." : "Patient identifiers are hidden from members.", "ok");
      } catch (err) { box.checked = !box.checked; notify(err.message, "error"); }
    },
  });
  return h("div", { class: "card" }, h("h2", {}, "Patient identifiers"),
    h("label", { class: "inline", for: "p-phi" }, box, " Show DICOM patient identifiers (name, ID, birth date…) to members"),
    h("p", { class: "muted small" }, "Hidden by default: members then see the pixels and the study's settings, never the patient, and cannot download the original files. Admins always see them."));
}
