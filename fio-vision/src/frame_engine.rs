//! The per-frame engine: one call per video frame turns pixels into detections, guidance,
//! liveness cues and, on request, a template. The browser runs it through `fio-wasm` (a thin
//! wasm-bindgen facade) and the liveness bench runs it natively, so what is measured is what ships.

use fio_core::liveness::{CropBundle, FrameCues, EVIDENCE_SIDE};
use fio_core::{Embedding, FaceObservation, Guidance};
use serde::Serialize;

use crate::align::align_arcface;
use crate::attributes::Gender;
use crate::detect::{confident_faces, Detection};
use crate::evidence_crops::evidence_crop;
use crate::liveness_cues::frame_cues;
use crate::models::ModelStage;
use crate::occlusion;
use crate::passive_scores::LivenessScores;
use crate::quality::{head_pose, sharpness_and_brightness, Quality};
use crate::tracking::Track;
use crate::{Error, Frame, Mesh, MeshCues, ModelFiles, Pipeline, StageTimes};

/// Sharpness (variance of the Laplacian on the 112 px aligned crop) at which `blur` reaches 0.5,
/// fio-core's "hold still" threshold. Measured with the native pipeline: sharp portraits score
/// 300–1100, the 400×300 webcam fixture frames (faces of 71–107 px, upscaled by alignment) 19–90,
/// and obama.jpg blurred with a Gaussian of σ = 2/4/6 px scores 197/59/24. So only faces softer
/// than every real webcam frame ask the user to hold still.
pub const BLUR_HALF_SHARPNESS: f32 = 15.0;

/// Maps sharpness to fio-core's blur scale (0 sharp .. 1 very blurry).
pub fn blur_from_sharpness(sharpness: f32) -> f32 {
    if sharpness.is_nan() {
        return 1.0;
    }
    BLUR_HALF_SHARPNESS / (BLUR_HALF_SHARPNESS + sharpness.max(0.0))
}

/// One detection as JS sees it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Face {
    /// `[x, y, w, h]` in frame pixels.
    pub bbox: [f32; 4],
    /// Detector confidence.
    pub score: f32,
    /// Eyes, nose tip, mouth corners in frame pixels.
    pub landmarks: [[f32; 2]; 5],
}

/// Quality signals of the main face (fio-vision's, in camelCase).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QualityOut {
    /// Face box width in pixels.
    pub face_px: f32,
    /// Face box width / frame width.
    pub face_fraction: f32,
    /// Variance of the Laplacian of the aligned crop.
    pub sharpness: f32,
    /// Mean luma of the aligned crop, 0..255.
    pub brightness: f32,
    /// Degrees.
    pub yaw_deg: f32,
    /// Degrees.
    pub pitch_deg: f32,
    /// Degrees.
    pub roll_deg: f32,
    /// Landmark residual after alignment (crop pixels).
    pub alignment_residual: f32,
}

// A second field list on purpose: the CLI prints `Quality` snake_case (tested), the JS API reads
// camelCase. The test `quality_out_mirrors_quality` holds the two lists equal.
impl From<&Quality> for QualityOut {
    fn from(q: &Quality) -> Self {
        QualityOut {
            face_px: q.face_px,
            face_fraction: q.face_fraction,
            sharpness: q.sharpness,
            brightness: q.brightness,
            yaw_deg: q.yaw_deg,
            pitch_deg: q.pitch_deg,
            roll_deg: q.roll_deg,
            alignment_residual: q.alignment_residual,
        }
    }
}

/// Everything measured on the main face; the raw embedding stays inside wasm.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MainFace {
    /// Base64 fio-core template of the embedding.
    pub template: String,
    /// Passive liveness scores.
    pub liveness: LivenessScores,
    /// Estimated age in years (`null` until the attribute stage is loaded).
    pub age: Option<f32>,
    /// `"male"` or `"female"` (`null` until the attribute stage is loaded).
    pub gender: Option<Gender>,
    /// Probability of the reported gender (`null` until the attribute stage is loaded).
    pub gender_confidence: Option<f32>,
    /// Quality signals.
    pub quality: QualityOut,
}

/// The result of one `analyze` call.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    /// Confident detections, largest first ([`confident_faces`]).
    pub faces: Vec<Face>,
    /// The largest face's full analysis (only in full mode).
    pub main: Option<MainFace>,
    /// What the user should do next.
    pub guidance: Guidance,
    /// Liveness cues of the largest face (mesh every frame; passive score when `full`).
    pub cues: FrameCues,
    /// The largest face's occlusion score ([`occlusion`]), when measurable.
    pub occlusion: Option<f32>,
    /// The largest face is obscured (mask, hand, dark glasses): [`fio_core::is_obscured`]. The
    /// widget ignores such faces when the app sets `ignoreObscuredFaces`.
    pub obscured: bool,
    /// The face was followed from the previous frame's mesh; the detector did not run.
    pub tracked: bool,
    /// Milliseconds per stage.
    pub timings: StageTimes,
}

