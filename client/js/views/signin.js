// The sign-in screen: username and password; says why the last session ended when the server
// ended it (revoked, or the user disabled).
import { api, setCsrf } from "../api.js";
import { h } from "../dom.js";
import { signedIn } from "../app.js";

export function signIn() {
  const error = h("p", { class: "error", role: "alert", hidden: true });
  // Why the last session ended, when the server ended it (revoked, or the user disabled).
  const ended = sessionStorage.getItem("annolog-signed-out");
  sessionStorage.removeItem("annolog-signed-out");
  if (ended) { error.textContent = ended; error.hidden = false; }
  const user = h("input", { id: "username", name: "username", autocomplete: "username", required: true, autofocus: true });
  const pass = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const button = h("button", { class: "primary wide", type: "submit" }, "Sign in");
  const form = h("form", {
    class: "card signin",
    onsubmit: async (e) => {
      e.preventDefault();
      button.disabled = true;
      error.hidden = true;
      try {
        const me = await api.post("/api/session", { username: user.value.trim(), password: pass.value });
        setCsrf(me.csrf_token);
        signedIn(me);
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        button.disabled = false;
      }
    },
  },
  h("h1", {}, "Sign in"),
  h("p", { class: "muted" }, "Label images, scans and text. Every gesture is kept."),
  h("label", { for: "username" }, "Username"), user,
  h("label", { for: "password" }, "Password"), pass,
  error, button);
  return { el: h("section", { class: "page center" }, form) };
}
