// The admin screen's export and label-import cards (docs/export.md): any format that fits the
// project, as of any seq or time, and labels brought in from the same formats.
import { api, projectPath } from "../api.js";
import { h, mount } from "../dom.js";
import { notify } from "../app.js";

/** The file name the server gave an export, from its Content-Disposition header. */
export function attachmentName(disposition, fallback) {
  const match = /filename="([^"]+)"/.exec(disposition || "");
  return match ? match[1] : fallback;
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The export card: format, overlap, drafts and prelabels, as of when; downloads the file. */
export function exportCard(projectId, formats) {
  const format = h("select", { id: "x-format", "aria-label": "Export format" },
    formats.formats.map((f) => h("option", { value: f.name }, `${f.title} (.${f.extension})`)));
  const overlap = h("select", { id: "x-overlap", "aria-label": "Overlap" },
    h("option", { value: "all" }, "every labeler's submission"),
    h("option", { value: "majority" }, "what most labelers agree on"));
  const includes = formats.include.map((name) => ({ name, box: h("input", { type: "checkbox", "aria-label": `Include ${name}` }) }));
  const asOf = h("input", { id: "x-as-of", placeholder: `now (seq ${formats.seq})`, "aria-label": "As of seq or time", autocomplete: "off" });
  const status = h("p", { class: "muted small", role: "status" });
  const button = h("button", { class: "primary", type: "submit" }, "Download");

  async function download(e) {
    e.preventDefault();
    const query = new URLSearchParams({ format: format.value, overlap: overlap.value });
    const chosen = includes.filter((i) => i.box.checked).map((i) => i.name);
    if (chosen.length) query.set("include", chosen.join(","));
    if (asOf.value.trim()) query.set("as_of", asOf.value.trim());
    button.disabled = true;
    mount(status, "Exporting…");
    try {
      const response = await api.raw(`${projectPath(projectId)}/export?${query}`);
      const name = attachmentName(response.headers.get("content-disposition"), `${projectId}-${format.value}`);
      save(await response.blob(), name);
      mount(status, `${name} (as of seq ${response.headers.get("x-annolog-seq")})`);
    } catch (err) {
      mount(status, h("span", { class: "error" }, err.message));
      notify(err.message, "error");
    } finally {
      button.disabled = false;
    }
  }

  return h("div", { class: "card" }, h("h2", {}, "Export labels"),
    h("form", { class: "stack", onsubmit: download },
      h("label", { for: "x-format" }, "Format"), format,
      h("label", { for: "x-overlap" }, "With overlap, export"), overlap,
      h("div", {}, includes.map((i) => h("label", { class: "inline" }, i.box, ` include ${i.name}`))),
      h("label", { for: "x-as-of" }, "As of (a seq, or a time such as 2026-11-28T09:00:00Z)"), asOf,
      h("div", { class: "actions" }, button)),
    status);
}

function importReport(report) {
  return h("div", {},
    h("p", {}, `${report.imported} imported, ${report.unchanged} unchanged of ${report.records} record(s)`,
      report.errors.length ? `, ${report.errors.length} refused` : "", report.skipped.length ? `, ${report.skipped.length} skipped` : ""),
    h("ul", {},
      report.errors.map((x) => h("li", { class: "error" }, `${x.where}: ${x.message}`)),
      report.skipped.map((x) => h("li", { class: "muted" }, `${x.where}: ${x.reason}`))));
}

/** The label-import card: a file in one of the formats, drawn as the `import` labeler. */
export function importLabelsCard(projectId, formats) {
  const format = h("select", { id: "li-format", "aria-label": "Label file format" },
    formats.imports.map((name) => h("option", { value: name }, name)));
  const file = h("input", { type: "file", "aria-label": "Label file" });
  const report = h("div", { role: "status" });

  async function send(e) {
    e.preventDefault();
    const chosen = file.files[0];
    if (!chosen) { notify("Choose a label file first.", "info"); return; }
    const form = new FormData();
    form.append("file", chosen, chosen.name);
    const query = new URLSearchParams({ format: format.value, filename: chosen.name });
    try {
      const answer = await api.upload(`${projectPath(projectId)}/labels?${query}`, form);
      mount(report, importReport(answer));
      notify(`${answer.imported} label(s) imported.`, "ok");
    } catch (err) {
      // Nothing importable is a 422 whose body is still the per-record report.
      mount(report, err.body?.errors ? importReport(err.body) : h("p", { class: "error" }, err.message));
    }
  }

  return h("div", { class: "card" }, h("h2", {}, "Import labels"),
    h("p", { class: "muted small" }, "Labels from another tool or an earlier export; each becomes a submission by ", h("code", {}, "import"), "."),
    h("form", { onsubmit: send }, h("label", { for: "li-format" }, "Format "), format, " ", file, " ",
      h("button", { type: "submit" }, "Import labels")),
    report);
}
