//! Per-frame and per-ceremony decisions: which face to use, enrollment consistency, user guidance.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::matching::ENROLL_CONSISTENCY_THRESHOLD;
use crate::template::Embedding;

/// Detections scoring below this are treated as noise. Measured with RetinaFace on the fixtures:
/// every real face (portraits, video frames, 6 group photos) scores ≥ 0.968, while the only
/// false detection (a 40 px cartoon emoticon upscaled) scores 0.841.
pub const MIN_DETECTION_SCORE: f32 = 0.9;

/// Faces smaller than this (box side, pixels) give unreliable embeddings: the 112 px aligned crop
/// would be mostly interpolation. The 400×300 webcam fixture clips show faces of 71–107 px.
pub const MIN_FACE_PX: f32 = 64.0;

/// Faces smaller than this fraction of the main face are background (passers-by, posters)
/// and do not trigger `MANY_FACES`; a second face at least this large is a second person.
pub const BACKGROUND_FACE_RATIO: f32 = 0.5;

/// Passive liveness score required when liveness is enforced. All 48 bona fide fixture photos
/// score ≥ 0.617 on the liveness model, so 0.5 rejects none of them; it is a floor, not a defence:
/// single-frame models do not separate prints and screens on their own, which is why the
/// ceremony adds temporal and active evidence.
pub const LIVENESS_THRESHOLD: f32 = 0.5;

/// Minimum enrollment frames averaged into one template; one frame is too easily a bad one.
pub const MIN_ENROLL_FRAMES: usize = 3;

/// Guidance: face side below this fraction of the shorter frame side → "move closer".
pub const GUIDE_MIN_FACE_FRACTION: f32 = 0.25;

/// Guidance: face side above this fraction of the shorter frame side → "move back"
/// (the face box would be cropped when the head moves).
pub const GUIDE_MAX_FACE_FRACTION: f32 = 0.8;

/// Guidance: mean face brightness (0..1) below this → "more light".
pub const GUIDE_MIN_BRIGHTNESS: f32 = 0.25;

/// Guidance: |yaw| or |pitch| above this (degrees) → "face the camera"; embeddings degrade past it.
pub const GUIDE_MAX_POSE_DEG: f32 = 20.0;

/// Guidance: blur (0 sharp .. 1 very blurry) above this → "hold still".
pub const GUIDE_MAX_BLUR: f32 = 0.5;

/// Occlusion score (`fio_vision::occlusion::Occlusion::score`) above which a face counts as
/// obscured (mask, hand, dark glasses) for apps that ignore obscured faces.
///
/// Measured with `fio occlusion fixtures/labels.csv` (47 photos of 16 people plus every 10th
/// frame of the cap12/cap13 webcam clips; 128 measured bare faces): bona fide max 0.78 (a full
/// beard and moustache, sean_guru2_crop.jpg), median 0.14. Synthetic occluders painted over the
/// mesh and re-detected: white mask min 1.05, black mask 1.81, dark sunglasses 2.03, surgical
/// mask 4.16; the one real pair of dark sunglasses in the set (terminator_crop.jpg) 3.01. 0.9
/// sits in that gap, a little nearer the bona fide side's larger spread. A hand of skin tone
/// over mouth and chin is *not* separated (median 0.22, 2 of 131 above): colour cannot see skin
/// on skin.
pub const OCCLUSION_MAX: f32 = 0.9;

/// True when an occlusion score says the face is obscured; no score (face too small, mesh
/// outside the frame) or NaN is not evidence of a mask.
pub fn is_obscured(occlusion: Option<f32>) -> bool {
    occlusion.is_some_and(|o| o > OCCLUSION_MAX)
}

/// Image-quality signals for one detected face.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quality {
    /// Blurriness, 0 (sharp) to 1 (very blurry).
    pub blur: f32,
    /// Mean luma of the face region, 0 (black) to 1 (white).
    pub brightness: f32,
    /// Head yaw in degrees, 0 = facing the camera.
    pub yaw_deg: f32,
    /// Head pitch in degrees, 0 = level.
    pub pitch_deg: f32,
    /// Head roll in degrees (alignment corrects it, so guidance ignores it).
    pub roll_deg: f32,
}

