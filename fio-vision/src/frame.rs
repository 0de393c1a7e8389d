//! Camera frames and the pixel sampling every stage shares.

use crate::Error;

/// An 8-bit RGB image in row-major order, the pipeline's only input type.
#[derive(Clone, Debug)]
pub struct Frame {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

/// Frames larger than this are refused rather than risking an out-of-memory in the browser tab.
pub const MAX_FRAME_PIXELS: usize = 8192 * 8192;

/// ITU-R BT.601 luma of an RGB triple (0..255 in, same scale out).
pub fn luma([r, g, b]: [f32; 3]) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

impl Frame {
    /// Builds a frame from packed RGB bytes (3 per pixel).
    pub fn from_rgb(width: usize, height: usize, rgb: Vec<u8>) -> Result<Self, Error> {
        check_dims(width, height, rgb.len(), 3)?;
        Ok(Frame { width, height, rgb })
    }

    /// Builds a frame from packed RGBA bytes (4 per pixel), as a canvas `ImageData` gives them.
    pub fn from_rgba(width: usize, height: usize, rgba: &[u8]) -> Result<Self, Error> {
        check_dims(width, height, rgba.len(), 4)?;
        let rgb = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        Ok(Frame { width, height, rgb })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The packed RGB bytes.
    pub fn rgb(&self) -> &[u8] {
        &self.rgb
    }

    /// One channel value with coordinates clamped to the border.
    #[inline]
    fn at(&self, x: isize, y: isize, c: usize) -> f32 {
        let x = x.clamp(0, self.width as isize - 1) as usize;
        let y = y.clamp(0, self.height as isize - 1) as usize;
        self.rgb[(y * self.width + x) * 3 + c] as f32
    }

    /// Bilinear sample of all three channels at a sub-pixel position (pixel centres at integers).
    /// Outside the frame the result fades to black, so crops that overhang the border are padded
    /// rather than smeared with repeated edge pixels.
    #[inline]
    pub fn sample(&self, x: f32, y: f32) -> [f32; 3] {
        let (w, h) = (self.width as f32, self.height as f32);
        if !(x > -1.0 && y > -1.0 && x < w && y < h) {
            return [0.0; 3];
        }
        let x0 = x.floor();
        let y0 = y.floor();
        let (fx, fy) = (x - x0, y - y0);
        let (xi, yi) = (x0 as isize, y0 as isize);
        if xi >= 0 && yi >= 0 && (xi as usize) + 1 < self.width && (yi as usize) + 1 < self.height {
            // Fast path, all four neighbours inside: same arithmetic as below, without the
            // per-tap bounds checks (this is the inner loop of every crop and of detection).
            let i = (yi as usize * self.width + xi as usize) * 3;
            let below = i + self.width * 3;
            let p = &self.rgb;
            let mut out = [0.0f32; 3];
            for (c, o) in out.iter_mut().enumerate() {
                let top = p[i + c] as f32 * (1.0 - fx) + p[i + 3 + c] as f32 * fx;
                let bottom = p[below + c] as f32 * (1.0 - fx) + p[below + 3 + c] as f32 * fx;
                *o = top * (1.0 - fy) + bottom * fy;
            }
            return out;
        }
        let inside = |xx: isize, yy: isize| {
            xx >= 0 && yy >= 0 && (xx as usize) < self.width && (yy as usize) < self.height
        };
        let mut out = [0.0f32; 3];
        for (c, o) in out.iter_mut().enumerate() {
            let p = |xx: isize, yy: isize| {
                if inside(xx, yy) {
                    self.at(xx, yy, c)
                } else {
                    0.0
                }
            };
            let top = p(xi, yi) * (1.0 - fx) + p(xi + 1, yi) * fx;
            let bottom = p(xi, yi + 1) * (1.0 - fx) + p(xi + 1, yi + 1) * fx;
            *o = top * (1.0 - fy) + bottom * fy;
        }
        out
    }

    /// Bilinear sample where positions outside the frame take the nearest edge pixel (border
    /// replicate), which is how MediaPipe's ImageToTensorCalculator pads crops on the CPU.
    #[inline]
    pub fn sample_replicate(&self, x: f32, y: f32) -> [f32; 3] {
        self.sample(
            x.clamp(0.0, (self.width - 1) as f32),
            y.clamp(0.0, (self.height - 1) as f32),
        )
    }

    /// Area-averaged sample over a `scale`×`scale` footprint; plain bilinear aliases badly when a
    /// 1280-wide frame is shrunk to a 320-wide detector input.
    pub fn sample_area(&self, x: f32, y: f32, scale: f32) -> [f32; 3] {
        if let Some(px) = self.pixel_taps(x, y, scale) {
            return px;
        }
        Self::average_taps(x, y, scale, |x, y| self.sample(x, y))
    }

    /// [`Frame::average_taps`] when every tap lands on a pixel centre inside the frame (an
    /// integer shrink, e.g. 640×480 to the 320 detector input): the same values summed in the
    /// same order, read directly instead of through bilinear weights of 1 and 0, so the result is
    /// bit-identical. Measured: a third of a 640×480 frame's detection time went to these taps.
    #[inline]
    fn pixel_taps(&self, x: f32, y: f32, scale: f32) -> Option<[f32; 3]> {
        if scale <= 1.5 {
            return None;
        }
        let taps = (scale.round() as usize).clamp(2, 4);
        let step = scale / taps as f32;
        if step != 1.0 {
            return None;
        }
        let start = -scale / 2.0 + step / 2.0;
        let (x0, y0) = (x + start, y + start);
        let inside = |v: f32, n: usize| v >= 0.0 && v.fract() == 0.0 && (v as usize) + taps <= n;
        if !(inside(x0, self.width) && inside(y0, self.height)) {
            return None;
        }
        let (xi, yi) = (x0 as usize, y0 as usize);
        let mut acc = [0.0f32; 3];
        for j in 0..taps {
            let row = ((yi + j) * self.width + xi) * 3;
            for i in 0..taps {
                let p = &self.rgb[row + i * 3..row + i * 3 + 3];
                for c in 0..3 {
                    acc[c] += p[c] as f32;
                }
            }
        }
        let n = (taps * taps) as f32;
        Some(acc.map(|v| v / n))
    }

    /// [`Frame::sample_area`] with border replicate instead of black outside the frame.
    pub fn sample_area_replicate(&self, x: f32, y: f32, scale: f32) -> [f32; 3] {
        Self::average_taps(x, y, scale, |x, y| self.sample_replicate(x, y))
    }

    /// Averages `tap` over a grid covering a `scale`×`scale` footprint (a single tap when the
    /// footprint is about one pixel).
    #[inline]
    fn average_taps(x: f32, y: f32, scale: f32, tap: impl Fn(f32, f32) -> [f32; 3]) -> [f32; 3] {
        if scale <= 1.5 {
            return tap(x, y);
        }
        let taps = (scale.round() as usize).clamp(2, 4);
        let step = scale / taps as f32;
        let start = -scale / 2.0 + step / 2.0;
        let mut acc = [0.0f32; 3];
        for j in 0..taps {
            for i in 0..taps {
                let s = tap(x + start + i as f32 * step, y + start + j as f32 * step);
                for c in 0..3 {
                    acc[c] += s[c];
                }
            }
        }
        let n = (taps * taps) as f32;
        acc.map(|v| v / n)
    }

    /// The part of the frame in the pixel rectangle `[x0, y0, x1, y1)` (clamped to the frame),
    /// shrunk by the integer factor `k`: each pixel is the rounded mean of one k×k block (of its
    /// pixels inside the frame, at the edge). Also returns the frame position of the small
    /// frame's pixel (0, 0), so frame point `p` is at `(p - origin) / k` in it. `None` for an
    /// empty rectangle or `k == 0`.
    ///
    /// Shrinking once and then sampling bilinearly costs one pass over the region instead of
    /// k² bilinear taps per output pixel ([`Frame::sample_area`]), the difference between 8 and
    /// 2 ms for a 192 px crop of a face filling a 640×480 frame.
    pub fn shrink_region(&self, k: usize, rect: [usize; 4]) -> Option<(Frame, [f32; 2])> {
        let [x0, y0] = [rect[0].min(self.width), rect[1].min(self.height)];
        let [x1, y1] = [rect[2].min(self.width), rect[3].min(self.height)];
        if k == 0 || x1 <= x0 || y1 <= y0 {
            return None;
        }
        let (w, h) = ((x1 - x0).div_ceil(k), (y1 - y0).div_ceil(k));
        let mut rgb = Vec::with_capacity(w * h * 3);
        let mut sums = vec![0u32; w * 3];
        for j in 0..h {
            sums.fill(0);
            let rows = y0 + j * k..(y0 + (j + 1) * k).min(y1);
            let n_rows = rows.len() as u32;
            for y in rows {
                let row = &self.rgb[(y * self.width + x0) * 3..(y * self.width + x1) * 3];
                for (i, px) in row.chunks_exact(3).enumerate() {
                    let o = i / k * 3;
                    sums[o] += px[0] as u32;
                    sums[o + 1] += px[1] as u32;
                    sums[o + 2] += px[2] as u32;
                }
            }
            for (i, s) in sums.chunks_exact(3).enumerate() {
                let n = ((x1 - x0 - i * k).min(k) as u32) * n_rows;
                rgb.extend(s.iter().map(|v| ((v + n / 2) / n) as u8));
            }
        }
        let centre = (k as f32 - 1.0) / 2.0;
        let origin = [x0 as f32 + centre, y0 as f32 + centre];
        Some((
            Frame {
                width: w,
                height: h,
                rgb,
            },
            origin,
        ))
    }

    /// Mirror image, for flip-averaged embeddings and tests.
    pub fn flipped(&self) -> Frame {
        let mut rgb = Vec::with_capacity(self.rgb.len());
        for row in self.rgb.chunks_exact(self.width * 3) {
            for px in row.chunks_exact(3).rev() {
                rgb.extend_from_slice(px);
            }
        }
        Frame {
            width: self.width,
            height: self.height,
            rgb,
        }
    }
}

fn check_dims(width: usize, height: usize, len: usize, channels: usize) -> Result<(), Error> {
    if width == 0 || height == 0 {
        return Err(Error::BadFrame(format!("empty frame {width}x{height}")));
    }
    let pixels = width
        .checked_mul(height)
        .filter(|p| *p <= MAX_FRAME_PIXELS)
        .ok_or_else(|| Error::BadFrame(format!("frame {width}x{height} is too large")))?;
    if pixels * channels != len {
        return Err(Error::BadFrame(format!(
            "{width}x{height} with {channels} channels needs {} bytes, got {len}",
            pixels * channels
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: usize, h: usize) -> Frame {
        let rgb = (0..w * h)
            .flat_map(|i| [(i % w) as u8, (i / w) as u8, 7])
            .collect();
        Frame::from_rgb(w, h, rgb).unwrap()
    }

    #[test]
    fn rgba_drops_alpha() {
        let f = Frame::from_rgba(2, 1, &[1, 2, 3, 255, 4, 5, 6, 0]).unwrap();
        assert_eq!(f.rgb(), &[1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn wrong_length_and_empty_frames_are_errors() {
        assert!(matches!(
            Frame::from_rgb(2, 2, vec![0; 11]),
            Err(Error::BadFrame(_))
        ));
        assert!(matches!(
            Frame::from_rgba(0, 5, &[]),
            Err(Error::BadFrame(_))
        ));
        assert!(matches!(
            Frame::from_rgb(usize::MAX, 2, vec![]),
            Err(Error::BadFrame(_))
        ));
    }

    #[test]
    fn bilinear_interpolates_between_pixels() {
        let f = gradient(10, 10);
        let s = f.sample(3.5, 4.25);
        assert!((s[0] - 3.5).abs() < 1e-5 && (s[1] - 4.25).abs() < 1e-5 && s[2] == 7.0);
        assert_eq!(f.sample(-5.0, 3.0), [0.0; 3]);
    }

    #[test]
    fn replicate_sampling_repeats_the_edge() {
        let f = gradient(10, 10);
        assert_eq!(f.sample_replicate(-5.0, 3.0), f.sample(0.0, 3.0));
        assert_eq!(f.sample_replicate(20.0, 20.0), f.sample(9.0, 9.0));
        assert_eq!(f.sample_replicate(3.5, 4.25), f.sample(3.5, 4.25));
    }

    #[test]
    fn shrinking_averages_blocks_and_keeps_coordinates() {
        let f = gradient(10, 7);
        let (s, origin) = f.shrink_region(3, [1, 2, 11, 7]).unwrap();
        // Columns 1..10 in blocks of 3 (the last holds column 10 only: 9 is the last column).
        assert_eq!((s.width(), s.height()), (3, 2));
        assert_eq!(origin, [2.0, 3.0]);
        // Block (0, 0) covers x 1..4, y 2..5: means 2 and 3.
        assert_eq!(&s.rgb()[0..3], &[2, 3, 7]);
        // Block (2, 1) covers x 7..10, y 5..7 (two rows inside the frame): means 8 and 5.5 → 6.
        assert_eq!(&s.rgb()[(3 + 2) * 3..(3 + 2) * 3 + 3], &[8, 6, 7]);
        // A frame point maps to (p - origin) / k in the small frame.
        let p = [5.0f32, 3.0];
        let q = s.sample((p[0] - origin[0]) / 3.0, (p[1] - origin[1]) / 3.0);
        assert!(
            (q[0] - 5.0).abs() < 1e-4 && (q[1] - 3.0).abs() < 1e-4,
            "{q:?}"
        );
        assert!(f.shrink_region(0, [0, 0, 5, 5]).is_none());
        assert!(f.shrink_region(2, [5, 5, 5, 9]).is_none());
    }

    #[test]
    fn pixel_taps_are_bit_identical_to_the_bilinear_taps() {
        let (w, h) = (64, 48);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
        let f = Frame::from_rgb(w, h, rgb).unwrap();
        let mut fast = 0;
        for scale in [1.0f32, 2.0, 2.5, 3.0, 4.0, 5.0] {
            for k in 0..200 {
                // Pixel-centre-aligned positions (the detector's integer shrink) and others.
                let (x, y) = if k % 2 == 0 {
                    let x0 = (k * 7 % w) as f32;
                    let y0 = (k * 3 % h) as f32;
                    (x0 + scale / 2.0 - 0.5, y0 + scale / 2.0 - 0.5)
                } else {
                    ((k as f32 * 0.37) % w as f32, (k as f32 * 0.61) % h as f32)
                };
                let reference = Frame::average_taps(x, y, scale, |x, y| f.sample(x, y));
                if let Some(px) = f.pixel_taps(x, y, scale) {
                    fast += 1;
                    assert_eq!(px.map(f32::to_bits), reference.map(f32::to_bits));
                }
                assert_eq!(f.sample_area(x, y, scale), reference);
            }
        }
        assert!(fast > 200, "the fast path ran {fast} times");
    }

    #[test]
    fn flip_mirrors_rows() {
        let f = gradient(4, 2).flipped();
        assert_eq!(&f.rgb()[0..3], &[3, 0, 7]);
    }
}
