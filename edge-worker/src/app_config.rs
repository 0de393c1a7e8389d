//! Application settings (FACEIO's console options plus thresholds and quotas), status and the
//! record the app's Durable Object keeps.

use fio_core::protocol::LivenessMode;
use fio_core::{MatchPolicy, PinPolicy, WidgetPolicy, MATCH_THRESHOLD, PIN_MARGIN};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{EdgeError, EdgeResult};

/// Default widget requests per app per minute.
pub const DEFAULT_QUOTA_PER_MINUTE: u32 = 600;
/// Default widget requests per client IP (per app) per minute.
pub const DEFAULT_IP_QUOTA_PER_MINUTE: u32 = 60;
/// Default REST requests per app per minute.
pub const DEFAULT_REST_QUOTA_PER_MINUTE: u32 = 600;
/// Active-liveness prompts per challenge in `active` mode. A screen replay of a real session
/// that turns and nods on its own passed 1.1 % of random 3-action challenges in
/// `fio liveness-eval` and none of 4-action ones (~2 s per prompt for a person).
pub const ACTIVE_LIVENESS_ACTIONS: usize = 4;
/// Longest accepted app name.
pub const MAX_NAME_LEN: usize = 200;
/// Longest allow-lists.
const MAX_LIST_LEN: usize = 256;

/// An application's status; only `active` apps serve the widget API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppStatus {
    /// Serving.
    #[default]
    Active,
    /// Temporarily disabled by the operator.
    Paused,
    /// Disabled for abuse or non-payment.
    Blocked,
}

/// Everything an operator can configure. Unknown fields are rejected, missing ones default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct AppOptions {
    /// Reject repeated, sequential and common PINs at enrollment.
    pub reject_weak_pins: bool,
    /// Refuse to enroll a face that already matches an enrolled user.
    pub prevent_duplicates: bool,
    /// How liveness is checked.
    pub liveness_mode: LivenessMode,
    /// Edge re-verification (active mode): the widget sends a few face crops of the challenge,
    /// sealed to this ceremony, and the edge re-measures them with the same models instead of
    /// trusting the widget's report. Off by default: a privacy trade-off (face crops reach the
    /// edge, for the length of one request).
    pub reverify_liveness: bool,
    /// Minimum age in years (`null` allows minors).
    pub min_age: Option<u8>,
    /// Ask for the PIN on every authentication.
    pub always_ask_pin: bool,
    /// PINs must be unique within the application.
    pub enforce_pin_uniqueness: bool,
    /// Let the widget skip obscured faces instead of failing.
    pub ignore_obscured_faces: bool,
    /// Refuse widget requests carrying neither `Origin` nor `Referer`.
    pub reject_empty_origin: bool,
    /// Allowed origin hosts (`example.com`, `*.example.com`); empty allows any.
    pub allowed_origins: Vec<String>,
    /// Allowed ISO 3166 country codes (from `CF-IPCountry`); empty allows any.
    pub allowed_countries: Vec<String>,
    /// Where enroll/auth/deletion events are POSTed (`null` = none).
    pub webhook_url: Option<String>,
    /// Cosine similarity at or above which a probe matches.
    pub match_threshold: f64,
    /// Widget requests per minute for the whole app.
    pub quota_per_minute: u32,
    /// Widget requests per minute per client IP.
    pub ip_quota_per_minute: u32,
    /// REST requests per minute for the whole app.
    pub rest_quota_per_minute: u32,
    /// Widget locale fallback.
    pub default_locale: String,
}

impl Default for AppOptions {
    fn default() -> Self {
        let w = WidgetPolicy::default();
        Self {
            reject_weak_pins: true,
            prevent_duplicates: w.prevent_duplicates,
            liveness_mode: w.liveness_mode,
            reverify_liveness: false,
            min_age: None,
            always_ask_pin: false,
            enforce_pin_uniqueness: false,
            ignore_obscured_faces: false,
            reject_empty_origin: false,
            allowed_origins: Vec::new(),
            allowed_countries: Vec::new(),
            webhook_url: None,
            // Via the shortest decimal form, so JSON shows 0.55 rather than 0.550000011920929.
            match_threshold: MATCH_THRESHOLD.to_string().parse().unwrap_or(0.55),
            quota_per_minute: DEFAULT_QUOTA_PER_MINUTE,
            ip_quota_per_minute: DEFAULT_IP_QUOTA_PER_MINUTE,
            rest_quota_per_minute: DEFAULT_REST_QUOTA_PER_MINUTE,
            default_locale: w.default_locale,
        }
    }
}

