//! The per-frame engine on real webcam frames: the live view (every video frame, the face
//! followed from frame to frame) and the full path (sampled frames) see the same face.

mod common;

use common::{data, model_files};
use fio_core::liveness::FrameCues;
use fio_vision::pipeline::WEBCAM_DETECTOR_SIZE;
use fio_vision::y4m::Y4mReader;
use fio_vision::Engine;

#[test]
fn a_detector_frame_of_the_live_view_is_the_full_analysis_without_the_full_stages() {
    let mut engine = Engine::load(model_files(), WEBCAM_DETECTOR_SIZE).unwrap();
    engine.set_tracking(true);
    let mut r = Y4mReader::open(&data("data/video/cap12.y4m")).unwrap();
    let clock = || 0.0;
    let mut with_face = 0;
    for i in 0..40 {
        let frame = r.next_frame().unwrap().expect("cap12 has 40 frames");
        if i % 8 != 0 {
            continue;
        }
        engine.reset_track();
        let fast = engine.analyze(&frame, false, &clock).unwrap();
        let full = engine.analyze(&frame, true, &clock).unwrap();
        assert!(fast.main.is_none() && !fast.tracked);
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

/// Intersection over union of two `[x, y, w, h]` boxes.
fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let ix = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
    let iy = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
    let inter = ix.max(0.0) * iy.max(0.0);
    inter / (a[2] * a[3] + b[2] * b[3] - inter)
}

#[test]
fn the_live_view_follows_the_face_and_reads_the_cues_the_detector_frames_read() {
    use fio_vision::tracking::REDETECT_EVERY;
    // cap12's first 4 s: the man at rest, then turning and blinking (fixtures/segments.json).
    let mut live = Engine::load_tracker(model_files(), WEBCAM_DETECTOR_SIZE).unwrap();
    live.set_tracking(true);
    let mut detected = Engine::load_tracker(model_files(), WEBCAM_DETECTOR_SIZE).unwrap();
    let mut r = Y4mReader::open(&data("data/video/cap12.y4m")).unwrap();
    let epoch = std::time::Instant::now();
    let clock = move || epoch.elapsed().as_secs_f64() * 1e3;
    let (mut tracked, mut worst_iou, mut worst_ear, mut worst_yaw, mut worst_width) =
        (0, 1.0f32, 0.0f32, 0.0f32, 0.0f32);
    let mut worst_pitch = 0.0f32;
    let n = 120;
    for i in 0..n {
        let frame = r.next_frame().unwrap().expect("cap12 is longer than 4 s");
        let a = live.analyze(&frame, false, &clock).unwrap();
        let d = detected.analyze(&frame, false, &clock).unwrap();
        assert!(!d.tracked, "tracking is off by default");
        assert_eq!(a.faces.len(), 1, "frame {i}");
        assert_eq!(
            a.timings.detect == 0.0,
            a.tracked,
            "the detector ran (frame {i})"
        );
        if !a.tracked {
            let t = |c: FrameCues| FrameCues { t_ms: 0.0, ..c };
            assert_eq!(
                t(a.cues),
                t(d.cues),
                "a detector frame is a detector frame (frame {i})"
            );
            continue;
        }
        tracked += 1;
        worst_iou = worst_iou.min(iou(a.faces[0].bbox, d.faces[0].bbox));
        let (x, y) = (a.cues, d.cues);
        worst_ear = worst_ear.max((x.ear.unwrap() - y.ear.unwrap()).abs());
        worst_yaw = worst_yaw.max((x.yaw_deg.unwrap() - y.yaw_deg.unwrap()).abs());
        worst_pitch = worst_pitch.max((x.pitch_deg.unwrap() - y.pitch_deg.unwrap()).abs());
        worst_width = worst_width.max((x.face_width / y.face_width - 1.0).abs());
    }
    eprintln!(
        "tracked {tracked}/{n}; worst: box IoU {worst_iou:.3}, EAR {worst_ear:.3}, \
         yaw {worst_yaw:.2}°, pitch {worst_pitch:.2}°, face width {:.1} %",
        worst_width * 100.0
    );
    // At most 7 of every 8 frames; fewer when the eyes close (cap12 blinks in these 4 s).
    assert!(tracked <= n - n / REDETECT_EVERY as usize, "{tracked}");
    assert!(tracked >= n * 4 / 5, "{tracked}");
    assert!(worst_iou > 0.85, "{worst_iou}");
    assert!(worst_ear < 0.035, "{worst_ear}");
    assert!(worst_yaw < 3.0, "{worst_yaw}");
    assert!(worst_pitch < 3.0, "{worst_pitch}");
    assert!(worst_width < 0.05, "{worst_width}");
}

#[test]
fn stages_load_one_after_another_and_a_full_analysis_waits_for_the_match_stage() {
    use fio_vision::models::ModelStage;
    let mut r = Y4mReader::open(&data("data/video/cap12.y4m")).unwrap();
    let frame = r.next_frame().unwrap().expect("cap12 has a first frame");
    let clock = || 0.0;
    let mut everything = Engine::load(model_files(), WEBCAM_DETECTOR_SIZE).unwrap();
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

#[test]
fn several_faces_or_a_lost_face_bring_the_detector_back_on_the_next_frame() {
    use common::frame;
    use fio_vision::pipeline::PHOTO_DETECTOR_SIZE;
    let clock = || 0.0;
    let mut engine = Engine::load_tracker(model_files(), PHOTO_DETECTOR_SIZE).unwrap();
    engine.set_tracking(true);
    // Two people: every frame is a detector frame, so a second face is never tracked away.
    let two = frame("data/face_api/sample2.jpg");
    for _ in 0..3 {
        let a = engine.analyze(&two, false, &clock).unwrap();
        assert!(a.faces.len() >= 2 && !a.tracked, "{}", a.faces.len());
    }
    // One face: the next frame follows it; a frame without it loses the track.
    let mut r = Y4mReader::open(&data("data/video/cap12.y4m")).unwrap();
    let one = r.next_frame().unwrap().expect("a frame");
    assert!(!engine.analyze(&one, false, &clock).unwrap().tracked);
    assert!(engine.analyze(&one, false, &clock).unwrap().tracked);
    let empty = fio_vision::Frame::from_rgb(
        one.width(),
        one.height(),
        vec![90; one.width() * one.height() * 3],
    )
    .unwrap();
    let gone = engine.analyze(&empty, false, &clock).unwrap();
    assert!(gone.faces.is_empty() && !gone.tracked);
    assert!(
        !engine.analyze(&one, false, &clock).unwrap().tracked,
        "the face is detected again"
    );
    // A full analysis always runs the detector.
    engine
        .load_stage(fio_vision::models::ModelStage::Match, model_files())
        .unwrap();
    assert!(!engine.analyze(&one, true, &clock).unwrap().tracked);
}
