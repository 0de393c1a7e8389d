//! `fio-eval evidence-crops` on the real cap12 clip with the real models: the crops it writes are what
//! the widget would send for edge re-verification, so the edge's decision must accept them as a
//! live ceremony and refuse forgeries built from them.

use std::path::Path;

#[path = "../../../fio-cli/tests/common/mod.rs"]
mod common;
use common::{assert_fails, fio_eval, repo_path, stderr};

use fio_core::liveness::{
    verify_evidence, CropBundle, FrameCues, Thresholds, Verdict, EVIDENCE_SIDE,
};
use fio_core::{Embedding, LivenessAction, Template};
use fio_vision::evidence_crops::{EvidenceVerifier, EVIDENCE_MODELS};
use fio_vision::models::repo_models_dir;
use fio_vision::ModelFiles;
use serde_json::Value;

use LivenessAction::*;

const CROP_BYTES: usize = EVIDENCE_SIDE * EVIDENCE_SIDE * 3;

/// The edge's view of crops: measured by its models, similarity against `template`.
fn measure(v: &EvidenceVerifier, crops: &[Vec<u8>], template: &Template) -> Vec<FrameCues> {
    crops
        .iter()
        .map(|c| {
            let m = v.measure(c).expect("measure crop");
            let mut cues = m.cues;
            cues.similarity = m
                .embedding
                .map(|e| Embedding::new(e).unwrap().cosine(&template.to_embedding()));
            cues
        })
        .collect()
}

#[test]
fn crops_of_a_real_clip_pass_the_edge_and_a_still_does_not() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("cap12");
    let o = fio_eval(&[
        "evidence-crops",
        repo_path("fixtures/data/video/cap12.y4m").to_str().unwrap(),
        repo_path("fixtures/segments.json").to_str().unwrap(),
        dir.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "fio-eval failed: {}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(report["clip"], "cap12");
    assert_eq!(report["missing"].as_array().unwrap().len(), 0, "{report}");
    assert_eq!(report["failed"].as_array().unwrap().len(), 0, "{report}");

    let read = |name: &str| -> Vec<u8> {
        let p = dir.join(format!("{name}.rgb"));
        let b = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!(b.len(), CROP_BYTES, "{name}.rgb is 160x160 RGB");
        b
    };
    let rest = read("rest");
    let names = ["turnLeft", "turnRight", "blink", "lookUp", "comeCloser"];
    let by_action: Vec<(LivenessAction, Vec<u8>)> = LivenessAction::ALL
        .into_iter()
        .zip(names)
        .map(|(a, n)| (a, read(n)))
        .collect();
    // Each action comes from its own frame, and none is the rest frame.
    let mut frames: Vec<u64> = std::iter::once("rest")
        .chain(names)
        .map(|n| report["crops"][n]["frame"].as_u64().unwrap())
        .collect();
    frames.sort();
    frames.dedup();
    assert_eq!(frames.len(), 6, "{report}");
    let template_b64 = std::fs::read_to_string(dir.join("template.txt")).unwrap();
    let template = Template::from_base64(template_b64.trim()).expect("template.txt is a template");
    assert_eq!(report["template"], template_b64.trim());

    let files = ModelFiles::from_dir_named(&repo_models_dir(), &EVIDENCE_MODELS).unwrap();
    let verifier = EvidenceVerifier::load(&files).unwrap();
    let th = Thresholds::DEFAULT;
    let crop_of = |a: LivenessAction| by_action.iter().find(|(x, _)| *x == a).unwrap().1.clone();

    // A five-action challenge in an order the edge could draw, sent as a bundle.
    let actions = vec![TurnLeft, Blink, LookUp, ComeCloser, TurnRight];
    let bundle = CropBundle {
        side: EVIDENCE_SIDE,
        crops: std::iter::once(rest.clone())
            .chain(actions.iter().map(|&a| crop_of(a)))
            .collect(),
    };
    let parsed = CropBundle::from_bytes(&bundle.to_bytes()).unwrap();
    let cues = measure(&verifier, &parsed.crops, &template);
    assert_eq!(
        verify_evidence(&cues, &actions, &th),
        Verdict::Live,
        "real crops: {cues:#?}"
    );

    // The same crops claimed for another order of the same actions: the turns contradict.
    let swapped = vec![TurnRight, Blink, LookUp, ComeCloser, TurnLeft];
    assert!(matches!(
        verify_evidence(&cues, &swapped, &th),
        Verdict::Attack(_)
    ));

    // A still: the rest crop in every slot shows no action.
    let still = measure(&verifier, &vec![rest.clone(); 6], &template);
    assert_eq!(
        verify_evidence(&still, &actions, &th),
        Verdict::Attack("evidence: action not shown")
    );

    // Real crops against another person's template.
    let other = Template::from_base64(
        &Embedding::new((0..192).map(|i| (i as f32 * 0.61).sin()).collect())
            .unwrap()
            .to_template()
            .to_base64(),
    )
    .unwrap();
    let cues = measure(&verifier, &parsed.crops, &other);
    assert_eq!(
        verify_evidence(&cues, &actions, &th),
        Verdict::Attack("evidence: another person")
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let video = repo_path("fixtures/data/video/cap12.y4m");
    let video = video.to_str().unwrap();
    let segments = repo_path("fixtures/segments.json");
    let segments = segments.to_str().unwrap();

    assert_fails(
        &fio_eval(&["evidence-crops", video, segments]),
        2,
        "OUT_DIR",
    );
    assert_fails(
        &fio_eval(&["evidence-crops", "/nonexistent/cap12.y4m", segments, out]),
        1,
        "/nonexistent/cap12.y4m",
    );
    assert_fails(
        &fio_eval(&["evidence-crops", video, "/nonexistent/segments.json", out]),
        1,
        "/nonexistent/segments.json",
    );
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let not_json = write("broken.json", "{\"segments\": [");
    assert_fails(
        &fio_eval(&["evidence-crops", video, &not_json, out]),
        1,
        "not JSON",
    );
    let wrong_shape = write("shape.json", r#"{"segments": [{"clip": "cap12"}]}"#);
    assert_fails(
        &fio_eval(&["evidence-crops", video, &wrong_shape, out]),
        1,
        "not a segments file",
    );
    let other_clip = write(
        "other.json",
        r#"{"segments": [{"clip": "cap99", "action": "neutral", "start_s": 0, "end_s": 4}]}"#,
    );
    assert_fails(
        &fio_eval(&["evidence-crops", video, &other_clip, out]),
        1,
        "no segments for clip \"cap12\"",
    );
    let no_rest = write(
        "norest.json",
        r#"[{"clip": "cap12", "action": "blink", "start_s": 25.5, "end_s": 25.9}]"#,
    );
    assert_fails(
        &fio_eval(&["evidence-crops", video, &no_rest, out]),
        1,
        "no neutral segment",
    );
    let not_video = write("cap12.y4m", "this is not a video\n");
    assert_fails(
        &fio_eval(&["evidence-crops", &not_video, segments, out]),
        1,
        &format!("{not_video}: not a YUV4MPEG2 file"),
    );
    assert!(!Path::new(out).exists(), "nothing is written on bad input");
}
