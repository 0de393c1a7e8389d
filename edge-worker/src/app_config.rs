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
/// Active-liveness prompts per challenge in `active` mode (the bench draws the same count).
pub use fio_core::ACTIVE_ACTIONS_PER_CHALLENGE as ACTIVE_LIVENESS_ACTIONS;
/// Longest accepted consent text (characters).
pub const MAX_TERMS_CHARS: usize = 4000;
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
    /// Also authenticate webhooks FACEIO's way: the app's webhook token in a `WWW-Authenticate`
    /// header (next to the Standard Webhooks signature), so a receiver written for FACEIO
    /// works unchanged.
    pub faceio_webhook_token: bool,
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
    /// The consent text the widget shows instead of its default terms (the app's own retention
    /// policy, in the app's language); `null` keeps the default.
    pub terms_text: Option<String>,
    /// The app's privacy policy (https), linked from the consent screen; `null` for none.
    pub privacy_policy_url: Option<String>,
    /// Lifetime of the signed login token handed out after a ceremony, in seconds
    /// (`token::MIN_TOKEN_TTL_SECONDS`..=`token::MAX_TOKEN_TTL_SECONDS`).
    pub token_ttl_seconds: u32,
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
            faceio_webhook_token: false,
            // Via the shortest decimal form, so JSON shows 0.55 rather than 0.550000011920929.
            match_threshold: MATCH_THRESHOLD.to_string().parse().unwrap_or(0.55),
            quota_per_minute: DEFAULT_QUOTA_PER_MINUTE,
            ip_quota_per_minute: DEFAULT_IP_QUOTA_PER_MINUTE,
            rest_quota_per_minute: DEFAULT_REST_QUOTA_PER_MINUTE,
            default_locale: w.default_locale,
            terms_text: None,
            privacy_policy_url: None,
            token_ttl_seconds: crate::token::MAX_TOKEN_TTL_SECONDS,
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
        if !(crate::token::MIN_TOKEN_TTL_SECONDS..=crate::token::MAX_TOKEN_TTL_SECONDS)
            .contains(&self.token_ttl_seconds)
        {
            return bad("tokenTtlSeconds must be within 5..120");
        }
        if let Some(t) = &self.terms_text {
            if t.trim().is_empty() || t.chars().count() > MAX_TERMS_CHARS {
                return bad("termsText must be 1 to 4000 characters");
            }
            if t.chars().any(|c| c.is_control() && c != '\n') {
                return bad("termsText may not contain control characters (line breaks are fine)");
            }
        }
        if let Some(url) = &self.privacy_policy_url {
            let ok = url.len() <= 2048
                && worker::Url::parse(url)
                    .is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some());
            if !ok {
                return bad("privacyPolicyUrl must be an https URL");
            }
        }
        if self.default_locale.is_empty() || self.default_locale.len() > 35 {
            return bad("defaultLocale must be a language tag");
        }
        Ok(self)
    }

    /// What an operator must hear about these options (returned by app creation).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.allowed_origins.is_empty() || self.allowed_origins.iter().any(|o| o == "*") {
            out.push(
                "allowedOrigins is empty: any website can run the widget with this app's public ID \
                 (set allowedOrigins to your site's origins, e.g. [\"https://example.com\"])"
                    .to_owned(),
            );
        }
        out
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
            terms_text: self.terms_text.clone(),
            privacy_policy_url: self.privacy_policy_url.clone(),
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
    /// Versions of the login-token signing key (records made before tokens existed: v1).
    #[serde(default)]
    pub signing: SigningKeys,
    /// Gallery shard objects the templates are spread over (fixed at creation; 1: the app's own
    /// object holds them, as before sharding existed).
    #[serde(default = "one_shard")]
    pub gallery_shards: u32,
    /// SHA-256 of the API key before the last rotation, valid until its grace period ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_api_key: Option<Previous>,
    /// The webhook secret before the last rotation: events are signed with both until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_webhook_secret: Option<Previous>,
}

/// A rotated-out credential and the end of its grace period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Previous {
    /// The API key's SHA-256 (hex), or the webhook secret.
    pub value: String,
    /// Unix ms from which it is no longer accepted / used.
    pub until_ms: u64,
}

/// Grace period of a rotated API key or webhook secret when the operator gives none (seconds).
pub const DEFAULT_ROTATION_GRACE_SECONDS: u64 = 600;
/// Longest grace period an operator may give (a week).
pub const MAX_ROTATION_GRACE_SECONDS: u64 = 7 * 24 * 3600;

