//! detect → face mesh → align → embed → liveness → age/gender, per frame.

use serde::Serialize;

use crate::align::{align_arcface, alignment_residual, face_crop};
use crate::attributes::{attribute_crop, Attributes, FaceRes};
use crate::detect::{Detection, Detector, DETECTOR_MODEL};
use crate::embed::{Embedder, EMBEDDER_MODEL};
use crate::frame::Frame;
use crate::mesh::{FaceMesh, Mesh, MeshCues, MESH_MODEL};
use crate::models::{ModelFiles, ModelStage};
use crate::passive_scores::{
    LivenessModels, LivenessScores, ANTISPOOF_SIZE, LIVENESS_CROP_EXPAND, LIVENESS_SIZE,
};
use crate::quality::{head_pose, sharpness_and_brightness, Quality};
use crate::{attributes, passive_scores, Error};

/// Detector input side for webcam frames: faces fill a good part of a selfie view.
pub const WEBCAM_DETECTOR_SIZE: usize = 320;
/// Detector input side for photos, which may hold small faces in a group.
pub const PHOTO_DETECTOR_SIZE: usize = 640;

/// Everything the pipeline measured about one face.
#[derive(Clone, Debug, Serialize)]
pub struct FaceAnalysis {
    /// Box `[x, y, w, h]` in frame pixels.
    pub bbox: [f32; 4],
    /// Detector confidence.
    pub score: f32,
    /// Five landmarks (eyes, nose, mouth corners) in frame pixels.
    pub landmarks: [[f32; 2]; 5],
    /// The ArcFace-aligned 112×112 RGB crop the embedding was computed from.
    #[serde(skip)]
    pub aligned: Vec<u8>,
    /// L2-normalised 192-D embedding.
    pub embedding: Vec<f32>,
    /// Passive liveness scores.
    pub liveness: LivenessScores,
    /// Age and gender estimate (`None` when the attribute stage is not loaded).
    pub attributes: Option<Attributes>,
    /// Quality signals for guidance.
    pub quality: Quality,
    /// Face-mesh cues: eye aspect ratios, head pose, mouth opening, face width.
    pub mesh: MeshCues,
    /// The 468 mesh points (frame pixels; see [`Mesh::points`]), for callers that need more than
    /// the cues.
    #[serde(skip)]
    pub mesh_points: Vec<[f32; 3]>,
}

/// Milliseconds spent per stage for one frame.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StageTimes {
    /// Detection (including preprocessing and NMS).
    pub detect: f64,
    /// Face mesh (crop, inference, cues).
    pub mesh: f64,
    /// Alignment and crops.
    pub align: f64,
    /// Embedding (two inferences: crop and mirror).
    pub embed: f64,
    /// Both liveness models.
    pub liveness: f64,
    /// Both attribute models.
    pub attributes: f64,
}

/// The loaded models: always the tracker (detector and mesh), and the later stages once loaded
/// ([`ModelStage`]).
pub struct Pipeline {
    detector: Detector,
    mesh: FaceMesh,
    /// The match stage: embedder and passive liveness models, loaded together.
    matching: Option<(Embedder, LivenessModels)>,
    attributes: Option<FaceRes>,
}

impl Pipeline {
    /// Verifies every model against the manifest and loads it; `detector_size` is the square
    /// detector input side (a multiple of 32).
    pub fn load(files: &ModelFiles, detector_size: usize) -> Result<Self, Error> {
        let mut p = Self::load_tracker(files, detector_size)?;
        p.load_stage(ModelStage::Match, files)?;
        p.load_stage(ModelStage::Attributes, files)?;
        Ok(p)
    }

    /// Loads the tracker stage only (detection and mesh): enough for the live view.
    pub fn load_tracker(files: &ModelFiles, detector_size: usize) -> Result<Self, Error> {
        Ok(Pipeline {
            detector: Detector::load(files.get(DETECTOR_MODEL)?, detector_size)?,
            mesh: FaceMesh::load(files.get(MESH_MODEL)?)?,
            matching: None,
            attributes: None,
        })
    }

    /// Verifies and loads one later stage's models (the tracker is loaded at construction and
    /// loading it again is a no-op); loading a stage twice replaces it.
    pub fn load_stage(&mut self, stage: ModelStage, files: &ModelFiles) -> Result<(), Error> {
        match stage {
            ModelStage::Tracker => {}
            ModelStage::Match => {
                let embedder = Embedder::load(files.get(EMBEDDER_MODEL)?)?;
                let liveness = LivenessModels::load(
                    files.get(passive_scores::ANTISPOOF_MODEL)?,
                    files.get(passive_scores::LIVENESS_MODEL)?,
                )?;
                self.matching = Some((embedder, liveness));
            }
            ModelStage::Attributes => {
                self.attributes = Some(FaceRes::load(files.get(attributes::FACERES_MODEL)?)?);
            }
        }
        Ok(())
    }

    /// Whether `stage`'s models are loaded.
    pub fn has(&self, stage: ModelStage) -> bool {
        match stage {
            ModelStage::Tracker => true,
            ModelStage::Match => self.matching.is_some(),
            ModelStage::Attributes => self.attributes.is_some(),
        }
    }

