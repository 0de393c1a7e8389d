//! tract must agree with onnxruntime: every model is run on the fixed synthetic input that
//! `models/convert` fed onnxruntime, and compared with the recorded outputs.

mod common;

use fio_vision::onnx::OnnxModel;
use serde_json::Value;

/// Absolute tolerance, scaled up for large activations (box regressions reach the hundreds).
const TOLERANCE: f32 = 1e-3;

fn check(name: &str) {
    let path = fio_vision::models::repo_models_dir()
        .join("reference")
        .join(format!("{name}.json"));
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let input = &reference["input"];
    let shape: Vec<usize> = serde_json::from_value(input["shape"].clone()).unwrap();
    let (lo, hi) = (
        input["lo"].as_f64().unwrap() as f32,
        input["hi"].as_f64().unwrap() as f32,
    );
    let n: usize = shape.iter().product();
    let values: Vec<f32> = (0..n)
        .map(|i| lo + (hi - lo) * (((i * 37 + 11) % 251) as f32 / 250.0))
        .collect();

    let entry = fio_vision::manifest::entry(name).unwrap();
    let bytes = std::fs::read(fio_vision::models::repo_models_dir().join(&entry.file)).unwrap();
    let model = OnnxModel::load(name, &bytes, &shape).unwrap();
    let outputs = model.run(values).unwrap();
    let expected = reference["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), expected.len(), "{name}: output count");
    for (out, exp) in outputs.iter().zip(expected) {
        let (shape, got) = (&out.shape, &out.values);
        let exp_shape: Vec<usize> = serde_json::from_value(exp["shape"].clone()).unwrap();
        assert_eq!(shape, &exp_shape, "{name}: output shape");
        let mut worst = 0.0f32;
        for s in exp["samples"].as_array().unwrap() {
            let (i, v) = (
                s[0].as_u64().unwrap() as usize,
                s[1].as_f64().unwrap() as f32,
            );
            let err = (got[i] - v).abs() / v.abs().max(1.0);
            worst = worst.max(err);
            assert!(
                err <= TOLERANCE,
                "{name}[{i}]: tract {} vs onnxruntime {v}",
                got[i]
            );
        }
        let sum: f32 = got.iter().sum();
        let exp_sum = exp["sum"].as_f64().unwrap() as f32;
        assert!(
            (sum - exp_sum).abs() <= TOLERANCE * (got.len() as f32).sqrt() * exp_sum.abs().max(1.0),
            "{name}: sum {sum} vs {exp_sum}"
        );
        eprintln!("{name}: worst relative error {worst:e}");
    }
}

#[test]
fn retinaface_matches_onnxruntime() {
    check("retinaface_mnet025");
}

#[test]
fn mobilefacenet_matches_onnxruntime() {
    check("mobilefacenet");
}

#[test]
fn face_landmark_matches_onnxruntime() {
    check("face_landmark");
}

#[test]
fn antispoof_matches_onnxruntime() {
    check("antispoof");
}

#[test]
fn liveness_matches_onnxruntime() {
    check("liveness");
}

#[test]
fn age_matches_onnxruntime() {
    check("age");
}

#[test]
fn gender_matches_onnxruntime() {
    check("gender");
}

#[test]
fn blazeface_matches_onnxruntime() {
    check("blazeface_short");
}

#[test]
fn faceres_matches_onnxruntime() {
    check("faceres");
}

#[test]
fn every_manifest_model_has_a_reference_check() {
    let source = include_str!("reference_outputs.rs");
    for entry in fio_vision::manifest::entries().unwrap() {
        assert!(
            source.contains(&format!("check(\"{}\")", entry.name)),
            "no reference test for {}",
            entry.name
        );
    }
}
