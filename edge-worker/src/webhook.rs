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
    /// FACEIO-style token for the `WWW-Authenticate` header (app option `faceioWebhookToken`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faceio_token: Option<String>,
    /// The secret before the last rotation, while its grace period lasts: the event is signed
    /// with both (Standard Webhooks' space-separated signatures), so receivers can switch over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<String>,
}

/// What became of one event (kept by the app's Durable Object for the operator console).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// The event's `eventName`.
    pub event: String,
    /// When the last attempt ended (Unix ms).
    pub at_ms: u64,
    /// HTTP status of the last attempt, when the receiver answered.
    pub status: Option<u16>,
    /// True when the receiver answered 2xx.
    pub ok: bool,
    /// Attempts made.
    pub attempts: u8,
    /// Why it failed, when it did without an HTTP answer (timeout, refused URL, network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
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
    /// Wrong PINs locked a facial ID's PIN entry (so the user can be told someone tried).
    PinLockout,
    /// Sent from the operator console to check the receiver.
    Test,
}

impl Event {
    fn name(self) -> &'static str {
        match self {
            Self::Enroll => "enroll",
            Self::Auth => "auth",
            Self::Deletion => "deletion",
            Self::PinLockout => "pinLockout",
            Self::Test => "test",
        }
    }
}

/// Deployment setting (`[vars]` or `.dev.vars`) that lets webhooks go to `http://` on loopback
/// hosts, for local development only; unset in production.
pub const ALLOW_LOCAL_HTTP: &str = "WEBHOOK_ALLOW_LOCAL_HTTP";

/// True when the deployment opted in to loopback `http://` webhooks.
pub fn local_http_allowed(env: &worker::Env) -> bool {
    env.var(ALLOW_LOCAL_HTTP)
        .map(|v| matches!(v.to_string().trim(), "1" | "true" | "yes"))
        .unwrap_or(false)
}

/// Why an IP literal may not receive webhooks: loopback, private, link-local, unspecified,
/// shared (CGNAT), multicast or broadcast, IPv4 and IPv6 (mapped IPv4 included).
fn blocked_ip(ip: std::net::IpAddr) -> Option<&'static str> {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() || (o[0] == 100 && (64..128).contains(&o[1])) {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast() || o[0] == 0 {
                Some("non-routable")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return blocked_ip(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if first & 0xfe00 == 0xfc00 {
                Some("private")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if v6.is_unspecified() || v6.is_multicast() {
                Some("non-routable")
            } else {
                None
            }
        }
    }
}

