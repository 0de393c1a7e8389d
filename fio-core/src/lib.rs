//! OpenFIO pure logic: FACEIO error codes, protocol types, templates, matching, PIN and
//! challenge rules.
//!
//! Shared by the browser widget, the edge Worker and the CLI, so it has no platform
//! dependencies: time (`now_ms`) and randomness (byte arrays from a CSPRNG) are arguments.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bytes;
pub mod capture_schedule;
pub mod challenge;
pub mod decision;
pub mod error;
pub mod error_code;
pub mod facial_id;
pub mod iso8601;
pub mod js_tables;
pub mod liveness;
pub mod locale;
pub mod matching;
pub mod params;
pub mod pin;
pub mod protocol;
pub mod template;

pub use capture_schedule::{CaptureSchedule, CaptureStep, CapturedFrame};
pub use challenge::{
    new_challenge, Ceremony, Challenge, ChallengeLedger, Lineage, LivenessAction,
    ACTIVE_ACTIONS_PER_CHALLENGE, CHALLENGE_TTL_MS,
};
pub use decision::{
    check_enrollment, check_frame, guidance, is_obscured, EnrollPolicy, FaceObservation,
    FramePolicy, Guidance, Quality,
};
pub use error::{Error, ErrorBody};
pub use error_code::{all_error_codes_map, ErrorCode};
pub use facial_id::{format_facial_id, is_valid_facial_id, parse_facial_id};
pub use iso8601::{format_iso8601_ms, parse_iso8601_ms};
pub use locale::{is_rtl, resolve_locale};
pub use matching::{
    decide_match, MatchOutcome, MatchPolicy, PinReason, TemplateIndex, DUPLICATE_THRESHOLD,
    ENROLL_CONSISTENCY_THRESHOLD, MATCH_THRESHOLD, PIN_MARGIN,
};
pub use params::{AuthenticateParams, EnrollParams};
pub use pin::{hash_pin, validate_pin, verify_pin, PinAttempts, PinPolicy, PinVerdict};
pub use protocol::{
    AuthenticateReply, AuthenticateRequest, AuthenticateResponse, EnrollRequest, EnrollResponse,
    LivenessEvidence, PinRequiredResponse, StartRequest, StartResponse, WidgetPolicy,
    MAX_PAYLOAD_BYTES,
};
pub use template::{Embedding, Template, EMBEDDING_DIM};
