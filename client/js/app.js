// The shell: session, routes, the top bar, notices and the help overlay.
import { api, setCsrf, ApiError } from "./api.js";
import { h, mount, kbd } from "./dom.js";
import { SHORTCUTS, isTyping, keyName } from "./keys.js";

const main = () => document.getElementById("main");
export const app = { me: null, view: null };

const ROUTES = [
  [/^#\/signin$/, () => import("./views/signin.js").then((m) => m.signIn())],
  [/^#\/?$/, () => import("./views/projects.js").then((m) => m.projects())],
  [/^#\/p\/([a-z0-9_]+)$/, (p) => import("./views/projects.js").then((m) => m.instructions(p))],
  [/^#\/p\/([a-z0-9_]+)\/label$/, (p) => import("./views/label.js").then((m) => m.label(p))],
  [/^#\/p\/([a-z0-9_]+)\/audit(?:\/(.+))?$/, (p, item) => import("./views/audit.js").then((m) => m.audit(p, item && decodeURIComponent(item)))],
  [/^#\/account$/, () => import("./views/account.js").then((m) => m.account())],
  [/^#\/admin$/, () => import("./views/admin.js").then((m) => m.adminHome())],
  [/^#\/admin\/new$/, () => import("./views/admin.js").then((m) => m.createProject())],
  [/^#\/admin\/p\/([a-z0-9_]+)$/, (p) => import("./views/admin.js").then((m) => m.manageProject(p))],
];

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  const hash = location.hash || "#/";
  if (app.view?.destroy) await app.view.destroy();
  app.view = null;
  document.querySelectorAll(".overlay, #toasts > .toast:not(.keep)").forEach((o) => o.remove());
  helpEl = null;
  if (!app.me && hash !== "#/signin") {
    try {
      await loadMe();
    } catch {
      sessionStorage.setItem("annolog-after-signin", hash);
      return go("#/signin");
    }
  }
  topbar();
  for (const [pattern, make] of ROUTES) {
    const m = pattern.exec(hash);
    if (!m) continue;
    try {
      const view = await make(...m.slice(1));
      app.view = view;
      mount(main(), view.el);
      view.mounted?.();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) { app.me = null; return go("#/signin"); }
      mount(main(), h("section", { class: "page narrow" }, h("h1", {}, "Something went wrong"),
        h("p", { class: "error" }, e.message), h("p", {}, h("a", { href: "#/" }, "Back to projects"))));
      console.error(e);
    }
    return;
  }
  mount(main(), h("section", { class: "page narrow" }, h("h1", {}, "Not found"), h("a", { href: "#/" }, "Back to projects")));
}

export async function loadMe() {
  const me = await api.get("/api/session");
  app.me = me;
  setCsrf(me.csrf_token);
  return me;
}

export function signedIn(me) {
  app.me = me;
  setCsrf(me.csrf_token);
  const after = sessionStorage.getItem("annolog-after-signin");
  sessionStorage.removeItem("annolog-after-signin");
  go(after && after !== "#/signin" ? after : "#/");
}

/** The server ended this session: sign in again, told why, then come back here. */
export function sessionEnded(message) {
  sessionStorage.setItem("annolog-signed-out", message);
  sessionStorage.setItem("annolog-after-signin", location.hash);
  app.me = null;
  go("#/signin");
}

async function signOut() {
  if (app.view?.destroy) await app.view.destroy();
  app.view = null;
  try { await api.del("/api/session"); } catch { /* signed out anyway */ }
  app.me = null;
  setCsrf("");
  go("#/signin");
}

function topbar() {
  const me = app.me;
  mount(document.getElementById("topbar"),
    h("a", { class: "brand", href: "#/" }, h("span", { class: "logo" }, "◆"), "annolog"),
    me ? h("nav", { class: "topnav" },
      h("a", { href: "#/" }, "Projects"),
      me.is_admin ? h("a", { href: "#/admin" }, "Admin") : null) : null,
    h("span", { class: "spacer" }),
    h("button", { class: "ghost icon", title: "Keyboard shortcuts (?)", "aria-label": "Keyboard shortcuts", onclick: toggleHelp }, "?"),
    me ? h("a", { class: "who", href: "#/account", title: "Your account" }, me.display_name || me.user) : null,
    me ? h("button", { class: "ghost", onclick: signOut }, "Sign out") : null);
}

/** A notice in the corner; `action` = {label, run}. Returns a function that removes it. */
export function notify(message, kind = "info", { timeout = 6000, action = null, id = null } = {}) {
  const box = document.getElementById("toasts");
  if (id) box.querySelector(`[data-id="${CSS.escape(id)}"]`)?.remove();
  const close = () => toast.remove();
  const toast = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status", dataset: id ? { id } : {} },
    h("span", { class: "msg" }, message),
    action ? h("button", { class: "small", onclick: () => { close(); action.run(); } }, action.label) : null,
    h("button", { class: "ghost close", "aria-label": "Dismiss", onclick: close }, "×"));
  box.appendChild(toast);
  if (timeout) setTimeout(close, timeout);
  return close;
}

/** The banner under the top bar (connection state); null hides it. */
export function banner(message, kind = "warn") {
  const el = document.getElementById("banner");
  if (!message) { el.hidden = true; el.replaceChildren(); return; }
  el.hidden = false;
  el.className = kind;
  mount(el, message);
}

let helpEl = null;
export function toggleHelp() {
  if (helpEl) { helpEl.remove(); helpEl = null; return; }
  helpEl = h("div", { class: "overlay", role: "dialog", "aria-modal": "true", "aria-label": "Keyboard shortcuts", onclick: (e) => e.target === helpEl && toggleHelp() },
    h("div", { class: "dialog help" },
      h("div", { class: "dialog-head" }, h("h2", {}, "Keyboard shortcuts"), h("button", { class: "ghost close", "aria-label": "Close", onclick: toggleHelp }, "×")),
      h("div", { class: "help-grid" }, SHORTCUTS.map(([group, rows]) => h("section", {},
        h("h3", {}, group),
        h("table", {}, h("tbody", {}, rows.map(([k, what]) => h("tr", {}, h("td", {}, kbd(k)), h("td", {}, what)))))))),
      h("p", { class: "muted" }, "Shortcuts never fire while you type in a field. Every gesture is saved as you make it: reload at any time.")));
  document.body.appendChild(helpEl);
}

/** A confirmation dialog; resolves true or false. */
export function confirmDialog(title, text, ok = "Continue") {
  return new Promise((resolve) => {
    const done = (v) => { el.remove(); resolve(v); };
    const el = h("div", { class: "overlay", role: "dialog", "aria-modal": "true", "aria-label": title },
      h("div", { class: "dialog" }, h("h2", {}, title), h("p", {}, text),
        h("div", { class: "actions" },
          h("button", { class: "ghost", onclick: () => done(false) }, "Cancel"),
          h("button", { class: "primary", onclick: () => done(true) }, ok))));
    document.body.appendChild(el);
    el.querySelector(".primary").focus();
  });
}

document.addEventListener("keydown", (e) => {
  const name = keyName(e);
  if (name === "escape" && helpEl) { toggleHelp(); e.preventDefault(); return; }
  if (name === "escape" && document.querySelector(".overlay")) {
    const top = [...document.querySelectorAll(".overlay")].pop();
    const cancel = top.querySelector("button.ghost");
    if (cancel) cancel.click();
    else top.remove();
    e.preventDefault();
    return;
  }
  if (isTyping(e.target)) return;
  if (name === "?") { toggleHelp(); e.preventDefault(); return; }
  if (document.querySelector(".overlay")) return;
  if (app.view?.onKey && app.view.onKey(name, e)) e.preventDefault();
});

window.addEventListener("hashchange", route);
window.annolog = app;
route();
