//! The mesh's measurements in fio-core's liveness terms, so the widget and the bench feed the
//! liveness decision identical numbers.

use fio_core::liveness::FrameCues;

use crate::detect::Detection;
use crate::frame::Frame;
use crate::mesh::MeshCues;
use crate::pattern::pattern_score;

/// Cues of one frame: `faces` detections and the largest face with its mesh (if any).
///
/// fio-core counts pitch *up* as positive (the "look up" prompt); the mesh counts *down*.
pub fn frame_cues(
    t_ms: f64,
    faces: usize,
    main: Option<(&Detection, &MeshCues)>,
    frame: &Frame,
) -> FrameCues {
    let mesh = main.map(|(_, m)| m);
    let frame_width = frame.width();
    FrameCues {
        t_ms,
        faces: faces as u32,
        ear: mesh.map(|m| (m.ear_left + m.ear_right) / 2.0),
        yaw_deg: mesh.map(|m| m.yaw_deg),
        pitch_deg: mesh.map(|m| -m.pitch_deg),
        face_width: mesh.map_or(0.0, |m| m.face_width_px / frame_width.max(1) as f32),
        passive: None,
        similarity: None,
        pattern: main.and_then(|(d, _)| pattern_score(frame, d.bbox)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_signs_and_units() {
        let m = MeshCues {
            ear_left: 0.2,
            ear_right: 0.3,
            yaw_deg: 12.0,
            pitch_deg: 8.0,
            roll_deg: 1.0,
            mouth_open: 0.0,
            face_width_px: 160.0,
            presence: 0.99,
            in_frame: 1.0,
        };
        let frame = Frame::from_rgb(640, 480, vec![90; 640 * 480 * 3]).unwrap();
        let d = Detection {
            bbox: [200.0, 100.0, 160.0, 200.0],
            score: 0.9,
            landmarks: [[0.0; 2]; 5],
        };
        let c = frame_cues(40.0, 1, Some((&d, &m)), &frame);
        assert_eq!(c.ear, Some(0.25));
        assert_eq!(c.yaw_deg, Some(12.0));
        assert_eq!(c.pitch_deg, Some(-8.0));
        assert_eq!(c.face_width, 0.25);
        assert!(c.has_single_face());
        assert_eq!(c.pattern, Some(0.0), "a flat face has no pattern");
        let none = frame_cues(0.0, 0, None, &frame);
        assert_eq!(none.pattern, None);
        assert!(!none.has_single_face());
        assert_eq!(none.face_width, 0.0);
    }
}
