//! Evidence sealed to one ceremony: ECDH P-256 + HKDF-SHA256 + AES-256-GCM, the primitives
//! WebCrypto offers the widget. The ceremony's private key is derived from `TEMPLATE_KEY` and
//! the challenge ID, so the front worker can open evidence without asking the Durable Object,
//! and a key opens one ceremony's evidence only.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use fio_core::liveness::SealedEvidence;
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

use crate::crypto::derive_key;

/// HKDF `info` of the evidence key (the widget uses the same bytes).
pub const EVIDENCE_INFO: &[u8] = b"openfio evidence v1";
/// Length of an uncompressed SEC1 P-256 point.
const POINT_LEN: usize = 65;
/// AES-GCM nonce length.
const IV_LEN: usize = 12;

/// Why sealed evidence could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// Not well-formed (bad base64, lengths, not a curve point): a broken client, HTTP 400.
    Malformed(String),
    /// Well-formed but not sealed to this ceremony, or altered: `PAD_ATTACK`.
    Rejected,
}

/// The ceremony's private key: HKDF(`TEMPLATE_KEY`, "evidence", challenge ID [, counter]).
pub fn ceremony_secret(master: &[u8], challenge_id: &str) -> SecretKey {
    // A 32-byte string is a valid scalar unless it is zero or ≥ the group order
    // (probability < 2^-32); the counter makes the derivation total.
    let mut i = 0u32;
    loop {
        let context = if i == 0 {
            challenge_id.to_owned()
        } else {
            format!("{challenge_id}/{i}")
        };
        if let Ok(k) = SecretKey::from_slice(&derive_key(master, "evidence", &context)) {
            return k;
        }
        i += 1;
    }
}

/// The ceremony's public key as the session answer carries it (base64, uncompressed SEC1).
pub fn ceremony_public_key(master: &[u8], challenge_id: &str) -> String {
    let pk = ceremony_secret(master, challenge_id).public_key();
    B64.encode(pk.to_encoded_point(false).as_bytes())
}

/// The AES key both sides derive from the ECDH shared secret, bound to the challenge.
fn aes_key(secret: &SecretKey, peer: &PublicKey, challenge_id: &str) -> [u8; 32] {
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), peer.as_affine());
    let hk = Hkdf::<Sha256>::new(Some(challenge_id.as_bytes()), shared.raw_secret_bytes());
    let mut key = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's output limit.
    let _ = hk.expand(EVIDENCE_INFO, &mut key);
    key
}

fn decode(field: &str, value: &str) -> Result<Vec<u8>, OpenError> {
    B64.decode(value.trim())
        .map_err(|_| OpenError::Malformed(format!("liveness.evidence.{field} is not base64")))
}

/// Opens evidence sealed to `challenge_id`'s key; returns the crop bundle bytes.
pub fn open_evidence(
    master: &[u8],
    challenge_id: &str,
    sealed: &SealedEvidence,
) -> Result<Vec<u8>, OpenError> {
    let epk = decode("epk", &sealed.epk)?;
    let iv = decode("iv", &sealed.iv)?;
    let data = decode("data", &sealed.data)?;
    if epk.len() != POINT_LEN {
        return Err(OpenError::Malformed(
            "liveness.evidence.epk must be a 65-byte uncompressed P-256 point".into(),
        ));
    }
    if iv.len() != IV_LEN {
        return Err(OpenError::Malformed(
            "liveness.evidence.iv must be 12 bytes".into(),
        ));
    }
    let peer = PublicKey::from_sec1_bytes(&epk)
        .map_err(|_| OpenError::Malformed("liveness.evidence.epk is not a P-256 point".into()))?;
    let key = aes_key(&ceremony_secret(master, challenge_id), &peer, challenge_id);
    Aes256Gcm::new(&key.into())
        .decrypt(
            Nonce::from_slice(&iv),
            Payload {
                msg: &data,
                aad: challenge_id.as_bytes(),
            },
        )
        .map_err(|_| OpenError::Rejected)
}

