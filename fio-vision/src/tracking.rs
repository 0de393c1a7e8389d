//! Tracking for the live view: most video frames follow the face from the previous frame's mesh
//! instead of running the detector, as MediaPipe's and Human's face pipelines do. The detector
//! runs again every [`REDETECT_EVERY`] frames, whenever tracking is lost or the eyes are closing
//! ([`TRACK_EYES_CLOSING`]), whenever the last
//! detection did not find exactly one face, and on every full analysis (templates are always
//! aligned on the detector's own landmarks).
//!
//! A tracked frame must look to everything downstream (guidance, liveness cues, the screen cue,
//! evidence crops, the next mesh crop) like a detector frame, so the box and five points it
//! reports are the mesh's, mapped through a [`Calibration`] measured at the last detection: the
//! detector's box and landmarks relative to the mesh's own box on that frame. The next frame's
//! mesh crop is then cut exactly as a detector frame's would be.

use crate::detect::Detection;
use crate::mesh::{Mesh, MeshCues};

/// Frames the live view follows the face from the mesh before it runs the detector again. Bounds
/// how long a second face joining the view (MANY_FACES) or a better-placed box goes unseen: 8
/// frames is 0.27 s at 30 fps.
pub const REDETECT_EVERY: u32 = 8;

/// Mesh presence below which tracking is lost and the detector runs on the same frame
/// (MediaPipe's own `min_tracking_confidence` default).
pub const TRACK_MIN_PRESENCE: f32 = 0.5;

/// Fraction of mesh points that must lie inside the frame to keep tracking: a face leaving the
/// frame is re-detected rather than followed off the edge.
pub const TRACK_MIN_IN_FRAME: f32 = 0.95;

/// Eyes closing faster than this (the mean eye aspect ratio below this fraction of the previous
/// frame's) bring the detector back for the frame. The mesh's eyelids read ±0.02 differently
/// from one crop to the next, and a crop placed from the previous frame lags the head by a
/// frame: measured on cap12/cap13 at 10 fps, tracked crops read the bottom of short blinks up to
/// 0.03 higher than detector crops, enough to miss a blink whose dip only just reaches the
/// liveness threshold (0.8× the open level), which cost 5 of 96 bona fide active ceremonies in
/// `bash scripts/bench-liveness.sh`. The bottom of every blink is therefore read on a detector
/// crop, as before tracking.
pub const TRACK_EYES_CLOSING: f32 = 0.9;

/// The axis-aligned box `[x, y, w, h]` of a mesh's points (frame pixels), `None` when it is empty
/// or not finite.
pub fn mesh_box(mesh: &Mesh) -> Option<[f32; 4]> {
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for p in &mesh.points {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    let b = [x0, y0, x1 - x0, y1 - y0];
    (b.iter().all(|v| v.is_finite()) && b[2] > 1.0 && b[3] > 1.0).then_some(b)
}

/// The detector's box and landmarks expressed in units of the mesh's box on the same frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// Box origin offset and size, relative to the mesh box (`[dx/w, dy/h, w'/w, h'/h]`).
    bbox: [f32; 4],
    /// Each detector landmark minus the mesh's corresponding point, relative to the mesh box.
    landmarks: [[f32; 2]; 5],
    /// The detector's confidence, reported on tracked frames.
    score: f32,
}

impl Calibration {
    /// Measures the calibration on a frame where both the detector and the mesh ran.
    pub fn measure(detection: &Detection, mesh: &Mesh) -> Option<Self> {
        let [mx, my, mw, mh] = mesh_box(mesh)?;
        let [x, y, w, h] = detection.bbox;
        let five = mesh.five_points();
        let mut landmarks = [[0.0; 2]; 5];
        for (k, l) in landmarks.iter_mut().enumerate() {
            *l = [
                (detection.landmarks[k][0] - five[k][0]) / mw,
                (detection.landmarks[k][1] - five[k][1]) / mh,
            ];
        }
        let c = Calibration {
            bbox: [(x - mx) / mw, (y - my) / mh, w / mw, h / mh],
            landmarks,
            score: detection.score,
        };
        let finite = c
            .bbox
            .iter()
            .chain(c.landmarks.iter().flatten())
            .all(|v| v.is_finite());
        finite.then_some(c)
    }

    /// The detection this calibration predicts for `mesh`: what the detector would most likely
    /// have returned on the frame the mesh was found in.
    pub fn detection(&self, mesh: &Mesh) -> Option<Detection> {
        let [mx, my, mw, mh] = mesh_box(mesh)?;
        let five = mesh.five_points();
        let mut landmarks = [[0.0; 2]; 5];
        for (k, l) in landmarks.iter_mut().enumerate() {
            *l = [
                five[k][0] + self.landmarks[k][0] * mw,
                five[k][1] + self.landmarks[k][1] * mh,
            ];
        }
        Some(Detection {
            bbox: [
                mx + self.bbox[0] * mw,
                my + self.bbox[1] * mh,
                self.bbox[2] * mw,
                self.bbox[3] * mh,
            ],
            score: self.score,
            landmarks,
        })
    }
}

/// What the live view carries from one frame to the next.
#[derive(Clone, Debug)]
pub struct Track {
    /// The face's detection on the last frame (the detector's, or the calibrated one).
    pub detection: Detection,
    /// The calibration measured at the last detector frame.
    pub calibration: Calibration,
    /// Frames analysed since the detector last ran.
    pub frames_since_detection: u32,
    /// Mean eye aspect ratio of the last frame.
    pub ear: f32,
}

