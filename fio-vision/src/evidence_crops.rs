//! Evidence crops for edge re-verification: the widget cuts them, the edge measures them with
//! the same models (see `fio_core::liveness::verify_evidence`).

use fio_core::liveness::{FrameCues, EVIDENCE_SIDE, EVIDENCE_WINDOW};

use crate::align::{align_arcface, face_crop, warp, Similarity};
use crate::detect::{confident_faces, Detector, DETECTOR_MODEL};
use crate::embed::{Embedder, EMBEDDER_MODEL};
use crate::liveness_cues::frame_cues;
use crate::mesh::{FaceMesh, MeshCues, MESH_MODEL};
use crate::passive_scores::{
    LivenessModels, ANTISPOOF_MODEL, ANTISPOOF_SIZE, LIVENESS_CROP_EXPAND, LIVENESS_MODEL,
    LIVENESS_SIZE,
};
use crate::{Error, Frame, ModelFiles};

/// Detector input side on an evidence crop (a multiple of 32, the crop side rounded up).
pub const EVIDENCE_DETECTOR_SIZE: usize = EVIDENCE_SIDE.div_ceil(32) * 32;

/// Models the edge needs to measure evidence (no age/gender model: it is the largest).
pub const EVIDENCE_MODELS: [&str; 5] = [
    DETECTOR_MODEL,
    MESH_MODEL,
    EMBEDDER_MODEL,
    ANTISPOOF_MODEL,
    LIVENESS_MODEL,
];

/// The evidence crop of a face centred at `center` (frame pixels): an upright window of side
/// [`EVIDENCE_WINDOW`] × `rest_face_width_px`, resampled to [`EVIDENCE_SIDE`]² RGB. Every crop of
/// a ceremony uses the resting face width, so face size keeps its meaning across crops.
pub fn evidence_crop(frame: &Frame, center: [f32; 2], rest_face_width_px: f32) -> Vec<u8> {
    let window = (EVIDENCE_WINDOW * rest_face_width_px).max(1.0);
    let s = window / EVIDENCE_SIDE as f32;
    let half = EVIDENCE_SIDE as f32 / 2.0 - 0.5;
    let to_src = Similarity {
        a_re: s,
        a_im: 0.0,
        b_re: center[0] - s * half,
        b_im: center[1] - s * half,
    };
    warp(frame, &to_src, EVIDENCE_SIDE)
}

/// What the edge measured on one crop: liveness cues plus the largest face's embedding.
#[derive(Debug, Clone)]
pub struct CropMeasure {
    /// Cues in fio-core's terms (`face_width` as a fraction of the crop side).
    pub cues: FrameCues,
    /// L2-normalised embedding of the largest face, when there is one.
    pub embedding: Option<Vec<f32>>,
}

/// The edge's models for evidence crops.
pub struct EvidenceVerifier {
    detector: Detector,
    mesh: FaceMesh,
    embedder: Embedder,
    liveness: LivenessModels,
}

impl EvidenceVerifier {
    /// Verifies (sha256 against the manifest) and loads [`EVIDENCE_MODELS`].
    pub fn load(files: &ModelFiles) -> Result<Self, Error> {
        Ok(Self {
            detector: Detector::load(files.get(DETECTOR_MODEL)?, EVIDENCE_DETECTOR_SIZE)?,
            mesh: FaceMesh::load(files.get(MESH_MODEL)?)?,
            embedder: Embedder::load(files.get(EMBEDDER_MODEL)?)?,
            liveness: LivenessModels::load(
                files.get(ANTISPOOF_MODEL)?,
                files.get(LIVENESS_MODEL)?,
            )?,
        })
    }

    /// Measures one [`EVIDENCE_SIDE`]² RGB crop as the widget measures a frame.
    pub fn measure(&self, rgb: &[u8]) -> Result<CropMeasure, Error> {
        if rgb.len() != EVIDENCE_SIDE * EVIDENCE_SIDE * 3 {
            return Err(Error::BadFrame(format!(
                "an evidence crop is {EVIDENCE_SIDE}x{EVIDENCE_SIDE} RGB"
            )));
        }
        let frame = Frame::from_rgb(EVIDENCE_SIDE, EVIDENCE_SIDE, rgb.to_vec())?;
        let dets = confident_faces(self.detector.detect(&frame)?);
        let Some(d) = dets.first() else {
            return Ok(CropMeasure {
                cues: frame_cues(0.0, 0, None, &frame),
                embedding: None,
            });
        };
        let mesh = MeshCues::measure(&self.mesh.run(&frame, d)?, &frame);
        let mut cues = frame_cues(0.0, dets.len(), Some((d, &mesh)), &frame);
        let crop = |size| face_crop(&frame, d.bbox, &d.landmarks, LIVENESS_CROP_EXPAND, size);
        cues.passive = Some(
            self.liveness
                .score(&crop(ANTISPOOF_SIZE), &crop(LIVENESS_SIZE))?
                .liveness,
        );
        let embedding = match align_arcface(&frame, &d.landmarks) {
            Some(aligned) => Some(self.embedder.embed(&aligned)?),
            None => None,
        };
        Ok(CropMeasure { cues, embedding })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_window_scales_with_the_rest_face() {
        // A horizontal gradient: the crop's edge columns show the window's extent.
        let (w, h) = (640, 480);
        let rgb: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let x = (i % w) as f32 / (w - 1) as f32 * 255.0;
                [x as u8, 0, 0]
            })
            .collect();
        let frame = Frame::from_rgb(w, h, rgb).unwrap();
        let crop = evidence_crop(&frame, [320.0, 240.0], 100.0);
        assert_eq!(crop.len(), EVIDENCE_SIDE * EVIDENCE_SIDE * 3);
        let red = |x: usize| crop[(EVIDENCE_SIDE / 2 * EVIDENCE_SIDE + x) * 3] as f32;
        // window 220 px around x = 320 → columns ≈ 210..430 → red ≈ 84..171
        assert!((red(0) - 84.0).abs() < 4.0, "{}", red(0));
        assert!((red(EVIDENCE_SIDE - 1) - 171.0).abs() < 4.0);
    }
}