/// Which versions of an app's token-signing key are in use (the keys themselves are derived:
/// `token::signing_key`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningKeys {
    /// The version new tokens are signed with.
    pub current: u32,
    /// Earlier versions still published in the JWK Set until their last token has expired.
    #[serde(default)]
    pub retired: Vec<RetiredKey>,
}

impl Default for SigningKeys {
    fn default() -> Self {
        Self {
            current: 1,
            retired: Vec::new(),
        }
    }
}

/// A rotated-out signing key version and when its last token expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetiredKey {
    /// Key version.
    pub version: u32,
    /// Unix ms after which no token signed with it can still be valid.
    pub until_ms: u64,
}

impl SigningKeys {
    /// The versions a token may be verified with at `now_ms`, current first.
    pub fn live(&self, now_ms: u64) -> Vec<u32> {
        std::iter::once(self.current)
            .chain(
                self.retired
                    .iter()
                    .filter(|r| r.until_ms > now_ms)
                    .map(|r| r.version),
            )
            .collect()
    }

    /// Starts signing with a new version; the current one stays verifiable until every token
    /// it can have signed has expired (`max_ttl_ms` plus a minute of clock skew).
    pub fn rotate(&mut self, now_ms: u64, max_ttl_ms: u64) {
        self.retired.retain(|r| r.until_ms > now_ms);
        self.retired.push(RetiredKey {
            version: self.current,
            until_ms: now_ms + max_ttl_ms + 60_000,
        });
        self.current += 1;
    }
}

impl AppRecord {
    /// The operator's view (no key hash, no webhook secret).
    pub fn public_view(&self) -> Value {
        serde_json::json!({
            "publicId": self.public_id,
            "name": self.name,
            "status": self.status,
            "options": self.options,
            "galleryShards": self.gallery_shards,
        })
    }
}

fn one_shard() -> u32 {
    1
}

/// Most gallery shards an app may have.
pub const MAX_GALLERY_SHARDS: u32 = 64;
/// Faces one gallery shard object holds at most: at the 466 heap bytes per face the gallery
/// accounts for (int8 row, norm, facial ID twice, metadata; `bash scripts/bench-edge.sh
/// --scale`), 120,000 faces are 56 MB, under half a Durable Object's 128 MB, leaving room for
/// the pages parsed while loading.
pub const MAX_FACES_PER_SHARD: usize = 120_000;

/// Checks `galleryShards` of `POST /admin/apps` (default 1).
pub fn validate_gallery_shards(n: Option<u32>) -> EdgeResult<u32> {
    match n {
        None => Ok(1),
        Some(n) if (1..=MAX_GALLERY_SHARDS).contains(&n) => Ok(n),
        Some(_) => Err(EdgeError::bad_request(format!(
            "galleryShards must be 1 to {MAX_GALLERY_SHARDS}"
        ))),
    }
}

/// `PATCH /admin/apps/{id}` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppCreate {
    /// Display name.
    pub name: String,
    /// Gallery shards (1 to [`MAX_GALLERY_SHARDS`]); fixed for the app's lifetime.
    #[serde(default)]
    pub gallery_shards: Option<u32>,
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

    #[test]
    fn rotated_keys_stay_verifiable_until_their_tokens_expire() {
        let mut k = SigningKeys::default();
        assert_eq!(k.live(0), vec![1]);
        k.rotate(1_000, 120_000);
        assert_eq!(k.current, 2);
        assert_eq!(k.live(1_000), vec![2, 1]);
        assert_eq!(k.live(181_000 - 1), vec![2, 1]);
        assert_eq!(k.live(181_000), vec![2]);
        k.rotate(200_000, 120_000);
        assert_eq!(
            k.retired.len(),
            1,
            "expired versions are dropped on rotation"
        );
        assert_eq!(k.live(200_000), vec![3, 2]);
        let old: AppRecord = serde_json::from_value(serde_json::json!({
            "publicId": "a", "name": "n", "status": "active", "options": AppOptions::default(),
            "apiKeyHash": "h", "webhookSecret": "w", "createdAtMs": 0
        }))
        .unwrap();
        assert_eq!(old.signing, SigningKeys::default());
        assert!(AppOptions::from_json(Some(&serde_json::json!({"tokenTtlSeconds": 4}))).is_err());
        assert!(AppOptions::from_json(Some(&serde_json::json!({"tokenTtlSeconds": 121}))).is_err());
        assert!(AppOptions::from_json(Some(&serde_json::json!({"tokenTtlSeconds": 5}))).is_ok());
    }
}
