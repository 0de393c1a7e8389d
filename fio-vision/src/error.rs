//! The vision crate's single error type.

use fio_core::ErrorCode;

/// Everything that can go wrong between a frame and a face analysis.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The frame's dimensions or byte length are inconsistent or unsupported.
    #[error("bad frame: {0}")]
    BadFrame(String),
    /// A model's bytes do not hash to the manifest's sha256: wrong, corrupt or tampered file.
    #[error("model {name}: sha256 {actual} does not match the manifest's {expected}")]
    ModelHash {
        /// Model name in the manifest.
        name: String,
        /// Expected sha256 (hex).
        expected: String,
        /// Actual sha256 (hex).
        actual: String,
    },
    /// The manifest has no model of this name, or cannot be parsed.
    #[error("manifest: {0}")]
    Manifest(String),
    /// tract could not load or optimise a model.
    #[error("model {name} failed to load: {reason}")]
    ModelLoad {
        /// Model name in the manifest.
        name: String,
        /// tract's message.
        reason: String,
    },
    /// tract failed while running a model, or the model's output was not what the manifest says.
    #[error("model {name} failed to run: {reason}")]
    Inference {
        /// Model name in the manifest.
        name: String,
        /// What went wrong.
        reason: String,
    },
    /// A step needs a model stage that is not loaded yet (the browser loads stages lazily).
    #[error("the {0} models are not loaded")]
    StageNotLoaded(&'static str),
    /// Reading model files from disk failed (native only).
    #[error("reading {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The OS message.
        reason: String,
    },
}

impl Error {
    /// The FACEIO code the widget reports for this failure: all are processing errors, since a
    /// bad frame or model is never the user's face's fault.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::ProcessingErr
    }
}
