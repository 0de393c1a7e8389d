// FACEIO's image endpoints: /faceverify and /agecheck, measured by the worker with the widget's
// models on real photos, compared with the native `fio` CLI on the same photos; bad images get
// 400/413/422 JSON; no image data reaches the worker's log. Runs models in the worker, so
// tests/edge/run.mjs runs it alone after the other specs.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { before, describe, test } from "node:test";
import { ROOT, edgeLogFile, useEdge } from "./harness.mjs";
import { fioBinary } from "./templates.mjs";
import { Edge, assertClientError, request, show } from "./client.mjs";

const edge = new Edge(await useEdge());
const photo = (p) => readFileSync(join(ROOT, "fixtures", p));
const OBAMA = photo("data/face_recognition/obama.jpg");
const OBAMA2 = photo("data/face_recognition/obama2.jpg");
const BIDEN = photo("data/face_recognition/biden.jpg");
const GROUP = photo("data/face_api/sample1.jpg"); // three faces of similar size
const dataUri = (buf, type = "image/jpeg") => `data:${type};base64,${buf.toString("base64")}`;

/** What the native pipeline says about the same files (same models, same code). */
function fio(args) {
  const r = spawnSync(fioBinary(), [...args, "--json"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** A w×h PNG of one grey level (no face), built by hand so the spec needs no image library. */
function greyPng(w, h, v = 128) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc((w + 1) * h, v);
  for (let y = 0; y < h; y++) rows[y * (w + 1)] = 0; // filter: none
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

function post(path, json) {
  return request(`${edge.url}/${path}`, { method: "POST", json });
}

function ok(res) {
  assert.equal(res.status, 200, show(res));
  assert.equal(res.body?.status, 200, show(res));
  return res.body;
}

describe("REST image endpoints", () => {
  let app;
  before(async () => {
    app = await edge.createApp();
  });

  test("faceverify: same person / different person as the native pipeline says (JSON, form, multipart)", async () => {
    const t0 = Date.now();
    const same = ok(await post("faceverify", { key: app.apiKey, src: dataUri(OBAMA), target: dataUri(OBAMA2) }));
    const first = Date.now() - t0;
    const native = fio(["compare", "fixtures/data/face_recognition/obama.jpg", "fixtures/data/face_recognition/obama2.jpg"]);
    assert.equal(same.same_person, true, JSON.stringify(same));
    assert.ok(Math.abs(same.sim - native.similarity) < 0.03, `edge sim ${same.sim} vs native ${native.similarity}`);
    assert.ok(Math.abs(same.dist - (1 + same.sim) / 2) < 1e-6, JSON.stringify(same));

    // Form (plain base64, no data: prefix) and multipart (the files themselves).
    const form = new URLSearchParams({ key: app.apiKey, src: OBAMA.toString("base64"), target: BIDEN.toString("base64") });
    const t1 = Date.now();
    const diff = ok(await request(`${edge.url}/faceverify`, {
      method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form.toString(),
    }));
    const warm = Date.now() - t1;
    const nativeDiff = fio(["compare", "fixtures/data/face_recognition/obama.jpg", "fixtures/data/face_recognition/biden.jpg"]);
    assert.equal(diff.same_person, false, JSON.stringify(diff));
    assert.ok(Math.abs(diff.sim - nativeDiff.similarity) < 0.03, `edge sim ${diff.sim} vs native ${nativeDiff.similarity}`);

    const fd = new FormData();
    fd.set("key", app.apiKey);
    fd.set("src", new Blob([OBAMA2], { type: "image/jpeg" }), "a.jpg");
    fd.set("target", new Blob([OBAMA], { type: "image/jpeg" }), "b.jpg");
    const multi = ok(await request(`${edge.url}/faceverify`, { method: "POST", body: fd }));
    assert.equal(multi.same_person, true);
    assert.ok(Math.abs(multi.sim - same.sim) < 1e-4, "multipart and base64 measure the same images alike");
    console.log(`faceverify: first request (model load) ${first} ms, warm ${warm} ms (wall, wrangler dev)`);
  });

  test("agecheck: age and gender as the native pipeline estimates them", async () => {
    const t0 = Date.now();
    const body = ok(await post("agecheck", { key: app.apiKey, src: dataUri(BIDEN) }));
    const first = Date.now() - t0;
    const t1 = Date.now();
    const again = ok(await post("agecheck", { key: app.apiKey, src: dataUri(OBAMA) }));
    const warm = Date.now() - t1;
    const [b, o] = fio(["analyze", "fixtures/data/face_recognition/biden.jpg", "fixtures/data/face_recognition/obama.jpg"]);
    for (const [got, want] of [[body, b.faces[0]], [again, o.faces[0]]]) {
      assert.ok(Number.isInteger(got.age), JSON.stringify(got));
      assert.ok(Math.abs(got.age - want.age) <= 2, `edge age ${got.age} vs native ${want.age}`);
      assert.equal(got.gender, want.gender);
      assert.equal(got.minor, want.age < 18);
    }
    console.log(`agecheck: first request (faceres load) ${first} ms, warm ${warm} ms (wall, wrangler dev)`);
  });

  test("bad images and bad calls are 4xx JSON; no face is NO_FACES_DETECTED, several MANY_FACES", async () => {
    const grey = greyPng(320, 240);
    const cases = [
      [await post("agecheck", { src: dataUri(OBAMA) }), 401], // no key
      [await post("agecheck", { key: app.publicId, src: dataUri(OBAMA) }), 401], // public ID is not a key
      [await post("agecheck", { key: app.apiKey }), 400], // no image
      [await post("faceverify", { key: app.apiKey, src: dataUri(OBAMA) }), 400], // no target
      [await post("agecheck", { key: app.apiKey, src: "https://example.com/face.jpg" }), 400],
      [await post("agecheck", { key: app.apiKey, src: "data:image/png,notbase64" }), 400],
      [await post("agecheck", { key: app.apiKey, src: "%%% not base64 %%%" }), 400],
      [await post("agecheck", { key: app.apiKey, src: Buffer.from("not an image at all").toString("base64") }), 400],
      [await post("agecheck", { key: app.apiKey, src: OBAMA.subarray(0, 2000).toString("base64") }), 400], // truncated JPEG
      [await post("agecheck", { key: app.apiKey, src: 42 }), 400],
      [await request(`${edge.url}/agecheck?key=${app.apiKey}&src=${encodeURIComponent(grey.toString("base64"))}`), 400],
      [await request(`${edge.url}/agecheck`, { method: "PUT", json: { key: app.apiKey } }), 405],
      // 2 MiB + 1 decoded bytes, and a body over the request bound.
      [await post("agecheck", { key: app.apiKey, src: Buffer.alloc(2 * 1024 * 1024 + 1, 7).toString("base64") }), 413],
      [await request(`${edge.url}/faceverify`, {
        method: "POST", headers: { "content-type": "application/json" }, body: `{"key":"${app.apiKey}","src":"${"A".repeat(7 * 1024 * 1024)}"}`,
      }), 413],
    ];
    for (const [res, status] of cases) assertClientError(res, { status });

    const none = await post("agecheck", { key: app.apiKey, src: dataUri(grey, "image/png") });
    assert.equal(none.status, 422, show(none));
    assert.deepEqual([none.body.status, none.body.error, none.body.code], [422, "NO_FACES_DETECTED", 2], show(none));
    assert.match(none.body.message, /`src`/);
    const noneTarget = await post("faceverify", { key: app.apiKey, src: dataUri(OBAMA), target: dataUri(grey, "image/png") });
    assert.equal(noneTarget.body?.error, "NO_FACES_DETECTED", show(noneTarget));
    assert.match(noneTarget.body.message, /`target`/);
    const many = await post("agecheck", { key: app.apiKey, src: dataUri(GROUP) });
    assert.equal(many.status, 422, show(many));
    assert.deepEqual([many.body.error, many.body.code], ["MANY_FACES", 4], show(many));
  });

  test("another app's key and a blocked app are refused before any image is decoded", async () => {
    const other = await edge.createApp();
    assert.equal((await edge.patchApp(other.publicId, { status: "blocked" })).status, 200);
    const res = await post("agecheck", { key: other.apiKey, src: dataUri(OBAMA) });
    assert.equal(res.status, 401, show(res));
    const forged = await post("agecheck", { key: `${app.publicId}.${"0".repeat(48)}`, src: "garbage that is never decoded" });
    assert.equal(forged.status, 401, show(forged));
  });

  test("no image data reaches the worker's log", (t) => {
    const logFile = edgeLogFile();
    if (!logFile) return t.skip("needs the edge's log (tests/edge/run.mjs or a local instance)");
    const log = readFileSync(logFile, "utf8");
    assert.ok(log.includes("/faceverify") && log.includes("/agecheck"), "the log covers this spec's requests");
    for (const img of [OBAMA, OBAMA2, BIDEN, GROUP]) {
      const b64 = img.toString("base64");
      // Any 40-character run of any image's base64 (standard or URL-safe) would be a leak.
      for (let i = 0; i + 40 <= b64.length; i += 4096) {
        const run = b64.slice(i, i + 40);
        assert.ok(!log.includes(run) && !log.includes(encodeURIComponent(run)), `image data in the log at offset ${i}`);
      }
    }
  });
});
