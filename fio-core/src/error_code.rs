//! FACEIO's public error codes, numbered and spelled exactly as fio.js exposes them.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A FACEIO error code (`fioErrCode.*`); the numbers are a wire contract with fio.js callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum ErrorCode {
    /// `PERMISSION_REFUSED`: camera access denied by the user.
    PermissionRefused = 1,
    /// `NO_FACES_DETECTED`: no face seen during the ceremony.
    NoFacesDetected = 2,
    /// `UNRECOGNIZED_FACE`: the face is not in the application's facial index.
    UnrecognizedFace = 3,
    /// `MANY_FACES`: two or more faces in view.
    ManyFaces = 4,
    /// `PAD_ATTACK`: presentation (spoof) attack detected.
    PadAttack = 5,
    /// `FACE_MISMATCH`: enrollment frames do not belong to one face.
    FaceMismatch = 6,
    /// `NETWORK_IO`: could not reach the processing node.
    NetworkIo = 7,
    /// `WRONG_PIN_CODE`: wrong PIN (after the allowed attempts).
    WrongPinCode = 8,
    /// `PROCESSING_ERR`: server-side error.
    ProcessingErr = 9,
    /// `UNAUTHORIZED`: the application may not perform this operation.
    Unauthorized = 10,
    /// `TERMS_NOT_ACCEPTED`: terms of service rejected by the user.
    TermsNotAccepted = 11,
    /// `UI_NOT_READY`: the widget could not be injected into the DOM.
    UiNotReady = 12,
    /// `SESSION_EXPIRED`: the ceremony's session expired.
    SessionExpired = 13,
    /// `TIMEOUT`: an operation timed out.
    Timeout = 14,
    /// `TOO_MANY_REQUESTS`: instantiation rate limit exceeded.
    TooManyRequests = 15,
    /// `EMPTY_ORIGIN`: missing Origin/Referer header.
    EmptyOrigin = 16,
    /// `FORBIDDDEN_ORIGIN` (FACEIO's triple-D spelling): origin not allowed.
    ForbiddenOrigin = 17,
    /// `FORBIDDDEN_COUNTRY` (FACEIO's triple-D spelling): country not allowed.
    ForbiddenCountry = 18,
    /// `UNIQUE_PIN_REQUIRED`: the PIN must be unique within the application.
    UniquePinRequired = 19,
    /// `SESSION_IN_PROGRESS`: another ceremony is already running.
    SessionInProgress = 20,
    /// `FACE_DUPLICATION`: this face is already enrolled.
    FaceDuplication = 21,
    /// `MINORS_NOT_ALLOWED`: the user appears to be under the minimum age.
    MinorsNotAllowed = 22,
}

impl ErrorCode {
    /// Every code, in numeric order.
    pub const ALL: [ErrorCode; 22] = [
        Self::PermissionRefused,
        Self::NoFacesDetected,
        Self::UnrecognizedFace,
        Self::ManyFaces,
        Self::PadAttack,
        Self::FaceMismatch,
        Self::NetworkIo,
        Self::WrongPinCode,
        Self::ProcessingErr,
        Self::Unauthorized,
        Self::TermsNotAccepted,
        Self::UiNotReady,
        Self::SessionExpired,
        Self::Timeout,
        Self::TooManyRequests,
        Self::EmptyOrigin,
        Self::ForbiddenOrigin,
        Self::ForbiddenCountry,
        Self::UniquePinRequired,
        Self::SessionInProgress,
        Self::FaceDuplication,
        Self::MinorsNotAllowed,
    ];

    /// The numeric code fio.js reports.
    pub const fn code(self) -> u16 {
        self as u16
    }

