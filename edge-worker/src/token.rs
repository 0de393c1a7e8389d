//! Signed login tokens: after a successful enroll or authenticate the edge hands the browser a
//! compact JWS (ES256) that the site's backend verifies, offline against the app's JWK Set
//! (`GET /v1/{publicId}/jwks.json`) or with one REST call (`/verifytoken`, single use).
//!
//! Each app's signing keys are derived, not stored: version `v` of app `a` is the P-256 scalar
//! HKDF(`TEMPLATE_KEY`, "token-signing", "a/v"). Rotation only bumps the version in the app
//! record, so no private key ever sits in storage or KV, and a copy of the storage alone cannot
//! mint tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use fio_core::Ceremony;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::crypto::derive_key;

/// Longest token lifetime an app may set, and the default: a token is handed from the browser
/// to the site's backend at once, so minutes would only widen the replay window.
pub const MAX_TOKEN_TTL_SECONDS: u32 = 120;
/// Shortest token lifetime an app may set.
pub const MIN_TOKEN_TTL_SECONDS: u32 = 5;
/// Longest token accepted by `/verifytoken` (a real one is ~700 bytes).
pub const MAX_TOKEN_LEN: usize = 4096;

/// The claims of a login token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The edge's URL (origin of the request that completed the ceremony).
    pub iss: String,
    /// The app's public ID.
    pub aud: String,
    /// The facial ID that enrolled or authenticated.
    pub sub: String,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// The ceremony's first challenge ID (also in the ceremony's webhook event).
    pub jti: String,
    /// `enroll` or `authenticate`.
    pub ceremony: Ceremony,
    /// The nonce the site passed to `enroll()` / `authenticate()`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a compact JWS of this edge's form.
    Malformed,
    /// Unknown key id, or a signature that does not verify.
    BadSignature,
    /// Signed for another app.
    WrongAudience,
    /// Past `exp`.
    Expired,
    /// Already redeemed through `/verifytoken`.
    Redeemed,
}

impl TokenError {
    /// The message the REST caller sees.
    pub fn message(self) -> &'static str {
        match self {
            Self::Malformed => "token is not a compact JWS issued by this edge",
            Self::BadSignature => "token signature does not verify",
            Self::WrongAudience => "token was issued for another application",
            Self::Expired => "token has expired",
            Self::Redeemed => "token has already been redeemed",
        }
    }
}

/// The private scalar of version `version` of app `public_id`'s signing key (big-endian).
pub fn signing_scalar(master: &[u8], public_id: &str, version: u32) -> [u8; 32] {
    // A 32-byte HKDF output is a valid scalar except with probability ~2^-32; derive again
    // with a counter in that case rather than fail. (`SecretKey::from_bytes` only range-checks;
    // `SigningKey` would also compute the public point.)
    let mut attempt = 0u32;
    loop {
        let seed = derive_key(
            master,
            "token-signing",
            &format!("{public_id}/{version}/{attempt}"),
        );
        if p256::SecretKey::from_bytes(&seed.into()).is_ok() {
            return seed;
        }
        attempt += 1;
    }
}

/// The signing key of version `version` of app `public_id`.
pub fn signing_key(master: &[u8], public_id: &str, version: u32) -> SigningKey {
    SigningKey::from_bytes(&signing_scalar(master, public_id, version).into())
        .expect("signing_scalar returns a valid scalar")
}

/// A P-256 private scalar as PKCS#8 DER (RFC 5208/5915, no public key: the importer computes
/// it), the form WebCrypto's `importKey("pkcs8", …)` takes.
pub fn pkcs8_der(scalar: &[u8; 32]) -> Vec<u8> {
    const PREFIX: [u8; 35] = [
        0x30, 0x41, // PrivateKeyInfo, 65 bytes
        0x02, 0x01, 0x00, // version 0
        0x30, 0x13, // AlgorithmIdentifier
        0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, // id-ecPublicKey
        0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, // prime256v1
        0x04, 0x27, // privateKey OCTET STRING, 39 bytes
        0x30, 0x25, // ECPrivateKey, 37 bytes
        0x02, 0x01, 0x01, // version 1
        0x04, 0x20, // privateKey, 32 bytes
    ];
    let mut der = PREFIX.to_vec();
    der.extend_from_slice(scalar);
    der
}

/// Key id of version `version` of app `public_id` (unique within the app's JWK Set).
pub fn key_id(public_id: &str, version: u32) -> String {
    format!("{public_id}.v{version}")
}

/// The version a key id names, when it is one of `public_id`'s.
pub fn key_version(public_id: &str, kid: &str) -> Option<u32> {
    kid.strip_prefix(public_id)?
        .strip_prefix(".v")?
        .parse()
        .ok()
}

/// The JWS signing input (`header.payload`) of `claims` under key id `kid`.
pub fn signing_input(kid: &str, claims: &Claims) -> String {
    let header = json!({"alg": "ES256", "typ": "JWT", "kid": kid});
    format!(
        "{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(serde_json::to_vec(claims).unwrap_or_default())
    )
}

/// A compact JWS from its signing input and ES256 signature (`r ‖ s`, 64 bytes).
pub fn with_signature(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", B64URL.encode(signature))
}

/// Signs a JWS signing input with ES256 in Rust (the edge signs with WebCrypto when it can:
/// `routes::token_signing`).
pub fn sign_input(key: &SigningKey, signing_input: &str) -> String {
    let sig: Signature = key.sign(signing_input.as_bytes());
    with_signature(signing_input, &sig.to_bytes())
}

/// Signs `claims` as a compact JWS (ES256) under key id `kid`.
pub fn sign(key: &SigningKey, kid: &str, claims: &Claims) -> String {
    sign_input(key, &signing_input(kid, claims))
}

