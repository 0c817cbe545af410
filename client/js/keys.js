// Keyboard shortcuts: one normalised name per key press, and the rule that none fires while
// the person is typing. The help overlay lists SHORTCUTS.

const TYPING_INPUTS = new Set(["text", "search", "email", "password", "number", "url", "tel", "date", "time"]);

/** Whether the key press happened while typing (an editable field has the focus). */
export function isTyping(target) {
  if (!target) return false;
  if (target.isContentEditable) return true;
  const tag = (target.tagName || "").toLowerCase();
  if (tag === "textarea" || tag === "select") return true;
  return tag === "input" && TYPING_INPUTS.has((target.type || "text").toLowerCase());
}

/** "ctrl+shift+z", "r", "1", "?", "delete", "escape", "ctrl+enter"... (Cmd counts as Ctrl). */
export function keyName(e) {
  let key = e.key;
  if (key === " ") key = "space";
  else if (key.length === 1) key = key.toLowerCase();
  else key = key.toLowerCase();
  const parts = [];
  if (e.ctrlKey || e.metaKey) parts.push("ctrl");
  if (e.altKey) parts.push("alt");
  // Shift is part of printable keys already ("?" is shift+/), so only name it for the rest.
  if (e.shiftKey && (key.length > 1 || e.ctrlKey || e.metaKey)) parts.push("shift");
  parts.push(key);
  return parts.join("+");
}

export const SHORTCUTS = [
  ["General", [
    ["?", "Show or hide this help"],
    ["1 – 9", "Pick the tag with that number"],
    ["Ctrl+Z", "Undo your last gesture (works after a reload)"],
    ["Ctrl+Shift+Z / Ctrl+Y", "Redo"],
    ["Ctrl+Enter", "Submit the page (when it is complete)"],
    ["Esc", "Cancel the current drawing, clear the selection"],
  ]],
  ["Classification", [
    ["Ctrl+A", "Select every item of the page"],
    ["Click", "Select or deselect an item"],
  ]],
  ["Regions", [
    ["R", "Rectangle: drag to draw a box"],
    ["T", "Template box: click to place (50×50 or the last box's size)"],
    ["M", "Regions manipulation: move, resize by edges and corners"],
    ["L", "Lock / unlock the selected region (all when none is selected)"],
    ["P", "Polygon: click points, double-click or click the first point to close"],
    ["U", "Add a point on an edge / remove a point (click it)"],
    ["X / Delete", "Delete the selected region (X with none selected: click one)"],
    ["Shift+Delete", "Delete all regions (locked ones stay)"],
    ["B / E", "Paintbrush / eraser"],
    ["[ / ]", "Smaller / larger brush"],
    ["W", "Window/level (DICOM): drag right for width, down for level"],
    ["+ / − / F", "Zoom in / out / fit; Space+drag or middle-drag pans"],
  ]],
  ["Text", [
    ["Double-click", "Tag a word with the current tag (NER)"],
    ["Drag", "Tag several words"],
    ["Click a span", "Toggle it in the selection; pick a tag to retag the selection"],
    ["Delete", "Remove the selected spans"],
    ["Ctrl+ + / Ctrl+ −", "Larger / smaller text (or the A+ / A− buttons)"],
  ]],
];

/** The tag picked by a number key, or null. */
export function tagForKey(name, tags) {
  if (!/^[1-9]$/.test(name)) return null;
  const key = Number(name);
  const byKey = tags.find((t) => t.key === key);
  if (byKey) return byKey;
  const withoutKeys = tags.every((t) => t.key == null);
  return withoutKeys ? tags[key - 1] ?? null : null;
}
