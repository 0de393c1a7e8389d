//! `enroll()` / `authenticate()` parameter objects with FACEIO's defaults, and method aliases.
//!
//! Unknown properties are ignored, as fio.js ignores them; wrong types and negative or
//! non-finite timeouts are client errors.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::challenge::Ceremony;
use crate::error::Error;

/// Default seconds to wait for camera permission (`PERMISSION_REFUSED` after).
pub const DEFAULT_PERMISSION_TIMEOUT_S: f64 = 27.0;
/// Default *minutes* to wait for terms acceptance (`TERMS_NOT_ACCEPTED` after).
pub const DEFAULT_TERMS_TIMEOUT_MIN: f64 = 10.0;
/// Default seconds without a detected face (`NO_FACES_DETECTED` after).
pub const DEFAULT_IDLE_TIMEOUT_S: f64 = 27.0;
/// Default seconds to wait for the server's reply (`TIMEOUT` after).
pub const DEFAULT_REPLY_TIMEOUT_S: f64 = 40.0;
/// Default seconds the enrollment introduction screen is shown.
pub const DEFAULT_ENROLL_INTRO_TIMEOUT_S: f64 = 12.0;
/// Default `locale` parameter: derive from the browser's languages.
pub const DEFAULT_LOCALE_PARAM: &str = "auto";

/// Method names fio.js accepts for enrollment.
pub const ENROLL_METHOD_ALIASES: [&str; 4] = ["enroll", "enrol", "register", "record"];
/// Method names fio.js accepts for authentication.
pub const AUTHENTICATE_METHOD_ALIASES: [&str; 4] =
    ["authenticate", "auth", "recognize", "identify"];

/// The ceremony a fio.js method name (or alias) runs.
pub fn ceremony_for_method(name: &str) -> Option<Ceremony> {
    if ENROLL_METHOD_ALIASES.contains(&name) {
        Some(Ceremony::Enroll)
    } else if AUTHENTICATE_METHOD_ALIASES.contains(&name) {
        Some(Ceremony::Authenticate)
    } else {
        None
    }
}

/// Timeouts converted to milliseconds for timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Camera permission wait.
    pub permission_ms: u64,
    /// Terms acceptance wait (enrollment only; 0 for authentication).
    pub terms_ms: u64,
    /// Wait for a face.
    pub idle_ms: u64,
    /// Wait for the server.
    pub reply_ms: u64,
    /// Introduction screen (enrollment only; 0 for authentication).
    pub enroll_intro_ms: u64,
}

fn check_timeout(name: &'static str, value: f64) -> Result<(), Error> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParam {
            name,
            reason: "must be a finite, non-negative number",
        })
    }
}

/// Converts a count of `unit_ms` units to whole milliseconds (saturating).
fn to_ms(value: f64, unit_ms: f64) -> u64 {
    (value * unit_ms).round() as u64
}

/// Deserializes a parameters object; `null` means all defaults.
fn from_json<T: Default + serde::de::DeserializeOwned>(params: &Value) -> Result<T, Error> {
    if params.is_null() {
        return Ok(T::default());
    }
    // serde would also accept a positional array for a struct; fio.js only takes an object.
    if !params.is_object() {
        return Err(Error::BadRequest("parameters must be an object".into()));
    }
    T::deserialize(params).map_err(|e| Error::BadRequest(format!("invalid parameters: {e}")))
}

/// Parameters of `enroll()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnrollParams {
    /// Data returned on future authentications (≤ 16 KiB serialized).
    pub payload: Value,
    /// Seconds to wait for camera permission.
    pub permission_timeout: f64,
    /// Minutes to wait for terms acceptance.
    pub terms_timeout: f64,
    /// Seconds to wait for a face.
    pub idle_timeout: f64,
    /// Seconds to wait for the server.
    pub reply_timeout: f64,
    /// Seconds the introduction screen is shown.
    pub enroll_intro_timeout: f64,
    /// `auto` or a BCP 47 language code.
    pub locale: String,
    /// Consent already collected by the host; skips the terms screen.
    pub user_consent: bool,
}

impl Default for EnrollParams {
    fn default() -> Self {
        Self {
            payload: Value::Null,
            permission_timeout: DEFAULT_PERMISSION_TIMEOUT_S,
            terms_timeout: DEFAULT_TERMS_TIMEOUT_MIN,
            idle_timeout: DEFAULT_IDLE_TIMEOUT_S,
            reply_timeout: DEFAULT_REPLY_TIMEOUT_S,
            enroll_intro_timeout: DEFAULT_ENROLL_INTRO_TIMEOUT_S,
            locale: DEFAULT_LOCALE_PARAM.to_owned(),
            user_consent: false,
        }
    }
}

impl EnrollParams {
    /// Parses and validates the object passed to `enroll()`.
    pub fn from_json(params: &Value) -> Result<Self, Error> {
        let p: Self = from_json(params)?;
        p.validate()?;
        Ok(p)
    }

    /// Checks timeouts and the payload size.
    pub fn validate(&self) -> Result<(), Error> {
        check_timeout("permissionTimeout", self.permission_timeout)?;
        check_timeout("termsTimeout", self.terms_timeout)?;
        check_timeout("idleTimeout", self.idle_timeout)?;
        check_timeout("replyTimeout", self.reply_timeout)?;
        check_timeout("enrollIntroTimeout", self.enroll_intro_timeout)?;
        crate::protocol::validate_payload(&self.payload).map(|_| ())
    }

