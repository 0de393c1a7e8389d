// A table of malformed requests for every widget, REST and admin route: each must be a 4xx JSON
// error with a FACEIO `code` and `error` name (never a 5xx), and none may change any state.

import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { useEdge } from "./harness.mjs";
import { faces, encodeTemplate, decodeTemplate, EMBEDDING_DIM } from "./templates.mjs";
import { Edge, LIVE, assertClientError, assertOk, itemId, request, show, statCounters } from "./client.mjs";

const F = faces();
const edge = new Edge(await useEdge());

const T = F.franck[0].template; // a valid template of someone NOT enrolled
const T2 = F.franck[1].template;
const values = decodeTemplate(T);
const KIB = 1024;

// Template corruptions (each decodes to something fio_core::Template rejects).
const tpl = {
  truncated: T.slice(0, -4),
  extended: `${T}AAAA`,
  badBase64: `!!!!${T.slice(4)}`,
  badBase64Mid: `${T.slice(0, 100)}*${T.slice(101)}`,
  urlAlphabet: T.replace(/\+/g, "-").replace(/\//g, "_") === T ? `-_${T.slice(2)}` : T.replace(/\+/g, "-").replace(/\//g, "_"),
  wrongMagic: encodeTemplate(values, { magic: [0x58, 0x46, 0x54] }),
  wrongVersion: encodeTemplate(values, { version: 2 }),
  wrongDim: encodeTemplate(values, { dim: 191 }),
  allZero: encodeTemplate(new Array(EMBEDDING_DIM).fill(0)),
  shortValues: encodeTemplate(values.slice(0, 189), { dim: 192 }), // 195 bytes → 260 chars
  whitespace: ` ${T.slice(1)}`,
  empty: "",
};

/** A valid enroll body for `challengeId` (never sent as-is: every case breaks one thing). */
function enrollBody(challengeId) {
  return {
    challengeId,
    templates: [T, T2],
    liveness: { ...LIVE },
    details: { age: 33, gender: "male" },
    payload: { malformed: true },
    pin: "2749",
  };
}
function authBody(challengeId) {
  return { challengeId, template: T, liveness: { ...LIVE } };
}

/** `{"a":{"a":…}}` nested `n` objects deep. */
const nested = (n) => {
  let v = {};
  for (let i = 1; i < n; i++) v = { a: v };
  return v;
};

/** Mutation helpers producing JSON bodies or raw text. */
const set = (obj, path, v) => {
  const o = structuredClone(obj);
  const keys = path.split(".");
  let cur = o;
  for (const k of keys.slice(0, -1)) cur = cur[k];
  if (v === undefined) delete cur[keys.at(-1)];
  else cur[keys.at(-1)] = v;
  return o;
};
const rawWith = (obj, path, literal) => {
  const marker = "__RAW_LITERAL__";
  return JSON.stringify(set(obj, path, marker)).replace(`"${marker}"`, literal);
};

// [name, ceremony or null, build(challengeId) → {json} | {raw, contentType}, expected status(es)]
const WIDGET_CASES = [
  // --- session ---
  ["session: invalid JSON", null, () => ({ route: "session", raw: "{" }), 400],
  ["session: empty body", null, () => ({ route: "session", raw: "" }), 400],
  ["session: null", null, () => ({ route: "session", raw: "null" }), 400],
  ["session: array", null, () => ({ route: "session", raw: "[]" }), 400],
  ["session: number", null, () => ({ route: "session", raw: "42" }), 400],
  ["session: missing ceremony", null, () => ({ route: "session", json: {} }), 400],
  ["session: ceremony wrong type", null, () => ({ route: "session", json: { ceremony: ["enroll"] } }), 400],
  ["session: unknown field", null, () => ({ route: "session", json: { ceremony: "enroll", extra: 1 } }), 400],
  ["session: body over the request cap", null, () => ({ route: "session", raw: `{"ceremony":"enroll"}${" ".repeat(33 * KIB)}` }), 413],
  ["session: form content-type", null, () => ({ route: "session", raw: "ceremony=enroll", contentType: "application/x-www-form-urlencoded" }), 400],
  ["session: binary garbage", null, () => ({ route: "session", raw: Buffer.from([0xff, 0xfe, 0x00, 0x7b]), contentType: "application/octet-stream" }), 400],

  // --- enroll: envelope ---
  ["enroll: invalid JSON", "enroll", (c) => ({ route: "enroll", raw: JSON.stringify(enrollBody(c)).slice(0, -1) }), 400],
  ["enroll: array body", "enroll", (c) => ({ route: "enroll", json: [enrollBody(c)] }), 400],
  ["enroll: unknown top-level field", "enroll", (c) => ({ route: "enroll", json: { ...enrollBody(c), score: 1 } }), 400],
  ["enroll: duplicate key", "enroll", (c) => ({ route: "enroll", raw: JSON.stringify(enrollBody(c)).replace("{", `{"pin":"5827",`) }), 400],
  ["enroll: body over the request cap", "enroll", (c) => ({ route: "enroll", raw: JSON.stringify(enrollBody(c)) + " ".repeat(33 * KIB) }), 413],
  ["enroll: form content-type", "enroll", (c) => ({ route: "enroll", raw: `challengeId=${c}&pin=2749`, contentType: "application/x-www-form-urlencoded" }), 400],
  // --- enroll: challengeId ---
  ["enroll: challengeId missing", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "challengeId", undefined) }), 400],
  ["enroll: challengeId number", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "challengeId", 12345) }), 400],
  ["enroll: challengeId not hex", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "challengeId", "z".repeat(32)) }), 400],
  ["enroll: challengeId uppercase", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "challengeId", c.toUpperCase()) }), 400],
  ["enroll: challengeId with path chars", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "challengeId", `../${c.slice(3)}`) }), 400],
  // --- enroll: templates ---
  ["enroll: templates missing", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "templates", undefined) }), 400],
  ["enroll: templates empty", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "templates", []) }), 400],
  ["enroll: 9 templates", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "templates", Array(9).fill(T)) }), 400],
  ["enroll: templates is a string", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "templates", T) }), 400],
  ["enroll: template is a number", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "templates", [123]) }), 400],
  ["enroll: template is null", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "templates", [null]) }), 400],
  ...Object.entries(tpl).map(([k, bad]) => [`enroll: template ${k}`, "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "templates", [T, bad]) }), 400]),
  // --- enroll: liveness ---
  ["enroll: liveness missing", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "liveness", undefined) }), 400],
  ["enroll: liveness null", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "liveness", null) }), 400],
  ["enroll: liveness score string", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "liveness.score", "high") }), 400],
  ["enroll: liveness score negative", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "liveness.score", -0.1) }), 400],
  ["enroll: liveness score above 1", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "liveness.score", 1.5) }), 400],
  ["enroll: liveness score NaN literal", "enroll", (c) => ({ route: "enroll", raw: rawWith(enrollBody(c), "liveness.score", "NaN") }), 400],
  ["enroll: liveness score Infinity literal", "enroll", (c) => ({ route: "enroll", raw: rawWith(enrollBody(c), "liveness.score", "Infinity") }), 400],
  ["enroll: liveness score 1e400", "enroll", (c) => ({ route: "enroll", raw: rawWith(enrollBody(c), "liveness.score", "1e400") }), 400],
  ["enroll: liveness passed string", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "liveness.passed", "yes") }), 400],
  ["enroll: liveness unknown action", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "liveness.actions", ["dance"]) }), 400],
  ["enroll: liveness unknown field", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "liveness.frames", 3) }), 400],
  ["enroll: liveness report passive above 1", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "liveness.report.passive", 1.5) }), 400],
  ["enroll: liveness report unknown field", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "liveness.report.live", true) }), 400],
  ["enroll: liveness report frames negative", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "liveness.report.frames", -1) }), 400],
  ["enroll: liveness report failure unknown kind", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "liveness.report.failure", { kind: "sneeze" }) }), 400],
  ["enroll: liveness report minSimilarity 3", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "liveness.report.minSimilarity", 3) }), 400],
  ["enroll: liveness report pattern negative", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "liveness.report.pattern", -1) }), 400],
  ["enroll: liveness report pattern not a number", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "liveness.report.pattern", "high") }), 400],
  // --- enroll: details ---
  ["enroll: details missing", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "details", undefined) }), 400],
  ["enroll: age negative", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "details.age", -1) }), 400],
  ["enroll: age 151", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "details.age", 151) }), 400],
  ["enroll: age huge", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "details.age", 1e30) }), 400],
  ["enroll: age 1e400 literal", "enroll", (c) => ({ route: "enroll", raw: rawWith(enrollBody(c), "details.age", "1e400") }), 400],
  ["enroll: age NaN literal", "enroll", (c) => ({ route: "enroll", raw: rawWith(enrollBody(c), "details.age", "NaN") }), 400],
  ["enroll: age -Infinity literal", "enroll", (c) => ({ route: "enroll", raw: rawWith(enrollBody(c), "details.age", "-Infinity") }), 400],
  ["enroll: age string", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "details.age", "33") }), 400],
  ["enroll: gender other", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "details.gender", "other") }), 400],
  ["enroll: gender missing", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "details.gender", undefined) }), 400],
  ["enroll: details unknown field", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "details.ethnicity", "x") }), 400],
  // --- enroll: payload and PIN ---
  ["enroll: payload 16 KiB + 1", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "payload", { x: "a".repeat(16 * KIB - 7) }) }), 413],
  ["enroll: payload nested 33 deep", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "payload", nested(33)) }), 400],
  ["enroll: payload nested 126 deep", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "payload", nested(126)) }), 400],
  ["enroll: body nested 200 deep", "enroll", (c) => ({ route: "enroll", raw: rawWith(enrollBody(c), "payload", `${"[".repeat(200)}${"]".repeat(200)}`) }), 400],
  ["enroll: pin number", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "pin", 2749) }), 400],
  ["enroll: pin missing", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "pin", undefined) }), 400],
  ["enroll: pin null", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "pin", null) }), 400],
  ["enroll: pin 17 digits", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "pin", "27492749274927492") }), 400],
  ["enroll: pin with letters", "enroll", (c) => ({ route: "enroll", json: set(enrollBody(c), "pin", "27a9") }), 400],

  // --- authenticate ---
  ["authenticate: invalid JSON", "authenticate", (c) => ({ route: "authenticate", raw: `{"challengeId":"${c}",` }), 400],
  ["authenticate: unknown field", "authenticate", (c) => ({ route: "authenticate", json: { ...authBody(c), facialId: "x" } }), 400],
  ["authenticate: templates array instead of template", "authenticate", (c) => ({ route: "authenticate", json: { challengeId: c, templates: [T], liveness: LIVE } }), 400],
  ["authenticate: template missing", "authenticate", (c) => ({ route: "authenticate", json: set(authBody(c), "template", undefined) }), 400],
  ["authenticate: template number", "authenticate", (c) => ({ route: "authenticate", json: set(authBody(c), "template", 7) }), 400],
  ...Object.entries(tpl).map(([k, bad]) => [`authenticate: template ${k}`, "authenticate", (c) => ({ route: "authenticate", json: set(authBody(c), "template", bad) }), 400]),
  ["authenticate: liveness missing", "authenticate", (c) => ({ route: "authenticate", json: set(authBody(c), "liveness", undefined) }), 400],
  ["authenticate: liveness score NaN literal", "authenticate", (c) => ({ route: "authenticate", raw: rawWith(authBody(c), "liveness.score", "NaN") }), 400],
  ["authenticate: liveness score 2", "authenticate", (c) => ({ route: "authenticate", json: set(authBody(c), "liveness.score", 2) }), 400],
  ["authenticate: pin with letters", "authenticate", (c) => ({ route: "authenticate", json: set(authBody(c), "pin", "abcd") }), 400],
  ["authenticate: pin 17 digits", "authenticate", (c) => ({ route: "authenticate", json: set(authBody(c), "pin", "27492749274927492") }), 400],
  ["authenticate: pin number", "authenticate", (c) => ({ route: "authenticate", json: set(authBody(c), "pin", 2749) }), 400],
  ["authenticate: challengeId bad", "authenticate", (c) => ({ route: "authenticate", json: set(authBody(c), "challengeId", "0x" + c.slice(2)) }), 400],
  ["authenticate: body over the request cap", "authenticate", (c) => ({ route: "authenticate", raw: JSON.stringify(authBody(c)) + "\n".repeat(40 * KIB) }), 413],
  ["authenticate: 1 MiB body", "authenticate", (c) => ({ route: "authenticate", raw: JSON.stringify({ ...authBody(c), pad: "x".repeat(1024 * KIB) }) }), 413],
];

