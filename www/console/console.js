// The operator console: a page over the edge's operator API (docs/edge-api.md). The operator
// token lives in this module's memory only (never in storage or a cookie), so a reload signs
// out and no other page of the origin can read it; every call sends it as a bearer token.

const STRINGS = {
  en: {
    signedIn: "Signed in.", badToken: "That token was refused.", created: "Application created.",
    saved: "Saved.", rotatedKey: "New API key created. The old one works until {until}.",
    rotatedSecret: "New webhook secret created. Events are signed with both until {until}.",
    deleted: "Application deleted.", fidDeleted: "Facial ID {fid} deleted.",
    confirmDelete: "Delete application {name} ({id}) and all its data? This cannot be undone.",
    confirmFid: "Delete facial ID {fid}?", open: "Open", delete: "Delete", none: "None yet.",
    apiKey: "API key", webhookSecret: "Webhook secret", webhookToken: "FACEIO-style webhook token",
    publicIdLabel: "Public ID", ok: "delivered", failed: "failed", testSent: "Test webhook: {result}.",
    enrolled: "Enrolled now", enrollments: "Enrollments", authentications: "Authentications",
    failedAuthentications: "Failed authentications", deletions: "Deletions", error: "Error: {message}",
  },
};
const locale = STRINGS[(navigator.language || "en").slice(0, 2)] ? (navigator.language || "en").slice(0, 2) : "en";
const t = (key, vars = {}) => (STRINGS[locale][key] ?? STRINGS.en[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k in e && typeof v !== "string") e[k] = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  e.append(...kids.flat().filter(Boolean));
  return e;
};

let token = null;
let current = null; // the open app's {publicId, name, status, options, galleryShards}