    fn need<T>(model: &Option<T>, stage: ModelStage) -> Result<&T, Error> {
        model.as_ref().ok_or(Error::StageNotLoaded(stage.name()))
    }

    /// The embedding model, for callers that build their own crops.
    pub fn embedder(&self) -> Result<&Embedder, Error> {
        Self::need(&self.matching, ModelStage::Match).map(|(e, _)| e)
    }

    /// The age and gender model, for callers that build their own crops.
    pub fn attributes(&self) -> Result<&FaceRes, Error> {
        Self::need(&self.attributes, ModelStage::Attributes)
    }

    /// The passive liveness models, for callers that build their own crops.
    pub fn liveness(&self) -> Result<&LivenessModels, Error> {
        Self::need(&self.matching, ModelStage::Match).map(|(_, l)| l)
    }

    /// Detection only: every face, strongest first.
    pub fn detect(&self, frame: &Frame) -> Result<Vec<Detection>, Error> {
        self.detector.detect(frame)
    }

    /// The face mesh of one detected face: the cheap per-frame step after detection for live
    /// view (blinks, head turns); [`MeshCues::measure`] turns it into cues.
    pub fn mesh(&self, frame: &Frame, detection: &Detection) -> Result<Mesh, Error> {
        self.mesh.run(frame, detection)
    }

    /// Full analysis of every face in the frame (at most `max_faces`, largest first).
    pub fn analyze(&self, frame: &Frame, max_faces: usize) -> Result<Vec<FaceAnalysis>, Error> {
        self.analyze_timed(frame, max_faces, &|| 0.0)
            .map(|(faces, _)| faces)
    }

    /// Like [`Pipeline::analyze`], timing each stage with `now` (milliseconds; the caller supplies
    /// the clock because `std::time::Instant` panics on wasm32-unknown-unknown).
    pub fn analyze_timed(
        &self,
        frame: &Frame,
        max_faces: usize,
        now: &dyn Fn() -> f64,
    ) -> Result<(Vec<FaceAnalysis>, StageTimes), Error> {
        let mut times = StageTimes::default();
        let t = now();
        let mut dets = self.detector.detect(frame)?;
        times.detect = now() - t;
        dets.sort_by(|a, b| (b.bbox[2] * b.bbox[3]).total_cmp(&(a.bbox[2] * a.bbox[3])));
        dets.truncate(max_faces);
        let mut faces = Vec::with_capacity(dets.len());
        for d in dets {
            faces.push(self.analyze_detection(frame, d, &mut times, now)?);
        }
        Ok((faces, times))
    }

    /// Runs every per-face stage on one detection: needs the match stage; age and gender only
    /// when the attribute stage is loaded.
    pub fn analyze_detection(
        &self,
        frame: &Frame,
        d: Detection,
        times: &mut StageTimes,
        now: &dyn Fn() -> f64,
    ) -> Result<FaceAnalysis, Error> {
        let (embedder, liveness_models) = Self::need(&self.matching, ModelStage::Match)?;
        let t = now();
        let mesh = self.mesh.run(frame, &d)?;
        let mesh_cues = MeshCues::measure(&mesh, frame);
        times.mesh += now() - t;

        let t = now();
        let aligned = align_arcface(frame, &d.landmarks).ok_or_else(|| Error::Inference {
            name: DETECTOR_MODEL.into(),
            reason: "degenerate landmarks".into(),
        })?;
        let crop128 = face_crop(
            frame,
            d.bbox,
            &d.landmarks,
            LIVENESS_CROP_EXPAND,
            ANTISPOOF_SIZE,
        );
        let crop32 = face_crop(
            frame,
            d.bbox,
            &d.landmarks,
            LIVENESS_CROP_EXPAND,
            LIVENESS_SIZE,
        );
        times.align += now() - t;

        let t = now();
        let embedding = embedder.embed(&aligned)?;
        times.embed += now() - t;

        let t = now();
        let liveness = liveness_models.score(&crop128, &crop32)?;
        times.liveness += now() - t;

        let t = now();
        let attributes = match &self.attributes {
            Some(a) => Some(a.estimate(&attribute_crop(frame, &d))?),
            None => None,
        };
        times.attributes += now() - t;

        let (sharpness, brightness) = sharpness_and_brightness(&aligned);
        let (yaw_deg, pitch_deg, roll_deg) = head_pose(&d.landmarks);
        let quality = Quality {
            face_px: d.bbox[2],
            face_fraction: d.bbox[2] / frame.width() as f32,
            sharpness,
            brightness,
            yaw_deg,
            pitch_deg,
            roll_deg,
            alignment_residual: alignment_residual(&d.landmarks).unwrap_or(f32::INFINITY),
        };
        Ok(FaceAnalysis {
            bbox: d.bbox,
            score: d.score,
            landmarks: d.landmarks,
            aligned,
            embedding,
            liveness,
            attributes,
            quality,
            mesh: mesh_cues,
            mesh_points: mesh.points,
        })
    }
}
