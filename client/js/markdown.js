// A small, safe Markdown renderer for project instructions. It never produces HTML text: it
// returns a tree of {tag, attrs, children} nodes whose tags come from a whitelist and whose
// strings are text (the DOM layer sets them with textContent). Raw HTML in the source is
// shown as text; links keep only http(s), mailto and same-site relative addresses.

export const TAGS = new Set(["h1", "h2", "h3", "h4", "p", "strong", "em", "code", "pre", "ul", "ol", "li",
  "a", "blockquote", "hr", "br", "del"]);

const node = (tag, children = [], attrs = {}) => ({ tag, attrs, children });

/** Whether a link target is safe to follow. */
export function safeHref(href) {
  const h = href.trim();
  if (/^(https?:|mailto:)/i.test(h)) return h;
  // Relative addresses only when nothing before the first / ? # could be a scheme.
  if (/^[^:/?#]*([/?#]|$)/.test(h) && !/^[a-z][a-z0-9+.-]*:/i.test(h) && !h.startsWith("//")) return h;
  return null;
}

/** Inline Markdown: **strong**, *em* / _em_, `code`, ~~del~~, [text](href), line breaks. */
export function inline(text) {
  const out = [];
  let buf = "";
  const flush = () => { if (buf) { out.push(buf); buf = ""; } };
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    let m;
    if (rest[0] === "\\" && rest.length > 1 && /[\\`*_[\]()#+\-.!~>]/.test(rest[1])) {
      buf += rest[1]; i += 2; continue;
    }
    if ((m = /^`([^`]+)`/.exec(rest))) {
      flush(); out.push(node("code", [m[1]])); i += m[0].length; continue;
    }
    if ((m = /^(\*\*|__)(?=\S)([\s\S]*?\S)\1/.exec(rest))) {
      flush(); out.push(node("strong", inline(m[2]))); i += m[0].length; continue;
    }
    if ((m = /^~~(?=\S)([\s\S]*?\S)~~/.exec(rest))) {
      flush(); out.push(node("del", inline(m[1]))); i += m[0].length; continue;
    }
    if ((m = /^(\*|_)(?=\S)([\s\S]*?\S)\1(?![*_])/.exec(rest))) {
      flush(); out.push(node("em", inline(m[2]))); i += m[0].length; continue;
    }
    if ((m = /^\[([^\]]*)\]\(([^()\s]*)\)/.exec(rest))) {
      flush();
      const href = safeHref(m[2]);
      if (href) out.push(node("a", inline(m[1]), { href, rel: "noopener noreferrer", target: "_blank" }));
      else out.push(...inline(m[1]));
      i += m[0].length; continue;
    }
    if ((m = /^ {2,}\n/.exec(rest))) {
      flush(); out.push(node("br")); i += m[0].length; continue;
    }
    buf += rest[0];
    i++;
  }
  flush();
  return out;
}

const LIST = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;

/** Parses Markdown into a list of block nodes. */
export function parse(source) {
  const lines = String(source ?? "").replace(/\r\n?/g, "\n").split("\n");
  const blocks = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (!line.trim()) { i++; continue; }
    if ((m = /^\s*(```|~~~)/.exec(line))) {
      const fence = m[1];
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence)) body.push(lines[i++]);
      i++;
      blocks.push(node("pre", [node("code", [body.join("\n")])]));
      continue;
    }
    if ((m = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line))) {
      blocks.push(node(`h${Math.min(4, m[1].length)}`, inline(m[2])));
      i++; continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { blocks.push(node("hr")); i++; continue; }
    if (/^\s*>/.test(line)) {
      const body = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) body.push(lines[i++].replace(/^\s*> ?/, ""));
      blocks.push(node("blockquote", parse(body.join("\n"))));
      continue;
    }
    if ((m = LIST.exec(line))) {
      const ordered = /\d/.test(m[2]);
      const items = [];
      while (i < lines.length && (m = LIST.exec(lines[i])) && /\d/.test(m[2]) === ordered) {
        let text = m[3];
        i++;
        while (i < lines.length && lines[i].trim() && !LIST.exec(lines[i]) && /^\s{2,}/.test(lines[i])) {
          text += "\n" + lines[i++].trim();
        }
        items.push(node("li", inline(text)));
      }
      blocks.push(node(ordered ? "ol" : "ul", items));
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() && !/^(#{1,6}\s|\s*```|\s*>)/.test(lines[i]) && !LIST.exec(lines[i])) {
      para.push(lines[i++]);
    }
    if (!para.length) { para.push(lines[i++]); }
    blocks.push(node("p", inline(para.join("\n"))));
  }
  return blocks;
}

/** Plain text of a tree (tests and summaries). */
export function textOf(nodes) {
  return nodes.map((n) => (typeof n === "string" ? n : textOf(n.children))).join("");
}
