//! MediaPipe's 468-point face mesh, and the cues active liveness reads from it: eye aspect ratios
//! (blinks), head pose (turns, nods), mouth opening and face size.
//!
//! The crop follows MediaPipe's own face-landmark graph (read from the mediapipe 0.10.14 wheel, see
//! `models/manifest.json`): a square ROI of 1.5× the detection box's long side, centred on the
//! box, rotated so the eye line is horizontal, resampled to 192×192 RGB in [0, 1] with the border
//! replicated.

use serde::Serialize;

use crate::align::Similarity;
use crate::detect::Detection;
use crate::frame::Frame;
use crate::onnx::OnnxModel;
use crate::Error;

/// Manifest name of the face-mesh model.
pub const MESH_MODEL: &str = "face_landmark";
/// Input side of the face-mesh model.
pub const MESH_SIZE: usize = 192;
/// Number of mesh points.
pub const MESH_POINTS: usize = 468;
/// ROI side relative to the detection box's long side (MediaPipe's RectTransformationCalculator:
/// scale 1.5, square_long).
pub const MESH_ROI_SCALE: f32 = 1.5;

/// Mesh vertex indices the cues use (MediaPipe's canonical face mesh). "Image-left" means the
/// side that appears on the left of an unmirrored camera frame, i.e. the subject's right;
/// MediaPipe's own names (`FACEMESH_RIGHT_EYE` = 33…133) are the subject's.
pub mod index {
    /// Eye on the image's left, in the eye-aspect-ratio order p1…p6: outer corner, two upper-lid
    /// points, inner corner, two lower-lid points; p2↔p6 and p3↔p5 face each other across the eye.
    pub const EYE_IMAGE_LEFT: [usize; 6] = [33, 160, 158, 133, 153, 144];
    /// Eye on the image's right, same order: inner corner, upper lid, outer corner, lower lid.
    pub const EYE_IMAGE_RIGHT: [usize; 6] = [362, 385, 387, 263, 373, 380];
    /// Eye centres are taken as the mean of these contour points (corners and mid-lids).
    pub const EYE_CENTRE_IMAGE_LEFT: [usize; 4] = [33, 133, 159, 145];
    /// See [`EYE_CENTRE_IMAGE_LEFT`].
    pub const EYE_CENTRE_IMAGE_RIGHT: [usize; 4] = [362, 263, 386, 374];
    /// Nose tip.
    pub const NOSE_TIP: usize = 1;
    /// Mouth corners, image-left then image-right.
    pub const MOUTH_CORNERS: [usize; 2] = [61, 291];
    /// Inner lips at the centre line: upper, lower.
    pub const INNER_LIPS: [usize; 2] = [13, 14];
    /// Face outline at the cheekbones/temples, image-left then image-right: the widest pair.
    pub const FACE_SIDES: [usize; 2] = [234, 454];
    /// Top of the forehead and the chin, on the centre line.
    pub const FOREHEAD: usize = 10;
    /// See [`FOREHEAD`].
    pub const CHIN: usize = 152;
    /// Centre line between the eyebrows and at the base of the nose (above the upper lip): the
    /// face's vertical axis for pitch, chosen because neither moves when the jaw opens.
    pub const BROW_CENTRE: usize = 9;
    /// See [`BROW_CENTRE`].
    pub const NOSE_BASE: usize = 164;
    /// Image-left → image-right pairs that do not move with expressions (eye corners, face
    /// sides); their sum is the face's horizontal axis.
    pub const HORIZONTAL_PAIRS: [[usize; 2]; 3] = [[33, 263], [133, 362], [234, 454]];
}

/// The 468 points of one face.
#[derive(Clone, Debug, PartialEq)]
pub struct Mesh {
    /// `[x, y, z]` per vertex: x, y in frame pixels; z in the same pixel scale as x, relative to
    /// the face's centre plane, negative towards the camera.
    pub points: Vec<[f32; 3]>,
    /// Probability that the crop shows a face, sigmoid of the model's presence logit (MediaPipe
    /// drops meshes below 0.5).
    pub presence: f32,
}

