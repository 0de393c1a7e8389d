// Request bodies are bounded whatever their framing: a body past the limit is answered 413 before
// the edge buffers or parses it, with Content-Length, chunked transfer encoding or multipart.
// Raw node:http requests, since fetch() picks the framing itself. A chunked body is sent past the
// limit and then held open: only an edge that stops at the limit can answer it.

import assert from "node:assert/strict";
import http from "node:http";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { buildWorker, devVars, startEdge } from "./harness.mjs";
import { faces } from "./templates.mjs";
import { DEFAULT_ORIGIN, Edge, assertOk, randomIp } from "./client.mjs";

// Its own wrangler instance: after a request answered before its body ended, wrangler dev's
// proxy in front of workerd fails the *next* request on that connection with 503 "Your worker
// restarted mid-request" (measured: strictly every other request). That is the dev proxy, not
// the worker (deployed Workers have no such proxy), but it must not hit other specs' requests,
// and `settle()` absorbs it here.
const F = faces();
buildWorker();
const instance = await startEdge({ build: false });
after(() => instance.dispose());
const shared = { url: instance.url, adminToken: devVars().ADMIN_TOKEN };
const edge = new Edge(shared);
const MIB = 1024 * 1024;

/**
 * Lets the dev proxy drop the connection an early answer broke (see above): POSTs (which the
 * proxy does not retry, unlike GETs) to a route that answers 404 until one is answered.
 */
async function settle() {
  for (let i = 0; i < 8; i++) {
    try {
      const res = await fetch(new URL("/health", shared.url), { method: "POST", signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.status !== 503) return;
    } catch {
      // The broken connection may also surface as a reset.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail("the edge does not answer after an early 413");
}

/** wrangler dev's own 503 for a request sent on a connection an early answer broke (not JSON). */
const isProxyRestart = (res) => res.status === 503 && /restarted mid-request/.test(res.text ?? "");

/** Sends again (at most 3 times) when the dev proxy, not the worker, answered (see above). */
async function retryingProxy(send) {
  let res;
  for (let i = 0; i < 3; i++) {
    res = await send();
    if (!isProxyRestart(res)) return res;
    await settle();
  }
  return res;
}

/**
 * POSTs `head` plus filler up to `bytes` with chunked transfer encoding, then holds the request
 * open (the body never ends) and waits up to `waitMs` for an answer: an edge that buffers the
 * whole body before deciding never answers. Returns `{status, body, text}` or `{status: 0}`.
 */
function sendThenHold(path, { head = "", filler = " ", bytes, contentType = "application/json", headers = {}, waitMs = 15_000 }) {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, shared.url), {
      method: "POST",
      headers: { "content-type": contentType, "transfer-encoding": "chunked", ...headers },
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ status: 0, text: `no answer within ${waitMs} ms with the body still open` });
    }, waitMs);
    req.on("response", (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString();
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        // Finish the body only now, so the dev proxy in front of workerd is left in a clean
        // state for the next request.
        req.end();
        resolve({ status: res.statusCode, body, text });
      });
    });
    let answered = false;
    req.on("response", () => (answered = true));
    req.on("error", (e) => {
      if (answered) return; // the early answer closed the connection under our writes
      clearTimeout(timer);
      reject(e);
    });
    req.write(head);
    const chunk = Buffer.alloc(16 * 1024, filler);
    for (let sent = Buffer.byteLength(head); sent < bytes; sent += chunk.length) req.write(chunk);
  });
}

const assert413 = (res, what) => {
  assert.equal(res.status, 413, `${what}: expected 413, got ${res.status} ${res.text.slice(0, 300)}`);
  assert.ok(res.body && typeof res.body.code === "number", `${what}: expected a JSON error: ${res.text.slice(0, 300)}`);
};