/// The public JWK of a signing key (RFC 7517/7518: `kty` EC, `crv` P-256).
pub fn jwk(key: &SigningKey, kid: &str) -> Value {
    let point = key.verifying_key().to_encoded_point(false);
    json!({
        "kty": "EC",
        "crv": "P-256",
        "x": point.x().map(|x| B64URL.encode(x)).unwrap_or_default(),
        "y": point.y().map(|y| B64URL.encode(y)).unwrap_or_default(),
        "alg": "ES256",
        "use": "sig",
        "kid": kid,
    })
}

/// The key id a token names in its header (not yet verified).
pub fn header_kid(token: &str) -> Result<String, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    let header = token.split('.').next().ok_or(TokenError::Malformed)?;
    let header: Value = B64URL
        .decode(header)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(TokenError::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("ES256") {
        return Err(TokenError::Malformed);
    }
    header
        .get("kid")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(TokenError::Malformed)
}

/// Verifies the signature with `key` and returns the claims; audience and expiry are the
/// caller's to check ([`check_claims`]).
pub fn verify(token: &str, key: &VerifyingKey) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let sig = B64URL
        .decode(s)
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or(TokenError::Malformed)?;
    key.verify(format!("{h}.{p}").as_bytes(), &sig)
        .map_err(|_| TokenError::BadSignature)?;
    B64URL
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(TokenError::Malformed)
}

/// Audience and expiry (`now_s`: Unix seconds).
pub fn check_claims(claims: &Claims, public_id: &str, now_s: u64) -> Result<(), TokenError> {
    if claims.aud != public_id {
        return Err(TokenError::WrongAudience);
    }
    if now_s >= claims.exp {
        return Err(TokenError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            iss: "https://edge.example".into(),
            aud: "fioa0001".into(),
            sub: "a5b1c2d3-0000-4000-8000-000000000000".into(),
            iat: 1_000,
            exp: 1_120,
            jti: "0123456789abcdef0123456789abcdef".into(),
            ceremony: Ceremony::Authenticate,
            nonce: Some("site-session-1".into()),
        }
    }

    #[test]
    fn pkcs8_wraps_the_scalar_in_a_well_formed_private_key_info() {
        let scalar = signing_scalar(b"master", "fioa0001", 1);
        let der = pkcs8_der(&scalar);
        // Outer SEQUENCE length covers the rest; the scalar is the last 32 bytes.
        assert_eq!(der.len(), 67);
        assert_eq!((der[0], usize::from(der[1])), (0x30, der.len() - 2));
        assert_eq!(&der[35..], &scalar);
        // The scalar is the one the Rust signer uses.
        let key = signing_key(b"master", "fioa0001", 1);
        assert_eq!(key.to_bytes().as_slice(), &scalar);
    }

    #[test]
    fn signed_tokens_verify_and_name_their_key() {
        let k = signing_key(b"master", "fioa0001", 1);
        let t = sign(&k, &key_id("fioa0001", 1), &claims());
        assert_eq!(t.split('.').count(), 3);
        assert_eq!(header_kid(&t).unwrap(), "fioa0001.v1");
        assert_eq!(key_version("fioa0001", "fioa0001.v1"), Some(1));
        assert_eq!(key_version("fioa0002", "fioa0001.v1"), None);
        let c = verify(&t, k.verifying_key()).unwrap();
        assert_eq!(c, claims());
        assert!(check_claims(&c, "fioa0001", 1_119).is_ok());
        assert_eq!(
            check_claims(&c, "fioa0001", 1_120),
            Err(TokenError::Expired)
        );
        assert_eq!(
            check_claims(&c, "fioa0002", 1_000),
            Err(TokenError::WrongAudience)
        );
    }

    #[test]
    fn keys_differ_per_app_version_and_secret() {
        let a = signing_key(b"master", "fioa0001", 1);
        let jwk_a = jwk(&a, "k");
        assert_eq!(jwk(&signing_key(b"master", "fioa0001", 1), "k"), jwk_a);
        for other in [
            signing_key(b"master", "fioa0001", 2),
            signing_key(b"master", "fioa0002", 1),
            signing_key(b"other", "fioa0001", 1),
        ] {
            assert_ne!(jwk(&other, "k"), jwk_a);
        }
        assert_eq!(
            jwk_a["x"].as_str().unwrap().len(),
            43,
            "32 bytes, base64url"
        );
    }

    #[test]
    fn tampering_is_refused() {
        let k = signing_key(b"master", "fioa0001", 1);
        let t = sign(&k, "fioa0001.v1", &claims());
        let other = signing_key(b"master", "fioa0001", 2);
        assert_eq!(
            verify(&t, other.verifying_key()),
            Err(TokenError::BadSignature)
        );
        // Another subject under the same header and signature.
        let mut forged = claims();
        forged.sub = "someone-else".into();
        let parts: Vec<&str> = t.split('.').collect();
        let body = B64URL.encode(serde_json::to_vec(&forged).unwrap());
        let swapped = format!("{}.{body}.{}", parts[0], parts[2]);
        assert_eq!(
            verify(&swapped, k.verifying_key()),
            Err(TokenError::BadSignature)
        );
        for bad in ["", "a.b", "a.b.c.d", "!!.b.c", &t[..t.len() - 3]] {
            assert!(verify(bad, k.verifying_key()).is_err(), "{bad}");
        }
        let none_alg = format!(
            "{}.{}.",
            B64URL.encode(r#"{"alg":"none","kid":"x"}"#),
            parts[1]
        );
        assert_eq!(header_kid(&none_alg), Err(TokenError::Malformed));
        assert_eq!(
            header_kid(&"a".repeat(MAX_TOKEN_LEN + 1)),
            Err(TokenError::Malformed)
        );
    }
}
