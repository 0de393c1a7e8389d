// The npm package as users get it: build (scripts/build-js.sh), `npm pack` into a temp dir,
// install the tarball offline into a fresh project, import it in Node the way users do, check the
// API shape, the tarball's file list and size, and type-check tests/package/types-check.ts
// against the INSTALLED package (its "exports" → dist/index.d.ts).
//
//   OPENFIO_PACKAGE_SKIP_BUILD=1  use the existing dist/ (scripts/ci/package-tests.sh built it)
//   OPENFIO_PACKAGE_KEEP=1        keep the temp dir (its path is printed)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
// scripts/build-js.sh assembles the published package in npm-package/ (its own README).
const PKG_DIR = join(ROOT, "npm-package");
const PKG_JSON = join(PKG_DIR, "package.json");
// FACEIO's table as its guide defines it (the golden vector every copy is checked against).
const FIO = Object.freeze(JSON.parse(readFileSync(join(ROOT, "tests/vectors/faceio-error-codes.json"), "utf8")).codes);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} → ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const tmp = mkdtempSync(join(tmpdir(), "openfio-pack-"));
const project = join(tmp, "app");
let packed = null; // npm pack --json entry: {filename, size, unpackedSize, files: [{path, size}]}
let tarball = null;
let PKG = null;

before(() => {
  if (process.env.OPENFIO_PACKAGE_SKIP_BUILD !== "1" || !existsSync(PKG_JSON)) {
    run("bash", [join(ROOT, "scripts/build-js.sh")], { cwd: ROOT });
  }
  PKG = JSON.parse(readFileSync(PKG_JSON, "utf8"));
  const out = run("npm", ["pack", "--json", "--pack-destination", tmp], { cwd: PKG_DIR });
  // npm may print lifecycle output before the JSON array.
  packed = JSON.parse(out.slice(out.indexOf("[")))[0];
  tarball = join(tmp, packed.filename);
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "fiojs-consumer", private: true, type: "module" }));
  // No registry access needed: the package must have no runtime dependencies.
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], { cwd: project });
});

