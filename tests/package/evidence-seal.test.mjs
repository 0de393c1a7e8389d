// js/evidence-seal.js (edge re-verification of liveness): the widget seals the evidence crop bundle to
// the ceremony's edge key. Opened here with WebCrypto as the edge does (ECDH P-256 x-coordinate →
// HKDF-SHA256(salt = challengeId, info = "openfio evidence v1") → AES-256-GCM, aad = challengeId).
//
//   node --test tests/package/evidence.test.mjs
import assert from "node:assert/strict";
import { test } from "node:test";
import { EVIDENCE_INFO, fromBase64, sealEvidence, toBase64 } from "../../js/evidence-seal.js";

const { subtle } = globalThis.crypto;
const enc = new TextEncoder();
const CHALLENGE = "ch_3f9a0c2e-6b1d-4c57-9e44-0a7d1b2c3d4e";

/** The edge's side: a P-256 key pair and its public key as the session answer carries it. */
async function recipient() {
  const pair = await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  const raw = new Uint8Array(await subtle.exportKey("raw", pair.publicKey));
  return { pair, evidenceKey: toBase64(raw) };
}

/** Opens a sealed envelope with the recipient's private key; throws when it does not open. */
async function open(pair, challengeId, sealed) {
  const epk = await subtle.importKey("raw", fromBase64(sealed.epk), { name: "ECDH", namedCurve: "P-256" }, false, []);
  const shared = await subtle.deriveBits({ name: "ECDH", public: epk }, pair.privateKey, 256);
  const ikm = await subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  const key = await subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: enc.encode(challengeId), info: enc.encode("openfio evidence v1") },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["decrypt"],
  );
  const plain = await subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(sealed.iv), additionalData: enc.encode(challengeId), tagLength: 128 },
    key,
    fromBase64(sealed.data),
  );
  return new Uint8Array(plain);
}

/** A bundle as fio-wasm makes it: "FIE1", side 160 (u16 LE), count, then count 160×160 RGB crops. */
function bundle(count) {
  const n = 160 * 160 * 3;
  const b = new Uint8Array(7 + count * n);
  b.set(enc.encode("FIE1"), 0);
  b[4] = 160;
  b[5] = 0;
  b[6] = count;
  for (let i = 7; i < b.length; i++) b[i] = (i * 31 + (i >> 9)) & 0xff;
  return b;
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

test("round trip: the edge's key opens the sealed bundle byte for byte", async () => {
  const { pair, evidenceKey } = await recipient();
  const b = bundle(3);
  const sealed = await sealEvidence(evidenceKey, CHALLENGE, b);
  assert.deepEqual(Object.keys(sealed).sort(), ["data", "epk", "iv"]);
  for (const k of ["epk", "iv", "data"]) assert.match(sealed[k], B64, `${k} is standard base64 with padding`);
  const epk = fromBase64(sealed.epk);
  assert.equal(epk.length, 65, "uncompressed P-256 point");
  assert.equal(epk[0], 0x04);
  assert.equal(fromBase64(sealed.iv).length, 12);
  assert.equal(fromBase64(sealed.data).length, b.length + 16, "ciphertext + 128-bit tag");
  assert.deepEqual(await open(pair, CHALLENGE, sealed), b);
  // An ArrayBuffer works too (what the engine worker transfers).
  assert.deepEqual(await open(pair, CHALLENGE, await sealEvidence(evidenceKey, CHALLENGE, b.buffer)), b);
  // 6 crops (rest + 5 actions) stay well under the edge's 1 MiB evidence request limit.
  const big = await sealEvidence(evidenceKey, CHALLENGE, bundle(6));
  assert.ok(big.data.length < 700_000, `6 crops: ${big.data.length} base64 chars`);
});

test("bound to its challenge: another challengeId, another key or a flipped bit does not open", async () => {
  const { pair, evidenceKey } = await recipient();
  const b = bundle(2);
  const sealed = await sealEvidence(evidenceKey, CHALLENGE, b);
  await assert.rejects(open(pair, "ch_another-challenge", sealed), { name: "OperationError" });
  const other = await recipient();
  await assert.rejects(open(other.pair, CHALLENGE, sealed), { name: "OperationError" });
  const data = fromBase64(sealed.data);
  data[100] ^= 1;
  await assert.rejects(open(pair, CHALLENGE, { ...sealed, data: toBase64(data) }), { name: "OperationError" });
});

test("fresh ephemeral key and iv per seal", async () => {
  const { evidenceKey } = await recipient();
  const b = bundle(1);
  const [x, y] = [await sealEvidence(evidenceKey, CHALLENGE, b), await sealEvidence(evidenceKey, CHALLENGE, b)];
  assert.notEqual(x.epk, y.epk);
  assert.notEqual(x.iv, y.iv);
  assert.notEqual(x.data, y.data);
  assert.equal(EVIDENCE_INFO, "openfio evidence v1");
});

test("a malformed evidenceKey or a missing challengeId is refused", async () => {
  const { evidenceKey } = await recipient();
  const b = bundle(1);
  await assert.rejects(sealEvidence("not base64!", CHALLENGE, b), /base64/);
  await assert.rejects(sealEvidence(toBase64(new Uint8Array(33).fill(2)), CHALLENGE, b), /P-256/);
  const offCurve = fromBase64(evidenceKey);
  offCurve[64] ^= 1;
  await assert.rejects(sealEvidence(toBase64(offCurve), CHALLENGE, b));
  await assert.rejects(sealEvidence(evidenceKey, "", b), /challengeId/);
});

test("base64 helpers match Node's Buffer on large inputs", () => {
  const bytes = bundle(2);
  assert.equal(toBase64(bytes), Buffer.from(bytes).toString("base64"));
  assert.deepEqual(fromBase64(Buffer.from(bytes).toString("base64")), bytes);
});
