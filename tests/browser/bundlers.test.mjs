// The npm package inside a site's own bundle: a small page that imports "@openfio/fiojs" is
// bundled by webpack 5 and by esbuild, served from the site's own origin (not the edge's), and
// completes a ceremony against the local edge in Chromium. Bundled, fio.js cannot know where the
// edge is (webpack turns import.meta.url into a file:// path), so the page passes `edgeUrl`; the
// worker and wasm then default to `${edgeUrl}/fiojs/`.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createRequire } from "node:module";
import { ROOT, ceremony, createApp, describe, isUuid, launch, openPage, useEdge, video } from "./harness.mjs";

const require = createRequire(import.meta.url);
const project = mkdtempSync(join(tmpdir(), "openfio-bundlers-"));
let server;
let siteUrl;
let app;
let enrolled = null; // facial ID enrolled by the webpack page

const ENTRY = `
import faceIO, { fioErrCode } from "@openfio/fiojs";
window.__faceIO = faceIO;
window.__codes = fioErrCode;
window.__fio = new faceIO(window.__PUBLIC_ID, { edgeUrl: window.__EDGE_URL });
`;

const page = (bundle, edgeUrl, publicId) => `<!doctype html><html><head><meta charset="utf-8"><title>site</title></head>
<body><script>window.__EDGE_URL = ${JSON.stringify(edgeUrl)}; window.__PUBLIC_ID = ${JSON.stringify(publicId)};</script>
<script src="/${bundle}"></script></body></html>`;

before(async () => {
  // A consumer project whose node_modules/@openfio/fiojs is this repository (its package.json
  // "exports", its dist/ as scripts/build-js.sh built it).
  mkdirSync(join(project, "node_modules/@openfio"), { recursive: true });
  symlinkSync(ROOT, join(project, "node_modules/@openfio/fiojs"), "dir");
  writeFileSync(join(project, "entry.js"), ENTRY);
  mkdirSync(join(project, "out"));

  const webpack = require("webpack");
  const stats = await new Promise((ok, fail) =>
    webpack({
      mode: "production",
      context: project,
      entry: "./entry.js",
      output: { path: join(project, "out"), filename: "webpack-bundle.js" },
      resolve: { modules: [join(project, "node_modules")] },
      performance: { hints: false },
    }, (err, s) => (err ? fail(err) : ok(s))),
  );
  assert.ok(!stats.hasErrors(), stats.toString("errors-only"));

  const esbuild = require("esbuild");
  await esbuild.build({
    entryPoints: [join(project, "entry.js")],
    bundle: true,
    format: "iife",
    outfile: join(project, "out/esbuild-bundle.js"),
    absWorkingDir: project,
    logLevel: "error",
  });

  // The site's own origin, as a real integration serves its pages.
  const edge = await useEdge();
  app = await createApp(edge);
  server = createServer((req, res) => {
    const name = req.url.split("?")[0].slice(1);
    if (name.endsWith(".html")) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(page(name.replace(/\.html$/, "-bundle.js"), edge.url, app.publicId));
    } else if (name.endsWith("-bundle.js")) {
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end(readFileSync(join(project, "out", name)));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  siteUrl = `http://127.0.0.1:${server.address().port}`;
});

after(() => {
  server?.close();
  rmSync(project, { recursive: true, force: true });
});

async function run(t, bundle, method, videoName, params) {
  const ctx = await launch(t, { videoFile: video(videoName), phase: bundle });
  try {
    await openPage(ctx.page, `${siteUrl}/${bundle}.html`);
    const codes = await ctx.page.evaluate(() => window.__codes && window.__codes.PERMISSION_REFUSED);
    assert.equal(codes, 1, "the bundle exports fioErrCode");
    const r = await ceremony(ctx, { method, params, pins: ["4096"] });
    return r;
  } finally {
    await ctx.close();
  }
}

test("webpack 5 bundle on the site's origin enrolls against the edge", async (t) => {
  const r = await run(t, "webpack", "enroll", "cap12", { payload: { via: "webpack" } });
  assert.equal(r.ok, true, `enroll: ${describe(r)}`);
  assert.ok(isUuid(r.value.facialId));
  enrolled = r.value.facialId;
});

test("esbuild bundle on the site's origin authenticates against the edge", async (t) => {
  assert.ok(enrolled, "needs the webpack enrollment");
  const r = await run(t, "esbuild", "authenticate", "cap13", {});
  assert.equal(r.ok, true, `authenticate: ${describe(r)}`);
  assert.equal(r.value.facialId, enrolled);
  assert.deepEqual(r.value.payload, { via: "webpack" });
});