    /// The exact FACEIO constant name (typos such as `FORBIDDDEN_ORIGIN` preserved).
    pub const fn name(self) -> &'static str {
        match self {
            Self::PermissionRefused => "PERMISSION_REFUSED",
            Self::NoFacesDetected => "NO_FACES_DETECTED",
            Self::UnrecognizedFace => "UNRECOGNIZED_FACE",
            Self::ManyFaces => "MANY_FACES",
            Self::PadAttack => "PAD_ATTACK",
            Self::FaceMismatch => "FACE_MISMATCH",
            Self::NetworkIo => "NETWORK_IO",
            Self::WrongPinCode => "WRONG_PIN_CODE",
            Self::ProcessingErr => "PROCESSING_ERR",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::TermsNotAccepted => "TERMS_NOT_ACCEPTED",
            Self::UiNotReady => "UI_NOT_READY",
            Self::SessionExpired => "SESSION_EXPIRED",
            Self::Timeout => "TIMEOUT",
            Self::TooManyRequests => "TOO_MANY_REQUESTS",
            Self::EmptyOrigin => "EMPTY_ORIGIN",
            Self::ForbiddenOrigin => "FORBIDDDEN_ORIGIN",
            Self::ForbiddenCountry => "FORBIDDDEN_COUNTRY",
            Self::UniquePinRequired => "UNIQUE_PIN_REQUIRED",
            Self::SessionInProgress => "SESSION_IN_PROGRESS",
            Self::FaceDuplication => "FACE_DUPLICATION",
            Self::MinorsNotAllowed => "MINORS_NOT_ALLOWED",
        }
    }

    /// Looks a code up by its number.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Looks a code up by its exact FACEIO name (case-sensitive, as in fio.js).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// FACEIO's description of when the code is raised (shortened).
    pub const fn description(self) -> &'static str {
        match self {
            Self::PermissionRefused => "Access to the camera stream was denied by the end user.",
            Self::NoFacesDetected => {
                "No faces were detected during the enroll or authentication process."
            }
            Self::UnrecognizedFace => {
                "Unrecognized/unknown face on this application's Facial Index."
            }
            Self::ManyFaces => "Two or more faces were detected during the scan process.",
            Self::PadAttack => "Presentation (spoof) attack detected during the scan process.",
            Self::FaceMismatch => {
                "Calculated facial vectors of the user being enrolled do not match."
            }
            Self::NetworkIo => {
                "Error while establishing a network connection with the processing node."
            }
            Self::WrongPinCode => "Wrong PIN code supplied by the user being authenticated.",
            Self::ProcessingErr => "Server side error.",
            Self::Unauthorized => {
                "Your application is not allowed to perform the requested operation."
            }
            Self::TermsNotAccepted => "Terms & Conditions rejected by the end user.",
            Self::UiNotReady => "The widget could not be injected onto the client DOM.",
            Self::SessionExpired => "The session expired; restart the operation.",
            Self::Timeout => "Ongoing operation timed out.",
            Self::TooManyRequests => "Widget instantiation requests exceeded.",
            Self::EmptyOrigin => "Origin or Referer HTTP request header is empty or missing.",
            Self::ForbiddenOrigin => "Domain origin is forbidden from instantiating the widget.",
            Self::ForbiddenCountry => "Country is forbidden from instantiating the widget.",
            Self::UniquePinRequired => {
                "Supplied PIN code must be unique among other PINs on this application."
            }
            Self::SessionInProgress => {
                "Another authentication or enrollment operation is processing."
            }
            Self::FaceDuplication => "User enrolled previously (facial features already recorded).",
            Self::MinorsNotAllowed => "Minors are not allowed to enroll on this application.",
        }
    }

    /// HTTP status the edge answers with when this code ends a request.
    ///
    /// Biometric and PIN outcomes are 4xx so that caches, proxies and retry logic treat them as
    /// final answers about this request rather than server faults; only `PROCESSING_ERR` and
    /// `NETWORK_IO` are 5xx. Codes fio.js raises purely client-side (camera, terms, DOM) still get
    /// a sensible status so the mapping is total.
    pub const fn http_status(self) -> u16 {
        match self {
            // 401: the request did not establish who the user is (or the app's credentials are bad).
            Self::UnrecognizedFace | Self::WrongPinCode | Self::Unauthorized => 401,
            // 403: understood, but refused by policy.
            Self::PermissionRefused
            | Self::PadAttack
            | Self::TermsNotAccepted
            | Self::EmptyOrigin
            | Self::ForbiddenOrigin
            | Self::ForbiddenCountry
            | Self::MinorsNotAllowed => 403,
            Self::Timeout => 408,
            // 409: conflicts with existing state (enrolled face, PIN in use, ceremony running).
            Self::UniquePinRequired | Self::SessionInProgress | Self::FaceDuplication => 409,
            // 410: the challenge the request refers to is gone.
            Self::SessionExpired => 410,
            // 422: well-formed, but the captured faces cannot be used.
            Self::NoFacesDetected | Self::ManyFaces | Self::FaceMismatch => 422,
            Self::TooManyRequests => 429,
            Self::ProcessingErr | Self::UiNotReady => 500,
            Self::NetworkIo => 502,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(self.code())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u16::deserialize(d)?;
        Self::from_code(n)
            .ok_or_else(|| serde::de::Error::custom(format_args!("unknown FACEIO error code {n}")))
    }
}

