//! PIN rules: format and weakness checks, PBKDF2 hashing, and attempt counting with lockout.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::bytes::constant_time_eq;
use crate::error::Error;

/// PBKDF2-HMAC-SHA256 iterations for stored PIN hashes.
///
/// A Worker request has roughly 10 ms of CPU and a collision may need two or three verifications,
/// so one hash must stay in the low milliseconds under wasm: measured 0.34 ms natively with
/// SHA-NI, estimated ~2 ms in wasm (software SHA-256). A 4-digit PIN space falls to offline
/// brute force at any affordable count, so the real defences are the lockout and keeping the
/// store private. The count is stored in each hash, so it can be raised without migrating.
pub const PIN_HASH_ITERATIONS: u32 = 2_000;

/// Upper bound accepted when parsing a stored hash, so corrupt data cannot stall a request.
pub const MAX_PIN_HASH_ITERATIONS: u32 = 1_000_000;

/// Salt length in bytes (caller supplies it from a CSPRNG).
pub const PIN_SALT_LEN: usize = 16;

/// Identifier at the start of stored hashes.
const HASH_SCHEME: &str = "pbkdf2-sha256";

/// Derived key length in bytes.
const HASH_LEN: usize = 32;

/// Wrong PINs allowed before lockout (FACEIO aborts after three trials).
pub const MAX_PIN_ATTEMPTS: u8 = 3;

/// How long PIN entry stays locked after the first [`MAX_PIN_ATTEMPTS`] failures (15 minutes).
pub const PIN_LOCKOUT_MS: u64 = 15 * 60 * 1000;

/// Each further lockout without a correct PIN in between lasts this many times longer
/// (FIDO-style back-off: 15 min, 1 h, 4 h, 16 h, then [`MAX_PIN_LOCKOUT_MS`]), so a guesser
/// gets a handful of tries a day instead of 288.
pub const PIN_LOCKOUT_GROWTH: u64 = 4;

/// Longest single lockout (24 hours).
pub const MAX_PIN_LOCKOUT_MS: u64 = 24 * 60 * 60 * 1000;

/// Lockout length after `lockouts` consecutive lockouts (1 = the first).
pub fn lockout_ms(lockouts: u8) -> u64 {
    let mut ms = PIN_LOCKOUT_MS;
    for _ in 1..lockouts {
        ms = ms.saturating_mul(PIN_LOCKOUT_GROWTH);
        if ms >= MAX_PIN_LOCKOUT_MS {
            return MAX_PIN_LOCKOUT_MS;
        }
    }
    ms.min(MAX_PIN_LOCKOUT_MS)
}

/// Wrong PINs one client (IP, or IPv6 /64) may send across all facial IDs before it is locked
/// out itself: enough for a few users behind one address, too few to spray many victims.
pub const MAX_CLIENT_PIN_ATTEMPTS: u8 = 10;

/// Frequently chosen PINs (from published PIN-frequency studies) rejected when `reject_weak`.
pub const COMMON_PINS: &[&str] = &[
    "0000", "1111", "1234", "1212", "7777", "1004", "2000", "4444", "2222", "6969", "9999", "3333",
    "5555", "6666", "1122", "1313", "8888", "4321", "2001", "1010", "2580", "0852", "5683", "1998",
    "1999", "12345", "123456", "654321", "111111", "121212", "123123", "112233", "159753",
    "147258", "123321", "666666", "696969", "000000",
];

/// PIN rules for an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PinPolicy {
    /// Minimum number of digits.
    pub min_len: usize,
    /// Maximum number of digits.
    pub max_len: usize,
    /// Reject repeated, sequential and common PINs.
    pub reject_weak: bool,
}

impl Default for PinPolicy {
    fn default() -> Self {
        Self {
            min_len: 4,
            max_len: 16,
            reject_weak: true,
        }
    }
}

/// Why a PIN breaks the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinProblem {
    /// Fewer digits than the policy's minimum.
    #[error("at least {0} digits are required")]
    TooShort(usize),
    /// More digits than the policy's maximum.
    #[error("at most {0} digits are allowed")]
    TooLong(usize),
    /// Contains something other than ASCII digits.
    #[error("only digits are allowed")]
    NotDigits,
    /// Repeated, sequential or very common.
    #[error("this PIN is too easy to guess")]
    Weak,
}

