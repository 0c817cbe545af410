// A DICOM frame in the browser: the server's modality values (fetched once per frame) windowed
// here through a lookup table into a canvas, live while the mouse drags.
import { api } from "../api.js";
import * as wl from "../windowing.js";

export class DicomSource {
  constructor(url) {
    this.url = url;
    this.frame = 0;
    this.canvas = document.createElement("canvas");
    this.ctx = this.canvas.getContext("2d");
    this.lut = null;
  }

  async load() {
    this.meta = await api.get(`${this.url}?view=metadata`);
    this.frames = this.meta.frames || 1;
    this.invert = this.meta.photometric_interpretation === "MONOCHROME1";
    this.mono = this.meta.photometric_interpretation?.startsWith("MONOCHROME");
    await this.loadFrame(0);
  }

  transform() {
    const m = this.meta;
    return m.frame_transforms?.length ? m.frame_transforms[this.frame] : m.transform;
  }

  async loadFrame(frame) {
    this.frame = frame;
    if (!this.mono) return this.loadPng(frame);
    const response = await api.raw(`${this.url}?view=values&frame=${frame}`);
    const buffer = await response.arrayBuffer();
    const header = wl.parseHeader(buffer);
    const inflated = new Response(new Blob([buffer.slice(32)]).stream().pipeThrough(new DecompressionStream("deflate")));
    const planes = new Uint8Array(await inflated.arrayBuffer());
    this.header = header;
    this.samples = wl.samplesFromPlanes(planes, header);
    const pad = this.meta.pixel_padding_value;
    const padding = pad == null ? null : { low: Math.min(pad, this.meta.pixel_padding_range_limit ?? pad), high: Math.max(pad, this.meta.pixel_padding_range_limit ?? pad) };
    this.range = wl.sampleRange(this.samples, padding);
    const toValue = (s) => s * header.slope + header.intercept;
    const a = toValue(this.range.unpaddedMin), b = toValue(this.range.unpaddedMax);
    this.valueMin = Math.min(a, b);
    this.valueMax = Math.max(a, b);
    this.integer = header.kind !== "f";
    this.canvas.width = header.columns;
    this.canvas.height = header.rows;
    this.image = this.ctx.createImageData(header.columns, header.rows);
    this.out32 = new Uint32Array(this.image.data.buffer);
    this.presets = [...wl.fileWindows(this.transform()), ...wl.PRESETS.map((p) => ({ ...p, function: "LINEAR" }))];
    this.initial = this.defaultWindow();
    // The labeler's window carries over when paging through frames.
    if (!this.window) this.window = this.initial;
    this.apply(this.window);
  }

  async loadPng(frame) {
    const img = new Image();
    img.src = `${this.url}?view=png&frame=${frame}`;
    await img.decode();
    this.canvas.width = img.naturalWidth;
    this.canvas.height = img.naturalHeight;
    this.ctx.drawImage(img, 0, 0);
    this.presets = [];
    this.window = null;
  }

  /** The file's VOI LUT, else its first window, else the automatic one (as the server). */
  defaultWindow() {
    const t = this.transform();
    if (t?.voi_luts?.length) return { name: "File VOI LUT", lut: t.voi_luts[0], center: 0, width: 1 };
    if (t?.windows?.length) return { ...t.windows[0] };
    return wl.autoWindow(this.valueMin, this.valueMax);
  }

  /** Windows the frame: a new table over the sample range, then one pass over the pixels. */
  apply(window) {
    if (!this.samples) return;
    this.window = window;
    const { slope, intercept } = this.header;
    if (this.integer) {
      this.lut = wl.buildLut(this.range.min, this.range.max, slope, intercept, window, this.invert, this.lut);
      wl.applyLut(this.samples, this.range.min, this.lut, this.out32);
    } else {
      wl.applyDirect(this.samples, slope, intercept, window, this.invert, this.out32);
    }
    this.ctx.putImageData(this.image, 0, 0);
  }

  drag(start, dx, dy) {
    const base = start.lut ? wl.autoWindow(this.valueMin, this.valueMax) : start;
    this.apply(wl.dragWindow(base, dx, dy, this.valueMax - this.valueMin));
  }

  /** The modality value at an image pixel (for the readout). */
  valueAt(x, y) {
    if (!this.samples) return null;
    const i = Math.floor(y) * this.header.columns + Math.floor(x);
    const s = this.samples[i];
    return s === undefined ? null : s * this.header.slope + this.header.intercept;
  }

  describe() {
    const w = this.window;
    if (!w) return "colour image";
    if (w.lut) return w.name || "VOI LUT";
    return `W ${Math.round(w.width)} / L ${Math.round(w.center)}`;
  }
}
