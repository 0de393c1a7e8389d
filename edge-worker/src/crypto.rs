//! Keys, hashes, MACs and template encryption (pure Rust: `aes-gcm`, `hkdf`, `hmac`, `sha2`).
//!
//! Randomness comes from `getrandom` (the `wasm_js` backend on Workers: `crypto.getRandomValues`).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::{EdgeError, EdgeResult};

/// AES-GCM nonce length.
const NONCE_LEN: usize = 12;

/// Fills a fixed-size array from the platform CSPRNG.
pub fn random_array<const N: usize>() -> EdgeResult<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| EdgeError::Internal(format!("getrandom: {e}")))?;
    Ok(buf)
}

pub use fio_core::bytes::{constant_time_eq, hex};

/// Parses lowercase or uppercase hex; `None` on odd length or a non-hex digit.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() & 1 == 1 {
        return None;
    }
    let digit = |b: u8| char::from(b).to_digit(16);
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| Some((digit(p[0])? * 16 + digit(p[1])?) as u8))
        .collect()
}

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// HMAC-SHA256.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// Compares two secrets by their SHA-256, so neither length nor content leaks through timing.
pub fn secrets_match(given: &str, expected: &str) -> bool {
    !expected.is_empty()
        && constant_time_eq(&sha256(given.as_bytes()), &sha256(expected.as_bytes()))
}

/// HKDF-SHA256 expansion of a Worker secret into a 32-byte key for one purpose.
pub fn derive_key(secret: &[u8], purpose: &str, context: &str) -> [u8; 32] {
    let hk = Hkdf::<Sha256>::new(Some(b"openfio/v1"), secret);
    let mut okm = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit.
    let _ = hk.expand_multi_info(&[purpose.as_bytes(), &[0], context.as_bytes()], &mut okm);
    okm
}

/// The per-application template key: HKDF(`TEMPLATE_KEY`, "template", publicId).
pub fn template_key(master: &[u8], public_id: &str) -> [u8; 32] {
    derive_key(master, "template", public_id)
}

/// AES-256-GCM encrypts `plaintext` bound to `aad`; returns base64(nonce ‖ ciphertext ‖ tag).
pub fn seal(key: &[u8; 32], aad: &str, plaintext: &[u8]) -> EdgeResult<String> {
    let cipher = Aes256Gcm::new(key.into());
    let nonce: [u8; NONCE_LEN] = random_array()?;
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| EdgeError::Internal("encryption failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    Ok(B64.encode(out))
}

/// Reverses [`seal`]; fails on a wrong key, wrong `aad` or tampered data.
pub fn open(key: &[u8; 32], aad: &str, sealed: &str) -> EdgeResult<Vec<u8>> {
    let bad = || EdgeError::Internal("stored template does not decrypt".into());
    let raw = B64.decode(sealed).map_err(|_| bad())?;
    if raw.len() < NONCE_LEN {
        return Err(bad());
    }
    let (nonce, ct) = raw.split_at(NONCE_LEN);
    Aes256Gcm::new(key.into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ct,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| bad())
}

/// The PIN as handed to PBKDF2: HMAC-SHA256(pepper, pin) in hex when a pepper is configured,
/// so a stolen record store alone does not allow offline PIN guessing.
pub fn peppered_pin(pepper: &[u8], pin: &str) -> String {
    if pepper.is_empty() {
        pin.to_owned()
    } else {
        hex(&hmac_sha256(pepper, &[pin.as_bytes()]))
    }
}

/// Where a challenge id came from, judged from its embedded tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeOrigin {
    /// Not issued by this deployment (or mangled): treat as unknown.
    Foreign,
    /// Issued by this deployment for another application.
    OtherApp,
    /// Issued for this application.
    ThisApp,
}

/// Random bytes for `fio_core::new_challenge` whose id half carries two 16-bit tags:
/// bytes 0..12 random, 12..14 = MAC(key, r) ("issued here"), 14..16 = MAC(key, app, r)
/// ("for this app"). An app's Durable Object only knows its own challenges; the tags let it
/// answer a challenge of another app with `UNAUTHORIZED` (as the contract says) rather than
/// "unknown". 96 random bits remain, and a challenge is only usable while live in the ledger.
pub fn challenge_random(tag_key: &[u8; 32], public_id: &str) -> EdgeResult<[u8; 32]> {
    let mut r: [u8; 32] = random_array()?;
    let (srv, app) = challenge_tags(tag_key, public_id, &r[..12]);
    r[12..14].copy_from_slice(&srv);
    r[14..16].copy_from_slice(&app);
    Ok(r)
}

