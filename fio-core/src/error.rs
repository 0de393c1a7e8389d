//! The crate's single error type and the JSON error body the edge returns.

use serde::{Deserialize, Serialize};

use crate::error_code::ErrorCode;
use crate::pin::PinProblem;

/// Everything that can go wrong in OpenFIO's pure logic; maps to a FACEIO code via [`Error::code`].
///
/// `Display` texts are safe to show to end users: they never contain scores, hashes or secrets.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A FACEIO outcome that needs no extra detail (e.g. `TOO_MANY_REQUESTS` raised by the edge).
    #[error("{}", .0.description())]
    Fio(ErrorCode),
    /// No usable face in the frame.
    #[error("no face was detected")]
    NoFace,
    /// More than one significant face in the frame.
    #[error("more than one face was detected")]
    ManyFaces,
    /// Liveness score too low, or liveness required but not measured.
    #[error("presentation attack detected")]
    PadAttack,
    /// Estimated age below the application's minimum (or unknown while a minimum is set).
    #[error("minors are not allowed to enroll on this application")]
    MinorNotAllowed,
    /// Two enrollment frames are not similar enough to be the same face.
    #[error("the enrollment frames do not show the same face")]
    FaceMismatch,
    /// Not enough enrollment frames to trust the mean template.
    #[error("enrollment needs at least {need} frames, got {got}")]
    TooFewFrames {
        /// Frames supplied.
        got: usize,
        /// Frames required.
        need: usize,
    },
    /// No enrolled face is similar enough.
    #[error("face not recognized")]
    Unrecognized,
    /// The face being enrolled is already enrolled.
    #[error("this face is already enrolled")]
    FaceDuplication,
    /// Wrong PIN and the ceremony is over.
    #[error("wrong PIN code")]
    WrongPin,
    /// Too many wrong PINs; locked until the given time.
    #[error("too many wrong PIN codes; try again later")]
    PinLockedOut {
        /// Unix milliseconds at which attempts are allowed again.
        until_ms: u64,
    },
    /// The PIN is used by another user while uniqueness is enforced.
    #[error("this PIN code is already in use; choose another")]
    PinNotUnique,
    /// The PIN breaks the PIN policy.
    #[error("invalid PIN code: {0}")]
    InvalidPin(PinProblem),
    /// The challenge expired.
    #[error("the session expired")]
    SessionExpired,
    /// The challenge is unknown (never issued, or pruned after expiry).
    #[error("unknown or expired session")]
    UnknownChallenge,
    /// The challenge was already consumed.
    #[error("this session was already used")]
    ChallengeReplayed,
    /// The challenge was issued for another application or ceremony.
    #[error("the session does not match this {0}")]
    ChallengeMismatch(&'static str),
    /// An embedding has the wrong length, non-finite values or zero norm.
    #[error("invalid embedding: {0}")]
    InvalidEmbedding(&'static str),
    /// A template failed to decode.
    #[error("invalid template: {0}")]
    InvalidTemplate(&'static str),
    /// The enrollment payload exceeds FACEIO's 16 KiB limit.
    #[error("payload is {size} bytes; the limit is {max}")]
    PayloadTooLarge {
        /// Serialized size in bytes.
        size: usize,
        /// Maximum allowed size in bytes.
        max: usize,
    },
    /// A malformed request (bad JSON shape, wrong counts, bad IDs).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A server-side fault (e.g. corrupt stored data); details are not shown to clients.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The FACEIO code fio.js rejects its promise with.
    ///
    /// Malformed client input has no FACEIO code of its own, so it reports `PROCESSING_ERR`
    /// (what fio.js would surface for a request the server refused to process).
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Fio(c) => *c,
            Self::NoFace => ErrorCode::NoFacesDetected,
            Self::ManyFaces => ErrorCode::ManyFaces,
            Self::PadAttack => ErrorCode::PadAttack,
            Self::MinorNotAllowed => ErrorCode::MinorsNotAllowed,
            Self::FaceMismatch | Self::TooFewFrames { .. } => ErrorCode::FaceMismatch,
            Self::Unrecognized => ErrorCode::UnrecognizedFace,
            Self::FaceDuplication => ErrorCode::FaceDuplication,
            Self::WrongPin | Self::PinLockedOut { .. } => ErrorCode::WrongPinCode,
            Self::PinNotUnique => ErrorCode::UniquePinRequired,
            // Unknown challenges are usually expired ones already pruned, so the widget should
            // simply restart the session.
            Self::SessionExpired | Self::UnknownChallenge => ErrorCode::SessionExpired,
            Self::ChallengeReplayed | Self::ChallengeMismatch(_) => ErrorCode::Unauthorized,
            Self::InvalidPin(_)
            | Self::InvalidEmbedding(_)
            | Self::InvalidTemplate(_)
            | Self::PayloadTooLarge { .. }
            | Self::BadRequest(_)
            | Self::Internal(_) => ErrorCode::ProcessingErr,
        }
    }

    /// True when the request itself was malformed (the edge answers HTTP 400/413, not 5xx).
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            Self::InvalidPin(_)
                | Self::InvalidEmbedding(_)
                | Self::InvalidTemplate(_)
                | Self::PayloadTooLarge { .. }
                | Self::BadRequest(_)
        )
    }

    /// HTTP status for the edge's response.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::PayloadTooLarge { .. } => 413,
            e if e.is_client_error() => 400,
            e => e.code().http_status(),
        }
    }

    /// Message for the client: the `Display` text, except internal details are withheld.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => ErrorCode::ProcessingErr.description().to_owned(),
            e => e.to_string(),
        }
    }
}

