// 8: the processing node is unreachable → NETWORK_IO; it never answers → TIMEOUT.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  FIO, blackHole, ceremony, codeName, createApp, describe, freePort, holdingProxy, launch, openFio,
  useEdge, video,
} from "./harness.mjs";

test("edgeUrl on a closed port → NETWORK_IO", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {});
  const port = await freePort(); // nothing listens there
  const ctx = await launch(t, { videoFile: video("cap13") });
  await openFio(ctx.page, edge, app.publicId, { edgeUrl: `http://127.0.0.1:${port}` });
  const a = await ceremony(ctx, { method: "authenticate", params: { replyTimeout: 20 } });
  assert.equal(a.code, FIO.NETWORK_IO, `expected NETWORK_IO, got ${describe(a)}`);
});

test("edgeUrl on a black hole that never answers → TIMEOUT after replyTimeout", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {});
  const hole = await blackHole();
  t.after(() => hole.close());
  const ctx = await launch(t, { videoFile: video("cap13") });
  await openFio(ctx.page, edge, app.publicId, { edgeUrl: hole.url });
  const reply = 3;
  const a = await ceremony(ctx, { method: "authenticate", params: { replyTimeout: reply } });
  assert.equal(a.code, FIO.TIMEOUT, `expected TIMEOUT, got ${describe(a)}`);
  assert.ok(a.elapsedMs >= reply * 1000 - 500, `not before replyTimeout: ${Math.round(a.elapsedMs)} ms`);
  assert.ok(a.elapsedMs <= reply * 1000 + 30000, `no hang: ${Math.round(a.elapsedMs)} ms`);
});

test("the edge accepts the session but never answers /authenticate → TIMEOUT", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {});
  const proxy = await holdingProxy(edge.url, (req) => req.method === "POST" && /^\/v1\/[^/]+\/authenticate/.test(req.url));
  t.after(() => proxy.close());
  const ctx = await launch(t, { videoFile: video("cap13") });
  await openFio(ctx.page, edge, app.publicId, { edgeUrl: proxy.url });
  const reply = 4;
  const a = await ceremony(ctx, { method: "authenticate", params: { replyTimeout: reply } });
  ctx.log(`held by the proxy: ${JSON.stringify(proxy.held)}`);
  assert.equal(a.code, FIO.TIMEOUT, `expected TIMEOUT, got ${describe(a)}; held: ${JSON.stringify(proxy.held)}`);
  assert.ok(proxy.held.length >= 1, "the widget did send the authentication request");
  const cameraAt = a.screenAt("camera") ?? 0;
  assert.ok(a.elapsedMs - cameraAt <= 30000 + reply * 1000, `no hang: ${Math.round(a.elapsedMs)} ms`);
});