/// The loaded pipeline, and the live view's track of the face from frame to frame
/// ([`crate::tracking`], off until [`Engine::set_tracking`]).
pub struct Engine {
    pipeline: Pipeline,
    tracking: bool,
    track: Option<Track>,
}

impl Engine {
    /// Verifies every model against the compiled-in manifest and loads it.
    pub fn load(files: &ModelFiles, detector_size: usize) -> Result<Self, Error> {
        Ok(Engine {
            pipeline: Pipeline::load(files, detector_size)?,
            tracking: false,
            track: None,
        })
    }

    /// Loads the tracker stage only: the live view runs at once; full analyses need
    /// [`ModelStage::Match`] loaded with [`Engine::load_stage`].
    pub fn load_tracker(files: &ModelFiles, detector_size: usize) -> Result<Self, Error> {
        Ok(Engine {
            pipeline: Pipeline::load_tracker(files, detector_size)?,
            tracking: false,
            track: None,
        })
    }

    /// Verifies and loads one later stage.
    pub fn load_stage(&mut self, stage: ModelStage, files: &ModelFiles) -> Result<(), Error> {
        self.pipeline.load_stage(stage, files)
    }

    /// Whether `stage` is loaded.
    pub fn has(&self, stage: ModelStage) -> bool {
        self.pipeline.has(stage)
    }

    /// Forgets the tracked face: the next frame runs the detector (a new video source).
    pub fn reset_track(&mut self) {
        self.track = None;
    }

    /// Lets the live view follow the face from frame to frame instead of running the detector on
    /// every frame. Off by default and in the widget: the liveness bench's bona fide active
    /// ceremonies lose 5 of 96 with it (README, "Light client"), because tracked and detector
    /// crops read head pose ±0.5° apart and some answers clear the thresholds by less.
    pub fn set_tracking(&mut self, on: bool) {
        self.tracking = on;
        self.track = None;
    }

    /// Analyses the next video frame. Without `full` (the live view) the face is followed from
    /// the previous frame's mesh when tracking is on and [`crate::tracking`] allows, else
    /// detected; with `full` the
    /// detector always runs and every per-face stage runs on the largest face (an error while the
    /// match stage is not loaded; age and gender only with the attribute stage). `now` is a
    /// millisecond clock.
    pub fn analyze(
        &mut self,
        frame: &Frame,
        full: bool,
        now: &dyn Fn() -> f64,
    ) -> Result<Analysis, Error> {
        let mut timings = StageTimes::default();
        if !full && self.tracking {
            if let Some(track) = self.track.take().filter(Track::may_follow) {
                let t = now();
                let mesh = self.pipeline.mesh(frame, &track.detection)?;
                let cues = MeshCues::measure(&mesh, frame);
                timings.mesh += now() - t;
                if let Some(next) = track.follow(&mesh, &cues) {
                    let d = next.detection.clone();
                    self.track = Some(next);
                    let found = Some((mesh, cues));
                    return Ok(live_view(frame, vec![d], found, timings, now, true));
                }
                // Lost, or the eyes are closing: the detector runs on this same frame; the
                // mesh's cost stays counted.
            }
        }
        let t = now();
        let dets = confident_faces(self.pipeline.detect(frame)?);
        timings.detect += now() - t;
        let Some(d) = dets.first() else {
            self.track = None;
            return Ok(live_view(frame, dets, None, timings, now, false));
        };
        if !full {
            // The live view needs eyelids and head pose at video rate for blinks and prompts.
            let t = now();
            let mesh = self.pipeline.mesh(frame, d)?;
            let cues = MeshCues::measure(&mesh, frame);
            timings.mesh += now() - t;
            self.track = Self::restart(&dets, &mesh, &cues);
            return Ok(live_view(
                frame,
                dets,
                Some((mesh, cues)),
                timings,
                now,
                false,
            ));
        }

        let t = now();
        let observations: Vec<FaceObservation> = dets.iter().map(|d| observe(frame, d)).collect();
        timings.align += now() - t;
        let guidance =
            fio_core::guidance(&observations, frame.width() as f32, frame.height() as f32);
        let t_ms = now();
        let (main, mesh, mesh_cues, occlusion) = self.main_face(frame, d, &mut timings, now)?;
        let mut cues = frame_cues(t_ms, dets.len(), Some((d, &mesh_cues)), frame);
        cues.passive = Some(main.liveness.liveness);
        self.track = Self::restart(&dets, &mesh, &mesh_cues);
        Ok(Analysis {
            faces: faces_out(dets),
            main: Some(main),
            guidance,
            cues,
            occlusion,
            obscured: fio_core::is_obscured(occlusion),
            tracked: false,
            timings,
        })
    }