/// What the mesh says about the face, for guidance and active liveness.
///
/// Sign conventions are for the **unmirrored** camera frame (as the camera delivers it, not as a
/// selfie preview shows it): image x to the right, y down.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshCues {
    /// Eye aspect ratio of the eye on the image's left (the subject's right eye):
    /// (|p2−p6| + |p3−p5|) / (2·|p1−p4|) on 3-D mesh points. Measured: open eyes 0.15–0.37
    /// (the low end when smiling or squinting), closed mid-blink 0.095–0.125; the value moves by
    /// ±0.02 with the crop, so compare within one person and session.
    pub ear_left: f32,
    /// Eye aspect ratio of the eye on the image's right (the subject's left eye).
    pub ear_right: f32,
    /// Head turn in degrees: positive = nose towards the image's right (+x), i.e. the subject
    /// turns to their own left; in a mirrored selfie preview the nose moves to the preview's left.
    pub yaw_deg: f32,
    /// Head nod in degrees: positive = looking down (nose towards +y), negative = looking up.
    pub pitch_deg: f32,
    /// In-plane tilt in degrees: positive = the face's image-right side lower (clockwise on screen).
    pub roll_deg: f32,
    /// Inner-lip gap divided by mouth width (3-D). Measured: closed 0.01–0.05, wide open 0.35–0.47.
    pub mouth_open: f32,
    /// Face width in frame pixels between the outline points at the cheekbones (3-D distance, so
    /// turning the head does not read as moving away).
    pub face_width_px: f32,
    /// The mesh model's face-presence probability.
    pub presence: f32,
    /// Fraction of the 468 points inside the frame: below 1 the face is cut by the frame edge.
    pub in_frame: f32,
}

/// The face-mesh model.
pub struct FaceMesh {
    model: OnnxModel,
}

impl FaceMesh {
    /// Verifies and loads the model.
    pub fn load(bytes: &[u8]) -> Result<Self, Error> {
        Ok(FaceMesh {
            model: OnnxModel::load(MESH_MODEL, bytes, &[1, MESH_SIZE, MESH_SIZE, 3])?,
        })
    }

    /// The 468 points of the face `detection` found in `frame`, in frame coordinates.
    pub fn run(&self, frame: &Frame, detection: &Detection) -> Result<Mesh, Error> {
        let to_frame = roi_to_frame(detection).ok_or_else(|| Error::Inference {
            name: MESH_MODEL.into(),
            reason: "degenerate detection box".into(),
        })?;
        let outputs = self.model.run(roi_input(frame, &to_frame))?;
        let (coords, logit) = match outputs.as_slice() {
            [c, p] if c.values.len() == MESH_POINTS * 3 && p.values.len() == 1 => {
                (&c.values, p.values[0])
            }
            _ => {
                return Err(Error::Inference {
                    name: MESH_MODEL.into(),
                    reason: "expected 1404 coordinates and one presence logit".into(),
                })
            }
        };
        Ok(Mesh {
            points: project_points(coords, &to_frame),
            presence: sigmoid(logit),
        })
    }
}

/// The map from model-input pixels to frame pixels: MediaPipe's ROI, a square of side
/// 1.5 × the box's long side centred on the box and rotated by the eye-line angle (image-left eye
/// → image-right eye), spread over the 192 input pixels. `None` for an empty or non-finite box.
pub fn roi_to_frame(detection: &Detection) -> Option<Similarity> {
    let [x, y, w, h] = detection.bbox;
    let side = w.max(h) * MESH_ROI_SCALE;
    if !(side.is_finite() && side > 0.0 && x.is_finite() && y.is_finite()) {
        return None;
    }
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    let [le, re] = [detection.landmarks[0], detection.landmarks[1]];
    let angle = (re[1] - le[1]).atan2(re[0] - le[0]);
    let s = side / MESH_SIZE as f32;
    let (c, sn) = (angle.cos() * s, angle.sin() * s);
    // MediaPipe maps the ROI's corners onto the tensor's corners (input coordinate u ↦ ROI
    // fraction u/192), so input (96, 96) is the ROI centre; the same map takes the model's
    // output coordinates back, keeping crop and points consistent.
    let half = MESH_SIZE as f32 / 2.0;
    Some(Similarity {
        a_re: c,
        a_im: sn,
        b_re: cx - (c * half - sn * half),
        b_im: cy - (sn * half + c * half),
    })
}

