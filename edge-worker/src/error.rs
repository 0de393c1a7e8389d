//! The crate's error type and its one mapping to FACEIO codes, HTTP statuses and JSON bodies.

use fio_core::{Error as FioError, ErrorBody, ErrorCode};
use serde::{Deserialize, Serialize};

/// A fresh challenge handed back with `UNIQUE_PIN_REQUIRED` so the widget can resend under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Retry {
    /// Challenge to quote in the resent request.
    pub challenge_id: String,
    /// ISO 8601 expiry of that challenge.
    pub expires_at: String,
}

/// Everything that can fail in the edge worker.
///
/// Client mistakes arrive as [`EdgeError::Fio`] with a client-error variant (4xx); platform
/// failures are [`EdgeError::Internal`] (500, details logged but never shown).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EdgeError {
    /// An outcome of OpenFIO's pure logic, or a bare FACEIO code.
    Fio(FioError),
    /// `UNIQUE_PIN_REQUIRED`, with the challenge to resend under.
    PinNotUnique(Retry),
    /// No such route, app resource or facial ID (HTTP 404).
    NotFound(&'static str),
    /// The route exists but not for this method (HTTP 405).
    MethodNotAllowed,
    /// A platform failure (storage, KV, missing secret); never caused by client input.
    Internal(String),
    /// An error the app's Durable Object already rendered, relayed by the front worker.
    Relayed(ErrorReply),
    /// The deployment lacks a required secret or has an invalid setting (HTTP 503 saying
    /// which): an operator's mistake the edge refuses to serve around.
    Misconfigured(String),
    /// A login token refused by `/verifytoken` (HTTP 401, or 409 when already redeemed).
    Token(crate::token::TokenError),
    /// A feature this build of the edge does not have (HTTP 501 saying which): the face models
    /// of `/faceverify`, `/agecheck` and edge re-verification (cargo feature `models`).
    Unavailable(String),
    /// A gallery shard object failed or did not answer (HTTP 503 `PROCESSING_ERR`: retry); the
    /// request is refused rather than decided on part of the gallery.
    ShardUnavailable(String),
    /// The app's gallery holds as many faces as its shards may (HTTP 503 saying so): the
    /// operator needs an app with more `galleryShards`.
    GalleryFull,
}

/// Shorthand for results in this crate.
pub type EdgeResult<T> = Result<T, EdgeError>;

impl EdgeError {
    /// A bare FACEIO outcome.
    pub fn code(code: ErrorCode) -> Self {
        Self::Fio(FioError::Fio(code))
    }

    /// A malformed request (HTTP 400).
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::Fio(FioError::BadRequest(msg.into()))
    }

    /// The reply this error becomes at the HTTP boundary.
    pub fn reply(&self) -> ErrorReply {
        let (status, body, retry) = match self {
            Self::Fio(e) => (e.http_status(), ErrorBody::from(e), None),
            Self::PinNotUnique(retry) => {
                let e = FioError::PinNotUnique;
                (e.http_status(), ErrorBody::from(&e), Some(retry.clone()))
            }
            Self::NotFound(what) => (
                404,
                ErrorBody {
                    error: ErrorCode::ProcessingErr.name().to_owned(),
                    code: ErrorCode::ProcessingErr,
                    message: format!("{what} not found"),
                },
                None,
            ),
            Self::MethodNotAllowed => (
                405,
                ErrorBody {
                    error: ErrorCode::ProcessingErr.name().to_owned(),
                    code: ErrorCode::ProcessingErr,
                    message: "method not allowed".to_owned(),
                },
                None,
            ),
            Self::Internal(_) => (500, ErrorBody::from_code(ErrorCode::ProcessingErr), None),
            Self::Misconfigured(what) => (
                503,
                ErrorBody {
                    error: ErrorCode::ProcessingErr.name().to_owned(),
                    code: ErrorCode::ProcessingErr,
                    message: format!("edge misconfigured: {what}"),
                },
                None,
            ),
            Self::ShardUnavailable(_) => (
                503,
                ErrorBody {
                    error: ErrorCode::ProcessingErr.name().to_owned(),
                    code: ErrorCode::ProcessingErr,
                    message: "the face gallery is temporarily unavailable; retry".to_owned(),
                },
                None,
            ),
            Self::GalleryFull => (
                503,
                ErrorBody {
                    error: ErrorCode::ProcessingErr.name().to_owned(),
                    code: ErrorCode::ProcessingErr,
                    message: "this application's face gallery is full".to_owned(),
                },
                None,
            ),
            Self::Unavailable(what) => (
                501,
                ErrorBody {
                    error: ErrorCode::ProcessingErr.name().to_owned(),
                    code: ErrorCode::ProcessingErr,
                    message: what.clone(),
                },
                None,
            ),
            Self::Token(e) => (
                if *e == crate::token::TokenError::Redeemed {
                    409
                } else {
                    401
                },
                ErrorBody {
                    error: ErrorCode::Unauthorized.name().to_owned(),
                    code: ErrorCode::Unauthorized,
                    message: e.message().to_owned(),
                },
                None,
            ),
            Self::Relayed(reply) => return reply.clone(),
        };
        ErrorReply {
            status,
            body,
            retry,
        }
    }
}

