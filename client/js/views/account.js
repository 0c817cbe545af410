// Your account: a new password, signing out everywhere, and API tokens for scripts.
import { api, enc } from "../api.js";
import { h, mount, when, field } from "../dom.js";
import { app, notify, sessionEnded } from "../app.js";

export async function account() {
  const { tokens } = await api.get("/api/tokens");
  const current = h("input", { type: "password", required: true, autocomplete: "current-password" });
  const fresh = h("input", { type: "password", required: true, minlength: 8, autocomplete: "new-password" });
  const repeat = h("input", { type: "password", required: true, minlength: 8, autocomplete: "new-password" });
  const passwordStatus = h("p", { role: "status", class: "small" });
  const tokenList = h("div", {});
  const label = h("input", { id: "t-label", required: true, maxlength: 100, placeholder: "e.g. nightly export" });
  const secret = h("div", { role: "status" });

  async function changePassword(e) {
    e.preventDefault();
    if (fresh.value !== repeat.value) { mount(passwordStatus, h("span", { class: "error" }, "The new passwords differ.")); return; }
    try {
      await api.put("/api/session/password", { current_password: current.value, new_password: fresh.value });
      current.value = fresh.value = repeat.value = "";
      mount(passwordStatus, "Password changed. Your other sessions are signed out; this one carries on.");
      notify("Password changed.", "ok");
    } catch (err) {
      mount(passwordStatus, h("span", { class: "error" }, err.message));
    }
  }

  async function signOutEverywhere() {
    try {
      await api.post("/api/session/revoke");
      sessionEnded("You signed out everywhere: every browser of yours must sign in again.");
    } catch (err) { notify(err.message, "error"); }
  }

  function renderTokens(list) {
    const live = list.filter((t) => !t.revoked_at);
    mount(tokenList, live.length
      ? h("table", { class: "data", "aria-label": "API tokens" }, h("tbody", {}, live.map((t) => h("tr", {},
        h("td", {}, t.label), h("td", { class: "muted small" }, `made ${when(t.created_at)}`),
        h("td", {}, h("button", { class: "ghost small", "aria-label": `Revoke ${t.label}`, onclick: () => revoke(t) }, "Revoke"))))))
      : h("p", { class: "muted small" }, "No API tokens."));
  }

  async function reload() { renderTokens((await api.get("/api/tokens")).tokens); }

  async function revoke(t) {
    try { await api.del(`/api/tokens/${enc(t.token_id)}`); notify(`Token ${t.label} revoked.`, "ok"); await reload(); } catch (err) { notify(err.message, "error"); }
  }

  async function makeToken(e) {
    e.preventDefault();
    try {
      const made = await api.post("/api/tokens", { label: label.value.trim() });
      label.value = "";
      mount(secret, h("p", {}, "Copy it now, it is shown only this once: ", h("code", { class: "secret" }, made.token)));
      await reload();
    } catch (err) { mount(secret, h("p", { class: "error" }, err.message)); }
  }

  renderTokens(tokens);
  return {
    el: h("section", { class: "page narrow" },
      h("h1", {}, "Your account"),
      h("p", { class: "muted" }, `Signed in as ${app.me.user}`),
      h("div", { class: "stack" },
      h("div", { class: "card" }, h("h2", {}, "Change your password"),
        h("form", { class: "form-grid", onsubmit: changePassword },
          ...field("Current password", current, "a-current"), ...field("New password", fresh, "a-new"),
          ...field("New password again", repeat, "a-repeat"),
          h("span", {}), h("button", { class: "primary", type: "submit" }, "Change password")),
        passwordStatus),
      h("div", { class: "card" }, h("h2", {}, "Sessions"),
        h("p", { class: "muted small" }, "Signing out everywhere ends every browser session of yours, copies of the cookie included; pages you hold go back to the queue. API tokens stay valid."),
        h("button", { onclick: signOutEverywhere }, "Sign out everywhere")),
      h("div", { class: "card" }, h("h2", {}, "API tokens"),
        h("p", { class: "muted small" }, "For scripts: send ", h("code", {}, "Authorization: Bearer <token>"), "."),
        tokenList,
        h("form", { class: "actions", onsubmit: makeToken }, h("label", { for: "t-label" }, "Label "), label, h("button", { type: "submit" }, "Make a token")),
        secret))),
  };
}