fn challenge_tags(tag_key: &[u8; 32], public_id: &str, r: &[u8]) -> ([u8; 2], [u8; 2]) {
    let srv = hmac_sha256(tag_key, &[b"srv", &[0], r]);
    let app = hmac_sha256(tag_key, &[b"app", &[0], public_id.as_bytes(), &[0], r]);
    ([srv[0], srv[1]], [app[0], app[1]])
}

/// Classifies a (well-formed, 32-hex) challenge id by its tags.
pub fn challenge_origin(tag_key: &[u8; 32], public_id: &str, id: &str) -> ChallengeOrigin {
    let Some(bytes) = unhex(id).filter(|b| b.len() == 16) else {
        return ChallengeOrigin::Foreign;
    };
    let (srv, app) = challenge_tags(tag_key, public_id, &bytes[..12]);
    if !constant_time_eq(&srv, &bytes[12..14]) {
        ChallengeOrigin::Foreign
    } else if constant_time_eq(&app, &bytes[14..16]) {
        ChallengeOrigin::ThisApp
    } else {
        ChallengeOrigin::OtherApp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex(&[0, 255, 16]), "00ff10");
        assert_eq!(unhex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
    }

    #[test]
    fn seal_and_open() {
        let k = template_key(b"master", "app1");
        assert_ne!(k, template_key(b"master", "app2"));
        assert_ne!(k, template_key(b"other", "app1"));
        let sealed = seal(&k, "fid", b"template bytes").unwrap();
        assert_eq!(open(&k, "fid", &sealed).unwrap(), b"template bytes");
        assert!(open(&k, "other fid", &sealed).is_err());
        assert!(open(&template_key(b"master", "app2"), "fid", &sealed).is_err());
        assert!(open(&k, "fid", "!!!").is_err());
        assert!(open(&k, "fid", "AAAA").is_err());
        // Fresh nonce each time.
        assert_ne!(
            seal(&k, "fid", b"x").unwrap(),
            seal(&k, "fid", b"x").unwrap()
        );
    }

    #[test]
    fn secrets_compare() {
        assert!(secrets_match("tok", "tok"));
        assert!(!secrets_match("tok", "tok2"));
        assert!(!secrets_match("", ""));
        assert!(constant_time_eq(b"a", b"a"));
        assert!(!constant_time_eq(b"a", b"ab"));
    }

    #[test]
    fn pepper() {
        assert_eq!(peppered_pin(b"", "2749"), "2749");
        let p = peppered_pin(b"pep", "2749");
        assert_eq!(p.len(), 64);
        assert_ne!(p, peppered_pin(b"pep2", "2749"));
    }

    #[test]
    fn challenge_tags_identify_the_app() {
        let key = derive_key(b"m", "challenge", "");
        assert!(challenge_random(&key, "appA").is_ok());
        // Fixed bytes, tagged as challenge_random tags them: with random ones, appB's 16-bit tag
        // would equal appA's once in 65,536 runs and fail the test for no fault.
        let mut r = [7u8; 32];
        let (srv, app) = challenge_tags(&key, "appA", &r[..12]);
        r[12..14].copy_from_slice(&srv);
        r[14..16].copy_from_slice(&app);
        let c = fio_core::new_challenge(&r, "appA", fio_core::Ceremony::Enroll, 0, 10, 0);
        assert_eq!(
            challenge_origin(&key, "appA", &c.id),
            ChallengeOrigin::ThisApp
        );
        assert_eq!(
            challenge_origin(&key, "appB", &c.id),
            ChallengeOrigin::OtherApp
        );
        let other_key = derive_key(b"n", "challenge", "");
        // A different deployment's key: foreign with probability 1 - 2^-16.
        assert_ne!(
            challenge_origin(&other_key, "appA", &c.id),
            ChallengeOrigin::ThisApp
        );
        assert_eq!(
            challenge_origin(&key, "appA", "00000000000000000000000000000000"),
            ChallengeOrigin::Foreign
        );
        assert_eq!(
            challenge_origin(&key, "appA", "xyz"),
            ChallengeOrigin::Foreign
        );
    }
}