/// Seals `bundle` to a ceremony key as the widget does (tests and tools; `ephemeral` and `iv`
/// must be fresh random values in real use).
pub fn seal_evidence(
    ceremony_key_b64: &str,
    challenge_id: &str,
    bundle: &[u8],
    ephemeral: &SecretKey,
    iv: [u8; IV_LEN],
) -> Option<SealedEvidence> {
    let peer = PublicKey::from_sec1_bytes(&B64.decode(ceremony_key_b64).ok()?).ok()?;
    let key = aes_key(ephemeral, &peer, challenge_id);
    let data = Aes256Gcm::new(&key.into())
        .encrypt(
            Nonce::from_slice(&iv),
            Payload {
                msg: bundle,
                aad: challenge_id.as_bytes(),
            },
        )
        .ok()?;
    Some(SealedEvidence {
        epk: B64.encode(ephemeral.public_key().to_encoded_point(false).as_bytes()),
        iv: B64.encode(iv),
        data: B64.encode(data),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &[u8] = b"test master key";
    const CH: &str = "0123456789abcdef0123456789abcdef";

    fn ephemeral() -> SecretKey {
        SecretKey::from_slice(&[7u8; 32]).unwrap()
    }

    #[test]
    fn round_trip_and_binding() {
        let pk = ceremony_public_key(MASTER, CH);
        assert_eq!(B64.decode(&pk).unwrap().len(), POINT_LEN);
        assert_eq!(pk, ceremony_public_key(MASTER, CH), "deterministic");
        let other = "ffffffffffffffffffffffffffffffff";
        assert_ne!(pk, ceremony_public_key(MASTER, other));
        let sealed = seal_evidence(&pk, CH, b"crops", &ephemeral(), [1; 12]).unwrap();
        assert_eq!(open_evidence(MASTER, CH, &sealed).unwrap(), b"crops");
        // another ceremony's key, another master, altered ciphertext: rejected
        assert_eq!(
            open_evidence(MASTER, other, &sealed),
            Err(OpenError::Rejected)
        );
        assert_eq!(
            open_evidence(b"other master", CH, &sealed),
            Err(OpenError::Rejected)
        );
        let mut flipped = sealed.clone();
        let mut d = B64.decode(&flipped.data).unwrap();
        d[0] ^= 1;
        flipped.data = B64.encode(d);
        assert_eq!(
            open_evidence(MASTER, CH, &flipped),
            Err(OpenError::Rejected)
        );
        // sealed for one challenge, quoted with another that has the same key is impossible,
        // but the AAD also binds it: same key, other AAD fails
        let wrong_aad = seal_evidence(&pk, other, b"crops", &ephemeral(), [1; 12]).unwrap();
        assert_eq!(
            open_evidence(MASTER, CH, &wrong_aad),
            Err(OpenError::Rejected)
        );
    }

    #[test]
    fn malformed_fields() {
        let pk = ceremony_public_key(MASTER, CH);
        let good = seal_evidence(&pk, CH, b"x", &ephemeral(), [1; 12]).unwrap();
        let cases = [
            SealedEvidence {
                epk: "%%".into(),
                ..good.clone()
            },
            SealedEvidence {
                iv: B64.encode([0u8; 8]),
                ..good.clone()
            },
            SealedEvidence {
                epk: B64.encode([4u8; 65]),
                ..good.clone()
            },
            SealedEvidence {
                epk: B64.encode([4u8; 33]),
                ..good.clone()
            },
        ];
        for c in cases {
            assert!(
                matches!(open_evidence(MASTER, CH, &c), Err(OpenError::Malformed(_))),
                "{c:?}"
            );
        }
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// The vector shared with js/evidence-seal.js (tests/vectors/evidence-seal.json; the JS side is
    /// tests/package/golden.test.mjs): same key derivation, KDF, AAD and envelope on both sides.
    #[test]
    fn golden_vector_shared_with_js() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/vectors/evidence-seal.json");
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let master = unhex(v["master_hex"].as_str().unwrap());
        let ch = v["challenge_id"].as_str().unwrap().to_owned();
        let bundle = unhex(v["bundle_hex"].as_str().unwrap());
        let eph = SecretKey::from_slice(&unhex(v["ephemeral_hex"].as_str().unwrap())).unwrap();
        let iv: [u8; IV_LEN] = unhex(v["iv_hex"].as_str().unwrap()).try_into().unwrap();
        let key = ceremony_public_key(&master, &ch);
        let secret = hex(&ceremony_secret(&master, &ch).to_bytes());
        let sealed = seal_evidence(&key, &ch, &bundle, &eph, iv).unwrap();
        let computed = serde_json::json!({
            "ceremony_key": key,
            "ceremony_secret_hex": secret,
            "rust_sealed": serde_json::to_value(&sealed).unwrap(),
        });
        if std::env::var_os("UPDATE_VECTORS").is_some() {
            for (k, x) in computed.as_object().unwrap() {
                v[k] = x.clone();
            }
            let text = serde_json::to_string_pretty(&v).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
            return;
        }
        for (k, x) in computed.as_object().unwrap() {
            assert_eq!(&v[k], x, "{k} (UPDATE_VECTORS=1 rewrites it)");
        }
        let js: SealedEvidence = serde_json::from_value(v["js_sealed"].clone())
            .expect("js_sealed present (run the JS side with UPDATE_VECTORS=1)");
        assert_eq!(open_evidence(&master, &ch, &js).unwrap(), bundle);
        assert_eq!(
            open_evidence(&master, "ffffffffffffffffffffffffffffffff", &js),
            Err(OpenError::Rejected)
        );
    }
}