/// The model input: the ROI as NHWC RGB in [0, 1], bilinear, border replicated like MediaPipe.
/// When the ROI is at least twice the input's size (a face filling a 640×480 frame) the covered
/// part of the frame is first shrunk by the integer factor ([`Frame::shrink_region`]), where plain
/// bilinear would alias.
fn roi_input(frame: &Frame, to_frame: &Similarity) -> Vec<f32> {
    let footprint = to_frame.scale();
    let k = footprint.floor() as usize;
    if k >= 2 {
        let n = MESH_SIZE as f32;
        let corners = [[0.0, 0.0], [n, 0.0], [0.0, n], [n, n]].map(|c| to_frame.apply(c));
        let lo = |i: usize| corners.iter().map(|c| c[i]).fold(f32::MAX, f32::min);
        let hi = |i: usize| corners.iter().map(|c| c[i]).fold(f32::MIN, f32::max);
        let rect = [lo(0), lo(1), hi(0) + 2.0, hi(1) + 2.0].map(|v| v.max(0.0) as usize);
        if let Some((small, origin)) = frame.shrink_region(k, rect) {
            let (kf, rest) = (k as f32, footprint / k as f32);
            return sample_roi(to_frame, |[x, y]| {
                let (sx, sy) = ((x - origin[0]) / kf, (y - origin[1]) / kf);
                small.sample_area_replicate(sx, sy, rest)
            });
        }
    }
    sample_roi(to_frame, |[x, y]| {
        frame.sample_area_replicate(x, y, footprint)
    })
}

/// `MESH_SIZE`² samples of `at` (frame coordinates → RGB 0..255), scaled to [0, 1].
fn sample_roi(to_frame: &Similarity, at: impl Fn([f32; 2]) -> [f32; 3]) -> Vec<f32> {
    let mut input = Vec::with_capacity(MESH_SIZE * MESH_SIZE * 3);
    for v in 0..MESH_SIZE {
        for u in 0..MESH_SIZE {
            let px = at(to_frame.apply([u as f32, v as f32]));
            input.extend(px.map(|c| c / 255.0));
        }
    }
    input
}

