// The auditor: an item's history as a timeline, a scrubber and a play button that redraw the
// item stroke by stroke as of any event, and the whole project as of a chosen moment.
import { api, projectPath, itemPath } from "../api.js";
import { h, mount, swatch, inkOn, when } from "../dom.js";
import { notify } from "../app.js";
import { ItemFold, MULTI_LABEL, REGION_TYPES, draftOnFrame } from "../draft.js";
import { fitView, zoomAt } from "../geometry.js";
import { drawScene, MaskLayer } from "./paint.js";
import { DicomSource } from "./dicom.js";
import { Offsets, runs } from "../text.js";
import { TYPE_NAMES, progressBar } from "./projects.js";

export async function audit(projectId, itemId) {
  const project = await api.get(projectPath(projectId));
  const { items, total } = await api.get(`${projectPath(projectId)}/items?limit=500`);
  const colour = (t) => project.tags.find((x) => x.name === t)?.colour ?? "#9aa0a6";
  const list = h("nav", { class: "items", "aria-label": "Items" },
    h("h4", {}, `Items (${total})`),
    items.map(({ item, submitted_by: sub, held_by: held }) => h("a", {
      href: `#/p/${projectId}/audit/${encodeURIComponent(item.item_id)}`, class: item.item_id === itemId ? "current" : null,
      title: item.name,
    }, item.name || item.item_id, sub.length ? h("span", { class: "muted small" }, ` ✓ ${sub.join(", ")}`) : null,
    held.length ? h("span", { class: "muted small" }, ` ✎ ${held.join(", ")}`) : null)));
  const detail = h("section", { class: "detail" }, asOfBar(projectId));
  let replay = null;
  if (itemId) {
    replay = await itemReplay(projectId, itemId, project, colour);
    detail.appendChild(replay.el);
  } else {
    detail.appendChild(h("div", { class: "empty card" }, h("h2", {}, "Pick an item"), h("p", {}, "Its history plays back stroke by stroke.")));
  }
  return {
    el: h("div", { class: "label-screen" },
      h("div", { class: "label-head" }, h("div", { class: "title" }, h("h1", {}, `Audit · ${project.name}`), h("span", { class: "pill" }, TYPE_NAMES[project.project_type]))),
      h("div", { class: "audit" }, list, detail)),
    mounted() { replay?.mounted(); },
    destroy() { replay?.destroy(); },
    onKey(name) { return replay?.onKey(name) ?? false; },
  };
}

function asOfBar(projectId) {
  const input = h("input", { type: "datetime-local", step: 1, "aria-label": "Moment" });
  const seq = h("input", { type: "number", min: 0, placeholder: "or a seq", "aria-label": "Sequence number", style: { width: "8rem" } });
  const out = h("span", { class: "as-of-result", role: "status" });
  const show = async () => {
    const query = seq.value ? `as_of=${Number(seq.value)}` : input.value ? `at=${new Date(input.value).getTime() / 1000}` : "";
    try {
      const st = await api.get(`${projectPath(projectId)}/state${query ? `?${query}` : ""}`);
      const submitted = Object.keys(st.submitted).length;
      mount(out, h("b", {}, `As of seq ${st.seq}: `), `${st.counts.done} / ${st.items} items done, ${submitted} submitted, ${st.counts.held} held, ${st.counts.open} open`,
        ` · by labeler: ${Object.entries(st.progress.by_labeler).map(([k, v]) => `${k} ${v}`).join(", ") || "none"}`);
    } catch (e) {
      mount(out, h("span", { class: "error" }, e.message));
    }
  };
  return h("div", { class: "as-of" }, h("b", {}, "Project as of"), input, seq, h("button", { onclick: show }, "Show"), out);
}

