//! Face embeddings (f32, unit-norm) and compact int8 templates with a versioned wire format.
//!
//! Quantisation: each template is scaled so its largest |component| maps to ±127
//! (per-vector scale). A 192-d unit vector has components around ±0.07, so a fixed scale of 127
//! would use only ~±10 of the int8 range; per-vector scaling gives several times finer steps.
//! The scale is not stored: the similarity of two templates is `dot(qa, qb) / (|qa|·|qb|)`, and
//! `1/|q|` is recomputed on decode. That keeps the wire format free of floats (no NaN/∞ to
//! smuggle in) and makes any non-zero int8 vector a valid template.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::error::Error;
use crate::matching::dot_i8;

/// Embedding dimension of the recognition model (MobileFaceNet).
pub const EMBEDDING_DIM: usize = 192;

/// Magic bytes opening every encoded template ("OpenFIO Template").
pub const TEMPLATE_MAGIC: [u8; 3] = *b"OFT";

/// Current template format version; bump when the recognition model changes so old
/// templates (incomparable with new ones) are rejected instead of silently mismatching.
pub const TEMPLATE_VERSION: u8 = 1;

/// Header length: magic (3) + version (1) + dimension as little-endian u16 (2).
const HEADER_LEN: usize = 6;

/// Encoded template length in bytes.
pub const TEMPLATE_BYTES: usize = HEADER_LEN + EMBEDDING_DIM;

/// An L2-normalised face embedding of length [`EMBEDDING_DIM`].
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding(Vec<f32>);

impl Embedding {
    /// Validates length and finiteness, then L2-normalises.
    pub fn new(mut values: Vec<f32>) -> Result<Self, Error> {
        if values.len() != EMBEDDING_DIM {
            return Err(Error::InvalidEmbedding("wrong dimension"));
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidEmbedding("non-finite value"));
        }
        // Accumulate in f64 so huge-but-finite inputs cannot overflow the norm to infinity.
        let norm = values
            .iter()
            .map(|&v| f64::from(v).powi(2))
            .sum::<f64>()
            .sqrt();
        if norm == 0.0 || !norm.is_finite() {
            return Err(Error::InvalidEmbedding("zero norm"));
        }
        for v in &mut values {
            *v = (f64::from(*v) / norm) as f32;
        }
        Ok(Self(values))
    }

    /// The unit-norm components.
    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    /// Cosine similarity (a plain dot product, since both are unit-norm).
    pub fn cosine(&self, other: &Embedding) -> f32 {
        crate::matching::dot_f32(&self.0, &other.0)
    }

    /// Renormalised mean of several embeddings (combines enrollment frames).
    pub fn mean(embeddings: &[Embedding]) -> Result<Embedding, Error> {
        if embeddings.is_empty() {
            return Err(Error::InvalidEmbedding("no embeddings to average"));
        }
        let mut sum = vec![0f32; EMBEDDING_DIM];
        for e in embeddings {
            for (s, v) in sum.iter_mut().zip(&e.0) {
                *s += v;
            }
        }
        // Opposite vectors cancel to zero; `new` reports that as zero norm.
        Embedding::new(sum)
    }

    /// Quantises to a compact template.
    pub fn to_template(&self) -> Template {
        Template::from_embedding(self)
    }
}

/// An int8-quantised embedding, the unit stored in the 1:N index and sent over the wire.
///
/// Measured on the 48 fixture photos (`fio template`): every template dequantises to within
/// cosine 0.9999 of its float embedding, and pairwise similarities move by at most 0.0035.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    values: Vec<i8>,
    inv_norm: f32,
}

impl Template {
    /// Quantises with a per-vector scale (largest |component| → 127).
    pub fn from_embedding(e: &Embedding) -> Template {
        let max_abs = e.0.iter().fold(0f32, |m, v| m.max(v.abs()));
        // max_abs > 0 is guaranteed by Embedding's non-zero norm.
        let scale = 127.0 / max_abs;
        let values =
            e.0.iter()
                .map(|v| (v * scale).round().clamp(-127.0, 127.0) as i8)
                .collect();
        Self::from_values(values).expect("a unit vector quantises to a non-zero template")
    }

    /// Builds a template from raw int8 values (length [`EMBEDDING_DIM`], not all zero).
    pub fn from_values(values: Vec<i8>) -> Result<Template, Error> {
        if values.len() != EMBEDDING_DIM {
            return Err(Error::InvalidTemplate("wrong dimension"));
        }
        let norm_sq = dot_i8(&values, &values);
        if norm_sq == 0 {
            return Err(Error::InvalidTemplate("all-zero template"));
        }
        Ok(Template {
            values,
            inv_norm: 1.0 / (norm_sq as f32).sqrt(),
        })
    }

    /// The quantised components.
    pub fn values(&self) -> &[i8] {
        &self.values
    }

