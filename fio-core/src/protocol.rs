//! JSON messages between the browser widget and the edge (camelCase on the wire).
//!
//! Flow: `POST start` → [`StartResponse`] with a single-use challenge; then `POST enroll` with
//! [`EnrollRequest`] or `POST authenticate` with [`AuthenticateRequest`]. If authentication needs
//! a PIN the edge answers [`PinRequiredResponse`] carrying a *fresh* challenge (the first one is
//! consumed), and the widget resends the same template plus the PIN under that new challenge.
//! Requests reject unknown fields (typos fail loudly); responses tolerate them (newer servers).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::challenge::{Ceremony, Challenge, LivenessAction};
use crate::decision::{FramePolicy, LIVENESS_THRESHOLD};
use crate::error::Error;
use crate::iso8601::format_iso8601_ms;
use crate::liveness::{LivenessReport, SealedEvidence};
use crate::matching::PinReason;
use crate::pin::{validate_pin, PinPolicy};
use crate::template::Template;

/// FACEIO's per-user payload limit (16 KiB of serialized JSON).
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;

/// Deepest nesting of arrays and objects a payload may have. serde_json refuses documents
/// nested past 128 levels, and every later step wraps the payload in more levels (the Durable
/// Object's call and reply, the REST and widget replies), so a payload accepted near that limit
/// could be stored and then never delivered: it is refused where it is accepted instead.
pub const MAX_PAYLOAD_DEPTH: usize = 32;

/// Request body limit: the payload plus templates and envelope fit comfortably.
pub const MAX_REQUEST_BYTES: usize = 32 * 1024;

/// Largest `enroll` / `authenticate` body the front worker reads when it carries sealed
/// evidence crops (edge re-verification); the rest of the body stays under [`MAX_REQUEST_BYTES`].
pub const MAX_EVIDENCE_REQUEST_BYTES: usize = 1024 * 1024;

/// Most per-frame templates an enrollment may send.
pub const MAX_ENROLL_TEMPLATES: usize = 8;

/// Longest PIN accepted at authentication (enrollment applies the app's [`PinPolicy`]).
const MAX_AUTH_PIN_LEN: usize = 16;

/// Parses a request body, mapping oversize and malformed JSON to client errors.
pub fn parse_request<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(Error::PayloadTooLarge {
            size: body.len(),
            max: MAX_REQUEST_BYTES,
        });
    }
    serde_json::from_slice(body).map_err(|e| Error::BadRequest(e.to_string()))
}

/// Counts bytes without storing them.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Nesting depth of arrays and objects (a scalar is 0, `{}` and `[]` are 1).
pub fn json_depth(v: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(v, 0usize)];
    while let Some((v, d)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(a) => Box::new(a.iter()),
            Value::Object(o) => Box::new(o.values()),
            _ => continue,
        };
        deepest = deepest.max(d + 1);
        stack.extend(children.map(|c| (c, d + 1)));
    }
    deepest
}

/// Checks the payload's compact serialized size is at most [`MAX_PAYLOAD_BYTES`] and its
/// nesting at most [`MAX_PAYLOAD_DEPTH`]; returns the size.
pub fn validate_payload(payload: &Value) -> Result<usize, Error> {
    let depth = json_depth(payload);
    if depth > MAX_PAYLOAD_DEPTH {
        return Err(Error::BadRequest(format!(
            "payload is nested {depth} levels deep; at most {MAX_PAYLOAD_DEPTH} are accepted"
        )));
    }
    let mut counter = ByteCounter(0);
    serde_json::to_writer(&mut counter, payload).map_err(|e| Error::Internal(e.to_string()))?;
    if counter.0 > MAX_PAYLOAD_BYTES {
        return Err(Error::PayloadTooLarge {
            size: counter.0,
            max: MAX_PAYLOAD_BYTES,
        });
    }
    Ok(counter.0)
}

/// True for a challenge id as issued by [`crate::new_challenge`] (32 lowercase hex chars).
pub fn is_valid_challenge_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn check_challenge_id(id: &str) -> Result<(), Error> {
    if is_valid_challenge_id(id) {
        Ok(())
    } else {
        Err(Error::BadRequest("invalid challengeId".into()))
    }
}