async function itemReplay(projectId, itemId, project, colour) {
  const history = await api.get(`${itemPath(projectId, itemId)}/history`);
  const events = history.events;
  const info = history.item;
  const type = history.project_type;
  const labelers = [...new Set(events.filter((r) => r.event.type.startsWith("annotation.")).map((r) => r.actor))];
  let labeler = labelers[0] ?? null;
  let at = events.length; // events folded: 0..at
  let timer = null;
  const slider = h("input", { type: "range", min: 0, max: events.length, value: at, "aria-label": "Scrub through the history", oninput: (e) => show(Number(e.target.value)) });
  const position = h("span", { class: "mono", role: "status" });
  const play = h("button", { class: "primary", onclick: () => toggle() }, "▶ Play");
  const who = h("select", { "aria-label": "Labeler", onchange: (e) => { labeler = e.target.value; show(at); } },
    labelers.map((l) => h("option", { value: l }, l)));
  const timeline = h("ol", { class: "events", "aria-label": "Timeline" });
  const stage = REGION_TYPES.has(type) ? new Stage(projectId, itemId, info, project, colour) : null;
  const textView = h("div", { class: "text-pane" });
  mount(timeline, events.map((r, i) => h("li", { dataset: { i }, onclick: () => show(i + 1) },
    h("b", {}, `#${r.seq} `), `${r.actor} · ${describe(r.event)}`, h("div", { class: "muted small" }, when(r.at)))));

  function fold(n) {
    const f = new ItemFold(MULTI_LABEL.has(type));
    for (const r of events.slice(0, n)) f.apply(r.event_id, r.event, r.actor);
    return f;
  }

  function show(n) {
    at = Math.max(0, Math.min(events.length, n));
    slider.value = at;
    const f = fold(at);
    const draft = labeler ? f.draftOf(labeler) : null;
    position.textContent = at ? `event ${at} / ${events.length} · seq ${events[at - 1].seq} · ${when(events[at - 1].at)}` : `before the first event (of ${events.length})`;
    timeline.querySelectorAll("li").forEach((li, i) => {
      li.classList.toggle("future", i >= at);
      li.classList.toggle("current", i === at - 1);
    });
    timeline.querySelector("li.current")?.scrollIntoView({ block: "nearest" });
    // A gesture on another frame of a multi-frame item takes the stage to that frame.
    if (stage) stage.show(draft, at ? events[at - 1].event.frame : undefined);
    else mount(textView, textReplay(info, draft, colour, `${itemPath(projectId, itemId)}/media${info.kind === "dicom" ? "?view=png" : ""}`));
  }

  function toggle() {
    if (timer) { clearInterval(timer); timer = null; play.textContent = "▶ Play"; return; }
    if (at >= events.length) show(0);
    play.textContent = "⏸ Pause";
    timer = setInterval(() => {
      if (at >= events.length) { toggle(); return; }
      show(at + 1);
    }, 350);
  }

  const el = h("div", { class: "detail" },
    h("div", { class: "timeline-bar" },
      h("b", {}, info.name || itemId), play,
      h("button", { class: "ghost", "aria-label": "Step back", onclick: () => show(at - 1) }, "‹"),
      slider,
      h("button", { class: "ghost", "aria-label": "Step forward", onclick: () => show(at + 1) }, "›"),
      labelers.length ? h("label", { class: "inline" }, "Draft of ", who) : h("span", { class: "muted" }, "no gestures yet"),
      position),
    h("div", { class: "replay" }, stage ? stage.el : textView, timeline));
  return {
    el,
    async mounted() { if (stage) await stage.load(); show(at); },
    destroy() { clearInterval(timer); stage?.destroy(); },
    onKey(name) {
      if (name === "arrowleft") { show(at - 1); return true; }
      if (name === "arrowright") { show(at + 1); return true; }
      if (name === "space") { toggle(); return true; }
      return false;
    },
  };
}

function describe(e) {
  const t = e.type.replace(/^annotation\.|^assist\./, "").replaceAll("_", " ");
  // Frames are shown counting from 1, as the frame pager does.
  const tag = (e.tag ? ` "${e.tag}"` : "") + (e.frame ? ` on frame ${e.frame + 1}` : "");
  if (e.points) return `${t}${tag} (${e.points.length} points)`;
  if (e.w != null) return `${t}${tag} ${Math.round(e.w)}×${Math.round(e.h)} at ${Math.round(e.x)},${Math.round(e.y)}`;
  if (e.start != null) return `${t}${tag} [${e.start}, ${e.end})`;
  if (e.target) return `${t} ${e.target.slice(0, 10)}…`;
  return `${t}${tag}`;
}

function textReplay(info, draft, colour, url) {
  const text = info.text ?? "";
  const media = info.kind === "text" ? null : h("img", { class: "thumb audit-thumb", src: url, alt: info.name || "item" });
  if (!draft) return h("div", {}, media, h("p", { class: "markdown" }, text));
  const offsets = new Offsets(text);
  return h("div", {},
    h("div", { class: "item-tags" }, draft.tags.map((t) => h("span", { class: "chip small", style: { background: colour(t), color: inkOn(colour(t)) } }, t))),
    info.kind !== "text" ? null : h("div", { class: "ner-text" }, runs(text, [...draft.spans.values()], offsets).map((r) => (r.span
      ? h("mark", { class: "span", dataset: { tag: r.span.tag }, style: { background: colour(r.span.tag), color: inkOn(colour(r.span.tag)) } }, text.slice(r.start, r.end))
      : text.slice(r.start, r.end)))),
    media,
    h("p", { class: "muted small" }, [...draft.tags, ...[...draft.spans.values()].map((s) => s.tag)].length ? "" : "Empty draft at this moment."));
}

