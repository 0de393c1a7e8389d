//! The set of model files the pipeline needs, as bytes.

use crate::Error;

/// A group of models loaded together. The browser loads them in this order and only when needed:
/// the tracker before the first frame, the match models while the user is being tracked, the
/// attribute model only for an enrollment (age and gender are enrollment details).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelStage {
    /// Detection and face mesh: the live view (guidance, blinks, head turns).
    Tracker,
    /// Embedding and passive liveness: what a full analysis needs.
    Match,
    /// Age and gender.
    Attributes,
}

impl ModelStage {
    /// Every stage, in loading order.
    pub const ALL: [ModelStage; 3] = [
        ModelStage::Tracker,
        ModelStage::Match,
        ModelStage::Attributes,
    ];

    /// Manifest names of the stage's models.
    pub fn models(self) -> &'static [&'static str] {
        match self {
            ModelStage::Tracker => &[crate::detect::DETECTOR_MODEL, crate::mesh::MESH_MODEL],
            ModelStage::Match => &[
                crate::embed::EMBEDDER_MODEL,
                crate::passive_scores::ANTISPOOF_MODEL,
                crate::passive_scores::LIVENESS_MODEL,
            ],
            ModelStage::Attributes => &[crate::attributes::FACERES_MODEL],
        }
    }

    /// The stage's name as JS spells it.
    pub fn name(self) -> &'static str {
        match self {
            ModelStage::Tracker => "tracker",
            ModelStage::Match => "match",
            ModelStage::Attributes => "attributes",
        }
    }

    /// The stage named `name` (`"tracker"`, `"match"`, `"attributes"`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Manifest names of every model the pipeline loads, stage by stage.
pub fn pipeline_models() -> impl Iterator<Item = &'static str> {
    ModelStage::ALL
        .into_iter()
        .flat_map(|s| s.models().iter().copied())
}

/// Raw model bytes keyed by manifest name; the browser fills it from `fetch`, the CLI from disk.
#[derive(Default, Clone)]
pub struct ModelFiles {
    files: Vec<(String, Vec<u8>)>,
}

impl ModelFiles {
    /// Adds (or replaces) one model's bytes.
    pub fn insert(&mut self, name: &str, bytes: Vec<u8>) {
        self.files.retain(|(n, _)| n != name);
        self.files.push((name.to_string(), bytes));
    }

    /// The bytes of model `name`.
    pub fn get(&self, name: &str) -> Result<&[u8], Error> {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_slice())
            .ok_or_else(|| Error::Manifest(format!("model {name:?} was not provided")))
    }

    /// Reads every pipeline model from a directory laid out like `models/`.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_dir(dir: &std::path::Path) -> Result<Self, Error> {
        Self::from_dir_named(dir, &pipeline_models().collect::<Vec<_>>())
    }

    /// Reads the named models from a directory laid out like `models/`.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_dir_named(dir: &std::path::Path, names: &[&str]) -> Result<Self, Error> {
        let mut files = ModelFiles::default();
        for &name in names {
            let entry = crate::manifest::entry(name)?;
            let path = dir.join(&entry.file);
            let bytes = std::fs::read(&path).map_err(|e| Error::Io {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            files.insert(name, bytes);
        }
        Ok(files)
    }
}

/// The repository's `models/` directory, for native tools and tests.
#[cfg(not(target_arch = "wasm32"))]
pub fn repo_models_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models")
}