    /// Timeouts in milliseconds (terms timeout is given in minutes).
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            permission_ms: to_ms(self.permission_timeout, 1_000.0),
            terms_ms: to_ms(self.terms_timeout, 60_000.0),
            idle_ms: to_ms(self.idle_timeout, 1_000.0),
            reply_ms: to_ms(self.reply_timeout, 1_000.0),
            enroll_intro_ms: to_ms(self.enroll_intro_timeout, 1_000.0),
        }
    }
}

/// Parameters of `authenticate()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthenticateParams {
    /// Seconds to wait for camera permission.
    pub permission_timeout: f64,
    /// Seconds to wait for a face.
    pub idle_timeout: f64,
    /// Seconds to wait for the server.
    pub reply_timeout: f64,
    /// `auto` or a BCP 47 language code.
    pub locale: String,
}

impl Default for AuthenticateParams {
    fn default() -> Self {
        Self {
            permission_timeout: DEFAULT_PERMISSION_TIMEOUT_S,
            idle_timeout: DEFAULT_IDLE_TIMEOUT_S,
            reply_timeout: DEFAULT_REPLY_TIMEOUT_S,
            locale: DEFAULT_LOCALE_PARAM.to_owned(),
        }
    }
}

impl AuthenticateParams {
    /// Parses and validates the object passed to `authenticate()`.
    pub fn from_json(params: &Value) -> Result<Self, Error> {
        let p: Self = from_json(params)?;
        p.validate()?;
        Ok(p)
    }

    /// Checks the timeouts.
    pub fn validate(&self) -> Result<(), Error> {
        check_timeout("permissionTimeout", self.permission_timeout)?;
        check_timeout("idleTimeout", self.idle_timeout)?;
        check_timeout("replyTimeout", self.reply_timeout)
    }

    /// Timeouts in milliseconds.
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            permission_ms: to_ms(self.permission_timeout, 1_000.0),
            terms_ms: 0,
            idle_ms: to_ms(self.idle_timeout, 1_000.0),
            reply_ms: to_ms(self.reply_timeout, 1_000.0),
            enroll_intro_ms: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_match_the_guide() {
        let p = EnrollParams::from_json(&Value::Null).unwrap();
        assert_eq!(p, EnrollParams::from_json(&json!({})).unwrap());
        assert_eq!(
            p.timeouts(),
            Timeouts {
                permission_ms: 27_000,
                terms_ms: 600_000,
                idle_ms: 27_000,
                reply_ms: 40_000,
                enroll_intro_ms: 12_000,
            }
        );
        assert_eq!(p.locale, "auto");
        assert!(!p.user_consent);
        assert_eq!(p.payload, Value::Null);
        let a = AuthenticateParams::from_json(&json!({})).unwrap();
        assert_eq!(a.timeouts().permission_ms, 27_000);
        assert_eq!(a.timeouts().reply_ms, 40_000);
        assert_eq!(a.locale, "auto");
    }

    #[test]
    fn guide_example_parses_and_unknown_fields_are_ignored() {
        let p = EnrollParams::from_json(&json!({
            "locale": "auto",
            "payload": {"whoami": 123456, "email": "john.doe@example.com"},
            "userConsent": true,
            "idleTimeout": 5.5,
            "someFutureOption": 1
        }))
        .unwrap();
        assert_eq!(p.payload["whoami"], 123456);
        assert!(p.user_consent);
        assert_eq!(p.timeouts().idle_ms, 5_500);
        assert_eq!(p.permission_timeout, DEFAULT_PERMISSION_TIMEOUT_S);
        assert!(AuthenticateParams::from_json(&json!({"payload": 1})).is_ok());
    }

    #[test]
    fn bad_values_are_client_errors() {
        let e = EnrollParams::from_json(&json!({"permissionTimeout": -1})).unwrap_err();
        assert_eq!(
            e,
            Error::InvalidParam {
                name: "permissionTimeout",
                reason: "must be a finite, non-negative number"
            }
        );
        assert!(e.is_client_error());
        assert!(EnrollParams::from_json(&json!({"termsTimeout": "ten"}))
            .unwrap_err()
            .is_client_error());
        assert!(AuthenticateParams::from_json(&json!({"replyTimeout": -0.5})).is_err());
        assert!(AuthenticateParams::from_json(&json!([1, 2])).is_err());
        let nan = AuthenticateParams {
            idle_timeout: f64::NAN,
            ..AuthenticateParams::default()
        };
        assert!(nan.validate().is_err());
        let inf = EnrollParams {
            enroll_intro_timeout: f64::INFINITY,
            ..EnrollParams::default()
        };
        assert!(inf.validate().is_err());
        let big = json!({"payload": "x".repeat(crate::protocol::MAX_PAYLOAD_BYTES)});
        assert!(matches!(
            EnrollParams::from_json(&big),
            Err(Error::PayloadTooLarge { .. })
        ));
        assert!(EnrollParams::from_json(&json!({"idleTimeout": 0})).is_ok());
    }

    #[test]
    fn method_aliases() {
        for m in ["enroll", "enrol", "register", "record"] {
            assert_eq!(ceremony_for_method(m), Some(Ceremony::Enroll));
        }
        for m in ["authenticate", "auth", "recognize", "identify"] {
            assert_eq!(ceremony_for_method(m), Some(Ceremony::Authenticate));
        }
        assert_eq!(ceremony_for_method("Enroll"), None);
        assert_eq!(ceremony_for_method("restartSession"), None);
    }
}