/// Checks a PIN against the policy.
pub fn validate_pin(pin: &str, policy: &PinPolicy) -> Result<(), Error> {
    let problem = if !pin.bytes().all(|b| b.is_ascii_digit()) {
        Some(PinProblem::NotDigits)
    } else if pin.len() < policy.min_len.max(1) {
        Some(PinProblem::TooShort(policy.min_len.max(1)))
    } else if pin.len() > policy.max_len {
        Some(PinProblem::TooLong(policy.max_len))
    } else if policy.reject_weak && is_weak_pin(pin) {
        Some(PinProblem::Weak)
    } else {
        None
    };
    problem.map_or(Ok(()), |p| Err(Error::InvalidPin(p)))
}

/// True for repeated blocks (1111, 1212, 123123), straight runs (1234, 9876) and common PINs.
pub fn is_weak_pin(pin: &str) -> bool {
    let d = pin.as_bytes();
    let n = d.len();
    let repeated = (1..n).any(|p| {
        let blocks = d.chunks_exact(p);
        blocks.remainder().is_empty() && blocks.clone().all(|b| b == &d[..p])
    });
    let run = |step: i16| {
        n > 1
            && d.windows(2)
                .all(|w| i16::from(w[1]) - i16::from(w[0]) == step)
    };
    repeated || run(1) || run(-1) || COMMON_PINS.contains(&pin)
}

fn derive(pin: &str, salt: &[u8], iterations: u32) -> [u8; HASH_LEN] {
    let mut out = [0u8; HASH_LEN];
    pbkdf2::pbkdf2_hmac::<Sha256>(pin.as_bytes(), salt, iterations, &mut out);
    out
}

/// Hashes a PIN as `pbkdf2-sha256$iters$salt_b64$hash_b64` with [`PIN_HASH_ITERATIONS`].
pub fn hash_pin(pin: &str, salt: &[u8; PIN_SALT_LEN]) -> String {
    hash_pin_with_iterations(pin, salt, PIN_HASH_ITERATIONS)
}

/// [`hash_pin`] with an explicit iteration count (clamped to `1..=MAX_PIN_HASH_ITERATIONS`).
pub fn hash_pin_with_iterations(pin: &str, salt: &[u8; PIN_SALT_LEN], iterations: u32) -> String {
    let iterations = iterations.clamp(1, MAX_PIN_HASH_ITERATIONS);
    let hash = derive(pin, salt, iterations);
    format!(
        "{HASH_SCHEME}${iterations}${}${}",
        B64.encode(salt),
        B64.encode(hash)
    )
}

/// Checks a PIN against a stored hash; a malformed stored hash is an internal error.
pub fn verify_pin(pin: &str, stored: &str) -> Result<bool, Error> {
    let bad = |why: &str| Error::Internal(format!("malformed PIN hash: {why}"));
    let parts: Vec<&str> = stored.split('$').collect();
    let [scheme, iters, salt, hash] = parts[..] else {
        return Err(bad("field count"));
    };
    if scheme != HASH_SCHEME {
        return Err(bad("scheme"));
    }
    let iterations: u32 = iters.parse().map_err(|_| bad("iterations"))?;
    if !(1..=MAX_PIN_HASH_ITERATIONS).contains(&iterations) {
        return Err(bad("iterations out of range"));
    }
    let salt = B64.decode(salt).map_err(|_| bad("salt"))?;
    let hash = B64.decode(hash).map_err(|_| bad("hash"))?;
    if hash.len() != HASH_LEN {
        return Err(bad("hash length"));
    }
    Ok(constant_time_eq(&derive(pin, &salt, iterations), &hash))
}

/// Keyed PIN fingerprint for `enforcePinUniqueness`.
///
/// Salted hashes cannot be compared across users, so uniqueness needs a deterministic tag; it is
/// HMAC-SHA256 under a server secret (never stored with the data), scoped to the application.
pub fn pin_uniqueness_tag(secret_key: &[u8], app_id: &str, pin: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret_key).expect("HMAC accepts any key length");
    mac.update(app_id.as_bytes());
    // Separator so ("ab", "12") and ("a", "b12") cannot collide.
    mac.update(&[0]);
    mac.update(pin.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

/// Outcome of recording a wrong PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinVerdict {
    /// The user may try again.
    Retry {
        /// Attempts left before lockout.
        remaining: u8,
    },
    /// Attempts exhausted; answer `WRONG_PIN_CODE`.
    LockedOut {
        /// Unix milliseconds when PIN entry unlocks.
        until_ms: u64,
    },
}

