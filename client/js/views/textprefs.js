// Text size and font, remembered in localStorage.
import { h } from "../dom.js";

const KEY = "annolog-text-prefs";
export const FONTS = [
  ["System sans", "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"],
  ["Serif", "Georgia, 'Times New Roman', serif"],
  ["Monospace", "ui-monospace, 'DejaVu Sans Mono', Menlo, monospace"],
  ["Readable", "Verdana, 'DejaVu Sans', sans-serif"],
];

export function textPrefs() {
  try {
    const p = JSON.parse(localStorage.getItem(KEY));
    if (p && p.size >= 10 && p.size <= 40 && typeof p.font === "string") return p;
  } catch { /* defaults */ }
  return { size: 17, font: FONTS[0][1] };
}

export function savePrefs(p) { localStorage.setItem(KEY, JSON.stringify(p)); }

export function resize(delta) {
  const p = textPrefs();
  p.size = Math.max(10, Math.min(40, p.size + delta));
  savePrefs(p);
  return p;
}

/** A− / A+ buttons and a font menu; `changed` redraws. */
export function textTools(changed) {
  const p = textPrefs();
  return h("span", { class: "text-tools" },
    h("button", { class: "ghost", "aria-label": "Smaller text", title: "Smaller text", onclick: () => { resize(-1); changed(); } }, "A−"),
    h("button", { class: "ghost", "aria-label": "Larger text", title: "Larger text", onclick: () => { resize(1); changed(); } }, "A+"),
    h("select", {
      "aria-label": "Font", onchange: (e) => { savePrefs({ ...textPrefs(), font: e.target.value }); changed(); },
    }, FONTS.map(([name, css]) => h("option", { value: css, selected: css === p.font }, name))));
}
