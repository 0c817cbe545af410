// The image editor for boxes, polygons and semantic masks (images and DICOM): a canvas with
// zoom and pan, the tools of tools.js, a regions list, brush and window/level controls.
import * as g from "../geometry.js";
import { h, mount, kbd, inkOn } from "../dom.js";
import { notify, confirmDialog } from "../app.js";
import { drawScene, MaskLayer } from "./paint.js";
import { DicomSource } from "./dicom.js";
import { pointerDown, pointerMove, pointerUp, closePolygon, lockedNotice } from "./tools.js";
import { sidePanel } from "./editor_side.js";
import { draftOnFrame, FRAMED } from "../draft.js";

const TOOLS = {
  rect: ["Rectangle", "R"], template: ["Template box", "T"], move: ["Move / resize", "M"],
  polygon: ["Polygon", "P"], points: ["Add/remove points", "U"], delete: ["Delete region", "X"],
  brush: ["Brush", "B"], eraser: ["Eraser", "E"], wl: ["Window/level", "W"],
};
const TOOLS_BY_TYPE = {
  bounding_boxes: ["rect", "template", "move", "delete"],
  polygons: ["polygon", "points", "move", "delete"],
  semantic_segmentation: ["brush", "eraser", "polygon", "points", "move", "delete"],
};
const KEY_TOOL = { r: "rect", t: "template", m: "move", p: "polygon", u: "points", x: "delete", b: "brush", e: "eraser", w: "wl" };

export function create(s) {
  const ed = new Editor(s);
  return ed;
}