after(() => {
  if (process.env.OPENFIO_PACKAGE_KEEP === "1") console.log(`# kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
});

test("package.json: no runtime dependencies; exports, types and files point at real files", () => {
  for (const k of ["dependencies", "peerDependencies", "optionalDependencies", "bundleDependencies"]) {
    const v = PKG[k];
    assert.ok(!v || (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0), `no ${k}: ${JSON.stringify(v)}`);
  }
  const installed = join(project, "node_modules/@openfio/fiojs");
  const e = PKG.exports;
  for (const f of [PKG.main, PKG.module, PKG.browser, PKG.types, e["."].types, e["."].import, e["."].require, e["./globals"].types, e["./fio.js"], e["./engine-worker.js"]]) {
    assert.ok(existsSync(join(installed, f)), `${f} is in the installed package`);
  }
});

test("tarball: dist, wasm and types; no sources, tests, fixtures, models, build trees; size", (t) => {
  const files = packed.files.map((f) => f.path).sort();
  t.diagnostic(`${packed.filename}: ${files.length} files, ${(packed.size / 1048576).toFixed(2)} MiB packed, ${(packed.unpackedSize / 1048576).toFixed(2)} MiB unpacked`);
  for (const f of packed.files) t.diagnostic(`  ${String(f.size).padStart(10)}  ${f.path}`);
  assert.equal(statSync(tarball).size, packed.size, "npm's reported size is the tarball's");
  for (const f of [
    "package.json", "README.md", "index.d.ts", "globals.d.ts", "dist/index.d.ts", "dist/globals.d.ts",
    "dist/fio.js", "dist/fio.mjs", "dist/fio.cjs",
    "dist/engine-worker.js", "dist/wasm/fio_wasm.js", "dist/wasm/fio_wasm_bg.wasm",
  ]) {
    assert.ok(files.includes(f), `the tarball has ${f}: ${files.join(", ")}`);
  }
  const allowed = /^(package\.json|README\.md|LICENSE(\.\w+)?|index\.d\.ts|globals\.d\.ts|dist\/.+)$/;
  const stray = files.filter((f) => !allowed.test(f));
  assert.deepEqual(stray, [], "only package.json, README, LICENSE, index.d.ts and dist/");
  const banned = /(^|\/)(tests?|fixtures|target|node_modules|edge-worker|fio-[a-z]+|www|js|scripts|models|artifacts|benches)\/|\.(onnx|y4m|mp4|rs|map|tgz)$/;
  assert.deepEqual(files.filter((f) => banned.test(f)), [], "no sources, tests, fixtures, models or build trees");
  // The wasm (tract + the pipeline) dominates; models are served by the edge, not shipped.
  assert.ok(packed.size < 25 * 1048576, `packed size ${packed.size} B stays below 25 MiB`);
  const src = readFileSync(join(ROOT, "index.d.ts"), "utf8");
  const inTar = readFileSync(join(project, "node_modules/@openfio/fiojs/dist/index.d.ts"), "utf8");
  assert.equal(inTar, src, "dist/index.d.ts is the current index.d.ts");
});

test("Node import of the installed package: default class, named exports, FACEIO API shape", async () => {
  // Resolve from the consumer project, exactly as its own `import "@openfio/fiojs"` would.
  const probe = join(project, "probe.mjs");
  writeFileSync(probe, `
    import faceIO, * as ns from "@openfio/fiojs";
    const out = { namedKeys: Object.keys(ns).sort(), defaultType: typeof faceIO, sameClass: ns.faceIO === faceIO };
    const f = new faceIO("app-public-id", { edgeUrl: "https://edge.example.com/" });
    const names = ["enroll","enrol","register","record","authenticate","auth","recognize","identify","restartSession","fetchAllErrorCodes"];
    out.methods = Object.fromEntries(names.map((n) => [n, typeof f[n]]));
    out.codes = f.fetchAllErrorCodes();
    out.codesAreCopies = f.fetchAllErrorCodes() !== f.fetchAllErrorCodes();
    out.fioErrCode = ns.fioErrCode;
    out.ERROR_CODES = ns.ERROR_CODES;
    out.frozen = Object.isFrozen(ns.ERROR_CODES);
    out.sameAsCore = ns.sameAsCore({ ...ns.ERROR_CODES });
    out.VERSION = ns.VERSION;
    out.edgeUrl = f.edgeUrl;
    // No DOM in Node: the widget cannot be injected → UI_NOT_READY, as fio.js documents.
    out.enroll = await f.enroll({ payload: { a: 1 } }).then(() => "resolved", (e) => e);
    out.authenticate = await f.auth().then(() => "resolved", (e) => e);
    out.badParams = await f.enroll({ locale: 5 }).then(() => "resolved", (e) => e);
    out.restart = f.restartSession({});
    out.resolved = {
      classic: import.meta.resolve("@openfio/fiojs/fio.js"),
      worker: import.meta.resolve("@openfio/fiojs/engine-worker.js"),
      wasm: import.meta.resolve("@openfio/fiojs/wasm/fio_wasm_bg.wasm"),
    };
    console.log(JSON.stringify(out));
  `);
  const out = JSON.parse(run(process.execPath, [probe], { cwd: project }).trim());
  assert.equal(out.defaultType, "function", "default export is the faceIO class");
  assert.equal(out.sameClass, true, "named faceIO is the default export");
  assert.deepEqual(out.namedKeys, ["ERROR_CODES", "VERSION", "default", "faceIO", "fioErrCode", "sameAsCore"]);
  for (const [n, ty] of Object.entries(out.methods)) assert.equal(ty, "function", `faceio.${n}()`);
  assert.deepEqual(out.codes, { ...FIO }, "fetchAllErrorCodes() is FACEIO's table");
  assert.equal(out.codesAreCopies, true, "fetchAllErrorCodes() hands out copies");
  assert.deepEqual(out.fioErrCode, { ...FIO });
  assert.deepEqual(out.ERROR_CODES, { ...FIO });
  assert.equal(out.frozen, true);
  assert.equal(out.sameAsCore, true);
  assert.equal(out.VERSION, PKG.version, "VERSION matches package.json");
  assert.equal(out.edgeUrl, "https://edge.example.com", "edgeUrl without trailing slash");
  assert.equal(out.enroll, FIO.UI_NOT_READY, "enroll() without a DOM → UI_NOT_READY (a bare number)");
  assert.equal(out.authenticate, FIO.UI_NOT_READY, "auth() without a DOM → UI_NOT_READY");
  assert.equal(out.badParams, FIO.PROCESSING_ERR, "invalid parameters → PROCESSING_ERR");
  assert.equal(out.restart, false, "restartSession() without a DOM → false");
  const base = pathToFileURL(join(project, "node_modules/@openfio/fiojs/")).href;
  assert.deepEqual(out.resolved, {
    classic: `${base}dist/fio.js`,
    worker: `${base}dist/engine-worker.js`,
    wasm: `${base}dist/wasm/fio_wasm_bg.wasm`,
  });
});

test("require() of the installed package (CommonJS) gives the same API, without a DOM", () => {
  const probe = join(project, "probe.cjs");
  writeFileSync(probe, `
    const fio = require("@openfio/fiojs");
    const f = new fio.faceIO("app-public-id", { edgeUrl: "https://edge.example.com" });
    console.log(JSON.stringify({
      defaultIsClass: fio.default === fio.faceIO && typeof fio.default === "function",
      codes: f.fetchAllErrorCodes(),
      edgeUrl: f.edgeUrl,
      resolved: require.resolve("@openfio/fiojs"),
    }));
  `);
  const out = JSON.parse(run(process.execPath, [probe], { cwd: project }).trim());
  assert.equal(out.defaultIsClass, true);
  assert.deepEqual(out.codes, { ...FIO });
  assert.equal(out.edgeUrl, "https://edge.example.com");
  assert.ok(out.resolved.endsWith("dist/fio.cjs"), out.resolved);
});

test("bundled or server-side without edgeUrl: import works, ceremonies fail loudly naming edgeUrl", () => {
  // Node is what a bundler's file:// import.meta.url and SSR look like: no http(s) script URL.
  const probe = join(project, "probe-noedge.mjs");
  writeFileSync(probe, `
    import faceIO from "@openfio/fiojs";
    const logged = [];
    console.error = (...a) => logged.push(a.join(" "));
    const f = new faceIO("app-public-id");
    const r = await f.enroll().then(() => "resolved", (e) => e);
    const bad = new faceIO("app-public-id", { edgeUrl: "ftp://edge.example.com" });
    const r2 = await bad.authenticate().then(() => "resolved", (e) => e);
    process.stdout.write(JSON.stringify({ r, r2, edgeUrl: f.edgeUrl, logged }));
  `);
  const out = JSON.parse(run(process.execPath, [probe], { cwd: project }));
  assert.equal(out.r, FIO.PROCESSING_ERR, "no edge address → PROCESSING_ERR, not requests to 'null'");
  assert.equal(out.r2, FIO.PROCESSING_ERR);
  assert.notEqual(out.edgeUrl, "null");
  assert.ok(out.logged.some((l) => /edgeUrl/.test(l) && /assetsUrl/.test(l)), `the console names the options: ${out.logged.join(" | ")}`);
  assert.ok(out.logged.some((l) => /edgeUrl must be an http\(s\) URL/.test(l)), out.logged.join(" | "));
});

test("the classic script defines FACEIO's globals faceIO and fioErrCode", async () => {
  const { runInNewContext } = await import("node:vm");
  const src = readFileSync(join(project, "node_modules/@openfio/fiojs/dist/fio.js"), "utf8");
  assert.ok(!/^\s*(import|export)\b/m.test(src), "no ES module syntax: a classic <script> must parse it");
  const g = { console, URL, TextEncoder, setTimeout, clearTimeout, Promise };
  g.globalThis = g;
  runInNewContext(src, g);
  assert.equal(typeof g.faceIO, "function", "global faceIO");
  assert.deepEqual({ ...g.fioErrCode }, { ...FIO }, "global fioErrCode is FACEIO's table");
  assert.equal(g.faceIO.fioErrCode, g.fioErrCode);
  const f = new g.faceIO("app-public-id", { edgeUrl: "https://edge.example.com" });
  assert.equal(f.fetchAllErrorCodes().PERMISSION_REFUSED, 1);
});

test("the package README is the integrator's: quick start first, every FACEIO code in its table", async () => {
  const readme = readFileSync(join(project, "node_modules/@openfio/fiojs/README.md"), "utf8");
  assert.match(readme.split("\n")[0], /^# @openfio\/fiojs/);
  assert.ok(readme.indexOf("## Quick start") < readme.indexOf("## Error codes"), "quick start before the table");
  assert.ok(!readme.includes("scripts/test.sh"), "not the contributors' README");
  const { ERROR_CODES } = await import(pathToFileURL(join(ROOT, "js/errors.js")).href);
  const rows = [...readme.matchAll(/^\| (\d+) \| ([A-Z_]+) \| (.+?) \| (.+?) \|$/gm)];
  assert.deepEqual(
    Object.fromEntries(rows.map((r) => [r[2], Number(r[1])])),
    { ...ERROR_CODES },
    "the table lists exactly FACEIO's codes, numbered as js/errors.js",
  );
  for (const r of rows) assert.ok(r[3].length > 10 && r[4].length > 5, `row ${r[2]} says when and what to do`);
});

test("tsc --noEmit --strict: types-check.ts against the installed package", () => {
  copyFileSync(join(ROOT, "tests/package/types-check.ts"), join(project, "types-check.ts"));
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, target: "es2022", module: "nodenext", moduleResolution: "nodenext",
      lib: ["es2022", "dom"], types: [], skipLibCheck: false,
    },
    files: ["types-check.ts"],
  }));
  const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
  assert.ok(existsSync(tsc), "typescript is installed (npm ci: it is a devDependency)");
  const r = spawnSync(process.execPath, [tsc, "-p", project, "--noEmit", "--strict"], { encoding: "utf8" });
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
});