    /// A new track after a detector frame: only when it found exactly one face, so that several
    /// faces keep the detector running on every frame.
    fn restart(dets: &[Detection], mesh: &Mesh, cues: &MeshCues) -> Option<Track> {
        match dets {
            [d] => Track::start(d, mesh, cues),
            _ => None,
        }
    }

    fn main_face(
        &self,
        frame: &Frame,
        d: &Detection,
        timings: &mut StageTimes,
        now: &dyn Fn() -> f64,
    ) -> Result<(MainFace, Mesh, MeshCues, Option<f32>), Error> {
        let fa = self
            .pipeline
            .analyze_detection(frame, d.clone(), timings, now)?;
        let mesh = Mesh {
            points: fa.mesh_points,
            presence: fa.mesh.presence,
        };
        let occlusion = occlusion::measure(frame, &mesh).map(|o| o.score());
        let embedding = Embedding::new(fa.embedding).map_err(|e| Error::Inference {
            name: crate::embed::EMBEDDER_MODEL.into(),
            reason: e.to_string(),
        })?;
        let q = fa.quality;
        let main = MainFace {
            template: embedding.to_template().to_base64(),
            liveness: fa.liveness,
            age: fa.attributes.as_ref().map(|a| a.age),
            gender: fa.attributes.as_ref().map(|a| a.gender),
            gender_confidence: fa.attributes.as_ref().map(|a| a.gender_confidence),
            quality: QualityOut::from(&q),
        };
        Ok((main, mesh, fa.mesh, occlusion))
    }
}

/// Detections as JS sees them.
fn faces_out(dets: Vec<Detection>) -> Vec<Face> {
    dets.into_iter()
        .map(|d| Face {
            bbox: d.bbox,
            score: d.score,
            landmarks: d.landmarks,
        })
        .collect()
}

/// A live-view result: guidance over every face, and the largest face's cues and occlusion from
/// its mesh (when one was found).
fn live_view(
    frame: &Frame,
    dets: Vec<Detection>,
    mesh: Option<(Mesh, MeshCues)>,
    mut timings: StageTimes,
    now: &dyn Fn() -> f64,
    tracked: bool,
) -> Analysis {
    // Guidance needs brightness, blur and pose for whichever face it picks; one 112 px warp
    // per face is cheap enough for video rate.
    let t = now();
    let observations: Vec<FaceObservation> = dets.iter().map(|d| observe(frame, d)).collect();
    timings.align += now() - t;
    let guidance = fio_core::guidance(&observations, frame.width() as f32, frame.height() as f32);
    let t_ms = now();
    let (cues, occlusion) = match (dets.first(), mesh) {
        (Some(d), Some((mesh, mesh_cues))) => {
            let t = now();
            let occlusion = occlusion::measure(frame, &mesh).map(|o| o.score());
            timings.mesh += now() - t;
            let cues = frame_cues(t_ms, dets.len(), Some((d, &mesh_cues)), frame);
            (cues, occlusion)
        }
        _ => (frame_cues(t_ms, dets.len(), None, frame), None),
    };
    Analysis {
        faces: faces_out(dets),
        main: None,
        guidance,
        cues,
        occlusion,
        obscured: fio_core::is_obscured(occlusion),
        tracked,
        timings,
    }
}

/// The evidence crops of one ceremony (edge re-verification): one slot for the user at rest and
/// one per prompted action, each holding the crop of the clearest frame seen so far
/// (`fio_core::liveness::Step::keep` says which frame that is).
#[derive(Clone, Debug)]
pub struct EvidenceSlots {
    crops: Vec<Option<Vec<u8>>>,
}

impl EvidenceSlots {
    /// Empty slots for a challenge of `actions` prompts (rest + one per action).
    pub fn new(actions: usize) -> Self {
        Self {
            crops: vec![None; 1 + actions],
        }
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.crops.len()
    }

    /// Always false: there is at least the rest slot.
    pub fn is_empty(&self) -> bool {
        self.crops.is_empty()
    }

