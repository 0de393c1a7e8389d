//! Face embeddings with MobileFaceNet (192-D) on ArcFace-aligned crops.

use crate::align::ALIGNED_SIZE;
use crate::onnx::OnnxModel;
use crate::Error;

/// Manifest name of the embedding model.
pub const EMBEDDER_MODEL: &str = "mobilefacenet";
/// Length of the embedding vector.
pub const EMBEDDING_DIM: usize = 192;

/// MobileFaceNet: aligned 112×112 RGB crop → L2-normalised 192-D vector.
pub struct Embedder {
    model: OnnxModel,
}

impl Embedder {
    /// Loads and verifies the embedding model.
    pub fn load(bytes: &[u8]) -> Result<Self, Error> {
        Ok(Embedder {
            model: OnnxModel::load(EMBEDDER_MODEL, bytes, &[1, ALIGNED_SIZE, ALIGNED_SIZE, 3])?,
        })
    }

    /// Embeds an aligned crop (112×112 packed RGB) into a unit vector.
    pub fn embed(&self, aligned_rgb: &[u8]) -> Result<Vec<f32>, Error> {
        normalised(self.raw(aligned_rgb, false)?)
    }

    /// Embeds the crop and its mirror image and sums them. Kept for measurement only: on the
    /// labelled fixtures it narrowed the genuine/impostor gap (0.269 vs 0.288, see
    /// `examples/alignment.rs`) at twice the cost, so the pipeline does not use it.
    pub fn embed_mirror_averaged(&self, aligned_rgb: &[u8]) -> Result<Vec<f32>, Error> {
        let direct = self.raw(aligned_rgb, false)?;
        let mirrored = self.raw(aligned_rgb, true)?;
        normalised(direct.iter().zip(&mirrored).map(|(a, b)| a + b).collect())
    }

    /// One inference, optionally on the horizontally mirrored crop; not normalised.
    fn raw(&self, rgb: &[u8], mirror: bool) -> Result<Vec<f32>, Error> {
        let n = ALIGNED_SIZE;
        if rgb.len() != n * n * 3 {
            return Err(Error::BadFrame(format!("aligned crop must be {n}x{n} RGB")));
        }
        let mut input = Vec::with_capacity(n * n * 3);
        for y in 0..n {
            for x in 0..n {
                let sx = if mirror { n - 1 - x } else { x };
                let p = &rgb[(y * n + sx) * 3..][..3];
                input.extend(p.iter().map(|&c| (c as f32 - 127.5) / 128.0));
            }
        }
        let mut out = self.model.run(input)?;
        let v = out.swap_remove(0).values;
        if v.len() != EMBEDDING_DIM {
            return Err(Error::Inference {
                name: EMBEDDER_MODEL.into(),
                reason: format!("embedding has {} values", v.len()),
            });
        }
        Ok(v)
    }
}

fn normalised(v: Vec<f32>) -> Result<Vec<f32>, Error> {
    l2_normalised(v).ok_or_else(|| Error::Inference {
        name: EMBEDDER_MODEL.into(),
        reason: "zero embedding".into(),
    })
}

/// The vector scaled to unit length, or `None` if it has no direction.
pub fn l2_normalised(mut v: Vec<f32>) -> Option<Vec<f32>> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if !(norm.is_finite() && norm > 1e-12) {
        return None;
    }
    v.iter_mut().for_each(|x| *x /= norm);
    Some(v)
}

/// Cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