class Editor {
  constructor(s) {
    this.s = s;
    this.index = 0;
    this.view = { scale: 1, tx: 0, ty: 0 };
    this.tool = TOOLS_BY_TYPE[s.type][0];
    this.polygon = [];
    this.selected = null;
    this.lastBox = JSON.parse(localStorage.getItem(`annolog-lastbox:${s.projectId}`) || "null");
    this.brushSize = Number(localStorage.getItem("annolog-brush")) || 12;
    this.dpr = window.devicePixelRatio || 1;
    this.canvas = h("canvas", { class: "stage", tabindex: "0", "aria-label": "Image to annotate" });
    this.ctx = this.canvas.getContext("2d");
    this.wrap = h("div", { class: "stage-wrap" }, this.canvas, this.readout = h("div", { class: "readout" }));
    this.toolbar = h("div", { class: "toolbar", role: "toolbar", "aria-label": "Tools" });
    this.side = h("aside", { class: "side" });
    this.el = h("div", { class: "editor" }, this.toolbar, h("div", { class: "editor-main" }, this.wrap, this.side));
    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => { c.focus(); c.setPointerCapture(e.pointerId); pointerDown(this, e); this.redraw(); });
    c.addEventListener("pointermove", (e) => pointerMove(this, e));
    c.addEventListener("pointerup", (e) => pointerUp(this, e));
    c.addEventListener("pointerleave", () => { if (!this.drag) { this.preview = this.polygon.length ? this.preview : null; this.redraw(); } });
    c.addEventListener("dblclick", () => { if (this.tool === "polygon" && this.polygon.length >= 3) closePolygon(this); });
    c.addEventListener("contextmenu", (e) => e.preventDefault());
    c.addEventListener("wheel", (e) => { e.preventDefault(); this.zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.offsetX, e.offsetY); }, { passive: false });
    this.keyup = (e) => { if (e.key === " ") this.spaceDown = false; };
    window.addEventListener("keyup", this.keyup);
    this.resizer = new ResizeObserver(() => this.resize());
  }

  get item() { return this.s.page.items[this.index]; }
  get info() { return this.s.items.get(this.item); }
  draft() { return this.s.mine.get(this.item); }
  /** The frame on screen: a multi-frame DICOM item's regions and strokes are each on one. */
  frameNow() { return this.dicom?.frame ?? 0; }
  /** What of the draft is on the frame on screen: what is drawn, hit and listed. */
  shown() { return draftOnFrame(this.draft(), this.frameNow()); }
  radius() { return this.brushSize / 2; }
  selectedRegion() { return this.selected ? this.shown().regions.get(this.selected) ?? null : null; }

  mounted() {
    this.resizer.observe(this.wrap);
    this.load();
  }

  destroy() {
    this.resizer.disconnect();
    window.removeEventListener("keyup", this.keyup);
  }

  async load() {
    const info = this.info;
    this.base = null;
    this.dicom = null;
    this.mask = this.s.type === "semantic_segmentation" ? new MaskLayer(info.width, info.height, this.s.tags) : null;
    this.mask?.rebuild(this.shown().strokes);
    this.renderChrome();
    try {
      if (info.kind === "dicom") {
        this.dicom = new DicomSource(this.s.mediaUrl(this.item));
        await this.dicom.load();
        this.base = this.dicom.canvas;
      } else {
        const img = new Image();
        img.src = this.s.mediaUrl(this.item);
        await img.decode();
        this.base = img;
      }
    } catch (e) {
      notify(`The image could not be shown: ${e.message}`, "error");
    }
    this.fit();
    this.renderChrome();
    this.canvas.dataset.frame = String(this.frameNow());
    this.canvas.dataset.ready = "true";
  }

  resize() {
    const r = this.wrap.getBoundingClientRect();
    this.cssW = Math.max(100, Math.floor(r.width));
    this.cssH = Math.max(100, Math.floor(r.height));
    this.canvas.width = Math.round(this.cssW * this.dpr);
    this.canvas.height = Math.round(this.cssH * this.dpr);
    this.canvas.style.width = `${this.cssW}px`;
    this.canvas.style.height = `${this.cssH}px`;
    if (!this.fitted) this.fit();
    this.draw();
  }

  fit() {
    if (!this.cssW) return;
    this.view = g.fitView(this.info.width, this.info.height, this.cssW, this.cssH);
    this.fitted = true;
    this.redraw();
  }

  zoom(factor, sx = this.cssW / 2, sy = this.cssH / 2) {
    this.view = g.zoomAt(this.view, factor, sx, sy);
    this.status();
    this.redraw();
  }

  redraw() {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => { this.frameRequested = false; this.draw(); });
  }

  scene() {
    const regions = [];
    const frame = this.frameNow();
    for (const r of this.shown().regions.values()) regions.push(this.ghost && this.ghost.region_id === r.region_id ? this.ghost : r);
    const others = [...(this.s.others.get(this.item) || new Map())].map(([who, draft]) => ({ who, draft: draftOnFrame(draft, frame) }));
    return {
      base: this.base, width: this.info.width, height: this.info.height, mask: this.mask, regions, others,
      selected: this.selected, preview: this.preview, colour: (t) => this.s.colour(t), ink: (t) => (t ? inkOn(this.s.colour(t)) : "#fff"),
    };
  }

  draw() {
    if (!this.cssW) return;
    drawScene(this.ctx, this.dpr, this.view, this.scene());
  }

  /** Median milliseconds of `runs` full redraws (flushed with a one-pixel read), for bench/. */
  measureRedraw(runs = 60) {
    const times = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      this.view = { ...this.view, tx: this.view.tx + (i % 2 ? 1 : -1) };
      this.draw();
      this.ctx.getImageData(0, 0, 1, 1);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  }

  // Gestures.

  emit(event, { maskDone = false } = {}) {
    if (FRAMED.has(event.type)) event = { ...event, frame: this.frameNow() };
    this.s.gesture(this.item, [event]);
    if (this.mask && !maskDone && event.type.startsWith("annotation.brush")) this.mask.stroke(event.points, event.radius, event.tag ?? null);
  }

  select(regionId) {
    this.selected = regionId;
    this.renderSide();
    this.s.renderTags();
    this.redraw();
  }

  rememberBox(box) {
    this.lastBox = { w: box.w, h: box.h };
    localStorage.setItem(`annolog-lastbox:${this.s.projectId}`, JSON.stringify(this.lastBox));
  }

  setTool(tool) {
    if (tool === "wl" && !this.dicom?.window) { notify("Window/level works on greyscale DICOM images.", "info", { id: "wl" }); return; }
    if (tool !== "wl" && !TOOLS_BY_TYPE[this.s.type].includes(tool)) return;
    this.tool = tool;
    if (tool !== "polygon") { this.polygon = []; this.preview = null; }
    this.renderToolbar();
    this.redraw();
  }

  toggleLock() {
    const sel = this.selectedRegion();
    const regions = sel ? [sel] : [...this.shown().regions.values()];
    if (!regions.length) return;
    const lock = sel ? !sel.locked : regions.some((r) => !r.locked);
    const events = regions.filter((r) => r.locked !== lock).map((r) => ({ type: "annotation.region_lock_toggled", region_id: r.region_id, locked: lock }));
    if (events.length) this.s.gesture(this.item, events);
    notify(`${events.length} region${events.length === 1 ? "" : "s"} ${lock ? "locked" : "unlocked"}.`, "info", { timeout: 2000, id: "lock" });
  }

  deleteSelected() {
    const r = this.selectedRegion();
    if (!r) { this.setTool("delete"); return; }
    if (r.locked) { lockedNotice(); return; }
    this.emit({ type: "annotation.region_deleted", region_id: r.region_id });
    this.select(null);
  }

  async deleteAll() {
    const unlocked = [...this.draft().regions.values()].filter((r) => !r.locked);
    if (!unlocked.length) { notify("There are no unlocked regions to delete.", "info"); return; }
    // The gesture deletes every unlocked region of the item, so say so when some are on frames not shown.
    const away = unlocked.filter((r) => (r.frame ?? 0) !== this.frameNow()).length;
    const where = away ? `, ${away} of them on other frames` : "";
    if (!(await confirmDialog("Delete all regions?", `${unlocked.length} unlocked region(s) will be deleted${where}; locked ones stay. Undo brings them back.`, "Delete all"))) return;
    this.emit({ type: "annotation.all_regions_deleted" });
    this.select(null);
  }

  // The session's calls.

  changed(item, { reload } = {}) {
    if (item !== this.item) return;
    if (this.selected && !this.shown().regions.has(this.selected)) this.selected = null;
    if (reload && this.mask) this.mask.rebuild(this.shown().strokes);
    this.renderSide();
    this.redraw();
  }

  presence() {}
  focusItems() { return this.item ? [this.item] : []; }
  activeTags() {
    const r = this.selectedRegion();
    return new Set([r ? r.tag : this.s.currentTag]);
  }

  onTag(tag) {
    const r = this.selectedRegion();
    this.s.currentTag = tag.name;
    if (r && r.tag !== tag.name) {
      if (r.locked) { lockedNotice(); return true; }
      this.emit({ type: "annotation.region_retagged", region_id: r.region_id, tag: tag.name });
    }
    this.s.renderTags();
    this.redraw();
    return true;
  }

  onKey(name) {
    if (name === "space") { this.spaceDown = true; return true; }
    if (name === "x" && this.selected) { this.deleteSelected(); return true; }
    if (KEY_TOOL[name]) { this.setTool(KEY_TOOL[name]); return true; }
    switch (name) {
      case "l": this.toggleLock(); return true;
      case "delete": case "backspace":
        if (this.polygon.length) { this.polygon.pop(); this.redraw(); return true; }
        this.deleteSelected(); return true;
      case "shift+delete": case "shift+backspace": this.deleteAll(); return true;
      case "enter": if (this.polygon.length) { closePolygon(this); return true; } return false;
      case "escape": this.polygon = []; this.preview = null; this.select(null); return true;
      case "[": this.setBrush(this.brushSize - 2); return true;
      case "]": this.setBrush(this.brushSize + 2); return true;
      case "+": case "=": this.zoom(1.25); return true;
      case "-": this.zoom(0.8); return true;
      case "f": this.fit(); return true;
      case "arrowright": return this.go(1);
      case "arrowleft": return this.go(-1);
      case "pagedown": return this.frame(1);
      case "pageup": return this.frame(-1);
      default: return false;
    }
  }

  go(step) {
    const next = this.index + step;
    if (next < 0 || next >= this.s.page.items.length) return false;
    this.index = next;
    this.selected = null;
    this.fitted = false;
    this.load();
    return true;
  }

  async frame(step) {
    const d = this.dicom;
    if (!d || d.frames < 2) return false;
    const next = (d.frame + step + d.frames) % d.frames;
    await d.loadFrame(next);
    // What was being drawn or selected belongs to the frame left behind.
    this.polygon = [];
    this.preview = null;
    if (this.selected && !this.shown().regions.has(this.selected)) this.selected = null;
    this.mask?.rebuild(this.shown().strokes);
    this.canvas.dataset.frame = String(next);
    this.renderChrome();
    this.s.renderTags();
    this.redraw();
    return true;
  }

  setBrush(size) {
    this.brushSize = Math.max(1, Math.min(200, Math.round(size)));
    localStorage.setItem("annolog-brush", String(this.brushSize));
    this.renderToolbar();
    this.redraw();
  }

  // Chrome: toolbar, side panel, readout.

  renderChrome() {
    this.renderToolbar();
    this.renderSide();
    this.status();
  }

  renderToolbar() {
    const tools = [...TOOLS_BY_TYPE[this.s.type], ...(this.dicom?.window ? ["wl"] : [])];
    const d = this.dicom;
    mount(this.toolbar,
      tools.map((t) => h("button", { class: ["tool", this.tool === t && "active"], "aria-pressed": String(this.tool === t), title: `${TOOLS[t][0]} (${TOOLS[t][1]})`, onclick: () => this.setTool(t) }, TOOLS[t][0], " ", kbd(TOOLS[t][1]))),
      h("button", { class: "tool", title: "Lock / unlock (L)", onclick: () => this.toggleLock() }, "Lock", " ", kbd("L")),
      h("button", { class: "tool danger", title: "Delete all regions (Shift+Delete)", onclick: () => this.deleteAll() }, "Delete all"),
      this.mask ? h("label", { class: "inline brush" }, "Size ", h("input", { type: "range", min: 1, max: 80, value: this.brushSize, "aria-label": "Brush size", oninput: (e) => this.setBrush(Number(e.target.value)) }), h("span", { class: "mono" }, `${this.brushSize}px`)) : null,
      h("span", { class: "spacer" }),
      d?.window ? h("span", { class: "wl" },
        h("span", { class: "mono", "aria-label": "Current window" }, d.describe()),
        h("select", { "aria-label": "Window preset", onchange: (e) => { const p = d.presets[Number(e.target.value)]; if (p) { d.apply(p); this.renderToolbar(); this.status(); this.redraw(); } } },
          h("option", { value: "" }, "Presets…"), d.presets.map((p, i) => h("option", { value: i }, p.lut ? p.name : `${p.name} (${p.width}/${p.center})`))),
        h("button", { class: "ghost", onclick: () => { d.apply(d.initial); this.renderToolbar(); this.status(); this.redraw(); } }, "Reset")) : null,
      d && d.frames > 1 ? h("span", { class: "frames" },
        h("button", { class: "ghost", "aria-label": "Previous frame", onclick: () => this.frame(-1) }, "‹"),
        h("span", { class: "mono", "aria-label": "Frame" }, `frame ${d.frame + 1} / ${d.frames}`),
        h("button", { class: "ghost", "aria-label": "Next frame", onclick: () => this.frame(1) }, "›")) : null,
      h("span", { class: "zoom" },
        h("button", { class: "ghost", "aria-label": "Zoom out", onclick: () => this.zoom(0.8) }, "−"),
        h("button", { class: "ghost", "aria-label": "Fit", onclick: () => this.fit() }, "Fit"),
        h("button", { class: "ghost", "aria-label": "Zoom in", onclick: () => this.zoom(1.25) }, "+")));
  }

  renderSide() { mount(this.side, sidePanel(this)); }

  status() {
    const c = this.cursor;
    const parts = [`${Math.round(this.view.scale * 100)}%`];
    if (c && c.x >= 0 && c.y >= 0 && c.x <= this.info.width && c.y <= this.info.height) {
      parts.push(`x ${Math.floor(c.x)}, y ${Math.floor(c.y)}`);
      const v = this.dicom?.valueAt(c.x, c.y);
      if (v != null) parts.push(`value ${Math.round(v * 100) / 100}`);
    }
    if (this.dicom?.window) parts.push(this.dicom.describe());
    this.readout.textContent = parts.join(" · ");
    if (this.drag?.mode === "wl") {
      const label = this.toolbar.querySelector('[aria-label="Current window"]');
      if (label) label.textContent = this.dicom.describe();
    }
  }
}