/// `POST start`: asks for a challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartRequest {
    /// Application public ID, when not already in the URL path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// Ceremony to start.
    pub ceremony: Ceremony,
    /// The site's own value (e.g. its login session's ID), echoed in the ceremony's signed
    /// login token so the site's backend can bind the result to its session
    /// ([`validate_nonce`]). FACEIO has no such parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// Longest site nonce accepted.
pub const MAX_NONCE_LEN: usize = 256;

/// A site nonce is 1..=[`MAX_NONCE_LEN`] visible ASCII characters (it travels in a JWT claim
/// and in logs, so no control or non-ASCII characters).
pub fn validate_nonce(nonce: &str) -> Result<(), Error> {
    if nonce.is_empty() || nonce.len() > MAX_NONCE_LEN {
        return Err(Error::BadRequest(format!(
            "nonce must be 1 to {MAX_NONCE_LEN} characters"
        )));
    }
    if !nonce.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::BadRequest(
            "nonce must be visible ASCII characters (no spaces)".into(),
        ));
    }
    Ok(())
}

/// How liveness is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LivenessMode {
    /// No liveness check.
    Off,
    /// Passive model plus temporal cues (a blink), no prompts.
    Passive,
    /// Passive and temporal checks plus the challenge's prompted actions (the default).
    #[default]
    Active,
}

/// The application's settings the widget must apply during the ceremony.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WidgetPolicy {
    /// Liveness mode.
    pub liveness_mode: LivenessMode,
    /// Minimum age in years; `None` allows minors.
    pub min_age: Option<u8>,
    /// PIN rules for enrollment.
    pub pin_policy: PinPolicy,
    /// Ask for the PIN on every authentication.
    pub always_ask_pin: bool,
    /// Refuse to enroll a face that is already enrolled (`FACE_DUPLICATION`).
    pub prevent_duplicates: bool,
    /// PINs must be unique within the application (`UNIQUE_PIN_REQUIRED`).
    pub enforce_pin_uniqueness: bool,
    /// Skip faces the detector marks as partly hidden instead of failing.
    pub ignore_obscured_faces: bool,
    /// Locale used when the widget's `locale` is `auto` and no browser language is supported.
    pub default_locale: String,
    /// Active-liveness prompts for this ceremony (from the challenge).
    pub actions: Vec<LivenessAction>,
    /// The app's own consent text, shown instead of the widget's default terms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terms_text: Option<String>,
    /// The app's privacy policy (an https URL), linked from the consent screen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privacy_policy_url: Option<String>,
}

impl Default for WidgetPolicy {
    fn default() -> Self {
        Self {
            liveness_mode: LivenessMode::Active,
            min_age: None,
            pin_policy: PinPolicy::default(),
            always_ask_pin: false,
            prevent_duplicates: true,
            enforce_pin_uniqueness: false,
            ignore_obscured_faces: false,
            default_locale: crate::locale::DEFAULT_LOCALE.to_owned(),
            actions: Vec::new(),
            terms_text: None,
            privacy_policy_url: None,
        }
    }
}

impl WidgetPolicy {
    /// The per-frame rules implied by this policy.
    pub fn frame_policy(&self) -> FramePolicy {
        FramePolicy {
            liveness_threshold: (self.liveness_mode != LivenessMode::Off)
                .then_some(LIVENESS_THRESHOLD),
            min_age: self.min_age.map(f32::from),
            ..FramePolicy::default()
        }
    }
}

/// Answer to `POST start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartResponse {
    /// Challenge to quote in the next request.
    pub challenge_id: String,
    /// Extra server randomness bound to this challenge, reserved for binding client-side
    /// evidence (e.g. liveness attestations) to the session.
    pub nonce: String,
    /// ISO 8601 expiry of the challenge.
    pub expires_at: String,
    /// Settings for the ceremony.
    pub policy: WidgetPolicy,
    /// When the app re-verifies liveness at the edge: this ceremony's P-256 public key (base64,
    /// 65-byte uncompressed SEC1) to seal the evidence crops to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_key: Option<String>,
}

impl StartResponse {
    /// Builds the answer for a freshly issued challenge, copying its actions into the policy.
    pub fn new(challenge: &Challenge, nonce: String, mut policy: WidgetPolicy) -> Self {
        policy.actions = challenge.actions.clone();
        Self {
            challenge_id: challenge.id.clone(),
            nonce,
            expires_at: format_iso8601_ms(challenge.expires_at_ms),
            policy,
            evidence_key: None,
        }
    }
}