    /// `1 / |values|`, the factor that turns integer dot products into cosines.
    pub fn inv_norm(&self) -> f32 {
        self.inv_norm
    }

    /// Cosine similarity with another template, within -1..=1.
    pub fn similarity(&self, other: &Template) -> f32 {
        // f32 rounding of the inverse norms can put two identical templates at 1.0000001; the
        // liveness report carries this value and the edge refuses one outside -1..1.
        (dot_i8(&self.values, &other.values) as f32 * self.inv_norm * other.inv_norm)
            .clamp(-1.0, 1.0)
    }

    /// Dequantises back to a unit-norm embedding.
    pub fn to_embedding(&self) -> Embedding {
        let v = self.values.iter().map(|&q| f32::from(q)).collect();
        Embedding::new(v).expect("a non-zero template dequantises to a valid embedding")
    }

    /// Binary encoding: magic, version, dimension (u16 LE), then the int8 values.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TEMPLATE_BYTES);
        out.extend_from_slice(&TEMPLATE_MAGIC);
        out.push(TEMPLATE_VERSION);
        out.extend_from_slice(&(EMBEDDING_DIM as u16).to_le_bytes());
        out.extend(self.values.iter().map(|&v| v as u8));
        out
    }

    /// Decodes [`Template::to_bytes`] output, rejecting foreign or truncated data.
    pub fn from_bytes(bytes: &[u8]) -> Result<Template, Error> {
        if bytes.len() < HEADER_LEN {
            return Err(Error::InvalidTemplate("truncated header"));
        }
        if bytes[..3] != TEMPLATE_MAGIC {
            return Err(Error::InvalidTemplate("bad magic"));
        }
        if bytes[3] != TEMPLATE_VERSION {
            return Err(Error::InvalidTemplate("unsupported version"));
        }
        if usize::from(u16::from_le_bytes([bytes[4], bytes[5]])) != EMBEDDING_DIM {
            return Err(Error::InvalidTemplate("wrong dimension"));
        }
        if bytes.len() != TEMPLATE_BYTES {
            return Err(Error::InvalidTemplate("wrong length"));
        }
        Template::from_values(bytes[HEADER_LEN..].iter().map(|&b| b as i8).collect())
    }

    /// Standard-alphabet, padded base64 of [`Template::to_bytes`] (JSON transport).
    pub fn to_base64(&self) -> String {
        B64.encode(self.to_bytes())
    }

    /// Decodes [`Template::to_base64`] output.
    pub fn from_base64(s: &str) -> Result<Template, Error> {
        // Bound the work before decoding: a valid template is exactly this long.
        if s.len() != TEMPLATE_BYTES.div_ceil(3) * 4 {
            return Err(Error::InvalidTemplate("wrong length"));
        }
        let bytes = B64
            .decode(s)
            .map_err(|_| Error::InvalidTemplate("bad base64"))?;
        Template::from_bytes(&bytes)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn a_template_compared_with_itself_is_at_most_one() {
        // Identical frames (a camera repeating a frame) give identical templates.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut above = 0;
        for _ in 0..2000 {
            let v: Vec<f32> = (0..EMBEDDING_DIM)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                })
                .collect();
            let t = Embedding::new(v).unwrap().to_template();
            let raw = dot_i8(t.values(), t.values()) as f32 * t.inv_norm() * t.inv_norm();
            above += usize::from(raw > 1.0);
            let s = t.similarity(&t);
            assert!(s <= 1.0 && s > 0.9999, "{s}");
        }
        // The clamp is needed: without it some of these land above 1.
        assert!(above > 0, "no vector rounded above 1");
    }

    /// Deterministic pseudo-random embedding for tests (xorshift).
    pub(crate) fn test_embedding(seed: u64) -> Embedding {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let v = (0..EMBEDDING_DIM)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % 2001) as f32 / 1000.0 - 1.0
            })
            .collect();
        Embedding::new(v).unwrap()
    }

    /// `base` nudged towards `other`: cosine with `base` falls as `t` grows.
    pub(crate) fn blend(base: &Embedding, other: &Embedding, t: f32) -> Embedding {
        let v = base
            .0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| a * (1.0 - t) + b * t)
            .collect();
        Embedding::new(v).unwrap()
    }

    #[test]
    fn embedding_is_normalised() {
        let e = Embedding::new(vec![3.0; EMBEDDING_DIM]).unwrap();
        let n: f32 = e.as_slice().iter().map(|v| v * v).sum();
        assert!((n - 1.0).abs() < 1e-5);
        assert!((e.cosine(&e) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn embedding_rejects_bad_input() {
        assert_eq!(
            Embedding::new(vec![1.0; 191]),
            Err(Error::InvalidEmbedding("wrong dimension"))
        );
        assert!(Embedding::new(vec![]).is_err());
        let mut nan = vec![1.0; EMBEDDING_DIM];
        nan[7] = f32::NAN;
        assert_eq!(
            Embedding::new(nan),
            Err(Error::InvalidEmbedding("non-finite value"))
        );
        let mut inf = vec![1.0; EMBEDDING_DIM];
        inf[0] = f32::INFINITY;
        assert!(Embedding::new(inf).is_err());
        assert_eq!(
            Embedding::new(vec![0.0; EMBEDDING_DIM]),
            Err(Error::InvalidEmbedding("zero norm"))
        );
        assert!(Error::InvalidEmbedding("x").is_client_error());
    }

    #[test]
    fn huge_finite_values_do_not_overflow() {
        let e = Embedding::new(vec![f32::MAX; EMBEDDING_DIM]).unwrap();
        assert!(e.as_slice().iter().all(|v| v.is_finite() && *v > 0.0));
    }

    #[test]
    fn mean_is_renormalised_and_rejects_degenerate_input() {
        let a = test_embedding(1);
        let b = test_embedding(2);
        let m = Embedding::mean(&[a.clone(), b.clone()]).unwrap();
        let n: f32 = m.as_slice().iter().map(|v| v * v).sum();
        assert!((n - 1.0).abs() < 1e-5);
        // The mean sits between its inputs.
        assert!(m.cosine(&a) > a.cosine(&b));
        assert_eq!(Embedding::mean(std::slice::from_ref(&a)).unwrap(), a);
        assert!(Embedding::mean(&[]).is_err());
        let neg = Embedding::new(a.as_slice().iter().map(|v| -v).collect()).unwrap();
        assert!(Embedding::mean(&[a, neg]).is_err());
    }

    #[test]
    fn quantisation_preserves_similarity() {
        for seed in 0..20 {
            let a = test_embedding(seed);
            let b = blend(&a, &test_embedding(seed + 100), 0.5);
            let exact = a.cosine(&b);
            let quant = a.to_template().similarity(&b.to_template());
            assert!((exact - quant).abs() < 0.01, "{exact} vs {quant}");
            assert!((a.to_template().similarity(&a.to_template()) - 1.0).abs() < 1e-5);
            assert!(a.cosine(&a.to_template().to_embedding()) > 0.999);
        }
    }

    #[test]
    fn quantisation_uses_full_range() {
        let t = test_embedding(3).to_template();
        assert_eq!(t.values().iter().map(|v| v.unsigned_abs()).max(), Some(127));
    }

    #[test]
    fn bytes_and_base64_round_trip() {
        let t = test_embedding(9).to_template();
        let bytes = t.to_bytes();
        assert_eq!(bytes.len(), TEMPLATE_BYTES);
        assert_eq!(&bytes[..6], &[b'O', b'F', b'T', 1, 192, 0]);
        assert_eq!(Template::from_bytes(&bytes).unwrap(), t);
        let b64 = t.to_base64();
        assert_eq!(b64.len(), 264);
        assert_eq!(Template::from_base64(&b64).unwrap(), t);
    }

    #[test]
    fn decoding_rejects_corruption() {
        let good = test_embedding(4).to_template().to_bytes();
        let with = |i: usize, b: u8| {
            let mut v = good.clone();
            v[i] = b;
            Template::from_bytes(&v)
        };
        assert_eq!(with(0, b'X'), Err(Error::InvalidTemplate("bad magic")));
        assert_eq!(
            with(3, 2),
            Err(Error::InvalidTemplate("unsupported version"))
        );
        assert_eq!(with(4, 128), Err(Error::InvalidTemplate("wrong dimension")));
        assert_eq!(
            Template::from_bytes(&good[..good.len() - 1]),
            Err(Error::InvalidTemplate("wrong length"))
        );
        let mut long = good.clone();
        long.push(0);
        assert_eq!(
            Template::from_bytes(&long),
            Err(Error::InvalidTemplate("wrong length"))
        );
        assert_eq!(
            Template::from_bytes(b"OF"),
            Err(Error::InvalidTemplate("truncated header"))
        );
        let mut zero = good[..HEADER_LEN].to_vec();
        zero.extend([0u8; EMBEDDING_DIM]);
        assert_eq!(
            Template::from_bytes(&zero),
            Err(Error::InvalidTemplate("all-zero template"))
        );
    }

    #[test]
    fn base64_rejects_garbage() {
        let b64 = test_embedding(5).to_template().to_base64();
        assert!(Template::from_base64(&b64[1..]).is_err());
        let bad = format!("!{}", &b64[1..]);
        assert_eq!(
            Template::from_base64(&bad),
            Err(Error::InvalidTemplate("bad base64"))
        );
        assert!(Template::from_base64("").is_err());
    }

    #[test]
    fn from_values_checks_length() {
        assert!(Template::from_values(vec![1; 10]).is_err());
        assert!(Template::from_values(vec![-128; EMBEDDING_DIM]).is_ok());
    }
}
