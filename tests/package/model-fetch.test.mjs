// The engine's model download (js/model-fetch.js) against a real local HTTP server: a response
// that stops sending is abandoned and fetched again, never awaited forever; an HTTP error is
// answered at once; a server that always stalls ends in a named error after every attempt.

import assert from "node:assert/strict";
import http from "node:http";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import { HttpError, fetchModelBytes, fetchModelFile } from "../../js/model-fetch.js";

const BODY = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
const hits = new Map();
let base;
const server = http.createServer((req, res) => {
  const n = (hits.get(req.url) ?? 0) + 1;
  hits.set(req.url, n);
  if (req.url === "/packed.onnx.gz") {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.end(gzipSync(BODY));
  } else if (req.url === "/broken.onnx.gz") {
    res.writeHead(200).end(Buffer.from("not gzip at all"));
  } else if (req.url === "/missing.onnx" || req.url.endsWith(".gz")) {
    res.writeHead(404).end("not found");
  } else if (req.url === "/flaky.onnx" && n === 1) {
    // Headers and a first part, then nothing: the connection stays open.
    res.writeHead(200, { "content-length": BODY.length });
    res.write(BODY.subarray(0, 1000));
  } else if (req.url === "/dead.onnx") {
    // Never answers at all.
  } else {
    res.writeHead(200, { "content-length": BODY.length });
    res.end(BODY);
  }
});

before(async () => {
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

test("a download that stalls mid-body is retried and completes", async () => {
  const t0 = Date.now();
  const bytes = await fetchModelBytes(`${base}/flaky.onnx`, { stallMs: 300 });
  assert.equal(hits.get("/flaky.onnx"), 2, "one stalled attempt, one complete");
  assert.deepEqual(Buffer.from(bytes), BODY);
  assert.ok(Date.now() - t0 < 5_000);
});

test("an HTTP error is not retried", async () => {
  await assert.rejects(fetchModelBytes(`${base}/missing.onnx`, { stallMs: 300 }), (e) => e instanceof HttpError && /HTTP 404/.test(e.message));
  assert.equal(hits.get("/missing.onnx"), 1);
});

test("a server that never answers ends in an error naming the stall, after every attempt", async () => {
  await assert.rejects(fetchModelBytes(`${base}/dead.onnx`, { stallMs: 200, attempts: 3 }), /no data for 0\.2 s \(3 attempts\)/);
  assert.equal(hits.get("/dead.onnx"), 3);
});

test("a healthy download is fetched once, byte for byte", async () => {
  const bytes = await fetchModelBytes(`${base}/model.onnx`);
  assert.deepEqual(Buffer.from(bytes), BODY);
  assert.equal(hits.get("/model.onnx"), 1);
});

test("fetchModelFile takes the .gz copy and returns the decompressed bytes", async () => {
  const bytes = await fetchModelFile(`${base}/packed.onnx`);
  assert.deepEqual(Buffer.from(bytes), BODY);
  assert.equal(hits.get("/packed.onnx"), undefined, "the plain file was not fetched");
});

test("fetchModelFile falls back to the plain file when there is no .gz copy (404)", async () => {
  const bytes = await fetchModelFile(`${base}/plain.onnx`);
  assert.deepEqual(Buffer.from(bytes), BODY);
  assert.equal(hits.get("/plain.onnx.gz"), 1);
  assert.equal(hits.get("/plain.onnx"), 1);
});

test("fetchModelFile: a .gz copy that does not decompress is an error naming it, not a fallback", async () => {
  await assert.rejects(fetchModelFile(`${base}/broken.onnx`), /cannot decompress .*broken\.onnx\.gz/);
  assert.equal(hits.get("/broken.onnx"), undefined);
});