/// The widget's liveness result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LivenessEvidence {
    /// Liveness score 0..1 (higher = more likely live).
    pub score: f32,
    /// Whether the widget's own check passed.
    pub passed: bool,
    /// Active-liveness actions the widget observed, in order.
    #[serde(default)]
    pub actions: Vec<LivenessAction>,
    /// The cues the widget decided on; the edge re-runs [`crate::liveness::decide`] on them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<LivenessReport>,
    /// Evidence crops sealed to the ceremony's `evidenceKey` (edge re-verification only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<SealedEvidence>,
}

impl LivenessEvidence {
    fn check(&self) -> Result<(), Error> {
        if !(0.0..=1.0).contains(&self.score) {
            return Err(Error::BadRequest(
                "liveness score must be within 0..1".into(),
            ));
        }
        self.report.as_ref().map_or(Ok(()), LivenessReport::check)
    }
}

/// Gender approximation, as FACEIO reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    /// Male.
    Male,
    /// Female.
    Female,
}

/// Age and gender estimated by the widget during enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnrollDetails {
    /// Estimated age in years.
    pub age: f32,
    /// Estimated gender.
    pub gender: Gender,
}

/// `POST enroll`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnrollRequest {
    /// Challenge from `start`.
    pub challenge_id: String,
    /// Per-frame base64 templates (1..=[`MAX_ENROLL_TEMPLATES`]); the edge re-checks consistency.
    pub templates: Vec<String>,
    /// Liveness result.
    pub liveness: LivenessEvidence,
    /// Age and gender estimates.
    pub details: EnrollDetails,
    /// Host application's payload (≤ [`MAX_PAYLOAD_BYTES`]).
    #[serde(default)]
    pub payload: Value,
    /// The user's chosen PIN.
    pub pin: String,
}

impl EnrollRequest {
    /// Validates every field the edge can check alone and decodes the templates.
    pub fn validate(&self, pin_policy: &PinPolicy) -> Result<Vec<Template>, Error> {
        check_challenge_id(&self.challenge_id)?;
        if self.templates.is_empty() || self.templates.len() > MAX_ENROLL_TEMPLATES {
            return Err(Error::BadRequest(format!(
                "templates must hold 1 to {MAX_ENROLL_TEMPLATES} entries"
            )));
        }
        self.liveness.check()?;
        if !(0.0..=150.0).contains(&self.details.age) {
            return Err(Error::BadRequest("age out of range".into()));
        }
        validate_payload(&self.payload)?;
        validate_pin(&self.pin, pin_policy)?;
        self.templates
            .iter()
            .map(|t| Template::from_base64(t))
            .collect()
    }
}

/// `details` of the enrollment answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrolledDetails {
    /// Gender approximation.
    pub gender: Gender,
    /// Age approximation in whole years.
    pub age: u32,
}

/// Answer to `POST enroll` (FACEIO's `userInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrollResponse {
    /// The new user's facial ID (UUID).
    pub facial_id: String,
    /// ISO 8601 enrollment time.
    pub timestamp: String,
    /// Age and gender approximation.
    pub details: EnrolledDetails,
    /// Signed login token (compact JWS) the site's backend verifies; see docs/edge-api.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl EnrollResponse {
    /// Builds the answer; the age is rounded to whole years.
    pub fn new(facial_id: String, now_ms: u64, details: &EnrollDetails) -> Self {
        Self {
            facial_id,
            timestamp: format_iso8601_ms(now_ms),
            details: EnrolledDetails {
                gender: details.gender,
                age: details.age.round().clamp(0.0, 150.0) as u32,
            },
            token: None,
        }
    }
}

/// `POST authenticate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthenticateRequest {
    /// Challenge from `start` (or from a [`PinRequiredResponse`]).
    pub challenge_id: String,
    /// Base64 probe template.
    pub template: String,
    /// Liveness result.
    pub liveness: LivenessEvidence,
    /// PIN, when the edge asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
}