/// Checks a webhook URL: `https://` to a public host. IP literals in private, loopback and
/// link-local ranges are refused (a DNS name that resolves to one cannot be checked inside a
/// Worker). `allow_local_http` (development) admits `http://` and `https://` to loopback hosts.
pub fn check_url(url: &str, allow_local_http: bool) -> Result<(), String> {
    let u = worker::Url::parse(url.trim()).map_err(|_| "webhookUrl is not a URL".to_owned())?;
    let host = match u.host() {
        Some(h) => h,
        None => return Err("webhookUrl has no host".into()),
    };
    let ip = match host {
        worker::url::Host::Ipv4(v4) => Some(std::net::IpAddr::V4(v4)),
        worker::url::Host::Ipv6(v6) => Some(std::net::IpAddr::V6(v6)),
        worker::url::Host::Domain(_) => None,
    };
    let name = u.host_str().unwrap_or_default().to_ascii_lowercase();
    let loopback = ip.is_some_and(|ip| ip.is_loopback())
        || name == "localhost"
        || name.ends_with(".localhost");
    if loopback && allow_local_http && matches!(u.scheme(), "http" | "https") {
        return Ok(());
    }
    if u.scheme() != "https" {
        return Err("webhookUrl must be https://".into());
    }
    if loopback {
        return Err("webhookUrl must not point at a loopback host".into());
    }
    if let Some(why) = ip.and_then(blocked_ip) {
        return Err(format!("webhookUrl must not point at a {why} address"));
    }
    if u.username() != "" || u.password().is_some() {
        return Err("webhookUrl must not carry credentials".into());
    }
    Ok(())
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

/// The app's FACEIO-style webhook token, derived from its webhook secret (so rotating the
/// secret rotates the token, and nothing more is stored): hex HMAC-SHA256 of a fixed label.
pub fn faceio_token(secret: &str) -> String {
    hex(&hmac_sha256(
        &signing_key(secret),
        &[b"openfio faceio webhook token"],
    ))
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
pub async fn deliver(job: WebhookJob, allow_local_http: bool) -> Delivery {
    let event = job
        .body
        .get("eventName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut outcome = Delivery {
        event,
        at_ms: worker::Date::now().as_millis(),
        status: None,
        ok: false,
        attempts: 0,
        error: None,
    };
    // URLs stored before these checks existed are checked again here.
    if let Err(e) = check_url(&job.url, allow_local_http) {
        worker::console_warn!("webhook not sent: {e}");
        outcome.error = Some(format!("not sent: {e}"));
        return outcome;
    }
    let Ok(id_bytes) = random_array::<16>() else {
        outcome.error = Some("no randomness".into());
        return outcome;
    };
    let id = format!("msg_{}", hex(&id_bytes));
    let timestamp = worker::Date::now().as_millis() / 1000;
    let body = job.body.to_string();
    let mut signature = sign(&job.secret, &id, timestamp, &body);
    if let Some(old) = &job.previous_secret {
        signature = format!("{signature} {}", sign(old, &id, timestamp, &body));
    }
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            worker::Delay::from(BACKOFF[(attempt - 1).min(BACKOFF.len() - 1)]).await;
        }
        let token = job.faceio_token.as_deref();
        outcome.attempts = attempt as u8 + 1;
        let result = attempt_once(&job.url, &id, timestamp, &signature, token, &body).await;
        outcome.at_ms = worker::Date::now().as_millis();
        match result {
            Ok(status) => {
                outcome.status = Some(status);
                outcome.error = None;
                if (200..300).contains(&status) {
                    outcome.ok = true;
                    return outcome;
                }
                worker::console_warn!("webhook {id}: HTTP {status} (attempt {attempt})");
            }
            Err(e) => {
                worker::console_warn!("webhook {id}: {e} (attempt {attempt})");
                outcome.status = None;
                outcome.error = Some(e);
            }
        }
    }
    outcome
}

async fn attempt_once(
    url: &str,
    id: &str,
    timestamp: u64,
    signature: &str,
    faceio_token: Option<&str>,
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
    if let Some(token) = faceio_token {
        // FACEIO's receivers compare this header with the token shown in its console.
        set("www-authenticate", token)?;
    }
    let mut init = worker::RequestInit::new();
    // A redirect would send the signed event somewhere the operator did not configure (and
    // past the URL checks): a 3xx counts as a failed attempt.
    init.with_method(worker::Method::Post)
        .with_headers(headers)
        .with_redirect(worker::RequestRedirect::Manual)
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
    fn faceio_tokens_follow_the_secret() {
        let a = new_secret().unwrap();
        let t = faceio_token(&a);
        assert_eq!(t.len(), 64);
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(t, faceio_token(&a));
        assert_ne!(t, faceio_token(&new_secret().unwrap()));
        // Not the signing key itself, nor a signature of any message.
        assert!(!a.contains(&t));
    }

    #[test]
    fn secrets_are_fresh_and_prefixed() {
        let a = new_secret().unwrap();
        assert!(a.starts_with("whsec_"));
        assert_eq!(signing_key(&a).len(), 32);
        assert_ne!(a, new_secret().unwrap());
    }

    #[test]
    fn webhook_urls() {
        let ok = |u: &str| check_url(u, false).is_ok();
        assert!(ok("https://hooks.example.com/x"));
        assert!(ok("https://93.184.216.34/x"));
        assert!(ok("https://[2606:4700::1111]/x"));
        for bad in [
            "http://hooks.example.com/x",
            "https://localhost/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://172.16.0.1/x",
            "https://192.168.1.1/x",
            "https://100.64.0.1/x",
            "https://169.254.169.254/latest",
            "https://0.0.0.0/x",
            "https://[::1]/x",
            "https://[fe80::1]/x",
            "https://[fd00::1]/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://[::]/x",
            "https://user:pw@hooks.example.com/x",
            "ftp://hooks.example.com/x",
            "not a url",
        ] {
            assert!(!ok(bad), "{bad} accepted");
        }
        assert!(check_url("http://127.0.0.1:9999/hook", true).is_ok());
        assert!(check_url("http://localhost:9999/hook", true).is_ok());
        assert!(check_url("http://[::1]:9999/hook", true).is_ok());
        assert!(check_url("http://10.0.0.1/hook", true).is_err());
        assert!(check_url("http://hooks.example.com/x", true).is_err());
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
