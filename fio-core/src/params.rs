//! `enroll()` / `authenticate()` parameter names and FACEIO's defaults, and the method aliases.
//!
//! The widget applies and checks them (js/params.js) from the tables fio-core generates
//! ([`crate::js_tables`]); these structs give those tables their names and values.

use serde::Serialize;
use serde_json::Value;

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

/// Parameters of `enroll()`, as the FACEIO integration guide names them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrollParams {
    /// Data returned on future authentications (≤ [`crate::MAX_PAYLOAD_BYTES`] serialized).
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

/// Parameters of `authenticate()`, as the FACEIO integration guide names them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The defaults of the integration guide's parameter tables
    /// (shared/seeds/fiojs-integration-guide.txt: 27 s, 10 min, 27 s, 40 s, 12 s, auto, false).
    #[test]
    fn defaults_match_the_guide() {
        assert_eq!(
            serde_json::to_value(EnrollParams::default()).unwrap(),
            json!({
                "payload": null,
                "permissionTimeout": 27.0,
                "termsTimeout": 10.0,
                "idleTimeout": 27.0,
                "replyTimeout": 40.0,
                "enrollIntroTimeout": 12.0,
                "locale": "auto",
                "userConsent": false
            })
        );
        assert_eq!(
            serde_json::to_value(AuthenticateParams::default()).unwrap(),
            json!({
                "permissionTimeout": 27.0,
                "idleTimeout": 27.0,
                "replyTimeout": 40.0,
                "locale": "auto"
            })
        );
    }

    #[test]
    fn aliases_are_distinct_lowercase_names() {
        let all: Vec<&str> = ENROLL_METHOD_ALIASES
            .iter()
            .chain(&AUTHENTICATE_METHOD_ALIASES)
            .copied()
            .collect();
        for (i, a) in all.iter().enumerate() {
            assert!(a.bytes().all(|b| b.is_ascii_lowercase()), "{a}");
            assert!(!all[i + 1..].contains(a), "{a} twice");
        }
        assert_eq!(ENROLL_METHOD_ALIASES[0], "enroll");
        assert_eq!(AUTHENTICATE_METHOD_ALIASES[0], "authenticate");
    }
}