impl AuthenticateRequest {
    /// Validates the fields and decodes the probe template.
    pub fn validate(&self) -> Result<Template, Error> {
        check_challenge_id(&self.challenge_id)?;
        self.liveness.check()?;
        if let Some(pin) = &self.pin {
            // Weakness is judged at enrollment only; existing PINs must keep working.
            let lax = PinPolicy {
                min_len: 1,
                max_len: MAX_AUTH_PIN_LEN,
                reject_weak: false,
            };
            validate_pin(pin, &lax)?;
        }
        Template::from_base64(&self.template)
    }
}

/// Successful authentication (FACEIO's `userData`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticateResponse {
    /// Payload stored at enrollment (`null` if none).
    #[serde(default)]
    pub payload: Value,
    /// The user's facial ID.
    pub facial_id: String,
    /// Signed login token (compact JWS) the site's backend verifies; see docs/edge-api.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Authentication needs a PIN: resend template and PIN under `challengeId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinRequiredResponse {
    /// Always `true`; lets clients tell this answer apart.
    pub pin_required: bool,
    /// Why the PIN is needed.
    pub reason: PinReason,
    /// Fresh challenge for the follow-up request.
    pub challenge_id: String,
    /// ISO 8601 expiry of that challenge.
    pub expires_at: String,
    /// PIN attempts left before `WRONG_PIN_CODE`.
    pub attempts_remaining: u8,
    /// True when the previous request carried a wrong PIN.
    pub wrong_pin: bool,
}

impl PinRequiredResponse {
    /// Builds the answer for a follow-up challenge.
    pub fn new(
        reason: PinReason,
        next: &Challenge,
        attempts_remaining: u8,
        wrong_pin: bool,
    ) -> Self {
        Self {
            pin_required: true,
            reason,
            challenge_id: next.id.clone(),
            expires_at: format_iso8601_ms(next.expires_at_ms),
            attempts_remaining,
            wrong_pin,
        }
    }
}