/// Model coordinates (input pixels) → frame pixels; z is scaled like x (MediaPipe's
/// LandmarkProjectionCalculator scales z by the ROI width).
fn project_points(coords: &[f32], to_frame: &Similarity) -> Vec<[f32; 3]> {
    let s = to_frame.scale();
    coords
        .chunks_exact(3)
        .map(|p| {
            let [x, y] = to_frame.apply([p[0], p[1]]);
            [x, y, p[2] * s]
        })
        .collect()
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn norm(a: [f32; 3]) -> f32 {
    dot(a, a).sqrt()
}

fn unit(a: [f32; 3]) -> Option<[f32; 3]> {
    let n = norm(a);
    (n.is_finite() && n > 1e-6).then(|| a.map(|c| c / n))
}

fn dist(a: [f32; 3], b: [f32; 3]) -> f32 {
    norm(sub(a, b))
}

/// Mean of some mesh points.
fn centroid(points: &[[f32; 3]], indices: &[usize]) -> [f32; 3] {
    let mut acc = [0.0f32; 3];
    for &i in indices {
        for c in 0..3 {
            acc[c] += points[i][c];
        }
    }
    acc.map(|c| c / indices.len() as f32)
}

/// Soukupová & Čech's eye aspect ratio: lid gap over eye width. 3-D distances, so a turned head
/// (which shortens the eye's width in the image) does not look like a wider-open eye.
pub fn eye_aspect_ratio(points: &[[f32; 3]], eye: [usize; 6]) -> f32 {
    let p = eye.map(|i| points[i]);
    let width = dist(p[0], p[3]);
    if width <= 1e-6 {
        return 0.0;
    }
    (dist(p[1], p[5]) + dist(p[2], p[4])) / (2.0 * width)
}

/// How far the brow → nose-base line leans back (top away from the camera) relative to the
/// forehead → chin line on a face with the mouth closed, in degrees. Added to the pitch so that
/// 0 means "forehead and chin equally far from the camera", as the familiar forehead → chin axis
/// would read, without that axis's 10° per unit of mouth opening (the chin drops and moves back).
/// Measured as the median over 640 closed-mouth frames and photos (fixtures cap12/cap13 and six
/// portraits with their mirror images): 6.0° (10–90 %: 5.7–6.4°; portraits alone 4.6°).
pub const PITCH_OFFSET_DEG: f32 = 6.0;

/// Yaw, pitch and roll in degrees (signs as documented on [`MeshCues`]) from the face's own axes:
/// horizontal = sum of image-left → image-right vectors between expression-free point pairs,
/// vertical = brow → nose base made orthogonal to it. Yaw and pitch are how far these axes tilt
/// out of the image plane (asin of their z components; pitch shifted by [`PITCH_OFFSET_DEG`]),
/// roll is the horizontal axis's angle in the image.
pub fn head_pose(points: &[[f32; 3]]) -> (f32, f32, f32) {
    let mut across = [0.0f32; 3];
    for [l, r] in index::HORIZONTAL_PAIRS {
        let d = sub(points[r], points[l]);
        for c in 0..3 {
            across[c] += d[c];
        }
    }
    let Some(x) = unit(across) else {
        return (0.0, 0.0, 0.0);
    };
    let down = sub(points[index::NOSE_BASE], points[index::BROW_CENTRE]);
    let along = dot(down, x);
    let Some(y) = unit([
        down[0] - along * x[0],
        down[1] - along * x[1],
        down[2] - along * x[2],
    ]) else {
        return (0.0, 0.0, 0.0);
    };
    let yaw = x[2].clamp(-1.0, 1.0).asin();
    let pitch = y[2].clamp(-1.0, 1.0).asin().to_degrees() + PITCH_OFFSET_DEG;
    let roll = x[1].atan2(x[0]);
    (yaw.to_degrees(), pitch, roll.to_degrees())
}

impl MeshCues {
    /// Measures every cue from a mesh found in `frame`.
    pub fn measure(mesh: &Mesh, frame: &Frame) -> MeshCues {
        let p = &mesh.points;
        let (yaw_deg, pitch_deg, roll_deg) = head_pose(p);
        let [ml, mr] = index::MOUTH_CORNERS.map(|i| p[i]);
        let [lu, ll] = index::INNER_LIPS.map(|i| p[i]);
        let mouth_width = dist(ml, mr);
        let [sl, sr] = index::FACE_SIDES.map(|i| p[i]);
        let (w, h) = (frame.width() as f32, frame.height() as f32);
        let inside = p
            .iter()
            .filter(|q| q[0] >= 0.0 && q[1] >= 0.0 && q[0] < w && q[1] < h)
            .count();
        MeshCues {
            ear_left: eye_aspect_ratio(p, index::EYE_IMAGE_LEFT),
            ear_right: eye_aspect_ratio(p, index::EYE_IMAGE_RIGHT),
            yaw_deg,
            pitch_deg,
            roll_deg,
            mouth_open: if mouth_width > 1e-6 {
                dist(lu, ll) / mouth_width
            } else {
                0.0
            },
            face_width_px: dist(sl, sr),
            presence: mesh.presence,
            in_frame: inside as f32 / p.len().max(1) as f32,
        }
    }
}

impl Mesh {
    /// Five points in the detector's order (image-left eye, image-right eye, nose tip, image-left
    /// and image-right mouth corners), in frame pixels, for ArcFace alignment from the mesh.
    pub fn five_points(&self) -> [[f32; 2]; 5] {
        let xy = |q: [f32; 3]| [q[0], q[1]];
        let p = &self.points;
        [
            xy(centroid(p, &index::EYE_CENTRE_IMAGE_LEFT)),
            xy(centroid(p, &index::EYE_CENTRE_IMAGE_RIGHT)),
            xy(p[index::NOSE_TIP]),
            xy(p[index::MOUTH_CORNERS[0]]),
            xy(p[index::MOUTH_CORNERS[1]]),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat, frontal synthetic mesh: every point at the origin except the ones the cues read.
    fn frontal() -> Vec<[f32; 3]> {
        let mut p = vec![[0.0f32; 3]; MESH_POINTS];
        let mut set = |i: usize, x: f32, y: f32| p[i] = [x, y, 0.0];
        for (k, x0) in [
            (index::EYE_IMAGE_LEFT, 20.0),
            (index::EYE_IMAGE_RIGHT, 60.0),
        ] {
            // corners 20 px apart, lids ±3 px: EAR = 6/20 = 0.3
            set(k[0], x0, 40.0);
            set(k[3], x0 + 20.0, 40.0);
            set(k[1], x0 + 7.0, 37.0);
            set(k[2], x0 + 13.0, 37.0);
            set(k[5], x0 + 7.0, 43.0);
            set(k[4], x0 + 13.0, 43.0);
        }
        set(234, 0.0, 45.0);
        set(454, 100.0, 45.0);
        set(index::FOREHEAD, 50.0, 0.0);
        set(index::CHIN, 50.0, 120.0);
        set(index::BROW_CENTRE, 50.0, 30.0);
        set(index::NOSE_BASE, 50.0, 80.0);
        set(61, 35.0, 90.0);
        set(291, 65.0, 90.0);
        set(13, 50.0, 89.0);
        set(14, 50.0, 91.0);
        p
    }

    #[test]
    fn eye_aspect_ratio_of_a_known_eye() {
        let p = frontal();
        assert!((eye_aspect_ratio(&p, index::EYE_IMAGE_LEFT) - 0.3).abs() < 1e-5);
        assert!((eye_aspect_ratio(&p, index::EYE_IMAGE_RIGHT) - 0.3).abs() < 1e-5);
    }

    #[test]
    fn frontal_mesh_has_zero_yaw_and_roll_and_the_pitch_offset() {
        let (yaw, pitch, roll) = head_pose(&frontal());
        assert!(yaw.abs() < 1e-3 && roll.abs() < 1e-3);
        assert!((pitch - PITCH_OFFSET_DEG).abs() < 1e-3);
    }

    /// Rotates every point about the vertical axis through x = 50 so the nose (towards −z) swings
    /// towards +x by `deg`.
    fn turned(deg: f32) -> Vec<[f32; 3]> {
        let (s, c) = deg.to_radians().sin_cos();
        frontal()
            .into_iter()
            .map(|[x, y, z]| [50.0 + (x - 50.0) * c - z * s, y, (x - 50.0) * s + z * c])
            .collect()
    }

    #[test]
    fn nose_towards_image_right_is_positive_yaw() {
        // The nose direction −z maps to (sin, 0, −cos): towards +x for a positive angle.
        let (yaw, pitch, _) = head_pose(&turned(30.0));
        assert!((yaw - 30.0).abs() < 1e-3, "{yaw}");
        assert!((pitch - PITCH_OFFSET_DEG).abs() < 1e-3, "{pitch}");
        assert!((head_pose(&turned(-20.0)).0 + 20.0).abs() < 1e-3);
    }

    #[test]
    fn lower_face_away_from_camera_is_positive_pitch() {
        // Looking down: the lower face moves back (+z), the brow forwards.
        let mut p = frontal();
        p[index::NOSE_BASE][2] = 25.0;
        p[index::BROW_CENTRE][2] = -25.0;
        let (_, pitch, _) = head_pose(&p);
        assert!((pitch - PITCH_OFFSET_DEG - 45.0).abs() < 1e-3, "{pitch}");
    }

    #[test]
    fn clockwise_tilt_is_positive_roll() {
        let (s, c) = 15f32.to_radians().sin_cos();
        let p: Vec<[f32; 3]> = frontal()
            .into_iter()
            .map(|[x, y, z]| [x * c - y * s, x * s + y * c, z])
            .collect();
        assert!((head_pose(&p).2 - 15.0).abs() < 1e-3);
    }

    #[test]
    fn a_large_roi_is_shrunk_first_and_reads_like_the_area_average() {
        // Texture at several scales, and a tilted ROI 2.6× the input that overhangs the frame.
        let (w, h) = (640, 480);
        let rgb = (0..w * h)
            .flat_map(|i| {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                let v = 128.0 + 60.0 * (x / 9.0).sin() * (y / 13.0).cos() + 40.0 * (x / 41.0).cos();
                [v as u8, (x / 3.0) as u8, (255.0 - y / 2.0) as u8]
            })
            .collect();
        let frame = Frame::from_rgb(w, h, rgb).unwrap();
        let d = Detection {
            bbox: [250.0, 150.0, 300.0, 333.0],
            score: 1.0,
            landmarks: [
                [330.0, 250.0],
                [470.0, 270.0],
                [400.0, 320.0],
                [340.0, 380.0],
                [450.0, 390.0],
            ],
        };
        let t = roi_to_frame(&d).unwrap();
        assert!(t.scale() > 2.0 && t.scale() < 3.0);
        let fast = roi_input(&frame, &t);
        let taps = sample_roi(&t, |[x, y]| frame.sample_area_replicate(x, y, t.scale()));
        let mean_diff = fast
            .iter()
            .zip(&taps)
            .map(|(a, b)| (a - b).abs())
            .sum::<f32>()
            / fast.len() as f32;
        // Measured 0.0006 (0.15 of 255).
        assert!(mean_diff < 0.003, "{mean_diff}");
    }

    #[test]
    fn roi_centre_is_box_centre_and_side_is_one_and_a_half_boxes() {
        let d = Detection {
            bbox: [100.0, 50.0, 80.0, 100.0],
            score: 1.0,
            landmarks: [
                [120.0, 90.0],
                [160.0, 90.0],
                [140.0, 110.0],
                [125.0, 130.0],
                [155.0, 130.0],
            ],
        };
        let t = roi_to_frame(&d).unwrap();
        let c = t.apply([96.0, 96.0]);
        assert!(
            (c[0] - 140.0).abs() < 1e-3 && (c[1] - 100.0).abs() < 1e-3,
            "{c:?}"
        );
        assert!((t.scale() * 192.0 - 150.0).abs() < 1e-3);
        assert!(t.a_im.abs() < 1e-6, "level eyes, no rotation");
    }
}
