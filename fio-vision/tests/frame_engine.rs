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
