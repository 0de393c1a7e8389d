//! Face alignment: the least-squares similarity transform onto ArcFace's 5-point template.

use crate::frame::Frame;

/// Side of the aligned crop MobileFaceNet expects.
pub const ALIGNED_SIZE: usize = 112;

/// ArcFace's reference landmarks in a 112×112 crop: left eye, right eye, nose tip, left and right
/// mouth corners (left/right as seen in the image). MobileFaceNet was trained on crops made with
/// exactly these points, so any other template costs recognition accuracy.
pub const ARCFACE_TEMPLATE: [[f32; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// A 2-D similarity transform `p ↦ s·R·p + t`, stored as the complex pair `z ↦ a·z + b`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Similarity {
    /// Real part of `a` (scale·cos θ).
    pub a_re: f32,
    /// Imaginary part of `a` (scale·sin θ).
    pub a_im: f32,
    /// Translation x.
    pub b_re: f32,
    /// Translation y.
    pub b_im: f32,
}

impl Similarity {
    /// Least-squares fit (Umeyama without reflection) mapping `src[i]` onto `dst[i]`.
    /// Returns `None` for degenerate input (all source points coincide or are not finite).
    pub fn fit(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Option<Similarity> {
        let n = src.len().min(dst.len());
        if n < 2 {
            return None;
        }
        let mean = |pts: &[[f32; 2]]| {
            let (sx, sy) = pts[..n].iter().fold((0.0f64, 0.0f64), |(x, y), p| {
                (x + p[0] as f64, y + p[1] as f64)
            });
            (sx / n as f64, sy / n as f64)
        };
        let (sx, sy) = mean(src);
        let (dx, dy) = mean(dst);
        let (mut num_re, mut num_im, mut den) = (0.0f64, 0.0f64, 0.0f64);
        for i in 0..n {
            let (px, py) = (src[i][0] as f64 - sx, src[i][1] as f64 - sy);
            let (qx, qy) = (dst[i][0] as f64 - dx, dst[i][1] as f64 - dy);
            // q · conj(p)
            num_re += qx * px + qy * py;
            num_im += qy * px - qx * py;
            den += px * px + py * py;
        }
        if !(den.is_finite() && den > 1e-9) {
            return None;
        }
        let (a_re, a_im) = (num_re / den, num_im / den);
        let b_re = dx - (a_re * sx - a_im * sy);
        let b_im = dy - (a_re * sy + a_im * sx);
        Some(Similarity {
            a_re: a_re as f32,
            a_im: a_im as f32,
            b_re: b_re as f32,
            b_im: b_im as f32,
        })
    }

    /// Applies the transform to a point.
    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        [
            self.a_re * p[0] - self.a_im * p[1] + self.b_re,
            self.a_im * p[0] + self.a_re * p[1] + self.b_im,
        ]
    }

    /// The inverse transform, or `None` when the scale is zero.
    pub fn inverse(&self) -> Option<Similarity> {
        let d = self.a_re * self.a_re + self.a_im * self.a_im;
        if !(d.is_finite() && d > 1e-12) {
            return None;
        }
        let (ia_re, ia_im) = (self.a_re / d, -self.a_im / d);
        Some(Similarity {
            a_re: ia_re,
            a_im: ia_im,
            b_re: -(ia_re * self.b_re - ia_im * self.b_im),
            b_im: -(ia_im * self.b_re + ia_re * self.b_im),
        })
    }

    /// Uniform scale factor.
    pub fn scale(&self) -> f32 {
        self.a_re.hypot(self.a_im)
    }
}

/// Renders `size`×`size` RGB output pixels whose centres map through `to_src` into `frame`,
/// averaging over the footprint when the crop shrinks the face.
pub fn warp(frame: &Frame, to_src: &Similarity, size: usize) -> Vec<u8> {
    let footprint = to_src.scale();
    let mut out = Vec::with_capacity(size * size * 3);
    for v in 0..size {
        for u in 0..size {
            let [x, y] = to_src.apply([u as f32, v as f32]);
            let px = frame.sample_area(x, y, footprint);
            out.extend(px.map(|c| c.round().clamp(0.0, 255.0) as u8));
        }
    }
    out
}

/// The aligned 112×112 RGB crop for MobileFaceNet, or `None` when the landmarks are degenerate.
pub fn align_arcface(frame: &Frame, landmarks: &[[f32; 2]; 5]) -> Option<Vec<u8>> {
    let to_crop = Similarity::fit(landmarks, &ARCFACE_TEMPLATE)?;
    Some(warp(frame, &to_crop.inverse()?, ALIGNED_SIZE))
}

/// How well the landmarks fit the template after the best similarity transform: mean distance in
/// crop pixels. Large values mean an extreme pose or a bad detection, and the embedding suffers.
pub fn alignment_residual(landmarks: &[[f32; 2]; 5]) -> Option<f32> {
    let t = Similarity::fit(landmarks, &ARCFACE_TEMPLATE)?;
    let sum: f32 = landmarks
        .iter()
        .zip(ARCFACE_TEMPLATE.iter())
        .map(|(p, q)| {
            let m = t.apply(*p);
            (m[0] - q[0]).hypot(m[1] - q[1])
        })
        .sum();
    Some(sum / 5.0)
}

/// A square, upright-by-the-eyes crop of side `size` around a face, for the attribute and liveness
/// models, which were trained on loose detector boxes rather than ArcFace crops. `expand` scales the
/// box side (1.0 = the detector box).
pub fn face_crop(
    frame: &Frame,
    bbox: [f32; 4],
    landmarks: &[[f32; 2]; 5],
    expand: f32,
    size: usize,
) -> Vec<u8> {
    let [x, y, w, h] = bbox;
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    let side = w.max(h) * expand;
    let (le, re) = (landmarks[0], landmarks[1]);
    let angle = (re[1] - le[1]).atan2(re[0] - le[0]);
    let s = side / size as f32;
    let (c, sn) = (angle.cos() * s, angle.sin() * s);
    let half = size as f32 / 2.0 - 0.5;
    // Output pixel (u, v) ↦ centre + R(angle)·s·((u, v) − half).
    let to_src = Similarity {
        a_re: c,
        a_im: sn,
        b_re: cx - (c * half - sn * half),
        b_im: cy - (sn * half + c * half),
    };
    warp(frame, &to_src, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_a_known_transform() {
        let t = Similarity {
            a_re: 1.5 * 0.3f32.cos(),
            a_im: 1.5 * 0.3f32.sin(),
            b_re: 10.0,
            b_im: -4.0,
        };
        let src = ARCFACE_TEMPLATE;
        let dst: Vec<[f32; 2]> = src.iter().map(|p| t.apply(*p)).collect();
        let fit = Similarity::fit(&src, &dst).unwrap();
        for (a, b) in [
            (fit.a_re, t.a_re),
            (fit.a_im, t.a_im),
            (fit.b_re, t.b_re),
            (fit.b_im, t.b_im),
        ] {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
        let inv = fit.inverse().unwrap();
        let back = inv.apply(fit.apply([3.0, 7.0]));
        assert!((back[0] - 3.0).abs() < 1e-3 && (back[1] - 7.0).abs() < 1e-3);
    }

    #[test]
    fn degenerate_landmarks_are_rejected() {
        assert!(Similarity::fit(&[[5.0, 5.0]; 5], &ARCFACE_TEMPLATE).is_none());
        assert!(Similarity::fit(&[[f32::NAN, 1.0]; 5], &ARCFACE_TEMPLATE).is_none());
    }

    #[test]
    fn template_itself_has_zero_residual() {
        assert!(alignment_residual(&ARCFACE_TEMPLATE).unwrap() < 1e-3);
    }

    #[test]
    fn aligning_the_template_is_the_identity() {
        let rgb = (0..112 * 112)
            .flat_map(|i| [(i % 112) as u8, (i / 112) as u8, 0])
            .collect();
        let frame = Frame::from_rgb(112, 112, rgb).unwrap();
        let crop = align_arcface(&frame, &ARCFACE_TEMPLATE).unwrap();
        assert_eq!(crop, frame.rgb());
    }
}
