//! Image-quality signals the widget turns into guidance ("move closer", "more light", ...).

use serde::Serialize;

use crate::align::ALIGNED_SIZE;
use crate::frame::luma;

/// Quality measurements of one detected face.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Quality {
    /// Face box width in frame pixels.
    pub face_px: f32,
    /// Face box width as a fraction of the frame width.
    pub face_fraction: f32,
    /// Variance of the Laplacian on the grey aligned crop; low means blurred.
    pub sharpness: f32,
    /// Mean luma of the aligned crop, 0..255.
    pub brightness: f32,
    /// Head turn in degrees, estimated from landmarks; positive = nose towards the image's right.
    pub yaw_deg: f32,
    /// Head nod in degrees, estimated from landmarks; positive = looking down.
    pub pitch_deg: f32,
    /// Eye-line tilt in degrees.
    pub roll_deg: f32,
    /// Mean landmark distance (crop pixels) to the ArcFace template after alignment.
    pub alignment_residual: f32,
}

/// Yaw, pitch and roll (degrees) from the five landmarks. A coarse geometric estimate, good enough
/// to tell "facing the camera" from "turned away"; the face mesh gives better angles.
pub fn head_pose(l: &[[f32; 2]; 5]) -> (f32, f32, f32) {
    let [le, re, nose, lm, rm] = *l;
    let eye_mid = [(le[0] + re[0]) / 2.0, (le[1] + re[1]) / 2.0];
    let mouth_mid = [(lm[0] + rm[0]) / 2.0, (lm[1] + rm[1]) / 2.0];
    let roll = (re[1] - le[1]).atan2(re[0] - le[0]);
    // Express the nose in a frame where the eye line is horizontal.
    let (c, s) = (roll.cos(), roll.sin());
    let rot = |p: [f32; 2]| {
        let d = [p[0] - eye_mid[0], p[1] - eye_mid[1]];
        [c * d[0] + s * d[1], -s * d[0] + c * d[1]]
    };
    let eye_dist = (re[0] - le[0]).hypot(re[1] - le[1]).max(1e-6);
    let n = rot(nose);
    let m = rot(mouth_mid);
    // On a frontal face the nose sits on the eye-mouth midline; its sideways offset relative to
    // half the eye distance approximates sin(yaw).
    let yaw = (n[0] / (eye_dist / 2.0)).clamp(-1.0, 1.0).asin();
    // Frontal faces put the nose tip ~45% of the way from the eye line to the mouth line.
    let ratio = if m[1].abs() > 1e-6 { n[1] / m[1] } else { 0.45 };
    let pitch = ((ratio - 0.45) * 2.0).clamp(-1.0, 1.0).asin();
    (yaw.to_degrees(), pitch.to_degrees(), roll.to_degrees())
}

/// Sharpness and brightness of an aligned 112×112 RGB crop, over its central face region.
pub fn sharpness_and_brightness(aligned_rgb: &[u8]) -> (f32, f32) {
    let n = ALIGNED_SIZE;
    let grey: Vec<f32> = aligned_rgb
        .chunks_exact(3)
        .map(|p| luma([p[0] as f32, p[1] as f32, p[2] as f32]))
        .collect();
    // Central region only: the crop's corners hold background and padding.
    let (lo, hi) = (n / 4, n * 3 / 4);
    let (mut sum, mut sum_sq, mut luma, mut count) = (0.0f64, 0.0f64, 0.0f64, 0usize);
    for y in lo..hi {
        for x in lo..hi {
            let c = grey[y * n + x];
            let lap = grey[(y - 1) * n + x]
                + grey[(y + 1) * n + x]
                + grey[y * n + x - 1]
                + grey[y * n + x + 1]
                - 4.0 * c;
            sum += lap as f64;
            sum_sq += (lap * lap) as f64;
            luma += c as f64;
            count += 1;
        }
    }
    let mean = sum / count as f64;
    (
        (sum_sq / count as f64 - mean * mean) as f32,
        (luma / count as f64) as f32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::ARCFACE_TEMPLATE;

    #[test]
    fn template_is_frontal() {
        let (yaw, pitch, roll) = head_pose(&ARCFACE_TEMPLATE);
        assert!(
            yaw.abs() < 3.0 && pitch.abs() < 10.0 && roll.abs() < 1.0,
            "{yaw} {pitch} {roll}"
        );
    }

    #[test]
    fn nose_shifted_right_is_positive_yaw() {
        let mut l = ARCFACE_TEMPLATE;
        l[2][0] += 10.0;
        assert!(head_pose(&l).0 > 20.0);
    }

    #[test]
    fn flat_crop_has_no_sharpness_and_its_brightness() {
        let (s, b) = sharpness_and_brightness(&vec![100u8; 112 * 112 * 3]);
        assert!(s.abs() < 1e-3 && (b - 100.0).abs() < 1e-3);
        let noisy: Vec<u8> = (0..112 * 112 * 3)
            .map(|i| if (i / 3) % 2 == 0 { 0 } else { 255 })
            .collect();
        assert!(sharpness_and_brightness(&noisy).0 > 1000.0);
    }
}