/// JSON error body returned by the edge: `{"error":"UNRECOGNIZED_FACE","code":3,"message":"..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// FACEIO constant name.
    pub error: String,
    /// FACEIO numeric code.
    pub code: ErrorCode,
    /// Human-readable explanation, safe to display.
    pub message: String,
}

impl ErrorBody {
    /// Body for a bare FACEIO code, using FACEIO's description as the message.
    pub fn from_code(code: ErrorCode) -> Self {
        Self {
            error: code.name().to_owned(),
            code,
            message: code.description().to_owned(),
        }
    }
}

impl From<&Error> for ErrorBody {
    fn from(e: &Error) -> Self {
        let code = e.code();
        Self {
            error: code.name().to_owned(),
            code,
            message: e.public_message(),
        }
    }
}

impl From<ErrorCode> for ErrorBody {
    fn from(code: ErrorCode) -> Self {
        Self::from_code(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_serializes_like_the_spec() {
        let body = ErrorBody::from(&Error::Unrecognized);
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": "UNRECOGNIZED_FACE", "code": 3, "message": "face not recognized"})
        );
        let back: ErrorBody = serde_json::from_value(json).unwrap();
        assert_eq!(back, body);
    }

    #[test]
    fn client_errors_are_400_and_processing_err() {
        let e = Error::InvalidTemplate("bad magic");
        assert!(e.is_client_error());
        assert_eq!(e.http_status(), 400);
        assert_eq!(e.code(), ErrorCode::ProcessingErr);
        let big = Error::PayloadTooLarge {
            size: 20_000,
            max: 16_384,
        };
        assert!(big.is_client_error());
        assert_eq!(big.http_status(), 413);
    }

    #[test]
    fn outcomes_map_to_faceio_codes() {
        assert_eq!(
            Error::TooFewFrames { got: 1, need: 3 }.code(),
            ErrorCode::FaceMismatch
        );
        assert_eq!(
            Error::PinLockedOut { until_ms: 5 }.code(),
            ErrorCode::WrongPinCode
        );
        assert_eq!(Error::UnknownChallenge.code(), ErrorCode::SessionExpired);
        assert_eq!(Error::ChallengeReplayed.code(), ErrorCode::Unauthorized);
        assert_eq!(Error::Fio(ErrorCode::TooManyRequests).http_status(), 429);
        assert_eq!(Error::Unrecognized.http_status(), 401);
        assert!(!Error::Internal("x".into()).is_client_error());
        assert_eq!(Error::Internal("x".into()).http_status(), 500);
    }

    #[test]
    fn internal_details_are_not_exposed() {
        let body = ErrorBody::from(&Error::Internal("kv key users/42 corrupt".into()));
        assert!(!body.message.contains("users/42"));
        assert_eq!(body.error, "PROCESSING_ERR");
    }

    #[test]
    fn body_from_code_uses_description() {
        let body = ErrorBody::from(ErrorCode::ForbiddenOrigin);
        assert_eq!(body.error, "FORBIDDDEN_ORIGIN");
        assert_eq!(body.code.code(), 17);
        assert!(body.message.contains("forbidden"));
    }
}
