//! `fio-eval occlusion` on the labelled photos and the fixture webcam clips: the occlusion cue must
//! separate bare faces from (synthetic) masks and sunglasses at the shipped threshold.

#[path = "../../../fio-cli/tests/common/mod.rs"]
mod common;
use common::{assert_fails, fio_eval, repo_path};

use serde_json::Value;

/// Share of the condition's measured faces above the shipped threshold.
fn row<'a>(report: &'a Value, condition: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["condition"] == condition)
        .unwrap_or_else(|| panic!("no {condition} row"))
}

#[test]
fn occlusion_cue_separates_bare_faces_from_masks_and_sunglasses() {
    let labels = repo_path("fixtures/labels.csv");
    let o = fio_eval(&["occlusion", "--json", labels.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(report["note"].as_str().unwrap().contains("synthetic"));
    let threshold = report["threshold"].as_f64().unwrap();

    // 47 photos (4 tight crops cut the forehead off: unmeasured) and 85 webcam frames.
    let bona = row(&report, "bonaFide");
    assert!(bona["n"].as_u64().unwrap() >= 120, "{bona}");
    assert!(bona["max"].as_f64().unwrap() < threshold, "{bona}");
    assert_eq!(bona["rejected"].as_f64().unwrap(), 0.0, "{bona}");

    // The Terminator's real dark sunglasses in labels.csv.
    let real = row(&report, "realOccluder");
    assert_eq!(real["n"], 1);
    assert_eq!(real["rejected"].as_f64().unwrap(), 1.0, "{real}");

    // Measured: every synthetic mask and sunglasses face above the threshold (white mask lowest,
    // min 1.05 against a bona fide max of 0.78).
    for condition in ["surgicalMask", "blackMask", "whiteMask", "sunglasses"] {
        let r = row(&report, condition);
        assert!(r["n"].as_u64().unwrap() >= 120, "{r}");
        assert!(r["rejected"].as_f64().unwrap() >= 0.95, "{r}");
    }
    assert_eq!(report["separated"], true);
    assert!(report["bonaFideMax"].as_f64().unwrap() < threshold);
    assert!(report["occludedMin"].as_f64().unwrap() > threshold);

    // Known limitation, not asserted as caught: a hand of skin tone has the skin's hue and
    // saturation, so a colour cue rejects it only when its brightness differs a lot (measured
    // 2 of 131). The row must still be measured.
    assert!(row(&report, "hand")["n"].as_u64().unwrap() >= 120);
}

#[test]
fn bad_occlusion_input_fails_with_a_message() {
    let o = fio_eval(&["occlusion", "/nonexistent/labels.csv"]);
    assert_fails(&o, 1, "/nonexistent/labels.csv");

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("labels.csv");
    std::fs::write(&csv, "file,identity\nno-identity-column\n").unwrap();
    let o = fio_eval(&["occlusion", csv.to_str().unwrap()]);
    assert_fails(&o, 1, "expected `file,identity`");

    let o = fio_eval(&["occlusion"]);
    assert_fails(&o, 2, "occlusion needs LABELS.csv");
}

#[test]
fn bad_occlude_input_fails_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("frames");
    let out = out.to_str().unwrap();
    let video = repo_path("fixtures/data/video/cap12.y4m");
    let video = video.to_str().unwrap();
    let o = fio_eval(&["occlude", "scarf", video, out]);
    assert_fails(&o, 1, "unknown occluder \"scarf\"");
    let o = fio_eval(&["occlude", "surgicalMask", "/nonexistent/clip.y4m", out]);
    assert_fails(&o, 1, "/nonexistent/clip.y4m");
    let o = fio_eval(&["occlude", "surgicalMask", video]);
    assert_fails(&o, 2, "occlude needs CONDITION VIDEO.y4m OUT_DIR");
}