/// Any successful answer to `POST authenticate` (untagged on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AuthenticateReply {
    /// A PIN is needed; tried first when parsing since only it has `pinRequired`.
    PinRequired(PinRequiredResponse),
    /// The user is authenticated.
    Authenticated(AuthenticateResponse),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::challenge::new_challenge;
    use crate::template::tests::test_embedding;
    use serde_json::json;

    const CID: &str = "00112233445566778899aabbccddeeff";

    fn enroll_json() -> Value {
        json!({
            "challengeId": CID,
            "templates": [test_embedding(1).to_template().to_base64()],
            "liveness": {"score": 0.9, "passed": true},
            "details": {"age": 31.6, "gender": "female"},
            "payload": {"whoami": 123456, "email": "john.doe@example.com"},
            "pin": "2749"
        })
    }

    #[test]
    fn start_request_shapes() {
        let r: StartRequest = serde_json::from_value(json!({"ceremony": "enroll"})).unwrap();
        assert_eq!(
            r,
            StartRequest {
                app_id: None,
                ceremony: Ceremony::Enroll,
                nonce: None,
            }
        );
        let r: StartRequest =
            serde_json::from_value(json!({"appId": "fioa1", "ceremony": "authenticate"})).unwrap();
        assert_eq!(r.app_id.as_deref(), Some("fioa1"));
        assert!(
            serde_json::from_value::<StartRequest>(json!({"ceremony": "enroll", "x": 1})).is_err()
        );
        assert!(serde_json::from_value::<StartRequest>(json!({"ceremony": "login"})).is_err());
    }

    #[test]
    fn start_response_carries_challenge() {
        let c = new_challenge(
            &[3; 32],
            "app",
            Ceremony::Enroll,
            1_795_689_547_123,
            1_000,
            2,
        );
        let r = StartResponse::new(&c, "nonce".into(), WidgetPolicy::default());
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["challengeId"], c.id);
        assert_eq!(v["expiresAt"], "2026-11-26T10:39:08.123Z");
        assert_eq!(v["policy"]["livenessMode"], "active");
        assert_eq!(v["policy"]["pinPolicy"]["minLen"], 4);
        assert_eq!(v["policy"]["actions"].as_array().unwrap().len(), 2);
        assert_eq!(v["policy"]["minAge"], Value::Null);
        assert_eq!(serde_json::from_value::<StartResponse>(v).unwrap(), r);
        // Policies from newer servers with extra fields still parse.
        let p: WidgetPolicy =
            serde_json::from_value(json!({"livenessMode": "passive", "new": 1})).unwrap();
        assert_eq!(p.liveness_mode, LivenessMode::Passive);
    }

    #[test]
    fn frame_policy_from_widget_policy() {
        let mut p = WidgetPolicy {
            min_age: Some(18),
            ..WidgetPolicy::default()
        };
        let f = p.frame_policy();
        assert_eq!(f.liveness_threshold, Some(LIVENESS_THRESHOLD));
        assert_eq!(f.min_age, Some(18.0));
        p.liveness_mode = LivenessMode::Off;
        assert_eq!(p.frame_policy().liveness_threshold, None);
    }

    #[test]
    fn enroll_request_validates() {
        let r: EnrollRequest = serde_json::from_value(enroll_json()).unwrap();
        let templates = r.validate(&PinPolicy::default()).unwrap();
        assert_eq!(templates.len(), 1);

        let bad = |f: &dyn Fn(&mut Value)| {
            let mut v = enroll_json();
            f(&mut v);
            serde_json::from_value::<EnrollRequest>(v)
                .map_err(|e| Error::BadRequest(e.to_string()))
                .and_then(|r| r.validate(&PinPolicy::default()))
                .unwrap_err()
        };
        assert!(bad(&|v| v["extra"] = json!(1)).is_client_error());
        assert!(bad(&|v| v["liveness"]["extra"] = json!(1)).is_client_error());
        assert!(bad(&|v| v["templates"] = json!([])).is_client_error());
        let nine = vec![test_embedding(1).to_template().to_base64(); 9];
        assert!(bad(&|v| v["templates"] = json!(nine)).is_client_error());
        assert_eq!(
            bad(&|v| v["templates"] = json!(["AAAA"])),
            Error::InvalidTemplate("wrong length")
        );
        assert!(bad(&|v| v["pin"] = json!("1111")).is_client_error());
        assert!(bad(&|v| v["challengeId"] = json!("short")).is_client_error());
        assert!(bad(&|v| v["liveness"]["score"] = json!(1.5)).is_client_error());
        assert!(bad(&|v| v["details"]["age"] = json!(-1)).is_client_error());
        assert!(bad(&|v| v["details"]["gender"] = json!("other")).is_client_error());
        let huge = "x".repeat(MAX_PAYLOAD_BYTES);
        assert!(matches!(
            bad(&|v| v["payload"] = json!(huge)),
            Error::PayloadTooLarge { .. }
        ));
        // Payload is optional and defaults to null.
        let mut v = enroll_json();
        v.as_object_mut().unwrap().remove("payload");
        let r: EnrollRequest = serde_json::from_value(v).unwrap();
        assert_eq!(r.payload, Value::Null);
    }

    #[test]
    fn payload_limit_is_exact() {
        // A JSON string costs its characters plus two quotes.
        let at_limit = Value::String("a".repeat(MAX_PAYLOAD_BYTES - 2));
        assert_eq!(validate_payload(&at_limit), Ok(MAX_PAYLOAD_BYTES));
        let over = Value::String("a".repeat(MAX_PAYLOAD_BYTES - 1));
        assert_eq!(
            validate_payload(&over),
            Err(Error::PayloadTooLarge {
                size: MAX_PAYLOAD_BYTES + 1,
                max: MAX_PAYLOAD_BYTES
            })
        );
        assert_eq!(validate_payload(&Value::Null), Ok(4));
    }

    #[test]
    fn payload_nesting_is_limited() {
        let nested = |n: usize| -> Value {
            let text = format!("{}{}", "[".repeat(n), "]".repeat(n));
            serde_json::from_str(&text).unwrap()
        };
        assert_eq!(json_depth(&Value::Null), 0);
        assert_eq!(
            json_depth(&serde_json::json!({"a": [1, {"b": {}}], "c": 2})),
            4
        );
        assert!(validate_payload(&nested(MAX_PAYLOAD_DEPTH)).is_ok());
        assert!(matches!(
            validate_payload(&nested(MAX_PAYLOAD_DEPTH + 1)),
            Err(Error::BadRequest(_))
        ));
        // The deepest accepted payload survives several more wrapping levels.
        let wrapped = serde_json::json!({"ok": {"reply": {"payload": nested(MAX_PAYLOAD_DEPTH)}}});
        let text = serde_json::to_string(&wrapped).unwrap();
        assert!(serde_json::from_str::<Value>(&text).is_ok());
    }

    #[test]
    fn enroll_response_shape() {
        let d = EnrollDetails {
            age: 31.6,
            gender: Gender::Male,
        };
        let r = EnrollResponse::new("00112233-4455-4677-8899-aabbccddeeff".into(), 0, &d);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({
                "facialId": "00112233-4455-4677-8899-aabbccddeeff",
                "timestamp": "1970-01-01T00:00:00.000Z",
                "details": {"gender": "male", "age": 32}
            })
        );
    }

    #[test]
    fn authenticate_request_validates() {
        let t = test_embedding(2).to_template();
        let ok = json!({"challengeId": CID, "template": t.to_base64(), "liveness": {"score": 0.7, "passed": true}});
        let r: AuthenticateRequest = serde_json::from_value(ok.clone()).unwrap();
        assert_eq!(r.pin, None);
        assert_eq!(r.validate().unwrap(), t);
        let mut with_pin = ok.clone();
        with_pin["pin"] = json!("1111");
        let r: AuthenticateRequest = serde_json::from_value(with_pin.clone()).unwrap();
        assert!(r.validate().is_ok(), "weak PINs still authenticate");
        with_pin["pin"] = json!("12ab");
        let r: AuthenticateRequest = serde_json::from_value(with_pin).unwrap();
        assert!(r.validate().unwrap_err().is_client_error());
        let mut nan = ok;
        nan["liveness"]["score"] = json!(-0.1);
        let r: AuthenticateRequest = serde_json::from_value(nan).unwrap();
        assert!(r.validate().is_err());
    }

    #[test]
    fn authenticate_replies_round_trip_untagged() {
        let ok = AuthenticateReply::Authenticated(AuthenticateResponse {
            payload: json!({"whoami": 123456}),
            facial_id: "id".into(),
            token: None,
        });
        let v = serde_json::to_value(&ok).unwrap();
        assert_eq!(v, json!({"payload": {"whoami": 123456}, "facialId": "id"}));
        assert_eq!(serde_json::from_value::<AuthenticateReply>(v).unwrap(), ok);

        let next = new_challenge(&[4; 32], "app", Ceremony::Authenticate, 0, 1_000, 0);
        let pin = AuthenticateReply::PinRequired(PinRequiredResponse::new(
            PinReason::Collision,
            &next,
            3,
            false,
        ));
        let v = serde_json::to_value(&pin).unwrap();
        assert_eq!(v["pinRequired"], true);
        assert_eq!(v["reason"], "collision");
        assert_eq!(v["challengeId"], next.id);
        assert_eq!(serde_json::from_value::<AuthenticateReply>(v).unwrap(), pin);
    }

    #[test]
    fn parse_request_maps_errors() {
        let r: StartRequest = parse_request(br#"{"ceremony":"enroll"}"#).unwrap();
        assert_eq!(r.ceremony, Ceremony::Enroll);
        assert!(matches!(
            parse_request::<StartRequest>(b"{"),
            Err(Error::BadRequest(_))
        ));
        let big = vec![b' '; MAX_REQUEST_BYTES + 1];
        assert_eq!(
            parse_request::<StartRequest>(&big)
                .unwrap_err()
                .http_status(),
            413
        );
    }

    #[test]
    fn challenge_id_format() {
        assert!(is_valid_challenge_id(CID));
        assert!(!is_valid_challenge_id(&CID.to_uppercase()));
        assert!(!is_valid_challenge_id(&CID[1..]));
    }

    #[test]
    fn site_nonces_are_bounded_visible_ascii() {
        assert!(validate_nonce("sess-4f9a_1.2").is_ok());
        assert!(validate_nonce(&"n".repeat(MAX_NONCE_LEN)).is_ok());
        assert!(validate_nonce("").is_err());
        assert!(validate_nonce(&"n".repeat(MAX_NONCE_LEN + 1)).is_err());
        assert!(validate_nonce("two words").is_err());
        assert!(validate_nonce("line\nbreak").is_err());
        assert!(validate_nonce("caf\u{e9}").is_err());
        let r: StartRequest =
            parse_request(br#"{"ceremony":"authenticate","nonce":"abc"}"#).unwrap();
        assert_eq!(r.nonce.as_deref(), Some("abc"));
    }
}
