//! Periodic-pattern cue: how strongly the skin in the middle of the face carries a regular
//! pattern (a screen's subpixel moiré, a print's halftone screen) rather than skin texture.
//!
//! Skin, pores and camera noise spread their energy smoothly over spatial frequencies; a pixel
//! grid or a dot screen re-photographed by a camera puts it into a few isolated peaks. The cue
//! is the strongest peak over the median of its own frequency ring, so the face's natural 1/f
//! fall-off and overall contrast cancel out.

use crate::frame::{luma, Frame};

/// Side of the analysed patch at full size, camera pixels.
///
/// Native resolution on purpose: any resampling low-passes exactly the fine patterns sought.
const PATCH: usize = 64;
/// Smaller patch for small faces.
const PATCH_SMALL: usize = 32;
/// Faces narrower than this (px) give too few skin pixels for a spectrum.
const MIN_FACE_PX: f32 = 48.0;
/// Patch side as a fraction of the face box width; keeps hair and background out.
const PATCH_OF_FACE: f32 = 0.55;
/// Periods longer than this fraction of the patch are shading and face geometry, not pattern.
const LONGEST_PERIOD: f32 = 1.0 / 8.0;

/// Periodic-pattern strength of the face in `bbox` (`[x, y, w, h]`, frame px): log10 of the
/// strongest spectral peak over its ring's median, or `None` when the face is too small or
/// not fully inside the frame.
pub fn pattern_score(frame: &Frame, bbox: [f32; 4]) -> Option<f32> {
    let [x, y, w, h] = bbox;
    if !(w.is_finite() && h.is_finite() && x.is_finite() && y.is_finite()) || w < MIN_FACE_PX {
        return None;
    }
    let n = if w * PATCH_OF_FACE >= PATCH as f32 {
        PATCH
    } else {
        PATCH_SMALL
    };
    // Centre a little below the box centre: the nose bridge and cheeks, below the eyes' edges.
    let cx = (x + w / 2.0).round() as isize - n as isize / 2;
    let cy = (y + h * 0.55).round() as isize - n as isize / 2;
    if cx < 0 || cy < 0 || cx as usize + n > frame.width() || cy as usize + n > frame.height() {
        return None;
    }
    let patch = luma_patch(frame, cx as usize, cy as usize, n);
    Some(peak_ratio(&patch, n))
}

fn luma_patch(frame: &Frame, x0: usize, y0: usize, n: usize) -> Vec<f32> {
    let rgb = frame.rgb();
    let mut out = Vec::with_capacity(n * n);
    for y in y0..y0 + n {
        for x in x0..x0 + n {
            let i = (y * frame.width() + x) * 3;
            out.push(luma([rgb[i] as f32, rgb[i + 1] as f32, rgb[i + 2] as f32]));
        }
    }
    out
}

/// log10(max over the band of power / median power of the same integer-radius ring).
fn peak_ratio(patch: &[f32], n: usize) -> f32 {
    let mean = patch.iter().sum::<f32>() / patch.len() as f32;
    let hann: Vec<f32> = (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / n as f32).cos())
        .collect();
    let mut re: Vec<f32> = patch
        .iter()
        .enumerate()
        .map(|(i, v)| (v - mean) * hann[i / n] * hann[i % n])
        .collect();
    let mut im = vec![0.0f32; n * n];
    fft2(&mut re, &mut im, n);

    let half = n as isize / 2;
    let r_min = (n as f32 * LONGEST_PERIOD).ceil() as usize;
    let mut rings: Vec<Vec<f32>> = vec![Vec::new(); half as usize + 1];
    let mut peaks: Vec<(usize, f32)> = Vec::new();
    // Half-plane only: a real patch's spectrum is point-symmetric.
    for v in 0..=half {
        for u in -half + 1..=half {
            if v == 0 && u <= 0 {
                continue;
            }
            let r = ((u * u + v * v) as f32).sqrt().round() as usize;
            if r < r_min || r > half as usize {
                continue;
            }
            let k = v as usize * n + u.rem_euclid(n as isize) as usize;
            let p = re[k] * re[k] + im[k] * im[k];
            rings[r].push(p);
            peaks.push((r, p));
        }
    }
    let medians: Vec<f32> = rings
        .iter_mut()
        .map(|ring| {
            if ring.is_empty() {
                return 0.0;
            }
            ring.sort_by(f32::total_cmp);
            ring[ring.len() / 2]
        })
        .collect();
    let best = peaks
        .iter()
        .map(|&(r, p)| p / medians[r].max(1e-6))
        .fold(1.0f32, f32::max);
    best.log10()
}

