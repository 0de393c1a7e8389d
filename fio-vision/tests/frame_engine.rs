//! The per-frame engine on real webcam frames: the fast path (every video frame) and the full
//! path (sampled frames) see the same face, so the liveness bench can analyse each frame once
//! in full and replay the capture schedule's choice of fast or full from it.

mod common;

use common::{data, model_files};
use fio_core::liveness::FrameCues;
use fio_vision::pipeline::WEBCAM_DETECTOR_SIZE;
use fio_vision::y4m::Y4mReader;
use fio_vision::Engine;

#[test]
fn the_fast_analysis_is_the_full_one_without_the_full_stages() {
    let engine = Engine::load(model_files(), WEBCAM_DETECTOR_SIZE).unwrap();
    let mut r = Y4mReader::open(&data("data/video/cap12.y4m")).unwrap();
    let clock = || 0.0;
    let mut with_face = 0;
    for i in 0..40 {
        let frame = r.next_frame().unwrap().expect("cap12 has 40 frames");
        if i % 8 != 0 {
            continue;
        }
        let fast = engine.analyze(&frame, false, &clock).unwrap();
        let full = engine.analyze(&frame, true, &clock).unwrap();
        assert!(fast.main.is_none());
        assert_eq!(fast.guidance, full.guidance, "frame {i}");
        assert_eq!(fast.obscured, full.obscured, "frame {i}");
        assert_eq!(fast.occlusion, full.occlusion, "frame {i}");
        assert_eq!(
            fast.cues,
            FrameCues {
                passive: None,
                ..full.cues
            },
            "frame {i}"
        );
        if let Some(main) = &full.main {
            with_face += 1;
            assert_eq!(full.cues.passive, Some(main.liveness.liveness));
        }
    }
    assert_eq!(with_face, 5, "cap12's first frames show the face");
}

#[test]
fn stages_load_one_after_another_and_a_full_analysis_waits_for_the_match_stage() {
    use fio_vision::models::ModelStage;
    let mut r = Y4mReader::open(&data("data/video/cap12.y4m")).unwrap();
    let frame = r.next_frame().unwrap().expect("cap12 has a first frame");
    let clock = || 0.0;
    let everything = Engine::load(model_files(), WEBCAM_DETECTOR_SIZE).unwrap();
    let reference = everything.analyze(&frame, true, &clock).unwrap();
    let reference_main = reference.main.as_ref().expect("cap12 shows a face");

    let mut engine = Engine::load_tracker(model_files(), WEBCAM_DETECTOR_SIZE).unwrap();
    assert!(engine.has(ModelStage::Tracker));
    assert!(!engine.has(ModelStage::Match) && !engine.has(ModelStage::Attributes));
    let live = engine.analyze(&frame, false, &clock).unwrap();
    assert_eq!(live.guidance, reference.guidance);
    assert_eq!(live.faces.len(), reference.faces.len());
    let err = engine.analyze(&frame, true, &clock).unwrap_err();
    assert!(
        matches!(err, fio_vision::Error::StageNotLoaded("match")),
        "{err}"
    );

    engine.load_stage(ModelStage::Match, model_files()).unwrap();
    let matched = engine.analyze(&frame, true, &clock).unwrap();
    let main = matched.main.expect("a face");
    assert_eq!(main.template, reference_main.template);
    assert_eq!(main.age, None);
    assert_eq!(main.gender, None);

    engine
        .load_stage(ModelStage::Attributes, model_files())
        .unwrap();
    let main = engine.analyze(&frame, true, &clock).unwrap().main.unwrap();
    assert_eq!(main.age, reference_main.age);
    assert!(main.age.is_some() && main.gender.is_some());
}

#[test]
fn the_stages_cover_every_pipeline_model_once() {
    use fio_vision::models::{pipeline_models, ModelStage};
    let mut names: Vec<&str> = pipeline_models().collect();
    let n = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), n, "a model in two stages");
    for stage in ModelStage::ALL {
        assert_eq!(ModelStage::from_name(stage.name()), Some(stage));
    }
    assert_eq!(ModelStage::from_name("faceres"), None);
}
