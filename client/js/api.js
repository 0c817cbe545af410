// HTTP calls to the server: JSON in and out, the CSRF header on every write, errors as
// ApiError with the server's code, message and field.

export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error || {};
    super(error.message || `request failed (${status})`);
    this.status = status;
    this.code = error.code || "error";
    this.field = error.field;
    this.body = body;
  }
}

let csrf = "";
export const setCsrf = (token) => { csrf = token || ""; };

async function call(method, path, body, { raw = false, form = null } = {}) {
  const headers = {};
  if (method !== "GET") headers["x-csrf-token"] = csrf;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  } catch (e) {
    throw new ApiError(0, { error: { code: "network", message: "the server cannot be reached" } });
  }
  if (raw && response.ok) return response;
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

export const api = {
  get: (path) => call("GET", path),
  post: (path, body) => call("POST", path, body),
  put: (path, body) => call("PUT", path, body),
  patch: (path, body) => call("PATCH", path, body),
  del: (path) => call("DELETE", path),
  raw: (path, method = "GET") => call(method, path, undefined, { raw: true }),
  upload: (path, form) => call("POST", path, undefined, { form }),
};

export const enc = encodeURIComponent;
export const projectPath = (p) => `/api/projects/${enc(p)}`;
export const itemPath = (p, item) => `${projectPath(p)}/items/${enc(item)}`;
