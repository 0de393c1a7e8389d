//! Shared helpers for the pipeline's integration tests: fixtures fetched by `fixtures/fetch.sh`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use fio_vision::pipeline::PHOTO_DETECTOR_SIZE;
use fio_vision::{Frame, ModelFiles, Pipeline};

/// `fixtures/` at the repository root.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// A fetched fixture file, by its path relative to `fixtures/` as the CSVs list them; fails
/// loudly when `fixtures/fetch.sh` has not been run.
pub fn data(rel: &str) -> PathBuf {
    let p = fixtures().join(rel);
    assert!(
        p.exists(),
        "{} is missing: run `bash fixtures/fetch.sh`",
        p.display()
    );
    p
}

/// Rows of a fixtures CSV (header skipped), split on commas.
pub fn csv(name: &str) -> Vec<Vec<String>> {
    let text =
        std::fs::read_to_string(fixtures().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split(',').map(|c| c.trim().to_string()).collect())
        .collect()
}

/// Decodes a fixture image into a frame.
pub fn frame(rel: &str) -> Frame {
    let img = image::open(data(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
        .to_rgb8();
    let (w, h) = img.dimensions();
    Frame::from_rgb(w as usize, h as usize, img.into_raw()).unwrap()
}

/// All model bytes from `models/`.
pub fn model_files() -> &'static ModelFiles {
    static FILES: OnceLock<ModelFiles> = OnceLock::new();
    FILES.get_or_init(|| ModelFiles::from_dir(&fio_vision::models::repo_models_dir()).unwrap())
}

/// The photo pipeline, loaded once per test binary.
pub fn pipeline() -> &'static Pipeline {
    static P: OnceLock<Pipeline> = OnceLock::new();
    P.get_or_init(|| Pipeline::load(model_files(), PHOTO_DETECTOR_SIZE).unwrap())
}