impl Track {
    /// Starts a track after a detector frame that found exactly one confident face.
    pub fn start(detection: &Detection, mesh: &Mesh, cues: &MeshCues) -> Option<Self> {
        Some(Track {
            calibration: Calibration::measure(detection, mesh)?,
            detection: detection.clone(),
            frames_since_detection: 0,
            ear: mean_ear(cues),
        })
    }

    /// Whether the next frame may follow this track instead of running the detector.
    pub fn may_follow(&self) -> bool {
        self.frames_since_detection + 1 < REDETECT_EVERY
    }

    /// Continues the track with the mesh found on the next frame; `None` when the detector
    /// must run on that frame instead: the face is lost (low presence, leaving the frame,
    /// degenerate points) or the eyes are closing ([`TRACK_EYES_CLOSING`]).
    pub fn follow(&self, mesh: &Mesh, cues: &MeshCues) -> Option<Track> {
        let ear = mean_ear(cues);
        if cues.presence < TRACK_MIN_PRESENCE
            || cues.in_frame < TRACK_MIN_IN_FRAME
            || ear < TRACK_EYES_CLOSING * self.ear
        {
            return None;
        }
        Some(Track {
            detection: self.calibration.detection(mesh)?,
            calibration: self.calibration.clone(),
            frames_since_detection: self.frames_since_detection + 1,
            ear,
        })
    }
}

fn mean_ear(cues: &MeshCues) -> f32 {
    (cues.ear_left + cues.ear_right) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::MESH_POINTS;

    /// A mesh whose points fill the box `[x, y, w, h]` on a grid, so the five points (eye centres,
    /// nose, mouth corners) land at fixed fractions of it.
    fn grid_mesh(x: f32, y: f32, w: f32, h: f32) -> Mesh {
        let points = (0..MESH_POINTS)
            .map(|i| {
                let (u, v) = ((i % 22) as f32 / 21.0, (i / 22) as f32 / 21.0);
                [x + u * w, y + v.min(1.0) * h, 0.0]
            })
            .collect();
        Mesh {
            points,
            presence: 0.99,
        }
    }

    fn detection() -> Detection {
        Detection {
            bbox: [110.0, 70.0, 80.0, 100.0],
            score: 0.93,
            landmarks: [
                [130.0, 105.0],
                [170.0, 104.0],
                [150.0, 125.0],
                [135.0, 148.0],
                [165.0, 147.0],
            ],
        }
    }

    #[test]
    fn mesh_box_spans_the_points() {
        let b = mesh_box(&grid_mesh(100.0, 50.0, 100.0, 140.0)).unwrap();
        for (v, e) in b.iter().zip([100.0, 50.0, 100.0, 140.0]) {
            assert!((v - e).abs() < 1e-3, "{b:?}");
        }
        let empty = Mesh {
            points: vec![],
            presence: 1.0,
        };
        assert_eq!(mesh_box(&empty), None);
    }

    #[test]
    fn calibration_reproduces_the_detection_on_its_own_frame() {
        let (d, m) = (detection(), grid_mesh(100.0, 50.0, 100.0, 140.0));
        let back = Calibration::measure(&d, &m).unwrap().detection(&m).unwrap();
        for (a, b) in back.bbox.iter().zip(d.bbox) {
            assert!((a - b).abs() < 1e-3);
        }
        for (a, b) in back
            .landmarks
            .iter()
            .flatten()
            .zip(d.landmarks.iter().flatten())
        {
            assert!((a - b).abs() < 1e-3);
        }
        assert_eq!(back.score, d.score);
    }

    #[test]
    fn calibrated_detection_moves_and_scales_with_the_mesh() {
        let (d, m) = (detection(), grid_mesh(100.0, 50.0, 100.0, 140.0));
        let c = Calibration::measure(&d, &m).unwrap();
        // The face moved 40 px right and came 1.5× closer (scaled about its top-left corner).
        let moved = c.detection(&grid_mesh(140.0, 50.0, 150.0, 210.0)).unwrap();
        let expect = [140.0 + 10.0 * 1.5, 50.0 + 20.0 * 1.5, 120.0, 150.0];
        for (a, b) in moved.bbox.iter().zip(expect) {
            assert!((a - b).abs() < 1e-3, "{:?}", moved.bbox);
        }
    }

    #[test]
    fn a_track_redetects_after_the_limit_and_drops_a_lost_face() {
        let (d, m) = (detection(), grid_mesh(100.0, 50.0, 100.0, 140.0));
        let cues = |presence: f32, in_frame: f32| MeshCues {
            ear_left: 0.3,
            ear_right: 0.3,
            yaw_deg: 0.0,
            pitch_deg: 0.0,
            roll_deg: 0.0,
            mouth_open: 0.0,
            face_width_px: 100.0,
            presence,
            in_frame,
        };
        let open = cues(0.99, 1.0);
        let mut t = Track::start(&d, &m, &open).unwrap();
        let mut followed = 0;
        while t.may_follow() {
            t = t.follow(&m, &open).unwrap();
            followed += 1;
        }
        assert_eq!(
            followed,
            REDETECT_EVERY - 1,
            "the detector runs every REDETECT_EVERY frames"
        );
        let t = Track::start(&d, &m, &open).unwrap();
        assert!(t.follow(&m, &cues(0.3, 1.0)).is_none(), "low presence");
        assert!(
            t.follow(&m, &cues(0.99, 0.8)).is_none(),
            "leaving the frame"
        );
        let closing = MeshCues {
            ear_left: 0.25,
            ear_right: 0.26,
            ..open.clone()
        };
        assert!(t.follow(&m, &closing).is_none(), "0.255 < 0.9 × 0.3");
        let narrowing = MeshCues {
            ear_left: 0.28,
            ..open.clone()
        };
        assert!(t.follow(&m, &narrowing).is_some(), "0.29 ≥ 0.9 × 0.3");
    }
}
