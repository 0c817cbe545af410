// The administrator's users card: who can sign in, and for each user a new password,
// disabling or enabling, and signing them out everywhere; adding a user.
import { api, enc } from "../api.js";
import { h, mount, field } from "../dom.js";
import { app, notify, confirmDialog } from "../app.js";

/** A dialog asking for a user's new password; resolves it, or null when cancelled. */
function newPasswordDialog(username) {
  return new Promise((resolve) => {
    const input = h("input", { type: "password", minlength: 8, required: true, autocomplete: "new-password", "aria-label": "New password" });
    const done = (value) => { el.remove(); resolve(value); };
    const el = h("div", { class: "overlay", role: "dialog", "aria-modal": "true", "aria-label": `New password for ${username}` },
      h("form", { class: "dialog", onsubmit: (e) => { e.preventDefault(); done(input.value); } },
        h("h2", {}, `New password for ${username}`),
        h("p", { class: "muted small" }, "Every session of theirs ends; they sign in with this one. API tokens stay valid."),
        input,
        h("div", { class: "actions" },
          h("button", { type: "button", class: "ghost", onclick: () => done(null) }, "Cancel"),
          h("button", { type: "submit", class: "primary" }, "Set password"))));
    document.body.appendChild(el);
    input.focus();
  });
}

async function change(username, body, message, refresh) {
  try {
    await api.patch(`/api/users/${enc(username)}`, body);
    notify(message, "ok");
    await refresh();
  } catch (err) { notify(err.message, "error"); }
}

function actions(u, refresh) {
  const self = u.username === app.me.user;
  return h("td", { class: "row-actions" },
    h("button", { class: "ghost small", "aria-label": `New password for ${u.username}`, onclick: async () => {
      const password = await newPasswordDialog(u.username);
      if (password !== null) await change(u.username, { password }, `${u.username} has a new password.`, refresh);
    } }, "Password…"),
    self ? null : h("button", { class: "ghost small", "aria-label": `${u.disabled ? "Enable" : "Disable"} ${u.username}`, onclick: async () => {
      if (!u.disabled && !(await confirmDialog(`Disable ${u.username}?`, "They are signed out everywhere and can no longer sign in or use their API tokens, until enabled again.", "Disable"))) return;
      await change(u.username, { disabled: !u.disabled }, `${u.username} ${u.disabled ? "enabled" : "disabled"}.`, refresh);
    } }, u.disabled ? "Enable" : "Disable"),
    h("button", { class: "ghost small", "aria-label": `Sign ${u.username} out everywhere`, onclick: async () => {
      try {
        await api.post(`/api/users/${enc(u.username)}/sessions/revoke`);
        notify(`${u.username} is signed out everywhere.`, "ok");
      } catch (err) { notify(err.message, "error"); }
    } }, "Sign out"));
}

/** The users card of the administration page. */
export function usersCard(users) {
  const name = h("input", { required: true, autocomplete: "off" });
  const pass = h("input", { type: "password", required: true, minlength: 8, autocomplete: "new-password" });
  const display = h("input", {});
  const isAdmin = h("input", { type: "checkbox" });
  const rows = h("tbody", {});
  const show = (list) => mount(rows, list.map((u) => h("tr", { class: u.disabled ? "muted" : null },
    h("td", {}, u.username), h("td", {}, u.display_name || ""),
    h("td", {}, [u.is_admin ? "admin" : "", u.disabled ? "disabled" : ""].filter(Boolean).join(", ")),
    actions(u, refresh))));
  async function refresh() { show((await api.get("/api/users")).users); }
  show(users);
  return h("div", { class: "card" }, h("h2", {}, "Users"),
    h("table", { class: "data", "aria-label": "Users" }, rows),
    h("h4", {}, "Add a user"),
    h("form", {
      class: "form-grid", onsubmit: async (e) => {
        e.preventDefault();
        try {
          await api.post("/api/users", { username: name.value.trim(), password: pass.value, display_name: display.value, is_admin: isAdmin.checked });
          notify(`User ${name.value} added.`, "ok");
          name.value = pass.value = display.value = "";
          isAdmin.checked = false;
          await refresh();
        } catch (err) { notify(err.message, "error"); }
      },
    }, field("Username", name, "new-user"), field("Password", pass, "new-pass"), field("Display name", display, "new-display"),
    field("Administrator", isAdmin, "new-admin"), h("span", {}), h("button", { class: "primary", type: "submit" }, "Add user")));
}
