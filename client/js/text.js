// Text offsets for NER. The server counts code points (Python str indices); JS strings count
// UTF-16 units, where an emoji outside the BMP is two. Everything the server sees is a code
// point offset; everything the DOM gives is a UTF-16 offset: convert at the edges only.

/** Maps between UTF-16 and code point offsets of one text (built once per text). */
export class Offsets {
  constructor(text) {
    this.text = text;
    const n = text.length;
    this.toCp = new Uint32Array(n + 1);
    const cps = [];
    let cp = 0;
    for (let i = 0; i < n; ) {
      const code = text.charCodeAt(i);
      const wide = code >= 0xd800 && code <= 0xdbff && i + 1 < n &&
        (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      cps.push(i);
      this.toCp[i] = cp;
      if (wide) this.toCp[i + 1] = cp + 1; // inside a pair: rounds up to the next code point
      i += wide ? 2 : 1;
      cp++;
    }
    this.toCp[n] = cp;
    cps.push(n);
    this.toU16 = Uint32Array.from(cps);
    this.length = cp;
  }

  /** Code point offset of a UTF-16 offset (an offset inside a surrogate pair rounds up). */
  cp(u16) {
    return this.toCp[Math.max(0, Math.min(this.text.length, u16))];
  }

  /** UTF-16 offset of a code point offset. */
  u16(cp) {
    return this.toU16[Math.max(0, Math.min(this.length, cp))];
  }
}

const segmenter = typeof Intl !== "undefined" && Intl.Segmenter
  ? new Intl.Segmenter(undefined, { granularity: "word" }) : null;

/** Word-like segments of a text as [start, end) UTF-16 ranges (combining marks stay inside). */
export function words(text) {
  if (segmenter) {
    return [...segmenter.segment(text)].filter((s) => s.isWordLike)
      .map((s) => [s.index, s.index + s.segment.length]);
  }
  const out = [];
  for (const m of text.matchAll(/[\p{L}\p{N}\p{M}_'’-]+/gu)) out.push([m.index, m.index + m[0].length]);
  return out;
}

/** The word at a UTF-16 offset, or null when the offset is on a space or punctuation. */
export function wordAt(text, u16) {
  for (const [a, b] of words(text)) if (u16 >= a && u16 < b) return [a, b];
  return null;
}

/** A dragged selection [a, b) in UTF-16 units, snapped outwards to whole words and trimmed of
 * the spaces and punctuation at its ends; null when it holds no word. */
export function snapToWords(text, a, b) {
  if (b < a) [a, b] = [b, a];
  const inside = words(text).filter(([s, e]) => e > a && s < b);
  if (!inside.length) return null;
  return [inside[0][0], inside[inside.length - 1][1]];
}

/** A span's [start, end) in code points for a UTF-16 range. */
export function spanFromRange(offsets, a, b) {
  return { start: offsets.cp(a), end: offsets.cp(b) };
}

/** Whether [start, end) (code points) overlaps any span of the draft. */
export function overlapping(spans, start, end) {
  return [...spans].filter((s) => s.start < end && start < s.end);
}

/** The text cut into runs for display: [{start, end (UTF-16), span}] where span is the span
 * covering the run or null; spans are in code points and must not overlap. */
export function runs(text, spans, offsets = new Offsets(text)) {
  const sorted = [...spans].sort((x, y) => x.start - y.start || x.end - y.end);
  const out = [];
  let at = 0;
  for (const span of sorted) {
    const a = offsets.u16(span.start), b = offsets.u16(span.end);
    if (a < at) continue; // overlaps one already shown
    if (a > at) out.push({ start: at, end: a, span: null });
    out.push({ start: a, end: b, span });
    at = b;
  }
  if (at < text.length) out.push({ start: at, end: text.length, span: null });
  return out;
}