impl PinVerdict {
    /// `Ok(remaining)` for a retry, or the lockout error.
    pub fn into_result(self) -> Result<u8, Error> {
        match self {
            Self::Retry { remaining } => Ok(remaining),
            Self::LockedOut { until_ms } => Err(Error::PinLockedOut { until_ms }),
        }
    }
}

/// Wrong-PIN counter for one facial ID or one client, persisted by the edge between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinAttempts {
    /// Consecutive failures since the last success or lockout.
    pub failures: u8,
    /// When set and in the future, PIN entry is locked.
    pub locked_until_ms: Option<u64>,
    /// Lockouts since the last correct PIN: each makes the next one longer ([`lockout_ms`]).
    #[serde(default)]
    pub lockouts: u8,
}

impl PinAttempts {
    /// True while locked (the lockout ends exactly at `locked_until_ms`).
    pub fn is_locked(&self, now_ms: u64) -> bool {
        self.locked_until_ms.is_some_and(|until| now_ms < until)
    }

    /// `Err(PinLockedOut)` while locked, so the edge can refuse before hashing anything.
    pub fn check(&self, now_ms: u64) -> Result<(), Error> {
        match self.locked_until_ms {
            Some(until_ms) if now_ms < until_ms => Err(Error::PinLockedOut { until_ms }),
            _ => Ok(()),
        }
    }

    /// Attempts left before lockout.
    pub fn remaining(&self, now_ms: u64) -> u8 {
        if self.is_locked(now_ms) {
            0
        } else {
            MAX_PIN_ATTEMPTS.saturating_sub(self.failures)
        }
    }

    /// Records a wrong PIN; the third consecutive failure locks for [`lockout_ms`] of the
    /// lockouts so far, which grows until a correct PIN resets it.
    pub fn record_failure(&mut self, now_ms: u64) -> PinVerdict {
        self.record_failure_of(now_ms, MAX_PIN_ATTEMPTS)
    }