/// The name → number map that fio.js's `fetchAllErrorCodes()` returns (sorted by name).
pub fn all_error_codes_map() -> BTreeMap<&'static str, u16> {
    ErrorCode::ALL
        .into_iter()
        .map(|c| (c.name(), c.code()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPECTED: [(&str, u16); 22] = [
        ("PERMISSION_REFUSED", 1),
        ("NO_FACES_DETECTED", 2),
        ("UNRECOGNIZED_FACE", 3),
        ("MANY_FACES", 4),
        ("PAD_ATTACK", 5),
        ("FACE_MISMATCH", 6),
        ("NETWORK_IO", 7),
        ("WRONG_PIN_CODE", 8),
        ("PROCESSING_ERR", 9),
        ("UNAUTHORIZED", 10),
        ("TERMS_NOT_ACCEPTED", 11),
        ("UI_NOT_READY", 12),
        ("SESSION_EXPIRED", 13),
        ("TIMEOUT", 14),
        ("TOO_MANY_REQUESTS", 15),
        ("EMPTY_ORIGIN", 16),
        ("FORBIDDDEN_ORIGIN", 17),
        ("FORBIDDDEN_COUNTRY", 18),
        ("UNIQUE_PIN_REQUIRED", 19),
        ("SESSION_IN_PROGRESS", 20),
        ("FACE_DUPLICATION", 21),
        ("MINORS_NOT_ALLOWED", 22),
    ];

    #[test]
    fn names_and_numbers_match_faceio_exactly() {
        for (code, (name, number)) in ErrorCode::ALL.into_iter().zip(EXPECTED) {
            assert_eq!(code.name(), name);
            assert_eq!(code.code(), number);
            assert_eq!(code as u16, number);
            assert_eq!(ErrorCode::from_code(number), Some(code));
            assert_eq!(ErrorCode::from_name(name), Some(code));
        }
    }

    #[test]
    fn lookups_reject_unknown_values() {
        assert_eq!(ErrorCode::from_code(0), None);
        assert_eq!(ErrorCode::from_code(23), None);
        assert_eq!(ErrorCode::from_name("FORBIDDEN_ORIGIN"), None);
        assert_eq!(ErrorCode::from_name("unrecognized_face"), None);
    }

    #[test]
    fn serde_uses_the_number() {
        assert_eq!(
            serde_json::to_string(&ErrorCode::UnrecognizedFace).unwrap(),
            "3"
        );
        let back: ErrorCode = serde_json::from_str("22").unwrap();
        assert_eq!(back, ErrorCode::MinorsNotAllowed);
        assert!(serde_json::from_str::<ErrorCode>("23").is_err());
        assert!(serde_json::from_str::<ErrorCode>("\"TIMEOUT\"").is_err());
    }

    #[test]
    fn map_has_all_codes() {
        let map = all_error_codes_map();
        assert_eq!(map.len(), 22);
        for (name, number) in EXPECTED {
            assert_eq!(map[name], number);
        }
        let json = serde_json::to_value(&map).unwrap();
        assert_eq!(json["FORBIDDDEN_COUNTRY"], 18);
    }

    #[test]
    fn http_statuses_are_errors_and_fit() {
        for c in ErrorCode::ALL {
            assert!((400..600).contains(&c.http_status()), "{c}");
            assert!(!c.description().is_empty());
        }
        assert_eq!(ErrorCode::Unauthorized.http_status(), 401);
        assert_eq!(ErrorCode::ForbiddenOrigin.http_status(), 403);
        assert_eq!(ErrorCode::ForbiddenCountry.http_status(), 403);
        assert_eq!(ErrorCode::TooManyRequests.http_status(), 429);
        assert_eq!(ErrorCode::SessionExpired.http_status(), 410);
        assert_eq!(ErrorCode::ProcessingErr.http_status(), 500);
        assert_eq!(ErrorCode::FaceDuplication.http_status(), 409);
    }

    #[test]
    fn display_is_the_name() {
        assert_eq!(ErrorCode::ForbiddenOrigin.to_string(), "FORBIDDDEN_ORIGIN");
    }
}