/// One detected face, as reported by the vision pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaceObservation {
    /// Detector confidence, 0..1.
    pub score: f32,
    /// Face box `[x, y, width, height]` in frame pixels.
    pub box_xywh: [f32; 4],
    /// Face size in pixels (larger side of the box).
    pub face_size_px: f32,
    /// Liveness score 0..1 if measured.
    pub liveness: Option<f32>,
    /// Estimated age in years if measured.
    pub age: Option<f32>,
    /// Quality signals.
    pub quality: Quality,
}

/// Thresholds for [`check_frame`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FramePolicy {
    /// See [`MIN_DETECTION_SCORE`].
    pub min_detection_score: f32,
    /// See [`MIN_FACE_PX`].
    pub min_face_px: f32,
    /// See [`BACKGROUND_FACE_RATIO`].
    pub background_face_ratio: f32,
    /// Required liveness score; `None` when liveness is off.
    pub liveness_threshold: Option<f32>,
    /// The application's minimum age; `None` when minors are allowed.
    pub min_age: Option<f32>,
}

impl Default for FramePolicy {
    fn default() -> Self {
        Self {
            min_detection_score: MIN_DETECTION_SCORE,
            min_face_px: MIN_FACE_PX,
            background_face_ratio: BACKGROUND_FACE_RATIO,
            liveness_threshold: None,
            min_age: None,
        }
    }
}

/// Indices of faces that pass the score and size filters (NaN scores never pass).
fn usable(faces: &[FaceObservation], min_score: f32, min_px: f32) -> Vec<usize> {
    (0..faces.len())
        .filter(|&i| faces[i].score >= min_score && faces[i].face_size_px >= min_px)
        .collect()
}

/// Largest usable face and how many usable faces are significant next to it.
fn main_face(faces: &[FaceObservation], usable: &[usize], ratio: f32) -> Option<(usize, usize)> {
    let main = usable.iter().copied().reduce(|a, b| {
        if faces[b].face_size_px > faces[a].face_size_px {
            b
        } else {
            a
        }
    })?;
    let floor = faces[main].face_size_px * ratio;
    let significant = usable
        .iter()
        .filter(|&&i| faces[i].face_size_px >= floor)
        .count();
    Some((main, significant))
}

/// Picks the face to use from a frame, or says why the frame is unusable.
///
/// Liveness or age that is required but missing fails closed (`PAD_ATTACK` / `MINORS_NOT_ALLOWED`):
/// a pipeline that skipped a check must not let the user through.
pub fn check_frame(faces: &[FaceObservation], policy: &FramePolicy) -> Result<usize, Error> {
    let ok = usable(faces, policy.min_detection_score, policy.min_face_px);
    let (main, significant) =
        main_face(faces, &ok, policy.background_face_ratio).ok_or(Error::NoFace)?;
    if significant > 1 {
        return Err(Error::ManyFaces);
    }
    let face = &faces[main];
    if let Some(t) = policy.liveness_threshold {
        if !face.liveness.is_some_and(|l| l >= t) {
            return Err(Error::PadAttack);
        }
    }
    if let Some(min) = policy.min_age {
        if !face.age.is_some_and(|a| a >= min) {
            return Err(Error::MinorNotAllowed);
        }
    }
    Ok(main)
}

/// Rules for combining enrollment frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnrollPolicy {
    /// See [`MIN_ENROLL_FRAMES`].
    pub min_frames: usize,
    /// See [`ENROLL_CONSISTENCY_THRESHOLD`].
    pub consistency_threshold: f32,
}

impl Default for EnrollPolicy {
    fn default() -> Self {
        Self {
            min_frames: MIN_ENROLL_FRAMES,
            consistency_threshold: ENROLL_CONSISTENCY_THRESHOLD,
        }
    }
}

/// Checks that all enrollment frames show one face and returns their renormalised mean.
///
/// Every pair is compared (not just each against the mean) because a swapped-in face can still
/// sit close to a mean dominated by the genuine frames.
pub fn check_enrollment(
    embeddings: &[Embedding],
    policy: &EnrollPolicy,
) -> Result<Embedding, Error> {
    if embeddings.len() < policy.min_frames.max(1) {
        return Err(Error::TooFewFrames {
            got: embeddings.len(),
            need: policy.min_frames.max(1),
        });
    }
    for (i, a) in embeddings.iter().enumerate() {
        for b in &embeddings[i + 1..] {
            let s = a.cosine(b);
            if s.is_nan() || s < policy.consistency_threshold {
                return Err(Error::FaceMismatch);
            }
        }
    }
    Embedding::mean(embeddings).map_err(|_| Error::FaceMismatch)
}