    /// Cuts the crop of the face whose box is `bbox` (`[x, y, w, h]`, frame pixels) at the
    /// ceremony's scale (`rest_face_width`: the resting face width as a fraction of the frame
    /// width) and stores it in every slot of `slots`. Errors on a slot out of range or a bad
    /// scale; cuts nothing when `slots` is empty.
    pub fn keep(
        &mut self,
        frame: &Frame,
        bbox: [f32; 4],
        rest_face_width: f32,
        slots: &[usize],
    ) -> Result<(), String> {
        if slots.is_empty() {
            return Ok(());
        }
        if let Some(&s) = slots.iter().find(|&&s| s >= self.crops.len()) {
            return Err(format!(
                "evidence slot {s} out of range (0..{})",
                self.crops.len()
            ));
        }
        if !(rest_face_width.is_finite() && rest_face_width > 0.0) {
            return Err(format!("bad resting face width {rest_face_width}"));
        }
        if !bbox.iter().all(|v| v.is_finite()) {
            return Err("bad face box".into());
        }
        let center = [bbox[0] + bbox[2] / 2.0, bbox[1] + bbox[3] / 2.0];
        let crop = evidence_crop(frame, center, rest_face_width * frame.width() as f32);
        for &s in slots {
            self.crops[s] = Some(crop.clone());
        }
        Ok(())
    }

    /// Slots filled so far.
    pub fn filled(&self) -> usize {
        self.crops.iter().filter(|c| c.is_some()).count()
    }

    /// The crop bundle (`CropBundle::to_bytes`, crops in slot order), or `None` while a slot is
    /// empty: evidence of a ceremony that did not show every step is not sent.
    pub fn bundle(&self) -> Option<Vec<u8>> {
        let crops = self.crops.iter().cloned().collect::<Option<Vec<_>>>()?;
        Some(
            CropBundle {
                side: EVIDENCE_SIDE,
                crops,
            }
            .to_bytes(),
        )
    }
}

/// fio-core's view of one detection, with the quality signals guidance reads.
pub fn observe(frame: &Frame, d: &Detection) -> FaceObservation {
    let (yaw_deg, pitch_deg, roll_deg) = head_pose(&d.landmarks);
    let (blur, brightness) = match align_arcface(frame, &d.landmarks) {
        Some(aligned) => {
            let (sharpness, brightness) = sharpness_and_brightness(&aligned);
            (blur_from_sharpness(sharpness), brightness / 255.0)
        }
        // Degenerate landmarks: no usable crop, so report the worst case.
        None => (1.0, 0.0),
    };
    FaceObservation {
        score: d.score,
        box_xywh: d.bbox,
        face_size_px: d.bbox[2].max(d.bbox[3]),
        liveness: None,
        age: None,
        quality: fio_core::Quality {
            blur,
            brightness,
            yaw_deg,
            pitch_deg,
            roll_deg,
        },
    }
}