describe("bounded request bodies", () => {
  // Apps and users are set up before any early answer can disturb the dev proxy.
  let app;
  let other;
  let user;
  before(async () => {
    app = await edge.createApp();
    other = await edge.createApp();
    user = assertOk(await other.enroll(F.obama.slice(0, 2), { payload: { v: "before" } }));
  });

  test("chunked bodies with no Content-Length: widget, REST and operator routes answer 413 mid-stream", async () => {
    const widget = { origin: DEFAULT_ORIGIN, "cf-connecting-ip": randomIp() };
    const cases = [
      ["widget session", `/v1/${app.publicId}/session`, '{"ceremony":"enroll","pad":"', widget, 64 * 1024],
      ["widget enroll (evidence limit)", `/v1/${app.publicId}/enroll`, '{"pad":"', widget, MIB + 64 * 1024],
      ["REST JSON", "/setfacialidpayload", `{"key":"${app.apiKey}","pad":"`, {}, 64 * 1024],
      ["REST form", "/setfacialidpayload", `key=${app.apiKey}&pad=`, {}, 64 * 1024, "application/x-www-form-urlencoded"],
      ["operator API", "/admin/apps", '{"name":"', { authorization: `Bearer ${edge.adminToken}` }, 64 * 1024],
    ];
    for (const [what, path, head, headers, bytes, contentType] of cases) {
      const res = await retryingProxy(() => sendThenHold(path, { head, filler: "a", headers, bytes, contentType }));
      assert413(res, what);
      await settle();
    }
  });

  test("a small Content-Length next to chunked framing does not let a large body through", async () => {
    // A request smuggling a small declared length next to chunked framing: the edge must count
    // what arrives, not what was declared (or the HTTP layer must refuse the request).
    const widget = { origin: DEFAULT_ORIGIN, "cf-connecting-ip": randomIp(), "content-length": "40" };
    const res = await retryingProxy(() =>
      sendThenHold(`/v1/${app.publicId}/session`, { head: '{"ceremony":"enroll","pad":"', filler: "a", headers: widget, bytes: 256 * 1024 }),
    );
    assert.ok([400, 413].includes(res.status), `expected 400 or 413, got ${res.status} ${res.text.slice(0, 300)}`);
    await settle();
  });

  test("a multipart body with a 5 MB field is refused with 413 and changes nothing", async () => {
    const app = other;
    const boundary = `----openfio${randomBytes(8).toString("hex")}`;
    const field = (name, value) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const head =
      field("key", app.apiKey) + field("fid", user.facialId) + field("payload", '{"v":"after"}') +
      `--${boundary}\r\nContent-Disposition: form-data; name="junk"\r\n\r\n`;
    const tail = `\r\n--${boundary}--\r\n`;
    // Fixed length (Content-Length set by hand): refused from the header.
    const fixed = await retryingProxy(() => new Promise((resolve, reject) => {
      const body = Buffer.concat([Buffer.from(head), Buffer.alloc(5 * MIB, "x"), Buffer.from(tail)]);
      const req = http.request(new URL("/setfacialidpayload", shared.url), {
        method: "POST",
        headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": body.length },
      });
      req.on("response", (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
      });
      req.on("error", reject);
      req.end(body);
    }));
    assert.equal(fixed.status, 413, `multipart with Content-Length: ${fixed.text.slice(0, 300)}`);
    await settle();
    // Chunked: refused while the body is still open.
    const chunked = await retryingProxy(() => sendThenHold("/setfacialidpayload", {
      head, filler: "x", contentType: `multipart/form-data; boundary=${boundary}`, bytes: 64 * 1024,
    }));
    assert.equal(chunked.status, 413, `chunked multipart: ${chunked.text.slice(0, 300)}`);
    await settle();
    // Nothing reached the record.
    const auth = assertOk(await retryingProxy(() => app.authenticate(F.obama[3])));
    assert.deepEqual(auth.payload, { v: "before" });
    // A small multipart body still works.
    const small = new FormData();
    small.set("key", app.apiKey);
    small.set("fid", user.facialId);
    small.set("payload", '{"v":"small"}');
    const res = await retryingProxy(async () => {
      const r = await fetch(new URL("/setfacialidpayload", shared.url), { method: "POST", body: small, signal: AbortSignal.timeout(30_000) });
      return { status: r.status, text: await r.text() };
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(assertOk(await retryingProxy(() => app.authenticate(F.obama[3]))).payload, { v: "small" });
  });
});
