// The only way this client builds DOM: elements from a tag, attributes and children, where
// strings always become text nodes. Nothing here (or anywhere) assigns innerHTML.

/** h("button", {class: "x", onclick: f, "aria-label": "..."}, "text", child...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = Array.isArray(v) ? v.filter(Boolean).join(" ") : v;
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value") el.value = v;
    else if (k === "checked" || k === "disabled" || k === "selected" || k === "hidden") el[k] = !!v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A form row: the label for an input, and the input given that id. */
export const field = (label, input, id) => [h("label", { for: id }, label), Object.assign(input, { id })];

/** A key hint: <kbd>R</kbd>. */
export const kbd = (k) => h("kbd", {}, k);

const MD_ATTRS = { a: ["href", "rel", "target"] };

/** DOM for a tree from markdown.js: whitelisted tags, attributes by tag, text as text. */
export function renderTree(nodes) {
  const frag = document.createDocumentFragment();
  for (const n of nodes) {
    if (typeof n === "string") {
      frag.appendChild(document.createTextNode(n));
      continue;
    }
    const el = document.createElement(n.tag);
    for (const name of MD_ATTRS[n.tag] || []) if (n.attrs[name] != null) el.setAttribute(name, n.attrs[name]);
    el.appendChild(renderTree(n.children));
    frag.appendChild(el);
  }
  return frag;
}

/** A small coloured swatch for a tag. */
export const swatch = (colour) => h("span", { class: "swatch", style: { background: colour } });

/** Formats seconds-since-epoch as local time. */
export const when = (at) => new Date(at * 1000).toLocaleString();

/** Readable text colour (black or white) on a tag colour. */
export function inkOn(hex) {
  const v = parseInt(hex.slice(1), 16);
  const r = (v >> 16) & 255, g = (v >> 8) & 255, b = v & 255;
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#111" : "#fff";
}
