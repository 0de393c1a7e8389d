//! OpenFIO's face pipeline on tract-onnx: detect → face mesh → align → embed → liveness →
//! age/gender.
//!
//! The same code runs natively (CLI, tests, benches) and in the browser as wasm; models arrive
//! as bytes and are checked against the compiled-in manifest before use.
#![forbid(unsafe_code)]

pub mod align;
pub mod attributes;
pub mod detect;
pub mod embed;
mod error;
pub mod evidence_crops;
pub mod frame;
pub mod frame_engine;
pub mod liveness_cues;
pub mod manifest;
pub mod mesh;
pub mod models;
pub mod occlusion;
pub mod onnx;
pub mod passive_scores;
pub mod pattern;
pub mod pipeline;
pub mod quality;
pub mod tracking;
pub mod y4m;

pub use error::Error;
pub use frame::Frame;
pub use frame_engine::{Analysis, Engine};
pub use mesh::{Mesh, MeshCues};
pub use models::ModelFiles;
pub use pipeline::{FaceAnalysis, Pipeline, StageTimes};
