import { test } from "node:test";
import assert from "node:assert/strict";
import { parse, safeHref, textOf, TAGS } from "../js/markdown.js";

const tags = (nodes, out = []) => {
  for (const n of nodes) if (typeof n !== "string") { out.push(n.tag); tags(n.children, out); }
  return out;
};

test("headings, emphasis, lists, code and links", () => {
  const tree = parse("# Title\n\nPick **one** digit, *carefully*.\n\n- a `key`\n- b\n\n1. first\n2. second\n\n```\n<b>raw</b>\n```\n\n> quoted\n\n[guide](https://example.org/g)");
  assert.deepEqual(tags(tree), ["h1", "p", "strong", "em", "ul", "li", "code", "li", "ol", "li", "li", "pre", "code", "blockquote", "p", "p", "a"]);
  assert.equal(textOf(tree[4].children), "<b>raw</b>");
  assert.equal(tree.at(-1).children[0].attrs.href, "https://example.org/g");
});

test("raw HTML stays text and only whitelisted tags come out", () => {
  const evil = '<script>alert(1)</script><img src=x onerror="alert(2)"> **<b>x</b>**';
  const tree = parse(evil);
  for (const t of tags(tree)) assert.ok(TAGS.has(t), t);
  assert.ok(textOf(tree).includes("<script>alert(1)</script>"));
  assert.ok(!tags(tree).includes("script"));
});

test("dangerous link targets are dropped, their text kept", () => {
  for (const href of ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>", "vbscript:x", "//evil.example/x"]) {
    assert.equal(safeHref(href), null, href);
  }
  assert.equal(safeHref("docs/guide.md"), "docs/guide.md");
  assert.equal(safeHref("mailto:a@b.c"), "mailto:a@b.c");
  const tree = parse("[click](javascript:alert(1))");
  assert.ok(!tags(tree).includes("a"));
});

test("escapes and empty input", () => {
  assert.deepEqual(parse(""), []);
  assert.equal(textOf(parse("\\*not em\\*")), "*not em*");
});