    /// [`Self::record_failure`] with another allowance (`max` failures per lockout).
    pub fn record_failure_of(&mut self, now_ms: u64, max: u8) -> PinVerdict {
        if let Some(until_ms) = self.locked_until_ms {
            if now_ms < until_ms {
                // Failures during a lockout do not extend it (the edge refuses them before
                // checking anything).
                return PinVerdict::LockedOut { until_ms };
            }
            self.locked_until_ms = None;
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        if self.failures >= max {
            let lockouts = self.lockouts.saturating_add(1);
            let until_ms = now_ms.saturating_add(lockout_ms(lockouts));
            *self = Self {
                failures: 0,
                locked_until_ms: Some(until_ms),
                lockouts,
            };
            PinVerdict::LockedOut { until_ms }
        } else {
            PinVerdict::Retry {
                remaining: max - self.failures,
            }
        }
    }

    /// Clears the counter after a correct PIN.
    pub fn record_success(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: [u8; 16] = *b"0123456789abcdef";

    fn problem(pin: &str, policy: &PinPolicy) -> Option<PinProblem> {
        match validate_pin(pin, policy) {
            Ok(()) => None,
            Err(Error::InvalidPin(p)) => Some(p),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }

    #[test]
    fn format_rules() {
        let p = PinPolicy::default();
        assert_eq!(problem("2749", &p), None);
        assert_eq!(problem("274", &p), Some(PinProblem::TooShort(4)));
        assert_eq!(problem("", &p), Some(PinProblem::TooShort(4)));
        assert_eq!(
            problem("27491836450192837", &p),
            Some(PinProblem::TooLong(16))
        );
        assert_eq!(problem("2749183645019283", &p), None);
        assert_eq!(problem("27a9", &p), Some(PinProblem::NotDigits));
        assert_eq!(problem("2 49", &p), Some(PinProblem::NotDigits));
        assert_eq!(problem("２７４９", &p), Some(PinProblem::NotDigits));
        assert!(validate_pin("1", &p).unwrap_err().is_client_error());
    }

    #[test]
    fn weak_pins_are_rejected_only_when_asked() {
        let p = PinPolicy::default();
        for weak in [
            "0000", "1111", "1234", "9876", "0123", "3456789", "1212", "6969", "123123", "1004",
            "2000", "2001", "121212", "654321", "12341234", "2580", "99999999",
        ] {
            assert_eq!(problem(weak, &p), Some(PinProblem::Weak), "{weak}");
        }
        for ok in ["2749", "1235", "9012", "1221", "8642", "19370"] {
            assert_eq!(problem(ok, &p), None, "{ok}");
        }
        let lax = PinPolicy {
            reject_weak: false,
            ..p
        };
        assert_eq!(problem("0000", &lax), None);
    }

    #[test]
    fn policy_serde_is_camel_case() {
        let json = serde_json::to_value(PinPolicy::default()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"minLen": 4, "maxLen": 16, "rejectWeak": true})
        );
    }

    #[test]
    fn hash_and_verify() {
        let stored = hash_pin("2749", &SALT);
        assert!(stored.starts_with(&format!("pbkdf2-sha256${PIN_HASH_ITERATIONS}$")));
        assert_eq!(stored.split('$').count(), 4);
        assert_eq!(verify_pin("2749", &stored), Ok(true));
        assert_eq!(verify_pin("2748", &stored), Ok(false));
        assert_eq!(verify_pin("", &stored), Ok(false));
        assert_ne!(hash_pin("2749", &[7; 16]), stored);
    }

    #[test]
    fn pbkdf2_matches_rfc7914_vector() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256("passwd", "salt", 1, 64) begins 55 ac 04 6e.
        let stored = hash_pin_with_iterations("passwd", b"salt\0\0\0\0\0\0\0\0\0\0\0\0", 1);
        let mut out = [0u8; 4];
        pbkdf2::pbkdf2_hmac::<Sha256>(b"passwd", b"salt", 1, &mut out);
        assert_eq!(out, [0x55, 0xac, 0x04, 0x6e]);
        assert_eq!(verify_pin("passwd", &stored), Ok(true));
    }

    #[test]
    fn malformed_hashes_are_internal_errors() {
        let good = hash_pin("2749", &SALT);
        let fields: Vec<&str> = good.split('$').collect();
        for bad in [
            "",
            "pbkdf2-sha256$1$abc",
            &format!("bcrypt${}${}${}", fields[1], fields[2], fields[3]),
            &format!("pbkdf2-sha256$0${}${}", fields[2], fields[3]),
            &format!("pbkdf2-sha256$99999999${}${}", fields[2], fields[3]),
            &format!("pbkdf2-sha256$x${}${}", fields[2], fields[3]),
            &format!("pbkdf2-sha256$1$!!${}", fields[3]),
            &format!("pbkdf2-sha256$1${}$AAAA", fields[2]),
        ] {
            let err = verify_pin("2749", bad).unwrap_err();
            assert!(matches!(err, Error::Internal(_)), "{bad}");
            assert!(!err.is_client_error());
        }
    }

    #[test]
    fn hashing_cost_is_within_budget() {
        // Native is several times faster than wasm; this only catches an accidental 10x bump.
        let start = std::time::Instant::now();
        hash_pin("2749", &SALT);
        assert!(start.elapsed().as_millis() < 50, "{:?}", start.elapsed());
    }

    #[test]
    fn uniqueness_tag_is_keyed_and_scoped() {
        let t = pin_uniqueness_tag(b"k1", "app", "2749");
        assert_eq!(t, pin_uniqueness_tag(b"k1", "app", "2749"));
        assert_ne!(t, pin_uniqueness_tag(b"k2", "app", "2749"));
        assert_ne!(t, pin_uniqueness_tag(b"k1", "other", "2749"));
        assert_ne!(
            pin_uniqueness_tag(b"k", "ab", "12"),
            pin_uniqueness_tag(b"k", "a", "b12")
        );
    }

