//! `fio-eval passive-clip`: a real webcam clip through passive-mode ceremonies, each with the
//! decision's reason, and bad input.

#[path = "../../../fio-cli/tests/common/mod.rs"]
mod common;
use common::{assert_fails, fio_eval, json, repo_path};

#[test]
fn every_ceremony_of_a_real_clip_has_a_verdict_and_a_report() {
    let clip = repo_path("fixtures/data/video/cap13.y4m");
    let out = json(&fio_eval(&[
        "passive-clip",
        clip.to_str().unwrap(),
        "--json",
    ]));
    let ceremonies = out.as_array().unwrap();
    // cap13 is 30.6 s at 10 fps; ceremonies start every second and leave room for the blink wait.
    assert!(ceremonies.len() >= 10, "{out}");
    for c in ceremonies {
        let verdict = c["verdict"]["verdict"].as_str().unwrap();
        assert!(
            ["live", "attack", "noFace", "timeout", "manyFaces"].contains(&verdict),
            "{c}"
        );
        if verdict == "attack" {
            assert!(
                c["verdict"]["reason"].is_string(),
                "an attack names its reason: {c}"
            );
        }
        assert!(c["report"]["frames"].as_u64().unwrap() > 0, "{c}");
    }
    // A live man: the windows holding one of his blinks pass; those where he does not blink
    // within the wait are refused as "no blink" (passive mode's bona fide refusals, issue 17).
    assert!(
        ceremonies.iter().any(|c| c["verdict"]["verdict"] == "live"),
        "{out}"
    );
}

#[test]
fn passive_clip_needs_one_y4m() {
    assert_fails(&fio_eval(&["passive-clip"]), 2, "one VIDEO.y4m");
    let photo = repo_path("fixtures/data/face_recognition/obama.jpg");
    assert_fails(
        &fio_eval(&["passive-clip", photo.to_str().unwrap()]),
        1,
        "obama.jpg",
    );
}