/** A read-only canvas for an image or DICOM item with a draft drawn on it, one frame at a time. */
class Stage {
  constructor(projectId, itemId, info, project, colour) {
    this.url = `${itemPath(projectId, itemId)}/media`;
    this.info = info;
    this.colour = colour;
    this.mask = project.project_type === "semantic_segmentation" ? new MaskLayer(info.width, info.height, project.tags) : null;
    this.canvas = h("canvas", { class: "stage", "aria-label": "Item as of the chosen event" });
    this.ctx = this.canvas.getContext("2d");
    this.frames = h("span", { class: "frames" });
    this.el = h("div", { class: "stage-wrap" }, this.canvas, this.frames);
    this.dpr = window.devicePixelRatio || 1;
    this.draft = null;
    this.canvas.addEventListener("wheel", (e) => { e.preventDefault(); this.view = zoomAt(this.view, e.deltaY < 0 ? 1.15 : 1 / 1.15, e.offsetX, e.offsetY); this.draw(); }, { passive: false });
    this.resizer = new ResizeObserver(() => this.resize());
  }

  async load() {
    try {
      if (this.info.kind === "dicom") {
        const d = new DicomSource(this.url);
        await d.load();
        this.base = d.canvas;
        this.dicom = d;
        this.renderFrames();
      } else {
        const img = new Image();
        img.src = this.url;
        await img.decode();
        this.base = img;
      }
    } catch (e) {
      notify(`The image could not be shown: ${e.message}`, "error");
    }
    this.resizer.observe(this.el);
  }

  resize() {
    const r = this.el.getBoundingClientRect();
    this.w = Math.max(100, Math.floor(r.width));
    this.hh = Math.max(100, Math.floor(r.height));
    this.canvas.width = this.w * this.dpr;
    this.canvas.height = this.hh * this.dpr;
    this.canvas.style.width = `${this.w}px`;
    this.canvas.style.height = `${this.hh}px`;
    this.view = fitView(this.info.width, this.info.height, this.w, this.hh);
    this.draw();
  }

  frameNow() { return this.dicom?.frame ?? 0; }

  renderFrames() {
    const d = this.dicom;
    if (!d || d.frames < 2) return;
    mount(this.frames,
      h("button", { class: "ghost", "aria-label": "Previous frame", onclick: () => this.toFrame((d.frame + d.frames - 1) % d.frames) }, "‹"),
      h("span", { class: "mono", "aria-label": "Frame" }, `frame ${d.frame + 1} / ${d.frames}`),
      h("button", { class: "ghost", "aria-label": "Next frame", onclick: () => this.toFrame((d.frame + 1) % d.frames) }, "›"));
  }

  async toFrame(frame) {
    if (!this.dicom || frame === this.dicom.frame || frame >= this.dicom.frames) return;
    await this.dicom.loadFrame(frame);
    this.renderFrames();
    this.show(this.draft);
  }

  show(draft, frame) {
    if (frame != null && this.dicom && frame !== this.dicom.frame) {
      this.draft = draft;
      this.toFrame(frame);
      return;
    }
    this.draft = draft;
    const shown = draft ? draftOnFrame(draft, this.frameNow()) : null;
    this.canvas.dataset.frame = String(this.frameNow());
    this.canvas.dataset.regions = String(shown ? shown.regions.size : 0);
    this.canvas.dataset.strokes = String(shown ? shown.strokes.length : 0);
    if (this.mask) this.mask.rebuild(shown ? shown.strokes : []);
    this.draw();
  }

  draw() {
    if (!this.view) return;
    const d = this.draft ? draftOnFrame(this.draft, this.frameNow()) : null;
    drawScene(this.ctx, this.dpr, this.view, {
      base: this.base, width: this.info.width, height: this.info.height, mask: this.mask,
      regions: d ? [...d.regions.values()] : [], others: [], selected: null, preview: null,
      colour: this.colour, ink: (t) => (t ? inkOn(this.colour(t)) : "#fff"),
    });
  }

  destroy() { this.resizer.disconnect(); }
}

export { swatch, progressBar };