/// In-place 2-D FFT of an `n`×`n` row-major complex array (`n` a power of two).
fn fft2(re: &mut [f32], im: &mut [f32], n: usize) {
    let mut rr = vec![0.0; n];
    let mut ri = vec![0.0; n];
    for row in 0..n {
        fft(
            &mut re[row * n..(row + 1) * n],
            &mut im[row * n..(row + 1) * n],
        );
    }
    for col in 0..n {
        for i in 0..n {
            rr[i] = re[i * n + col];
            ri[i] = im[i * n + col];
        }
        fft(&mut rr, &mut ri);
        for i in 0..n {
            re[i * n + col] = rr[i];
            im[i * n + col] = ri[i];
        }
    }
}

/// Iterative radix-2 Cooley–Tukey FFT.
fn fft(re: &mut [f32], im: &mut [f32]) {
    let n = re.len();
    debug_assert!(n.is_power_of_two() && im.len() == n);
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    // Twiddles once per call: the per-butterfly sin/cos would cost more than the transform.
    let tw: Vec<(f32, f32)> = (0..n / 2)
        .map(|k| {
            let (s, c) = (-2.0 * std::f64::consts::PI * k as f64 / n as f64).sin_cos();
            (c as f32, s as f32)
        })
        .collect();
    let mut len = 2;
    while len <= n {
        let stride = n / len;
        for start in (0..n).step_by(len) {
            for k in 0..len / 2 {
                let (wr, wi) = tw[k * stride];
                let (a, b) = (start + k, start + k + len / 2);
                let tr = re[b] * wr - im[b] * wi;
                let ti = re[b] * wi + im[b] * wr;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
            }
        }
        len <<= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dft(re: &[f32]) -> Vec<(f32, f32)> {
        let n = re.len();
        (0..n)
            .map(|k| {
                re.iter().enumerate().fold((0.0, 0.0), |(a, b), (t, &x)| {
                    let ang = -2.0 * std::f32::consts::PI * (k * t) as f32 / n as f32;
                    (a + x * ang.cos(), b + x * ang.sin())
                })
            })
            .collect()
    }

    #[test]
    fn fft_matches_the_naive_dft() {
        let x: Vec<f32> = (0..32).map(|i| ((i * 7919) % 23) as f32 - 11.0).collect();
        let mut re = x.clone();
        let mut im = vec![0.0; 32];
        fft(&mut re, &mut im);
        for (k, (dr, di)) in dft(&x).into_iter().enumerate() {
            assert!(
                (re[k] - dr).abs() < 1e-3 && (im[k] - di).abs() < 1e-3,
                "bin {k}"
            );
        }
    }

    /// Deterministic white noise over a shading gradient: texture with no preferred frequency.
    fn skin_like(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n * n)
            .map(|i| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let noise = (s >> 40) as f32 / (1u64 << 24) as f32;
                100.0 + (i % n) as f32 * 0.5 + 12.0 * noise
            })
            .collect()
    }

    #[test]
    fn a_regular_pattern_stands_out_from_texture() {
        let n = 64;
        let plain = skin_like(n, 7);
        // A faint 7 px stripe grid, about 3 grey levels, like moiré over skin.
        let striped: Vec<f32> = plain
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let (x, y) = ((i % n) as f32, (i / n) as f32);
                v + 3.0 * (2.0 * std::f32::consts::PI * (0.9 * x + 0.3 * y) / 7.0).sin()
            })
            .collect();
        let a = peak_ratio(&plain, n);
        let b = peak_ratio(&striped, n);
        assert!(a < 1.5, "texture alone scored {a}");
        assert!(b > a + 1.0, "pattern {b} vs texture {a}");
    }

    #[test]
    fn faces_too_small_or_outside_the_frame_give_no_score() {
        let f = Frame::from_rgb(100, 100, vec![128; 100 * 100 * 3]).unwrap();
        assert_eq!(pattern_score(&f, [10.0, 10.0, 30.0, 30.0]), None);
        assert_eq!(pattern_score(&f, [60.0, 60.0, 90.0, 90.0]), None);
        assert_eq!(pattern_score(&f, [f32::NAN, 0.0, 90.0, 90.0]), None);
        // A flat patch has no peaks at all.
        let s = pattern_score(&f, [0.0, 0.0, 100.0, 100.0]).unwrap();
        assert!(s <= 0.1, "{s}");
    }
}
