//! The model manifest, compiled in so that fetched model bytes are checked against hashes the
//! attacker-controlled network cannot change.

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::Error;

/// `models/manifest.json`, as shipped with this build.
pub const MANIFEST_JSON: &str = include_str!("../../models/manifest.json");

/// One model's manifest entry (only the fields the pipeline needs).
#[derive(Clone, Debug, Deserialize)]
pub struct ModelEntry {
    /// Stable model name, e.g. `mobilefacenet`.
    pub name: String,
    /// File name inside `models/`.
    pub file: String,
    /// Lower-case hex sha256 of the file.
    pub sha256: String,
    /// Size in bytes.
    #[serde(default)]
    pub bytes: u64,
}

#[derive(Deserialize)]
struct Manifest {
    models: Vec<ModelEntry>,
}

/// Every model entry of the compiled-in manifest.
pub fn entries() -> Result<Vec<ModelEntry>, Error> {
    serde_json::from_str::<Manifest>(MANIFEST_JSON)
        .map(|m| m.models)
        .map_err(|e| Error::Manifest(e.to_string()))
}

/// The manifest entry called `name`.
pub fn entry(name: &str) -> Result<ModelEntry, Error> {
    entries()?
        .into_iter()
        .find(|m| m.name == name)
        .ok_or_else(|| Error::Manifest(format!("no model named {name:?}")))
}

/// Hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Fails unless `bytes` hash to the manifest's sha256 for `name`.
pub fn verify(name: &str, bytes: &[u8]) -> Result<(), Error> {
    let expected = entry(name)?.sha256.to_ascii_lowercase();
    let actual = sha256_hex(bytes);
    if actual != expected {
        return Err(Error::ModelHash {
            name: name.to_string(),
            expected,
            actual,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_parses_and_names_the_pipeline_models() {
        let names: Vec<String> = entries().unwrap().into_iter().map(|m| m.name).collect();
        for n in crate::models::pipeline_models() {
            assert!(names.iter().any(|m| m == n), "{n} missing from manifest");
        }
    }

    #[test]
    fn wrong_bytes_fail_verification() {
        let err = verify("mobilefacenet", b"not a model").unwrap_err();
        assert!(matches!(err, Error::ModelHash { .. }), "{err}");
        assert!(matches!(verify("nope", b""), Err(Error::Manifest(_))));
    }
}
