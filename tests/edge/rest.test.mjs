// REST API: /setfacialidpayload, /setfacialidpincode, /appstats, /listfacialids, /checkfacialid, /status.

import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { useEdge } from "./harness.mjs";
import { faces } from "./templates.mjs";
import {
  CODES, Edge, ISO_RE, UUID_RE, assertClientError, assertError, assertNoBiometricLeak, assertOk, itemId,
  listItems, show, statCounters,
} from "./client.mjs";

const F = faces();
const edge = new Edge(await useEdge());
const allTemplates = Object.values(F).flat().map((f) => f.template);

function restOk(res, what) {
  const body = assertOk(res, what);
  assert.equal(body.status, 200, `${what}: ${show(res)}`);
  return body;
}

describe("REST", () => {
  test("setfacialidpayload replaces the payload (GET, form and JSON)", async () => {
    const app = await edge.createApp();
    const a = assertOk(await app.enroll(F.obama.slice(0, 2), { payload: { v: 0 } }));
    const variants = [
      ["get", { v: 1, s: "über ✓" }],
      ["form", { v: 2, list: [1, 2, 3] }],
      ["json", { v: 3, nested: { deep: true } }],
    ];
    for (const [via, payload] of variants) {
      restOk(await app.rest("setfacialidpayload", { fid: a.facialId, payload }, { via }), `setfacialidpayload ${via}`);
      assert.deepEqual(assertOk(await app.authenticate(F.obama[3])).payload, payload, via);
    }
  });

  test("setfacialidpayload enforces 16 KiB and valid JSON", async () => {
    const app = await edge.createApp();
    const a = assertOk(await app.enroll(F.obama.slice(0, 2), { payload: { keep: true } }));
    // {"x":"…"} is 8 bytes of envelope: 16376 chars → exactly 16384 bytes (allowed), one more → 413.
    const exact = { x: "a".repeat(16 * 1024 - 8) };
    assert.equal(JSON.stringify(exact).length, 16 * 1024);
    restOk(await app.rest("setfacialidpayload", { fid: a.facialId, payload: exact }, { via: "json" }), "16 KiB payload");
    const over = { x: "a".repeat(16 * 1024 - 7) };
    const res = await app.rest("setfacialidpayload", { fid: a.facialId, payload: over }, { via: "json" });
    assertClientError(res, { status: 413 });
    assert.deepEqual(assertOk(await app.authenticate(F.obama[3])).payload, exact, "payload unchanged by the refused update");
    // A GET payload that is not JSON is a 400.
    assertClientError(await app.rest("setfacialidpayload", { fid: a.facialId, payload: "{not json" }), { status: 400 });
    assertClientError(await app.rest("setfacialidpayload", { fid: a.facialId }), { status: 400 });
  });

  test("setfacialidpincode replaces the PIN and applies the PIN policy", async () => {
    const app = await edge.createApp({ alwaysAskPin: true, rejectWeakPins: true });
    const a = assertOk(await app.enroll(F.biden, { pin: "2749" }));
    restOk(await app.rest("setfacialidpincode", { fid: a.facialId, pin: "5827" }), "setfacialidpincode");
    // The old PIN is now wrong...
    let res = await app.authenticate(F.biden[0]);
    res = await app.authenticate(F.biden[0], { challengeId: res.body.challengeId, pin: "2749" });
    const body = assertOk(res);
    assert.equal(body.pinRequired, true, show(res));
    assert.equal(body.wrongPin, true, show(res));
    // ...and the new one works.
    assert.equal(assertOk(await app.authenticate(F.biden[0], { challengeId: body.challengeId, pin: "5827" })).facialId, a.facialId);
    // Weak and malformed PINs are refused; the PIN stays 5827.
    for (const pin of ["1234", "0000", "12a4", "1", ""]) {
      assertClientError(await app.rest("setfacialidpincode", { fid: a.facialId, pin }), { status: 400 });
    }
    assert.equal(assertOk(await app.login(F.biden[0], "5827")).facialId, a.facialId);
  });

  test("setfacialidpincode respects enforcePinUniqueness", async () => {
    const app = await edge.createApp({ enforcePinUniqueness: true });
    assertOk(await app.enroll(F.obama.slice(0, 2), { pin: "2749" }));
    const b = assertOk(await app.enroll([F.biden[0]], { pin: "5827" }));
    const res = await app.rest("setfacialidpincode", { fid: b.facialId, pin: "2749" });
    assertClientError(res, { status: 409 });
    assert.equal(res.body.code, CODES.UNIQUE_PIN_REQUIRED, show(res));
  });

  test("appstats counts enrollments, authentications and deletions", async () => {
    const app = await edge.createApp({ preventDuplicates: true });
    const s0 = statCounters(await app.stats());
    assert.deepEqual(s0, { enrolled: 0, enrollments: 0, authOk: 0, authFailed: 0, deletions: 0 }, `fresh app stats (shape?): ${JSON.stringify(await app.stats())}`);
    const a = assertOk(await app.enroll(F.obama.slice(0, 2)));
    assertOk(await app.enroll([F.biden[0]]));
    assertOk(await app.enroll([F.cage[0]]));
    assertError(await app.enroll([F.obama[3]]), "FACE_DUPLICATION");
    assertOk(await app.authenticate(F.obama[3]));
    assertOk(await app.authenticate(F.biden[0]));
    assertError(await app.authenticate(F.audrey[0]), "UNRECOGNIZED_FACE");
    restOk(await app.rest("deletefacialid", { fid: a.facialId }), "delete");
    const raw = await app.stats();
    assertNoBiometricLeak(raw, allTemplates);
    assert.deepEqual(statCounters(raw), { enrolled: 2, enrollments: 3, authOk: 2, authFailed: 1, deletions: 1 }, JSON.stringify(raw));
    // Stats are per app.
    const other = await edge.createApp();
    assert.equal(statCounters(await other.stats()).enrolled, 0);
  });

  test("listfacialids pages through facial IDs with timestamps and details, never biometrics", async () => {
    const app = await edge.createApp({ preventDuplicates: true });
    const enrolled = [];
    for (const [faceList, details] of [
      [F.obama.slice(0, 2), { age: 47.2, gender: "male" }],
      [[F.biden[0]], { age: 66, gender: "male" }],
      [[F.audrey[0]], { age: 25, gender: "female" }],
    ]) {
      enrolled.push(assertOk(await app.enroll(faceList, { details, payload: { private: "payload-not-listed" }, pin: "2749" })));
    }
    const all = listItems(restOk(await app.rest("listfacialids", { offset: "0", limit: "1000" }), "list"));
    assert.equal(all.length, 3);
    assert.deepEqual(new Set(all.map(itemId)), new Set(enrolled.map((e) => e.facialId)));
    for (const item of all) {
      assert.match(itemId(item), UUID_RE);
      const e = enrolled.find((x) => x.facialId === itemId(item));
      assert.equal(typeof item, "object", "entries carry timestamp and details");
      const ts = item.timestamp ?? item.enrolledAt ?? item.enrollmentTimestamp;
      assert.match(String(ts), ISO_RE, JSON.stringify(item));
      assert.deepEqual(item.details, e.details, JSON.stringify(item));
    }
    assertNoBiometricLeak(all, allTemplates);
    assert.ok(!JSON.stringify(all).includes("2749"), "listing leaks a PIN");

    const p1 = listItems(restOk(await app.rest("listfacialids", { offset: "0", limit: "2" }), "page 1"));
    const p2 = listItems(restOk(await app.rest("listfacialids", { offset: "2", limit: "2" }), "page 2"));
    const p3 = listItems(restOk(await app.rest("listfacialids", { offset: "3", limit: "2" }), "page 3"));
    assert.equal(p1.length, 2);
    assert.equal(p2.length, 1);
    assert.equal(p3.length, 0);
    assert.deepEqual(new Set([...p1, ...p2].map(itemId)), new Set(all.map(itemId)));
    // Defaults work (no offset/limit), POST JSON too.
    assert.equal(listItems(restOk(await app.rest("listfacialids"), "defaults")).length, 3);
    assert.equal(listItems(restOk(await app.rest("listfacialids", { offset: 0, limit: 10 }, { via: "json" }), "json")).length, 3);
  });

  test("listfacialids limit above 1000 and bad paging values are client errors or clamped, never 5xx", async () => {
    const app = await edge.createApp();
    for (const params of [{ limit: "1001" }, { limit: "0" }, { limit: "-1" }, { offset: "-5" }, { limit: "abc" }, { offset: "1e99" }]) {
      const res = await app.rest("listfacialids", params);
      assert.ok(res.status < 500, show(res));
      if (res.status === 200) assert.ok(listItems(res.body).length <= 1000);
      else assertClientError(res);
    }
  });

  test("REST routes need the app's key (public ID is not enough)", async () => {
    const app = await edge.createApp();
    const a = assertOk(await app.enroll([F.franck[0]]));
    for (const [path, params] of [
      ["appstats", {}],
      ["listfacialids", {}],
      ["setfacialidpayload", { fid: a.facialId, payload: { x: 1 } }],
      ["setfacialidpincode", { fid: a.facialId, pin: "5827" }],
      ["checkfacialid", { fid: a.facialId }],
    ]) {
      for (const key of [null, app.publicId, "wrong"]) {
        const res = await app.rest(path, params, { key });
        assert.equal(res.status, 401, show(res));
        assert.equal(res.body?.status, 401, show(res));
      }
    }
    assert.deepEqual(assertOk(await app.authenticate(F.franck[1])).payload, {});
  });

  test("checkfacialid says whether a facial ID is enrolled here (GET, form and JSON), and stops after deletion", async () => {
    const app = await edge.createApp();
    const other = await edge.createApp();
    const a = assertOk(await app.enroll(F.obama.slice(0, 2)));
    for (const via of ["get", "form", "json"]) {
      const body = restOk(await app.rest("checkfacialid", { fid: a.facialId }, { via }), `checkfacialid ${via}`);
      assert.equal(body.valid, true, `${via}: ${JSON.stringify(body)}`);
      assert.equal(body.facialId, a.facialId);
      assertNoBiometricLeak(body, allTemplates, `checkfacialid ${via}`);
    }
    // Another app's key does not see this app's facial IDs.
    assert.equal(restOk(await other.rest("checkfacialid", { fid: a.facialId }), "other app").valid, false);
    restOk(await app.rest("deletefacialid", { fid: a.facialId }), "delete");
    assert.equal(restOk(await app.rest("checkfacialid", { fid: a.facialId }), "after delete").valid, false);
    // A missing or malformed fid is the caller's error, not "invalid".
    assertClientError(await app.rest("checkfacialid", {}), { status: 400 });
    assertClientError(await app.rest("checkfacialid", { fid: "../../etc" }), { status: 400 });
    assertClientError(await app.rest("checkfacialid", { fid: "x".repeat(300) }), { status: 400 });
  });

  test("status answers FACEIO's health check without a key (GET and POST); other methods are refused", async () => {
    for (const init of [{}, { method: "POST" }]) {
      const res = await fetch(`${edge.url}/status`, init);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /application\/json/);
      const body = await res.json();
      assert.equal(body.status, 200, JSON.stringify(body));
      assert.equal(body.operational, true);
    }
    const res = await fetch(`${edge.url}/status`, { method: "PUT" });
    assert.ok(res.status >= 400 && res.status < 500, `PUT /status: ${res.status}`);
    assert.equal(typeof (await res.json()).error, "string");
  });
});
