//! Age (SSR-Net) and gender (mini-Xception) estimates, both from @vladmandic/human's models.

use crate::onnx::OnnxModel;
use crate::Error;

/// Manifest name of the age model.
pub const AGE_MODEL: &str = "age";
/// Manifest name of the gender model.
pub const GENDER_MODEL: &str = "gender";
/// Input side of both attribute models.
pub const ATTRIBUTE_SIZE: usize = 64;
/// Side of the attribute crop relative to the detector box. Measured with
/// `examples/attributes.rs` on 25 labelled portraits: gender right for 17/25 at 1.0, 24/25 at
/// 1.4, 25/25 at 1.6–2.0; age error is lowest (MAE ~10.5 years, a weak model) at 1.6–1.8.
pub const ATTRIBUTE_CROP_EXPAND: f32 = 1.6;

// Luma weights human uses to turn the crop grey for the gender model.
const GREY: [f32; 3] = [0.2989, 0.5870, 0.1140];

/// Gender estimate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    /// Female.
    Female,
    /// Male.
    Male,
}

/// Age (years) and gender with the model's confidence in the gender (0.5..1).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Attributes {
    /// Estimated age in years.
    pub age: f32,
    /// Estimated gender.
    pub gender: Gender,
    /// Probability of the chosen gender.
    pub gender_confidence: f32,
}

/// The age and gender models.
pub struct AttributeModels {
    age: OnnxModel,
    gender: OnnxModel,
}

impl AttributeModels {
    /// Loads and verifies both models.
    pub fn load(age: &[u8], gender: &[u8]) -> Result<Self, Error> {
        let n = ATTRIBUTE_SIZE;
        Ok(AttributeModels {
            age: OnnxModel::load(AGE_MODEL, age, &[1, n, n, 3])?,
            gender: OnnxModel::load(GENDER_MODEL, gender, &[1, n, n, 1])?,
        })
    }

    /// Estimates age and gender from a 64×64 RGB face crop.
    pub fn estimate(&self, crop_rgb: &[u8]) -> Result<Attributes, Error> {
        let n = ATTRIBUTE_SIZE;
        if crop_rgb.len() != n * n * 3 {
            return Err(Error::BadFrame(format!(
                "attribute crop must be {n}x{n} RGB"
            )));
        }
        let age_in: Vec<f32> = crop_rgb.iter().map(|&c| c as f32).collect();
        let age = first(self.age.run(age_in)?, AGE_MODEL)?;
        let grey_in: Vec<f32> = crop_rgb
            .chunks_exact(3)
            .map(|p| {
                let g =
                    (GREY[0] * p[0] as f32 + GREY[1] * p[1] as f32 + GREY[2] * p[2] as f32) / 255.0;
                g * 2.0 - 1.0
            })
            .collect();
        // Softmax over [female, male].
        let out = self.gender.run(grey_in)?;
        let male = out
            .first()
            .and_then(|o| o.values.get(1).copied())
            .ok_or_else(|| Error::Inference {
                name: GENDER_MODEL.into(),
                reason: "expected [female, male]".into(),
            })?
            .clamp(0.0, 1.0);
        let (gender, gender_confidence) = if male > 0.5 {
            (Gender::Male, male)
        } else {
            (Gender::Female, 1.0 - male)
        };
        Ok(Attributes {
            age: age.max(0.0),
            gender,
            gender_confidence,
        })
    }
}

/// The first value of the first output.
fn first(outputs: Vec<crate::onnx::Output>, name: &str) -> Result<f32, Error> {
    outputs
        .first()
        .and_then(|o| o.values.first().copied())
        .ok_or_else(|| Error::Inference {
            name: name.into(),
            reason: "empty output".into(),
        })
}