/// `fio_core::check_enrollment` with the default policy on base64 templates; the error is the
/// FACEIO code name (`FACE_MISMATCH`, or `PROCESSING_ERR` for an undecodable template).
pub fn check_enrollment(templates: &[String]) -> Result<String, &'static str> {
    let embeddings = templates
        .iter()
        .map(|t| fio_core::Template::from_base64(t).map(|t| t.to_embedding()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.code().name())?;
    fio_core::check_enrollment(&embeddings, &fio_core::EnrollPolicy::default())
        .map(|mean| mean.to_template().to_base64())
        .map_err(|e| e.code().name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_out_mirrors_quality() {
        // Distinct values, so a field mapped to the wrong one shows.
        let q = Quality {
            face_px: 1.0,
            face_fraction: 2.0,
            sharpness: 3.0,
            brightness: 4.0,
            yaw_deg: 5.0,
            pitch_deg: 6.0,
            roll_deg: 7.0,
            alignment_residual: 8.0,
        };
        let camel = |k: &str| {
            let mut parts = k.split('_');
            let first = parts.next().unwrap_or_default().to_owned();
            parts.fold(first, |acc, p| {
                let mut c = p.chars();
                let head = c.next().map(|h| h.to_ascii_uppercase().to_string());
                acc + &head.unwrap_or_default() + c.as_str()
            })
        };
        let serde_json::Value::Object(snake) = serde_json::to_value(&q).unwrap() else {
            panic!("Quality serializes as an object")
        };
        let expected: serde_json::Map<String, serde_json::Value> =
            snake.into_iter().map(|(k, v)| (camel(&k), v)).collect();
        let serde_json::Value::Object(out) = serde_json::to_value(QualityOut::from(&q)).unwrap()
        else {
            panic!("QualityOut serializes as an object")
        };
        assert_eq!(out, expected);
    }

    #[test]
    fn blur_scale() {
        assert_eq!(blur_from_sharpness(BLUR_HALF_SHARPNESS), 0.5);
        assert!(blur_from_sharpness(19.0) < 0.5);
        assert!(blur_from_sharpness(700.0) < 0.05);
        assert_eq!(blur_from_sharpness(0.0), 1.0);
        assert_eq!(blur_from_sharpness(f32::NAN), 1.0);
    }

    #[test]
    fn observation_from_a_detection() {
        // A flat grey frame with a frontal face's landmarks: frontal pose, mid brightness, blurry.
        let frame = Frame::from_rgb(400, 400, vec![128; 400 * 400 * 3]).unwrap();
        let s = 2.0;
        let landmarks = crate::align::ARCFACE_TEMPLATE.map(|[x, y]| [100.0 + s * x, 80.0 + s * y]);
        let d = Detection {
            bbox: [100.0, 60.0, 224.0, 260.0],
            score: 0.99,
            landmarks,
        };
        let o = observe(&frame, &d);
        assert_eq!(o.face_size_px, 260.0);
        assert!((o.quality.brightness - 128.0 / 255.0).abs() < 1e-3);
        assert!(o.quality.yaw_deg.abs() < 3.0);
        assert_eq!(o.quality.blur, 1.0);
        assert_eq!(fio_core::guidance(&[o], 400.0, 400.0), Guidance::HoldStill);
    }

    #[test]
    fn evidence_slots_fill_in_slot_order() {
        // Each column's red value is its x: a crop's centre column tells where it was cut.
        let (w, h) = (400, 300);
        let rgb: Vec<u8> = (0..w * h).flat_map(|i| [(i % w) as u8, 0, 0]).collect();
        let frame = Frame::from_rgb(w, h, rgb).unwrap();
        let mut ev = EvidenceSlots::new(2);
        assert_eq!(ev.len(), 3);
        assert_eq!(ev.bundle(), None);
        let face = |x: f32| [x - 25.0, 100.0, 50.0, 60.0];
        ev.keep(&frame, face(100.0), 0.125, &[0, 1]).unwrap();
        assert_eq!(ev.filled(), 2);
        assert_eq!(ev.bundle(), None, "slot 2 is still empty");
        ev.keep(&frame, face(200.0), 0.125, &[]).unwrap();
        assert_eq!(ev.filled(), 2, "no slot: nothing cut");
        ev.keep(&frame, face(150.0), 0.125, &[1]).unwrap();
        ev.keep(&frame, face(250.0), 0.125, &[2]).unwrap();
        assert!(ev.keep(&frame, face(250.0), 0.125, &[3]).is_err());
        assert!(ev.keep(&frame, face(250.0), f32::NAN, &[2]).is_err());
        let bytes = ev.bundle().expect("every slot filled");
        let b = CropBundle::from_bytes(&bytes).unwrap();
        assert_eq!(b.side, EVIDENCE_SIDE);
        assert_eq!(b.crops.len(), 3);
        let centre_red =
            |c: &[u8]| c[(EVIDENCE_SIDE / 2 * EVIDENCE_SIDE + EVIDENCE_SIDE / 2) * 3] as f32;
        for (c, x) in b.crops.iter().zip([100.0, 150.0, 250.0]) {
            assert!((centre_red(c) - x).abs() <= 1.0, "{} vs {x}", centre_red(c));
        }
        // window = 2.2 × 0.125 × 400 = 110 px: the crop's left column is ~55 px left of centre
        let left = b.crops[0][(EVIDENCE_SIDE / 2 * EVIDENCE_SIDE) * 3] as f32;
        assert!((left - 45.0).abs() <= 2.0, "{left}");
    }

    #[test]
    fn enrollment_errors_are_faceio_names() {
        assert_eq!(check_enrollment(&["nope".into()]), Err("PROCESSING_ERR"));
        assert_eq!(check_enrollment(&[]), Err("FACE_MISMATCH"));
        let t = Embedding::new((0..192).map(|i| (i as f32).sin()).collect())
            .unwrap()
            .to_template()
            .to_base64();
        assert_eq!(
            check_enrollment(&[t.clone(), t.clone()]),
            Err("FACE_MISMATCH")
        );
        let mean = check_enrollment(&[t.clone(), t.clone(), t.clone()]).unwrap();
        assert_eq!(mean, t);
    }
}
