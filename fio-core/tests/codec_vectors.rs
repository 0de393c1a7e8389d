//! Golden vectors shared with the JavaScript side (`tests/vectors/*.json`, also read by
//! `tests/package/golden.test.mjs`): the same bytes must come out of Rust and JS. Run with
//! `UPDATE_VECTORS=1` to rewrite the computed fields after a deliberate format change.

use std::path::PathBuf;

use fio_core::liveness::{CropBundle, EVIDENCE_SIDE};
use fio_core::template::{Embedding, Template};
use fio_core::ErrorCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(name)
}

fn read(name: &str) -> Value {
    let text = std::fs::read_to_string(vector_path(name)).expect("vector file");
    serde_json::from_str(&text).expect("vector JSON")
}

/// Compares each computed field with the file, or writes them when `UPDATE_VECTORS` is set.
fn check(name: &str, mut file: Value, computed: &[(&str, Value)]) {
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        for (field, value) in computed {
            file[*field] = value.clone();
        }
        let text = serde_json::to_string_pretty(&file).expect("serialise") + "\n";
        std::fs::write(vector_path(name), text).expect("write vector");
        return;
    }
    for (field, value) in computed {
        assert_eq!(
            &file[*field], value,
            "{name}: {field} (UPDATE_VECTORS=1 rewrites it)"
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn error_codes_are_faceios_table() {
    let file = read("faceio-error-codes.json");
    let reference = file["codes"].as_object().expect("codes object");
    assert_eq!(reference.len(), ErrorCode::ALL.len());
    for code in ErrorCode::ALL {
        assert_eq!(
            reference.get(code.name()).and_then(Value::as_u64),
            Some(u64::from(code.code())),
            "{}",
            code.name()
        );
    }
}

#[test]
fn template_codec() {
    let file = read("template.json");
    let embedding: Vec<f32> = serde_json::from_value(file["embedding"].clone()).expect("floats");
    let template = Embedding::new(embedding)
        .expect("valid embedding")
        .to_template();
    let b64 = template.to_base64();
    assert_eq!(Template::from_base64(&b64).expect("decodes"), template);
    check("template.json", file, &[("template", json!(b64))]);
}

#[test]
fn crop_bundle_bytes() {
    let file = read("crop-bundle.json");
    let side = file["side"].as_u64().expect("side") as usize;
    let count = file["count"].as_u64().expect("count") as usize;
    assert_eq!(side, EVIDENCE_SIDE);
    let crops = (0..count)
        .map(|k| {
            (0..side * side * 3)
                .map(|i| ((7 * i + 13 * k) % 256) as u8)
                .collect()
        })
        .collect();
    let bundle = CropBundle { side, crops };
    let bytes = bundle.to_bytes();
    assert_eq!(CropBundle::from_bytes(&bytes).expect("parses"), bundle);
    check(
        "crop-bundle.json",
        file,
        &[
            ("header_hex", json!(hex(&bytes[..7]))),
            ("sha256", json!(hex(&Sha256::digest(&bytes)))),
        ],
    );
}
