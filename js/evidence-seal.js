// Edge re-verification of liveness (app security option `reverifyLiveness`): the widget seals
// the ceremony's evidence crops (fio-core's CropBundle bytes: a few 160×160 RGB face crops, never
// a camera frame) to the edge's per-ceremony key from the session answer (`evidenceKey`), so only
// that edge can read them and only for that challenge.
//
// Envelope (fio_core::liveness::SealedEvidence; the edge opens it): ephemeral ECDH P-256 with the
// edge key; shared secret = the 256-bit x-coordinate; AES key = HKDF-SHA256(ikm = shared,
// salt = UTF-8 challengeId, info = "openfio evidence v1", 32 bytes); AES-256-GCM with a random
// 12-byte iv, additionalData = UTF-8 challengeId, 128-bit tag appended.
// → {epk: base64(65-byte uncompressed public key), iv: base64(12 bytes), data: base64(ct‖tag)}.
// Plain WebCrypto: works in a window, a worker and Node ≥ 20.

export const EVIDENCE_INFO = "openfio evidence v1";
const P256_RAW_BYTES = 65;
const IV_BYTES = 12;

/** Standard base64 (with padding) of bytes. */
export function toBase64(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let bin = "";
  const CHUNK = 0x8000;
  for (let i = 0; i < u8.length; i += CHUNK) bin += String.fromCharCode.apply(null, u8.subarray(i, i + CHUNK));
  return btoa(bin);
}

/** Bytes of standard base64; throws on anything else. */
export function fromBase64(s) {
  const bin = atob(String(s));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) throw new Error("WebCrypto is unavailable (insecure context?)");
  return s;
}

/**
 * The AES-256-GCM key of one ceremony from an ECDH shared secret (raw x-coordinate bytes).
 * `usages`: ["encrypt"] to seal, ["decrypt"] to open (tests, the edge's side in JS).
 */
export async function evidenceAesKey(shared, challengeId, usages) {
  const enc = new TextEncoder();
  const s = subtle();
  const ikm = await s.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  return s.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: enc.encode(challengeId), info: enc.encode(EVIDENCE_INFO) },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    usages,
  );
}

/**
 * Seals `bundleBytes` (Uint8Array | ArrayBuffer) to the edge key `evidenceKeyB64` (base64 of a
 * 65-byte uncompressed P-256 point) for `challengeId`. → {epk, iv, data}, all base64.
 */
export async function sealEvidence(evidenceKeyB64, challengeId, bundleBytes) {
  if (typeof challengeId !== "string" || !challengeId) throw new Error("sealEvidence: challengeId required");
  let raw;
  try {
    raw = fromBase64(evidenceKeyB64);
  } catch {
    throw new Error("evidenceKey is not base64");
  }
  if (raw.length !== P256_RAW_BYTES || raw[0] !== 0x04) throw new Error("evidenceKey is not an uncompressed P-256 public key");
  const s = subtle();
  const edgeKey = await s.importKey("raw", raw, { name: "ECDH", namedCurve: "P-256" }, false, []);
  const eph = await s.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
  const shared = await s.deriveBits({ name: "ECDH", public: edgeKey }, eph.privateKey, 256);
  const key = await evidenceAesKey(shared, challengeId, ["encrypt"]);
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const data = await s.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(challengeId), tagLength: 128 },
    key,
    bundleBytes,
  );
  const epk = await s.exportKey("raw", eph.publicKey);
  return { epk: toBase64(epk), iv: toBase64(iv), data: toBase64(data) };
}