/// What the widget tells the user to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Guidance {
    /// No face in view.
    NoFace,
    /// More than one person in view.
    ManyFaces,
    /// Face too small.
    MoveCloser,
    /// Face too large.
    MoveBack,
    /// Image too blurry.
    HoldStill,
    /// Face too dark.
    MoreLight,
    /// Head turned or tilted too far.
    FaceTheCamera,
    /// Face partly covered (mask, hand, dark glasses) and the app ignores obscured faces; set by
    /// the widget from [`is_obscured`], never by [`guidance`].
    UncoverFace,
    /// Good to capture.
    Ok,
}

/// Guidance for the current frame, from the default thresholds.
///
/// Checked in order: presence, count, distance, light, pose, blur — distance first because it
/// changes every other signal, light before pose and blur because darkness degrades both.
pub fn guidance(faces: &[FaceObservation], frame_w: f32, frame_h: f32) -> Guidance {
    let short_side = frame_w.min(frame_h);
    // No size floor here: a small face should read "move closer", not "no face".
    let ok = usable(faces, MIN_DETECTION_SCORE, 0.0);
    let Some((main, significant)) = main_face(faces, &ok, BACKGROUND_FACE_RATIO) else {
        return Guidance::NoFace;
    };
    if short_side.is_nan() || short_side <= 0.0 {
        return Guidance::NoFace;
    }
    if significant > 1 {
        return Guidance::ManyFaces;
    }
    let f = &faces[main];
    let fraction = f.face_size_px / short_side;
    let q = &f.quality;
    if fraction < GUIDE_MIN_FACE_FRACTION || f.face_size_px < MIN_FACE_PX {
        Guidance::MoveCloser
    } else if fraction > GUIDE_MAX_FACE_FRACTION {
        Guidance::MoveBack
    } else if q.brightness < GUIDE_MIN_BRIGHTNESS {
        Guidance::MoreLight
    } else if q.yaw_deg.abs() > GUIDE_MAX_POSE_DEG || q.pitch_deg.abs() > GUIDE_MAX_POSE_DEG {
        Guidance::FaceTheCamera
    } else if q.blur > GUIDE_MAX_BLUR {
        Guidance::HoldStill
    } else {
        Guidance::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::tests::{blend, test_embedding};

    #[test]
    fn obscured_needs_a_score_above_the_bar() {
        assert!(!is_obscured(None));
        assert!(!is_obscured(Some(f32::NAN)));
        assert!(!is_obscured(Some(OCCLUSION_MAX)));
        assert!(is_obscured(Some(OCCLUSION_MAX + 0.01)));
        assert_eq!(
            serde_json::to_value(Guidance::UncoverFace).unwrap(),
            serde_json::json!("uncoverFace")
        );
    }

    fn face(size: f32, score: f32) -> FaceObservation {
        FaceObservation {
            score,
            box_xywh: [100.0, 100.0, size, size],
            face_size_px: size,
            liveness: Some(0.9),
            age: Some(30.0),
            quality: Quality {
                blur: 0.1,
                brightness: 0.5,
                ..Quality::default()
            },
        }
    }

    #[test]
    fn no_usable_face() {
        let p = FramePolicy::default();
        assert_eq!(check_frame(&[], &p), Err(Error::NoFace));
        assert_eq!(check_frame(&[face(200.0, 0.3)], &p), Err(Error::NoFace));
        assert_eq!(check_frame(&[face(40.0, 0.99)], &p), Err(Error::NoFace));
        assert_eq!(
            check_frame(&[face(200.0, f32::NAN)], &p),
            Err(Error::NoFace)
        );
        assert_eq!(Error::NoFace.code().name(), "NO_FACES_DETECTED");
    }

    #[test]
    fn picks_main_face_and_ignores_background() {
        let p = FramePolicy::default();
        let faces = [face(90.0, 0.9), face(200.0, 0.95), face(30.0, 0.99)];
        assert_eq!(check_frame(&faces, &p), Ok(1));
        // 99 px is under half of 200 px: background.
        assert_eq!(check_frame(&[face(200.0, 0.9), face(99.0, 0.9)], &p), Ok(0));
        // Exactly half is significant.
        assert_eq!(
            check_frame(&[face(200.0, 0.9), face(100.0, 0.9)], &p),
            Err(Error::ManyFaces)
        );
        // A low-score detection is not a second person.
        assert_eq!(
            check_frame(&[face(200.0, 0.9), face(190.0, 0.2)], &p),
            Ok(0)
        );
    }

    #[test]
    fn liveness_fails_closed() {
        let p = FramePolicy {
            liveness_threshold: Some(LIVENESS_THRESHOLD),
            ..FramePolicy::default()
        };
        let mut f = face(200.0, 0.9);
        assert_eq!(check_frame(&[f], &p), Ok(0));
        f.liveness = Some(0.49);
        assert_eq!(check_frame(&[f], &p), Err(Error::PadAttack));
        f.liveness = Some(0.5);
        assert_eq!(check_frame(&[f], &p), Ok(0));
        f.liveness = None;
        assert_eq!(check_frame(&[f], &p), Err(Error::PadAttack));
        assert_eq!(check_frame(&[f], &FramePolicy::default()), Ok(0));
    }

    #[test]
    fn minimum_age_fails_closed() {
        let p = FramePolicy {
            min_age: Some(18.0),
            ..FramePolicy::default()
        };
        let mut f = face(200.0, 0.9);
        f.age = Some(17.9);
        assert_eq!(check_frame(&[f], &p), Err(Error::MinorNotAllowed));
        f.age = Some(18.0);
        assert_eq!(check_frame(&[f], &p), Ok(0));
        f.age = None;
        assert_eq!(check_frame(&[f], &p), Err(Error::MinorNotAllowed));
    }

    #[test]
    fn enrollment_consistency() {
        let p = EnrollPolicy::default();
        let base = test_embedding(42);
        let frames: Vec<_> = (0..3)
            .map(|i| blend(&base, &test_embedding(i), 0.2))
            .collect();
        let mean = check_enrollment(&frames, &p).unwrap();
        assert!(mean.cosine(&base) > 0.9);
        assert_eq!(
            check_enrollment(&frames[..2], &p),
            Err(Error::TooFewFrames { got: 2, need: 3 })
        );
        let mut swapped = frames.clone();
        swapped.push(test_embedding(777));
        assert_eq!(check_enrollment(&swapped, &p), Err(Error::FaceMismatch));
        let one = EnrollPolicy { min_frames: 0, ..p };
        assert!(check_enrollment(&[], &one).is_err());
        assert!(check_enrollment(&frames[..1], &one).is_ok());
    }

    #[test]
    fn guidance_follows_priorities() {
        let (w, h) = (640.0, 480.0);
        assert_eq!(guidance(&[], w, h), Guidance::NoFace);
        assert_eq!(guidance(&[face(200.0, 0.9)], 0.0, h), Guidance::NoFace);
        assert_eq!(guidance(&[face(200.0, 0.9)], w, h), Guidance::Ok);
        assert_eq!(
            guidance(&[face(200.0, 0.9), face(180.0, 0.9)], w, h),
            Guidance::ManyFaces
        );
        assert_eq!(guidance(&[face(60.0, 0.9)], w, h), Guidance::MoveCloser);
        assert_eq!(guidance(&[face(400.0, 0.9)], w, h), Guidance::MoveBack);
        let mut f = face(200.0, 0.9);
        f.quality.brightness = 0.1;
        f.quality.yaw_deg = 40.0;
        assert_eq!(guidance(&[f], w, h), Guidance::MoreLight);
        f.quality.brightness = 0.5;
        assert_eq!(guidance(&[f], w, h), Guidance::FaceTheCamera);
        f.quality.yaw_deg = -10.0;
        f.quality.pitch_deg = -25.0;
        assert_eq!(guidance(&[f], w, h), Guidance::FaceTheCamera);
        f.quality.pitch_deg = 0.0;
        f.quality.blur = 0.8;
        assert_eq!(guidance(&[f], w, h), Guidance::HoldStill);
    }

    #[test]
    fn observation_serde_is_camel_case() {
        let json = serde_json::to_value(face(100.0, 0.9)).unwrap();
        assert!(json.get("faceSizePx").is_some());
        assert!(json["quality"].get("yawDeg").is_some());
        assert_eq!(
            serde_json::to_value(Guidance::MoveCloser).unwrap(),
            "moveCloser"
        );
    }
}
