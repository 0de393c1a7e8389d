//! Passive presentation-attack scores from single frames (@vladmandic/human's antispoof and
//! liveness models). On their own these do not stop prints or screens; the ceremony combines them
//! with temporal and active cues (see `fio_core::decision`).

use crate::onnx::OnnxModel;
use crate::Error;

/// Manifest name of the anti-spoofing model.
pub const ANTISPOOF_MODEL: &str = "antispoof";
/// Manifest name of the liveness model.
pub const LIVENESS_MODEL: &str = "liveness";
/// Input side of the anti-spoofing model.
pub const ANTISPOOF_SIZE: usize = 128;
/// Input side of the liveness model.
pub const LIVENESS_SIZE: usize = 32;
/// Box enlargement for the liveness crops.
pub const LIVENESS_CROP_EXPAND: f32 = 1.0;

/// Both passive scores, each "probability that this is a live face" in [0, 1].
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LivenessScores {
    /// The antispoof model's real-face score.
    pub antispoof: f32,
    /// The liveness model's live-class probability.
    pub liveness: f32,
}

/// The two passive models.
pub struct LivenessModels {
    antispoof: OnnxModel,
    liveness: OnnxModel,
}

impl LivenessModels {
    /// Loads and verifies both models.
    pub fn load(antispoof: &[u8], liveness: &[u8]) -> Result<Self, Error> {
        Ok(LivenessModels {
            antispoof: OnnxModel::load(
                ANTISPOOF_MODEL,
                antispoof,
                &[1, ANTISPOOF_SIZE, ANTISPOOF_SIZE, 3],
            )?,
            liveness: OnnxModel::load(
                LIVENESS_MODEL,
                liveness,
                &[1, LIVENESS_SIZE, LIVENESS_SIZE, 3],
            )?,
        })
    }

    /// Scores the two face crops (128² and 32² packed RGB).
    pub fn score(&self, crop128: &[u8], crop32: &[u8]) -> Result<LivenessScores, Error> {
        let unit = |px: &[u8]| px.iter().map(|&c| c as f32 / 255.0).collect::<Vec<f32>>();
        if crop128.len() != ANTISPOOF_SIZE * ANTISPOOF_SIZE * 3
            || crop32.len() != LIVENESS_SIZE * LIVENESS_SIZE * 3
        {
            return Err(Error::BadFrame("liveness crops have the wrong size".into()));
        }
        let a = self.antispoof.run(unit(crop128))?;
        let l = self.liveness.run(unit(crop32))?;
        let antispoof = a.first().and_then(|o| o.values.first().copied());
        let liveness = l.first().and_then(|o| o.values.first().copied());
        match (antispoof, liveness) {
            (Some(antispoof), Some(liveness)) => Ok(LivenessScores {
                antispoof: antispoof.clamp(0.0, 1.0),
                liveness: liveness.clamp(0.0, 1.0),
            }),
            _ => Err(Error::Inference {
                name: LIVENESS_MODEL.into(),
                reason: "empty output".into(),
            }),
        }
    }
}