function say(message, isError = false) {
  const s = $("#status");
  s.textContent = message;
  s.classList.toggle("error", isError);
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(data.message || data.error || `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return data;
}

const fail = (e) => say(t("error", { message: e.message }), true);

// ---- sign in, list, create ------------------------------------------------------------------

$("#signin").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  token = $("#token").value.trim();
  try {
    await listApps();
    $("#signin").hidden = true;
    $("#apps").hidden = false;
    $("#token").value = "";
    say(t("signedIn"));
    $("#new-name").focus();
  } catch (e) {
    token = null;
    say(e.status === 401 ? t("badToken") : t("error", { message: e.message }), true);
    $("#token").focus();
  }
});

async function listApps() {
  const { apps } = await api("GET", "/admin/apps");
  const body = $("#app-table tbody");
  body.replaceChildren(...apps.map((a) => el("tr", { "data-app": a.publicId },
    el("td", { text: a.name }),
    el("td", {}, el("code", { text: a.publicId })),
    el("td", {}, el("button", { type: "button", class: "secondary", text: t("open"), "aria-label": `${t("open")} ${a.name}`, onclick: () => openApp(a.publicId) })))));
}

$("#create").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const app = await api("POST", "/admin/apps", { name: $("#new-name").value, galleryShards: Number($("#new-shards").value) });
    const shown = [[t("publicIdLabel"), app.publicId], [t("apiKey"), app.apiKey], [t("webhookSecret"), app.webhookSecret]];
    if (app.webhookToken) shown.push([t("webhookToken"), app.webhookToken]);
    showSecrets(shown);
    $("#new-name").value = "";
    $("#new-shards").value = "1";
    await listApps();
    say(t("created"));
  } catch (e) {
    fail(e);
  }
});

function showSecrets(pairs) {
  $("#secrets-list").replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { "data-secret": k, text: v })]));
  $("#secrets").hidden = false;
  $("#secrets").focus();
}

// ---- one app ----------------------------------------------------------------------------------

// How each option is edited; others follow their JSON type (booleans, numbers, strings).
const ENUMS = { livenessMode: ["off", "passive", "active"] };
const NULLABLE = new Set(["minAge", "webhookUrl", "termsText", "privacyPolicyUrl"]);
const LISTS = new Set(["allowedOrigins", "allowedCountries"]);
const INTEGERS = new Set(["minAge"]);
const LONG = new Set(["termsText"]);

function fieldFor(key, value) {
  const id = `opt-${key}`;
  const err = el("p", { class: "error", id: `${id}-err`, hidden: true });
  let input;
  if (typeof value === "boolean") {
    input = el("input", { type: "checkbox", id, name: key, checked: value, "aria-describedby": err.id });
    return el("div", { class: "field" }, el("label", { for: id }, input, key), err);
  }
  if (ENUMS[key]) {
    input = el("select", { id, name: key, "aria-describedby": err.id }, ENUMS[key].map((v) => el("option", { value: v, text: v, selected: v === value })));
  } else if (LONG.has(key)) {
    input = el("textarea", { id, name: key, "aria-describedby": err.id });
    input.value = value ?? "";
  } else {
    const v = LISTS.has(key) ? (value || []).join(", ") : value ?? "";
    input = el("input", { id, name: key, type: typeof value === "number" ? "number" : "text", step: "any", "aria-describedby": err.id });
    input.value = String(v);
  }
  return el("div", { class: "field" }, el("label", { for: id, text: key }), input, err);
}

function readOptions() {
  const out = {};
  for (const key of Object.keys(current.options)) {
    const input = document.getElementById(`opt-${key}`);
    if (!input) continue;
    const old = current.options[key];
    if (input.type === "checkbox") out[key] = input.checked;
    else if (LISTS.has(key)) out[key] = input.value.split(",").map((s) => s.trim()).filter(Boolean);
    else if (NULLABLE.has(key) && input.value.trim() === "") out[key] = null;
    else if (INTEGERS.has(key) || typeof old === "number") out[key] = input.value.trim() === "" ? NaN : Number(input.value);
    else out[key] = input.value;
  }
  return out;
}

async function openApp(publicId) {
  try {
    current = await api("GET", `/admin/apps/${publicId}`);
    $("#app-h").textContent = current.name;
    $("#app-id").textContent = current.publicId;
    $("#app-shards").textContent = String(current.galleryShards ?? 1);
    $("#app-status").value = current.status;
    $("#options-fields").replaceChildren(...Object.entries(current.options).map(([k, v]) => fieldFor(k, v)));
    $("#app").hidden = false;
    $("#app").focus();
    await Promise.all([refreshStats(), refreshFids(), refreshDeliveries()]);
  } catch (e) {
    fail(e);
  }
}

const appPath = (rest = "") => `/admin/apps/${current.publicId}${rest}`;

$("#status-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    current = await api("PATCH", appPath(), { status: $("#app-status").value });
    say(t("saved"));
  } catch (e) {
    fail(e);
  }
});

$("#options-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  for (const p of document.querySelectorAll("#options-fields .error")) p.hidden = true;
  for (const i of document.querySelectorAll("#options-fields [aria-invalid]")) i.removeAttribute("aria-invalid");
  try {
    current = await api("PATCH", appPath(), { options: readOptions() });
    say(t("saved"));
  } catch (e) {
    // The edge names the option it refused ("invalid options: webhookUrl must be …"): show the
    // message next to that field too.
    const key = Object.keys(current.options).find((k) => new RegExp(`\\b${k}\\b`).test(e.message));
    if (key) {
      const input = document.getElementById(`opt-${key}`);
      const err = document.getElementById(`opt-${key}-err`);
      err.textContent = e.message;
      err.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
    fail(e);
  }
});

function grace() {
  return Number($("#grace").value || 0);
}

$("#rotate-key").addEventListener("click", async () => {
  try {
    const r = await api("POST", appPath("/api-key/rotate"), { graceSeconds: grace() });
    showSecrets([[t("apiKey"), r.apiKey]]);
    say(t("rotatedKey", { until: r.previousValidUntil }));
  } catch (e) {
    fail(e);
  }
});

$("#rotate-secret").addEventListener("click", async () => {
  try {
    const r = await api("POST", appPath("/webhook-secret/rotate"), { graceSeconds: grace() });
    showSecrets([[t("webhookSecret"), r.webhookSecret]]);
    say(t("rotatedSecret", { until: r.previousValidUntil }));
  } catch (e) {
    fail(e);
  }
});

async function refreshStats() {
  const s = await api("GET", appPath("/stats"));
  $("#stats").replaceChildren(...["enrolled", "enrollments", "authentications", "failedAuthentications", "deletions"]
    .flatMap((k) => [el("dt", { text: t(k) }), el("dd", { "data-stat": k, text: String(s[k] ?? 0) })]));
}

async function refreshFids() {
  const body = await api("GET", appPath("/facialids?limit=1000"));
  const items = body.facialIds || [];
  const list = $("#fids");
  if (!items.length) {
    list.replaceChildren(el("li", { text: t("none") }));
    return;
  }
  list.replaceChildren(...items.map((it) => {
    const fid = it.facialId;
    return el("li", { "data-fid": fid }, el("code", { text: fid }), " ",
      el("button", { type: "button", class: "secondary", text: t("delete"), "aria-label": `${t("delete")} ${fid}`, onclick: () => deleteFid(fid) }));
  }));
}

async function deleteFid(fid) {
  if (!confirm(t("confirmFid", { fid }))) return;
  try {
    await api("DELETE", appPath(`/facialids/${fid}`));
    await Promise.all([refreshFids(), refreshStats()]);
    say(t("fidDeleted", { fid }));
  } catch (e) {
    fail(e);
  }
}

async function refreshDeliveries() {
  const { deliveries } = await api("GET", appPath("/webhook/deliveries"));
  $("#deliveries tbody").replaceChildren(...deliveries.map((d) => el("tr", {},
    el("td", { text: d.event }),
    el("td", { text: new Date(d.atMs).toISOString() }),
    el("td", { text: d.status == null ? "—" : String(d.status) }),
    el("td", { text: d.ok ? t("ok") : `${t("failed")}${d.error ? `: ${d.error}` : ""}` }))));
}

$("#test-hook").addEventListener("click", async () => {
  try {
    const r = await api("POST", appPath("/webhook/test"));
    await refreshDeliveries();
    say(t("testSent", { result: r.ok ? `${t("ok")} (HTTP ${r.status})` : `${t("failed")} (${r.status ?? r.error})` }), !r.ok);
  } catch (e) {
    fail(e);
  }
});

$("#delete-app").addEventListener("click", async () => {
  if (!confirm(t("confirmDelete", { name: current.name, id: current.publicId }))) return;
  try {
    await api("DELETE", appPath());
    current = null;
    $("#app").hidden = true;
    $("#secrets").hidden = true; // they belonged to an app that no longer exists
    await listApps();
    say(t("deleted"));
    $("#new-name").focus();
  } catch (e) {
    fail(e);
  }
});