describe("malformed requests", () => {
  let app;
  let user;
  let before0;
  const userPayload = { name: "survivor", n: 42 };

  before(async () => {
    app = await edge.createApp({ preventDuplicates: true, rejectWeakPins: true });
    user = assertOk(await app.enroll(F.obama.slice(0, 3), { payload: userPayload }), "enroll the survivor");
    before0 = { stats: statCounters(await app.stats()), list: (await app.listAll()).map(itemId).sort() };
  });

  for (const [name, ceremony, build, status] of WIDGET_CASES) {
    test(name, async () => {
      const cid = ceremony ? (await app.challenge(ceremony)).challengeId : null;
      const req = build(cid);
      const url = `${edge.url}/v1/${app.publicId}/${req.route}`;
      const headers = app.widgetHeaders();
      let res;
      if (req.raw !== undefined) {
        headers["content-type"] = req.contentType ?? "application/json";
        res = await request(url, { method: "POST", headers, body: req.raw });
      } else {
        res = await request(url, { method: "POST", headers, json: req.json });
      }
      assertClientError(res, { status });
    });
  }

  describe("routes and methods", () => {
    const cases = [
      ["GET on a POST widget route", () => request(`${edge.url}/v1/${app.publicId}/session`, { headers: app.widgetHeaders() })],
      ["PUT on enroll", () => request(`${edge.url}/v1/${app.publicId}/enroll`, { method: "PUT", headers: app.widgetHeaders(), json: {} })],
      ["DELETE on authenticate", () => request(`${edge.url}/v1/${app.publicId}/authenticate`, { method: "DELETE", headers: app.widgetHeaders() })],
      ["unknown widget route", () => request(`${edge.url}/v1/${app.publicId}/nope`, { method: "POST", headers: app.widgetHeaders(), json: {} })],
      ["empty public ID", () => request(`${edge.url}/v1//session`, { method: "POST", headers: app.widgetHeaders(), json: { ceremony: "enroll" } })],
      ["very long public ID", () => request(`${edge.url}/v1/${"a".repeat(4000)}/session`, { method: "POST", headers: app.widgetHeaders(), json: { ceremony: "enroll" } })],
      ["encoded traversal in public ID", () => request(`${edge.url}/v1/..%2F..%2Fadmin/session`, { method: "POST", headers: app.widgetHeaders(), json: { ceremony: "enroll" } })],
      ["unknown top-level path", () => request(`${edge.url}/definitely-not-a-route`)],
      ["unknown /v1 depth", () => request(`${edge.url}/v1/${app.publicId}/session/extra`, { method: "POST", headers: app.widgetHeaders(), json: { ceremony: "enroll" } })],
    ];
    for (const [name, send] of cases) {
      test(name, async () => assertClientError(await send()));
    }
  });

  describe("REST", () => {
    const big = { x: "a".repeat(16 * KIB - 7) };
    const cases = [
      ["deletefacialid: fid missing", () => app.rest("deletefacialid", {})],
      ["deletefacialid: fid not a UUID", () => app.rest("deletefacialid", { fid: "'; DROP TABLE faces; --" })],
      ["deletefacialid: fid uppercase", () => app.rest("deletefacialid", { fid: user.facialId.toUpperCase() })],
      ["deletefacialid: fid with braces", () => app.rest("deletefacialid", { fid: `{${user.facialId}}` })],
      ["deletefacialid: fid as JSON number", () => app.rest("deletefacialid", { fid: 5 }, { via: "json" })],
      ["deletefacialid: fid as JSON array", () => app.rest("deletefacialid", { fid: [user.facialId] }, { via: "json" })],
      ["setfacialidpayload: payload 16 KiB + 1", () => app.rest("setfacialidpayload", { fid: user.facialId, payload: big }, { via: "json" }), 413],
      ["setfacialidpayload: JSON payload nested 33 deep", () => app.rest("setfacialidpayload", { fid: user.facialId, payload: nested(33) }, { via: "json" }), 400],
      ["setfacialidpayload: JSON payload nested 126 deep", () => app.rest("setfacialidpayload", { fid: user.facialId, payload: nested(126) }, { via: "json" }), 400],
      ["setfacialidpayload: form payload nested 126 deep", () => app.rest("setfacialidpayload", { fid: user.facialId, payload: nested(126) }, { via: "form" }), 400],
      ["setfacialidpayload: GET payload nested 126 deep", () => app.rest("setfacialidpayload", { fid: user.facialId, payload: nested(126) }), 400],
      ["setfacialidpayload: JSON body nested 300 deep", () => request(`${edge.url}/setfacialidpayload`, { method: "POST", headers: { "content-type": "application/json" }, body: `{"key":"${app.apiKey}","fid":"${user.facialId}","payload":${"[".repeat(300)}${"]".repeat(300)}}` }), 400],
      ["setfacialidpayload: payload not JSON (GET)", () => app.rest("setfacialidpayload", { fid: user.facialId, payload: "{oops" }), 400],
      ["setfacialidpayload: payload missing", () => app.rest("setfacialidpayload", { fid: user.facialId }), 400],
      ["setfacialidpayload: bad fid", () => app.rest("setfacialidpayload", { fid: "x", payload: { a: 1 } })],
      ["setfacialidpincode: pin letters", () => app.rest("setfacialidpincode", { fid: user.facialId, pin: "abcd" }), 400],
      ["setfacialidpincode: pin weak", () => app.rest("setfacialidpincode", { fid: user.facialId, pin: "1111" }), 400],
      ["setfacialidpincode: pin missing", () => app.rest("setfacialidpincode", { fid: user.facialId }), 400],
      ["setfacialidpincode: pin as JSON object", () => app.rest("setfacialidpincode", { fid: user.facialId, pin: { p: 1 } }, { via: "json" }), 400],
      ["listfacialids: limit not a number", () => app.rest("listfacialids", { limit: "ten" })],
      ["REST POST: invalid JSON", () => request(`${edge.url}/appstats`, { method: "POST", headers: { "content-type": "application/json" }, body: `{"key":"${app.apiKey}"` })],
      ["REST POST: JSON array", () => request(`${edge.url}/listfacialids`, { method: "POST", headers: { "content-type": "application/json" }, body: `["${app.apiKey}"]` })],
      ["REST POST: NaN literal", () => request(`${edge.url}/setfacialidpayload`, { method: "POST", headers: { "content-type": "application/json" }, body: `{"key":"${app.apiKey}","fid":"${user.facialId}","payload":NaN}` })],
      ["REST POST: body over the cap", () => request(`${edge.url}/setfacialidpayload`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: app.apiKey, fid: user.facialId, payload: { x: "a".repeat(100 * KIB) } }) }), 413],
      ["REST POST: unknown content-type", () => request(`${edge.url}/setfacialidpayload`, { method: "POST", headers: { "content-type": "application/xml" }, body: `<key>${app.apiKey}</key>` })],
      ["REST: PUT method", () => request(`${edge.url}/appstats?key=${encodeURIComponent(app.apiKey)}`, { method: "PUT" })],
    ];
    for (const [name, send, status] of cases) {
      test(name, async () => assertClientError(await send(), { status }));
    }
  });

  describe("admin", () => {
    const adm = (method, path, json, token) => edge.admin(method, path, json, token);
    const raw = (method, path, body, token = edge.adminToken) =>
      request(`${edge.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body });
    const cases = [
      ["no token", () => adm("POST", "/admin/apps", { name: "x" }, null), 401],
      ["wrong token", () => adm("POST", "/admin/apps", { name: "x" }, "not-the-token"), 401],
      ["token prefix", () => adm("GET", `/admin/apps/${app.publicId}`, undefined, edge.adminToken.slice(0, -1)), 401],
      ["app API key as admin token", () => adm("GET", `/admin/apps/${app.publicId}`, undefined, app.apiKey), 401],
      ["basic auth", () => request(`${edge.url}/admin/apps/${app.publicId}`, { headers: { authorization: `Basic ${Buffer.from(`admin:${edge.adminToken}`).toString("base64")}` } }), 401],
      ["token in query string", () => request(`${edge.url}/admin/apps/${app.publicId}?token=${edge.adminToken}`), 401],
      ["create: invalid JSON", () => raw("POST", "/admin/apps", "{"), 400],
      ["create: missing name", () => adm("POST", "/admin/apps", {}), 400],
      ["create: name not a string", () => adm("POST", "/admin/apps", { name: 42 }), 400],
      ["create: unknown top-level field", () => adm("POST", "/admin/apps", { name: "x", apiKey: "mine" }), 400],
      ["create: unknown option", () => adm("POST", "/admin/apps", { name: "x", options: { superMode: true } }), 400],
      ["create: livenessMode bad", () => adm("POST", "/admin/apps", { name: "x", options: { livenessMode: "strong" } }), 400],
      ["create: minAge negative", () => adm("POST", "/admin/apps", { name: "x", options: { minAge: -1 } }), 400],
      ["create: minAge 300", () => adm("POST", "/admin/apps", { name: "x", options: { minAge: 300 } }), 400],
      ["create: allowedOrigins not a list", () => adm("POST", "/admin/apps", { name: "x", options: { allowedOrigins: "https://a.test" } }), 400],
      ["create: allowedCountries number", () => adm("POST", "/admin/apps", { name: "x", options: { allowedCountries: [1] } }), 400],
      ["create: quota negative", () => adm("POST", "/admin/apps", { name: "x", options: { quotaPerMinute: -5 } }), 400],
      ["create: matchThreshold NaN literal", () => raw("POST", "/admin/apps", '{"name":"x","options":{"matchThreshold":NaN}}'), 400],
      ["create: preventDuplicates string", () => adm("POST", "/admin/apps", { name: "x", options: { preventDuplicates: "yes" } }), 400],
      ["create: body over the cap", () => raw("POST", "/admin/apps", JSON.stringify({ name: "x".repeat(100 * KIB) })), [400, 413]],
      ["get: unknown app", () => adm("GET", "/admin/apps/no-such-app"), [404, 401, 400]],
      ["patch: unknown app", () => adm("PATCH", "/admin/apps/no-such-app", { status: "paused" }), [404, 401, 400]],
      ["patch: bad status", () => adm("PATCH", `/admin/apps/${app.publicId}`, { status: "deleted" }), 400],
      ["patch: unknown option", () => adm("PATCH", `/admin/apps/${app.publicId}`, { options: { superMode: true } }), 400],
      ["patch: options wrong type", () => adm("PATCH", `/admin/apps/${app.publicId}`, { options: { alwaysAskPin: "true" } }), 400],
      ["patch: invalid JSON", () => raw("PATCH", `/admin/apps/${app.publicId}`, "{status:"), 400],
      ["patch: unknown field", () => adm("PATCH", `/admin/apps/${app.publicId}`, { name: "renamed", publicId: "other" }), 400],
      // (DELETE /admin/apps/{id} deletes the app: tests/edge/operator.test.mjs.)
      ["PUT on admin apps", () => adm("PUT", `/admin/apps/${app.publicId}`, {})],
      ["DELETE on the app list", () => adm("DELETE", "/admin/apps")],
      ["DELETE of an unknown app", () => adm("DELETE", "/admin/apps/no-such-app"), 404],
    ];
    for (const [name, send, status] of cases) {
      test(name, async () => assertClientError(await send(), { status }));
    }
  });

  test("a payload at the nesting limit is carried by every later step", async () => {
    const deep = nested(32);
    const other = await edge.createApp();
    const e = assertOk(await other.enroll(F.obama.slice(0, 2), { payload: deep }), "enroll at the limit");
    const a = assertOk(await other.authenticate(F.obama[3]), "authenticate returns it");
    assert.deepEqual(a.payload, deep);
    for (const via of ["json", "form", "get"]) {
      const payload = { v: via, deep: nested(31) }; // 32 levels
      assertOk(await other.rest("setfacialidpayload", { fid: e.facialId, payload }, { via }), `setfacialidpayload via ${via}`);
      assert.deepEqual(assertOk(await other.authenticate(F.obama[3])).payload, payload);
    }
  });

  test("state is unchanged: stats, listing, app options, and the enrolled user still authenticates", async () => {
    const now = { stats: statCounters(await app.stats()), list: (await app.listAll()).map(itemId).sort() };
    assert.deepEqual(now, before0);
    const info = assertOk(await edge.getApp(app.publicId));
    assert.equal(info.status, "active");
    assert.equal(info.options.preventDuplicates, true);
    assert.equal(info.options.alwaysAskPin, false);
    const auth = assertOk(await app.authenticate(F.obama[3]), "survivor authenticates");
    assert.equal(auth.facialId, user.facialId);
    assert.deepEqual(auth.payload, userPayload);
    // None of the malformed enrollments slipped in: franck is unknown.
    const ghost = await app.authenticate(T);
    assert.equal(ghost.body?.code, 3, show(ghost));
  });
});
