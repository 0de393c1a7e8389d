//! Webhook events, signed in the Standard Webhooks style and delivered after the response.
//!
//! Headers: `webhook-id`, `webhook-timestamp` (unix seconds) and
//! `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, where the key is
//! the base64 part of the app's `whsec_…` secret decoded (as Standard Webhooks libraries do).

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use fio_core::format_iso8601_ms;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::crypto::{hex, hmac_sha256, random_array};
use crate::error::EdgeResult;
use crate::kv_records::StoredDetails;

/// Per-attempt timeout.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(6);
/// Attempts per event.
pub const MAX_ATTEMPTS: usize = 3;
/// Pause before the 2nd and 3rd attempts.
const BACKOFF: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(4)];

/// Prefix of webhook secrets.
const SECRET_PREFIX: &str = "whsec_";

/// One event to deliver; travels from the Durable Object to the front worker, which sends it
/// in `waitUntil` so delivery never delays the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookJob {
    /// Destination.
    pub url: String,
    /// The app's signing secret.
    pub secret: String,
    /// Event JSON.
    pub body: Value,
}

/// Event names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A user enrolled.
    Enroll,
    /// A user authenticated.
    Auth,
    /// A facial ID was deleted.
    Deletion,
}

impl Event {
    fn name(self) -> &'static str {
        match self {
            Self::Enroll => "enroll",
            Self::Auth => "auth",
            Self::Deletion => "deletion",
        }
    }
}

/// A fresh `whsec_…` secret (32 random bytes).
pub fn new_secret() -> EdgeResult<String> {
    let key: [u8; 32] = random_array()?;
    Ok(format!("{SECRET_PREFIX}{}", B64.encode(key)))
}

/// The HMAC key of a secret: its base64 part decoded (raw bytes if it is not base64).
fn signing_key(secret: &str) -> Vec<u8> {
    let b = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    B64.decode(b).unwrap_or_else(|_| secret.as_bytes().to_vec())
}

/// `v1,<base64 signature>` of `{id}.{timestamp}.{body}`.
pub fn sign(secret: &str, id: &str, timestamp: u64, body: &str) -> String {
    let mac = hmac_sha256(
        &signing_key(secret),
        &[
            id.as_bytes(),
            b".",
            timestamp.to_string().as_bytes(),
            b".",
            body.as_bytes(),
        ],
    );
    format!("v1,{}", B64.encode(mac))
}

/// The event body: `{eventName, facialId, appId, clientIp, details: {timestamp, gender, age}}`.
pub fn event_body(
    event: Event,
    facial_id: &str,
    app_id: &str,
    client_ip: &str,
    now_ms: u64,
    details: StoredDetails,
) -> Value {
    json!({
        "eventName": event.name(),
        "facialId": facial_id,
        "appId": app_id,
        "clientIp": client_ip,
        "details": {
            "timestamp": format_iso8601_ms(now_ms),
            "gender": details.gender,
            "age": details.age,
        }
    })
}

/// Sends the event: up to [`MAX_ATTEMPTS`] attempts, each aborted after [`ATTEMPT_TIMEOUT`].
/// Failures are logged, never surfaced.
pub async fn deliver(job: WebhookJob) {
    let Ok(id_bytes) = random_array::<16>() else {
        return;
    };
    let id = format!("msg_{}", hex(&id_bytes));
    let timestamp = worker::Date::now().as_millis() / 1000;
    let body = job.body.to_string();
    let signature = sign(&job.secret, &id, timestamp, &body);
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            worker::Delay::from(BACKOFF[(attempt - 1).min(BACKOFF.len() - 1)]).await;
        }
        match attempt_once(&job.url, &id, timestamp, &signature, &body).await {
            Ok(status) if (200..300).contains(&status) => return,
            Ok(status) => worker::console_warn!("webhook {id}: HTTP {status} (attempt {attempt})"),
            Err(e) => worker::console_warn!("webhook {id}: {e} (attempt {attempt})"),
        }
    }
}

async fn attempt_once(
    url: &str,
    id: &str,
    timestamp: u64,
    signature: &str,
    body: &str,
) -> Result<u16, String> {
    use futures_util::future::{select, Either};
    let headers = worker::Headers::new();
    let set = |k: &str, v: &str| headers.set(k, v).map_err(|e| e.to_string());
    set("content-type", "application/json")?;
    set("user-agent", "OpenFIO-Webhooks/1")?;
    set("webhook-id", id)?;
    set("webhook-timestamp", &timestamp.to_string())?;
    set("webhook-signature", signature)?;
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post)
        .with_headers(headers)
        .with_body(Some(worker::wasm_bindgen::JsValue::from_str(body)));
    let req = worker::Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    let fetch = worker::Fetch::Request(req);
    let outcome = {
        let send = Box::pin(fetch.send_with_signal(&signal));
        let timeout = Box::pin(worker::Delay::from(ATTEMPT_TIMEOUT));
        match select(send, timeout).await {
            Either::Left((res, _)) => Some(res.map(|r| r.status_code()).map_err(|e| e.to_string())),
            Either::Right(((), _)) => None,
        }
    };
    outcome.unwrap_or_else(|| {
        controller.abort();
        Err("timed out".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_standard_webhooks_vector() {
        // Test vector from the Standard Webhooks specification's reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let ts = 1614265330;
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, id, ts, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_fresh_and_prefixed() {
        let a = new_secret().unwrap();
        assert!(a.starts_with("whsec_"));
        assert_eq!(signing_key(&a).len(), 32);
        assert_ne!(a, new_secret().unwrap());
    }

    #[test]
    fn body_shape() {
        let d = StoredDetails {
            gender: fio_core::protocol::Gender::Male,
            age: 40,
        };
        let v = event_body(Event::Auth, "fid", "app", "1.2.3.4", 0, d);
        assert_eq!(v["eventName"], "auth");
        assert_eq!(v["details"]["timestamp"], "1970-01-01T00:00:00.000Z");
        assert_eq!(v["details"]["gender"], "male");
        assert_eq!(v["clientIp"], "1.2.3.4");
    }
}