    #[test]
    fn three_failures_lock_out() {
        let mut a = PinAttempts::default();
        assert_eq!(a.remaining(0), 3);
        assert_eq!(a.record_failure(10), PinVerdict::Retry { remaining: 2 });
        assert_eq!(a.record_failure(20), PinVerdict::Retry { remaining: 1 });
        let until_ms = 30 + PIN_LOCKOUT_MS;
        assert_eq!(a.record_failure(30), PinVerdict::LockedOut { until_ms });
        assert!(a.is_locked(31));
        assert_eq!(a.remaining(31), 0);
        assert_eq!(a.check(31), Err(Error::PinLockedOut { until_ms }));
        assert_eq!(a.check(31).unwrap_err().code().name(), "WRONG_PIN_CODE");
        // Failures while locked do not extend the lockout.
        assert_eq!(
            a.record_failure(until_ms - 1),
            PinVerdict::LockedOut { until_ms }
        );
        // Unlocks exactly at the boundary, with a fresh allowance.
        assert!(!a.is_locked(until_ms));
        assert_eq!(a.check(until_ms), Ok(()));
        assert_eq!(
            a.record_failure(until_ms),
            PinVerdict::Retry { remaining: 2 }
        );
        // The second lockout lasts longer than the first.
        a.record_failure(until_ms + 1);
        let second = until_ms + 2 + PIN_LOCKOUT_MS * PIN_LOCKOUT_GROWTH;
        assert_eq!(
            a.record_failure(until_ms + 2),
            PinVerdict::LockedOut { until_ms: second }
        );
        assert_eq!(a.lockouts, 2);
        assert_eq!(PinVerdict::Retry { remaining: 2 }.into_result(), Ok(2));
        assert!(PinVerdict::LockedOut { until_ms: 1 }.into_result().is_err());
    }

    #[test]
    fn success_resets() {
        let mut a = PinAttempts::default();
        a.record_failure(1);
        a.record_failure(2);
        a.record_success();
        assert_eq!(a, PinAttempts::default());
        assert_eq!(a.record_failure(3), PinVerdict::Retry { remaining: 2 });
        let json = serde_json::to_value(a).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"failures": 1, "lockedUntilMs": null, "lockouts": 0})
        );
        // Records stored before escalation existed read as no lockouts so far.
        let old: PinAttempts =
            serde_json::from_value(serde_json::json!({"failures": 2, "lockedUntilMs": null}))
                .unwrap();
        assert_eq!(old.lockouts, 0);
    }

    #[test]
    fn client_allowance_is_separate() {
        let mut c = PinAttempts::default();
        for i in 1..MAX_CLIENT_PIN_ATTEMPTS {
            assert_eq!(
                c.record_failure_of(i.into(), MAX_CLIENT_PIN_ATTEMPTS),
                PinVerdict::Retry {
                    remaining: MAX_CLIENT_PIN_ATTEMPTS - i
                }
            );
        }
        assert!(matches!(
            c.record_failure_of(99, MAX_CLIENT_PIN_ATTEMPTS),
            PinVerdict::LockedOut { .. }
        ));
    }

    #[test]
    fn lockouts_escalate_to_a_cap_and_reset_on_success() {
        assert_eq!(lockout_ms(1), PIN_LOCKOUT_MS);
        assert_eq!(lockout_ms(2), 4 * PIN_LOCKOUT_MS);
        assert_eq!(lockout_ms(3), 16 * PIN_LOCKOUT_MS);
        assert_eq!(lockout_ms(5), MAX_PIN_LOCKOUT_MS);
        assert_eq!(lockout_ms(255), MAX_PIN_LOCKOUT_MS);
        let mut a = PinAttempts::default();
        let mut now = 0;
        let mut lengths = Vec::new();
        for _ in 0..6 {
            let mut verdict = PinVerdict::Retry { remaining: 0 };
            for _ in 0..MAX_PIN_ATTEMPTS {
                verdict = a.record_failure(now);
            }
            let PinVerdict::LockedOut { until_ms } = verdict else {
                panic!("not locked: {verdict:?}")
            };
            lengths.push(until_ms - now);
            now = until_ms;
        }
        assert!(lengths.windows(2).all(|w| w[0] <= w[1]), "{lengths:?}");
        assert_eq!(*lengths.last().unwrap(), MAX_PIN_LOCKOUT_MS);
        // Guesses per day once escalated: three per lockout.
        assert!(MAX_PIN_ATTEMPTS as u64 * (24 * 3600 * 1000 / MAX_PIN_LOCKOUT_MS) <= 3);
        a.record_success();
        assert_eq!(a, PinAttempts::default());
    }
}
