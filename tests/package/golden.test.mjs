// Golden vectors shared with Rust (tests/vectors/*.json, checked on the Rust side by
// fio-core/tests/codec_vectors.rs and edge-worker's sealing tests): the shipped JS and the
// suites' JS codecs must produce the same bytes and tables as the Rust that ships.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ERROR_CODES } from "../../js/errors.js";
import { evidenceAesKey, fromBase64, sealEvidence } from "../../js/evidence-seal.js";
import { cropBundle } from "../edge/client.mjs";
import { encodeTemplate, quantise } from "../edge/templates.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const vector = (name) => JSON.parse(readFileSync(join(ROOT, "tests/vectors", name), "utf8"));

test("error codes: js/errors.js and index.d.ts are FACEIO's table", () => {
  const { codes } = vector("faceio-error-codes.json");
  assert.deepEqual({ ...ERROR_CODES }, codes);
  // index.d.ts must spell the table out as literal types; this is its equality test.
  const dts = readFileSync(join(ROOT, "index.d.ts"), "utf8");
  const block = dts.match(/export interface FioErrorCodes \{([^}]*)\}/);
  assert.ok(block, "index.d.ts declares FioErrorCodes");
  const typed = Object.fromEntries([...block[1].matchAll(/^\s*([A-Z_]+):\s*(\d+);/gm)].map((m) => [m[1], Number(m[2])]));
  assert.deepEqual(typed, codes);
});

test("template codec: the suites' encoder gives fio_core's bytes", () => {
  const { embedding, template } = vector("template.json");
  assert.equal(encodeTemplate(quantise(embedding)), template);
});

test("crop bundle: the suites' encoder gives fio_core's bytes", () => {
  const { side, count, header_hex: headerHex, sha256 } = vector("crop-bundle.json");
  const crops = Array.from({ length: count }, (_, k) => Uint8Array.from({ length: side * side * 3 }, (_, i) => (7 * i + 13 * k) % 256));
  const bytes = cropBundle(crops, { side });
  assert.equal(bytes.subarray(0, 7).toString("hex"), headerHex);
  assert.equal(createHash("sha256").update(bytes).digest("hex"), sha256);
});

// The edge's ceremony private key as a WebCrypto ECDH key (JWK from the vector's raw values).
async function ceremonyPrivateKey(v) {
  const pub = fromBase64(v.ceremony_key);
  const b64url = (b) => Buffer.from(b).toString("base64url");
  const jwk = { kty: "EC", crv: "P-256", x: b64url(pub.subarray(1, 33)), y: b64url(pub.subarray(33, 65)), d: b64url(Buffer.from(v.ceremony_secret_hex, "hex")) };
  return crypto.subtle.importKey("jwk", jwk, { name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
}

/** Opens `{epk, iv, data}` as the edge does, with the shipped JS key derivation. */
async function openSealed(v, sealed, challengeId = v.challenge_id) {
  const { subtle } = crypto;
  const epk = await subtle.importKey("raw", fromBase64(sealed.epk), { name: "ECDH", namedCurve: "P-256" }, false, []);
  const shared = await subtle.deriveBits({ name: "ECDH", public: epk }, await ceremonyPrivateKey(v), 256);
  const key = await evidenceAesKey(shared, challengeId, ["decrypt"]);
  const plain = await subtle.decrypt({ name: "AES-GCM", iv: fromBase64(sealed.iv), additionalData: new TextEncoder().encode(challengeId) }, key, fromBase64(sealed.data));
  return Buffer.from(plain).toString("hex");
}

test("evidence sealing: JS opens what the edge's Rust sealed, and seals what the edge opens", async () => {
  const name = "evidence-seal.json";
  const v = vector(name);
  assert.ok(v.rust_sealed, "rust_sealed present (cargo test -p edge-worker golden with UPDATE_VECTORS=1)");
  assert.equal(await openSealed(v, v.rust_sealed), v.bundle_hex);
  await assert.rejects(openSealed(v, v.rust_sealed, "ffffffffffffffffffffffffffffffff"), "bound to its challenge");
  const fresh = await sealEvidence(v.ceremony_key, v.challenge_id, Buffer.from(v.bundle_hex, "hex"));
  assert.equal(await openSealed(v, fresh), v.bundle_hex);
  if (process.env.UPDATE_VECTORS) {
    writeFileSync(join(ROOT, "tests/vectors", name), `${JSON.stringify({ ...v, js_sealed: fresh }, null, 2)}\n`);
  } else {
    assert.ok(v.js_sealed, "js_sealed present (UPDATE_VECTORS=1 node --test tests/package/golden.test.mjs)");
    assert.equal(await openSealed(v, v.js_sealed), v.bundle_hex);
  }
});