impl AppOptions {
    /// Parses a full or partial options object over the defaults.
    pub fn from_json(v: Option<&Value>) -> EdgeResult<Self> {
        Self::default().patched(v)
    }

    /// This options object with the given fields replaced (unknown fields → 400).
    pub fn patched(&self, patch: Option<&Value>) -> EdgeResult<Self> {
        let mut merged = serde_json::to_value(self)?;
        match patch {
            None | Some(Value::Null) => {}
            Some(Value::Object(fields)) => {
                if let Value::Object(m) = &mut merged {
                    for (k, v) in fields {
                        m.insert(k.clone(), v.clone());
                    }
                }
            }
            Some(_) => return Err(EdgeError::bad_request("options must be an object")),
        }
        let opts: Self = serde_json::from_value(merged)
            .map_err(|e| EdgeError::bad_request(format!("invalid options: {e}")))?;
        opts.validated()
    }

    /// Range checks and normalisation (country codes upper-case, origins lower-case).
    pub fn validated(mut self) -> EdgeResult<Self> {
        let bad = |m: &str| Err(EdgeError::bad_request(format!("invalid options: {m}")));
        if !(self.match_threshold.is_finite()
            && self.match_threshold > 0.0
            && self.match_threshold <= 1.0)
        {
            return bad("matchThreshold must be within (0, 1]");
        }
        if self.quota_per_minute == 0
            || self.ip_quota_per_minute == 0
            || self.rest_quota_per_minute == 0
        {
            return bad("quotas must be at least 1");
        }
        if self.min_age.is_some_and(|a| a > 150) {
            return bad("minAge must be within 0..150");
        }
        if self.allowed_origins.len() > MAX_LIST_LEN || self.allowed_countries.len() > MAX_LIST_LEN
        {
            return bad("allow-lists hold at most 256 entries");
        }
        for c in &mut self.allowed_countries {
            *c = c.trim().to_ascii_uppercase();
            if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                return bad("allowedCountries holds two-letter country codes");
            }
        }
        for o in &mut self.allowed_origins {
            *o = crate::gate::normalize_origin_rule(o).ok_or_else(|| {
                EdgeError::bad_request(format!("invalid options: bad origin rule `{o}`"))
            })?;
        }
        if let Some(url) = &self.webhook_url {
            let ok = worker::Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
            if !ok {
                return bad("webhookUrl must be an http(s) URL");
            }
        }
        if self.default_locale.is_empty() || self.default_locale.len() > 35 {
            return bad("defaultLocale must be a language tag");
        }
        Ok(self)
    }

    /// PIN rules at enrollment.
    pub fn pin_policy(&self) -> PinPolicy {
        PinPolicy {
            reject_weak: self.reject_weak_pins,
            ..PinPolicy::default()
        }
    }

    /// Match threshold as the matcher uses it.
    pub fn threshold(&self) -> f32 {
        self.match_threshold as f32
    }

    /// Match threshold and PIN margin.
    pub fn match_policy(&self) -> MatchPolicy {
        MatchPolicy {
            threshold: self.match_threshold as f32,
            pin_margin: PIN_MARGIN,
        }
    }

    /// What the widget must apply (actions are filled in from the challenge).
    pub fn widget_policy(&self) -> WidgetPolicy {
        WidgetPolicy {
            liveness_mode: self.liveness_mode,
            min_age: self.min_age,
            pin_policy: self.pin_policy(),
            always_ask_pin: self.always_ask_pin,
            prevent_duplicates: self.prevent_duplicates,
            enforce_pin_uniqueness: self.enforce_pin_uniqueness,
            ignore_obscured_faces: self.ignore_obscured_faces,
            default_locale: self.default_locale.clone(),
            actions: Vec::new(),
        }
    }

    /// True when each ceremony must carry evidence crops for edge re-verification.
    pub fn requires_evidence(&self) -> bool {
        self.reverify_liveness && self.liveness_mode == LivenessMode::Active
    }

    /// Prompted actions per challenge.
    pub fn action_count(&self) -> usize {
        if self.liveness_mode == LivenessMode::Active {
            ACTIVE_LIVENESS_ACTIONS
        } else {
            0
        }
    }
}

