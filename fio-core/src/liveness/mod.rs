//! Liveness: per-frame cues → active-challenge progress and temporal statistics → one verdict.
//!
//! Single-frame anti-spoofing models do not separate prints and screens from real faces on
//! webcam footage, and a still photo fed as the camera is pixel-identical to a real frame. So the
//! decision combines (a) the passive model as a floor, (b) temporal cues that a flat picture
//! cannot fake (eye-region change, blinks), and (c) in active mode, a random sequence of prompted
//! head actions chosen by the edge, which a recording cannot know in advance.
//!
//! The same code runs in the widget (through fio-wasm) and, on the summary the widget sends, at
//! the edge. Orientation convention everywhere: the *un-mirrored* camera frame; positive yaw means
//! the subject turned towards their own left, positive pitch means they looked up.

mod action;
mod cues;
mod reverify;
mod session;
mod temporal;
mod verdict;

pub use action::{ActionTracker, Progress, StepFailure};
pub use cues::{quantile, FrameCues, PoseBaseline};
pub use reverify::{
    crop_cues, crop_similarity, evidence_bar, evidence_shown, evidence_strength, rest_score,
    verify_evidence, CropBundle, SealedEvidence, BUNDLE_MAGIC, EVIDENCE_SIDE, EVIDENCE_WINDOW,
    MAX_EVIDENCE_CROPS,
};
pub use session::{Outcome, Session, Step, BASELINE_FRAMES};
pub use temporal::TemporalStats;
pub use verdict::{decide, LivenessReport, Thresholds, Verdict};
