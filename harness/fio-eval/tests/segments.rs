//! `fio-eval segments` on the fixture webcam clip cap13, against the committed
//! `fixtures/segments.json`, and on bad input.

use std::process::Output;

#[path = "../../../fio-cli/tests/common/mod.rs"]
mod common;
use common::{assert_fails, fio_eval, repo_path, stderr};

use serde_json::Value;

fn fixture(rel: &str) -> String {
    repo_path(&format!("fixtures/{rel}")).display().to_string()
}

fn ok_stdout(o: &Output) -> String {
    assert!(o.status.success(), "fio-eval failed: {}", stderr(o));
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// `fixtures/segments.json` is `fio-eval segments` on the fixture clips; regenerating cap13's
/// part must give the same actions at the same times (±0.3 s: the y4m files are re-encoded by
/// the local ffmpeg). After a deliberate change, regenerate with the command in the file's
/// `generated_by`.
#[test]
fn segments_of_cap13_match_the_committed_fixture() {
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("segments.json")).unwrap()).unwrap();
    let out = ok_stdout(&fio_eval(&[
        "segments",
        "--json",
        &fixture("data/video/cap13.y4m"),
    ]));
    let fresh: Value = serde_json::from_str(&out).unwrap();
    let pick = |doc: &Value| -> Vec<(String, f64, f64)> {
        doc["segments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["clip"] == "cap13")
            .map(|s| {
                (
                    s["action"].as_str().unwrap().to_string(),
                    s["start_s"].as_f64().unwrap(),
                    s["end_s"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    let (want, got) = (pick(&committed), pick(&fresh));
    assert!(!want.is_empty());
    assert_eq!(
        want.iter().map(|s| &s.0).collect::<Vec<_>>(),
        got.iter().map(|s| &s.0).collect::<Vec<_>>(),
        "actions differ: committed {want:?}, now {got:?}"
    );
    for (w, g) in want.iter().zip(&got) {
        assert!(
            (w.1 - g.1).abs() <= 0.3 && (w.2 - g.2).abs() <= 0.3,
            "{} moved: committed {w:?}, now {g:?}",
            w.0
        );
    }
    for action in ["blink", "turnLeft", "turnRight", "neutral"] {
        assert!(
            got.iter().any(|s| s.0 == action),
            "cap13 has no {action} segment"
        );
    }
}

#[test]
fn segments_need_y4m_videos() {
    assert_fails(
        &fio_eval(&["segments", &fixture("data/face_recognition/obama.jpg")]),
        1,
        "y4m",
    );
    assert_fails(&fio_eval(&["segments"]), 2, "at least one y4m video");
}