/// What the Durable Object stores under `config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRecord {
    /// Public ID (the Durable Object's name).
    pub public_id: String,
    /// Display name.
    pub name: String,
    /// Status.
    pub status: AppStatus,
    /// Options.
    pub options: AppOptions,
    /// Lowercase hex SHA-256 of the REST API key.
    pub api_key_hash: String,
    /// Standard Webhooks signing secret (`whsec_…`).
    pub webhook_secret: String,
    /// Unix ms of creation.
    pub created_at_ms: u64,
}

impl AppRecord {
    /// The operator's view (no key hash, no webhook secret).
    pub fn public_view(&self) -> Value {
        serde_json::json!({
            "publicId": self.public_id,
            "name": self.name,
            "status": self.status,
            "options": self.options,
        })
    }
}

/// `PATCH /admin/apps/{id}` body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppPatch {
    /// New status.
    #[serde(default)]
    pub status: Option<AppStatus>,
    /// Options to change (partial).
    #[serde(default)]
    pub options: Option<Value>,
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
}

/// `POST /admin/apps` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppCreate {
    /// Display name.
    pub name: String,
    /// Options (partial; defaults fill the rest).
    #[serde(default)]
    pub options: Option<Value>,
}

/// Checks an app name.
pub fn validate_name(name: &str) -> EdgeResult<()> {
    if name.trim().is_empty() || name.len() > MAX_NAME_LEN {
        Err(EdgeError::bad_request("name must be 1 to 200 bytes"))
    } else {
        Ok(())
    }
}

/// True for a public ID this deployment accepts: 1–64 of `[A-Za-z0-9_-]`.
pub fn is_valid_public_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_patches() {
        let d = AppOptions::from_json(None).unwrap();
        assert_eq!(d, AppOptions::default());
        let v = serde_json::to_value(&d).unwrap();
        for key in [
            "rejectWeakPins",
            "preventDuplicates",
            "livenessMode",
            "minAge",
            "alwaysAskPin",
            "enforcePinUniqueness",
            "ignoreObscuredFaces",
            "rejectEmptyOrigin",
            "allowedOrigins",
            "allowedCountries",
            "webhookUrl",
            "matchThreshold",
            "quotaPerMinute",
            "ipQuotaPerMinute",
            "defaultLocale",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        let p = d
            .patched(Some(
                &json!({"livenessMode": "off", "allowedCountries": ["fr"], "minAge": 18}),
            ))
            .unwrap();
        assert_eq!(p.liveness_mode, LivenessMode::Off);
        assert_eq!(p.allowed_countries, vec!["FR"]);
        assert_eq!(p.min_age, Some(18));
        assert!(p.reject_weak_pins);
        assert!(d.patched(Some(&json!({"nope": 1}))).is_err());
        assert!(d.patched(Some(&json!({"matchThreshold": 0}))).is_err());
        assert!(d.patched(Some(&json!({"matchThreshold": 1.5}))).is_err());
        assert!(d.patched(Some(&json!({"quotaPerMinute": 0}))).is_err());
        assert!(d.patched(Some(&json!({"livenessMode": "strict"}))).is_err());
        assert!(d.patched(Some(&json!({"webhookUrl": "ftp://x"}))).is_err());
        assert!(d
            .patched(Some(&json!({"webhookUrl": "http://127.0.0.1:9/h"})))
            .is_ok());
        assert!(d
            .patched(Some(&json!({"allowedCountries": ["FRA"]})))
            .is_err());
        assert!(d.patched(Some(&json!([1]))).is_err());
        assert!(d.patched(Some(&json!({"minAge": null}))).is_ok());
    }

    #[test]
    fn public_ids() {
        assert!(is_valid_public_id("fioa1b2c3d4"));
        assert!(is_valid_public_id("demo-app_1"));
        assert!(!is_valid_public_id(""));
        assert!(!is_valid_public_id("a/b"));
        assert!(!is_valid_public_id(&"a".repeat(65)));
    }

    #[test]
    fn policies() {
        let o = AppOptions {
            liveness_mode: LivenessMode::Active,
            reject_weak_pins: false,
            ..AppOptions::default()
        };
        assert_eq!(o.action_count(), ACTIVE_LIVENESS_ACTIONS);
        assert!(!o.widget_policy().pin_policy.reject_weak);
        // New apps prompt (active liveness is the default); passive and off never do.
        assert_eq!(
            AppOptions::default().action_count(),
            ACTIVE_LIVENESS_ACTIONS
        );
        let passive = AppOptions {
            liveness_mode: LivenessMode::Passive,
            ..AppOptions::default()
        };
        assert_eq!(passive.action_count(), 0);
    }
}