impl From<FioError> for EdgeError {
    fn from(e: FioError) -> Self {
        Self::Fio(e)
    }
}

impl From<ErrorCode> for EdgeError {
    fn from(c: ErrorCode) -> Self {
        Self::code(c)
    }
}

impl From<worker::Error> for EdgeError {
    fn from(e: worker::Error) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<worker::KvError> for EdgeError {
    fn from(e: worker::KvError) -> Self {
        Self::Internal(format!("kv: {e}"))
    }
}

impl From<serde_json::Error> for EdgeError {
    /// Only used for data the edge itself produced; client JSON goes through
    /// `fio_core::protocol::parse_request`, which maps to 400.
    fn from(e: serde_json::Error) -> Self {
        Self::Internal(format!("json: {e}"))
    }
}

impl std::fmt::Display for EdgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Fio(e) => write!(f, "{e}"),
            Self::PinNotUnique(_) => write!(f, "{}", FioError::PinNotUnique),
            Self::NotFound(what) => write!(f, "{what} not found"),
            Self::MethodNotAllowed => f.write_str("method not allowed"),
            Self::Internal(m) => write!(f, "internal: {m}"),
            Self::Relayed(r) => write!(f, "{}", r.body.message),
            Self::Misconfigured(m) => write!(f, "misconfigured: {m}"),
            Self::Token(e) => f.write_str(e.message()),
            Self::Unavailable(m) => write!(f, "unavailable: {m}"),
            Self::ShardUnavailable(m) => write!(f, "gallery shard: {m}"),
            Self::GalleryFull => f.write_str("gallery full"),
        }
    }
}

impl std::error::Error for EdgeError {}

/// The wire form of an error: HTTP status plus the JSON body
/// `{"error", "code", "message"[, "retry"]}`. Also travels from the Durable Object to the
/// front worker, which re-renders it for the widget or the REST API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// HTTP status.
    pub status: u16,
    /// FACEIO error body.
    pub body: ErrorBody,
    /// Fresh challenge for `UNIQUE_PIN_REQUIRED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
}

impl ErrorReply {
    /// Widget/admin JSON: `{"error","code","message"[,"retry"]}`.
    pub fn widget_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "error": self.body.error,
            "code": self.body.code,
            "message": self.body.message,
        });
        if let Some(r) = &self.retry {
            v["retry"] =
                serde_json::json!({"challengeId": r.challenge_id, "expiresAt": r.expires_at});
        }
        v
    }

    /// REST JSON (FACEIO style): `{"status": N, "error", "code", "message"}`.
    pub fn rest_json(&self) -> serde_json::Value {
        let mut v = self.widget_json();
        v["status"] = self.status.into();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_bodies() {
        let r = EdgeError::Fio(FioError::Unrecognized).reply();
        assert_eq!(r.status, 401);
        assert_eq!(
            r.widget_json(),
            serde_json::json!({"error": "UNRECOGNIZED_FACE", "code": 3, "message": "face not recognized"})
        );
        let r = EdgeError::Internal("kv broke at users/1".into()).reply();
        assert_eq!(r.status, 500);
        assert!(!r.body.message.contains("users/1"));
        // A shard's failure is a retryable 503 that names no shard; a full gallery says so.
        let r = EdgeError::ShardUnavailable("gallery shard 3 failed: x".into()).reply();
        assert_eq!((r.status, r.body.code), (503, ErrorCode::ProcessingErr));
        assert!(!r.body.message.contains("shard 3"));
        let r = EdgeError::GalleryFull.reply();
        assert_eq!(r.status, 503);
        assert!(r.body.message.contains("full"));
        let r = EdgeError::code(ErrorCode::TooManyRequests).reply();
        assert_eq!(r.status, 429);
        assert_eq!(r.rest_json()["status"], 429);
        let r = EdgeError::bad_request("x").reply();
        assert_eq!(r.status, 400);
        let retry = Retry {
            challenge_id: "ab".into(),
            expires_at: "t".into(),
        };
        let r = EdgeError::PinNotUnique(retry).reply();
        assert_eq!(r.status, 409);
        let v = r.widget_json();
        assert_eq!(v["error"], "UNIQUE_PIN_REQUIRED");
        assert_eq!(v["retry"]["challengeId"], "ab");
        assert_eq!(EdgeError::NotFound("route").reply().status, 404);
        let r = EdgeError::Unavailable("no models".into()).reply();
        assert_eq!(r.status, 501);
        assert_eq!(
            r.rest_json(),
            serde_json::json!({"status": 501, "error": "PROCESSING_ERR", "code": 9, "message": "no models"})
        );
    }
}
