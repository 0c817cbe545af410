import { test } from "node:test";
import assert from "node:assert/strict";
import { Offsets, wordAt, snapToWords, runs, overlapping, spanFromRange } from "../js/text.js";

test("code point offsets survive emoji and combining marks", () => {
  const text = "🏆 Zoë and Zoe\u0308 met in São Paulo 👩‍👩‍👧";
  const o = new Offsets(text);
  assert.equal(o.length, [...text].length);
  // "Zoë" starts after the trophy (2 UTF-16 units, 1 code point) and a space.
  assert.equal(o.cp(3), 2);
  assert.equal(o.u16(2), 3);
  // An offset inside the surrogate pair rounds up.
  assert.equal(o.cp(1), 1);
  for (let cp = 0; cp <= o.length; cp++) assert.equal(o.cp(o.u16(cp)), cp);
  // Python's slice by code points equals JS's slice by the mapped UTF-16 offsets.
  const start = [...text].indexOf("S"), end = start + "São Paulo".length;
  assert.equal(text.slice(o.u16(start), o.u16(end)), "São Paulo");
});

test("double-click picks a whole word, combining marks included", () => {
  const text = "Hello Zoe\u0308 Müller!";
  const [a, b] = wordAt(text, 7);
  assert.equal(text.slice(a, b), "Zoe\u0308");
  assert.equal(wordAt(text, 5), null);
});

test("a drag snaps to whole words and drops the punctuation at its ends", () => {
  const text = "Ada Lovelace met Alan Turing in London.";
  const [a, b] = snapToWords(text, 2, 9);
  assert.equal(text.slice(a, b), "Ada Lovelace");
  const [c, d] = snapToWords(text, 31, 39);
  assert.equal(text.slice(c, d), "London");
  assert.equal(snapToWords(text, 38, 39), null);
});

test("runs cut the text around spans given in code points", () => {
  const text = "👋 Ada in Kyoto";
  const o = new Offsets(text);
  const spans = [{ span_id: "k", tag: "PLACE", start: 9, end: 14 }, { span_id: "a", tag: "PERSON", start: 2, end: 5 }];
  const out = runs(text, spans, o).map((r) => [text.slice(r.start, r.end), r.span?.span_id ?? null]);
  assert.deepEqual(out, [["👋 ", null], ["Ada", "a"], [" in ", null], ["Kyoto", "k"]]);
  assert.deepEqual(spanFromRange(o, 3, 6), { start: 2, end: 5 });
  assert.equal(overlapping(spans, 4, 6).length, 1);
  assert.equal(overlapping(spans, 5, 9).length, 0);
});
