//! Occlusion cue for "ignore obscured faces": is the lower face (mask, scarf, hand) or are the
//! eyes (dark sunglasses) covered?
//!
//! The face mesh places the nose, mouth, chin and eyes even when they are hidden, so the cue
//! compares the image *where those parts must be* with the face's own skin on the forehead. The
//! mesh's presence score cannot do this: it stays at 0.62–1.0 on masked faces.
//!
//! Each region is a handful of mesh vertices, each read as a 3×3 grid of area-averaged taps
//! (306 taps per face, about 0.1 ms native). A region is summarised by the per-channel median of
//! (normalised r, normalised g, log luma), so highlights, lips, glasses frames or stubble in a
//! few taps do not move it. Against the forehead it is scored on hue change and saturation
//! *loss* round the grey point (shadow makes skin more saturated, fabric is grey or blue) and on
//! darkening or brightening beyond what shading produces on bare faces.
//!
//! The reference is the forehead alone: a mask reaches the upper cheeks, so they are no
//! reference. Photos cropped through the forehead are therefore not measured (`None`). A
//! lip-visibility term (lips darker and redder than the skin round them) was measured for the
//! hand and dropped: bearded bona fide faces overlap it.

use serde::Serialize;

use crate::frame::{luma, Frame};
use crate::mesh::{Mesh, MESH_POINTS};

/// The shipped threshold on [`Occlusion::score`] lives with the other decisions in fio-core.
pub use fio_core::decision::OCCLUSION_MAX;

/// Faces narrower than this (cheek to cheek, px) give regions of a few pixels each.
pub const MIN_FACE_PX: f32 = 60.0;

/// Skin reference: mid-forehead and between the brows, above the reach of a mask and below the
/// hairline of most faces.
const FOREHEAD: [usize; 4] = [151, 108, 337, 9];
/// Nose tip and the lower bridge.
const NOSE: [usize; 3] = [1, 4, 5];
/// Philtrum and upper-lip skin (not the lips: lip colour differs from skin on every face).
const PHILTRUM: [usize; 3] = [164, 167, 393];
/// Chin below the lower lip, above the jaw edge.
const CHIN: [usize; 4] = [199, 200, 428, 208];
/// Lower cheeks, image-left then image-right.
const CHEEKS: [[usize; 3]; 2] = [[207, 214, 135], [427, 434, 364]];
/// Eye contour (mid-lids and corners) plus the skin just below it, where a lens also sits;
/// image-left then image-right.
const EYES: [[usize; 7]; 2] = [
    [159, 145, 33, 133, 230, 231, 229],
    [386, 374, 362, 263, 450, 451, 449],
];

/// Tap spacing around each vertex, as a fraction of the face width.
const STEP_OF_FACE: f32 = 0.02;
/// Added to every channel before normalising: near-black pixels have no reliable hue, this pulls
/// them towards grey instead of amplifying sensor noise.
const CHROMA_OFFSET: f32 = 12.0;

/// Summary of one region: median normalised red and green and median log luma.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Patch {
    /// (R + k) / (R + G + B + 3k).
    pub r: f32,
    /// (G + k) / (R + G + B + 3k).
    pub g: f32,
    /// ln(1 + luma).
    pub log_y: f32,
}

/// Region summaries of one face.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Regions {
    /// The skin reference.
    pub forehead: Patch,
    /// Nose tip.
    pub nose: Patch,
    /// Philtrum.
    pub philtrum: Patch,
    /// Chin.
    pub chin: Patch,
    /// Lower cheeks, image-left then image-right.
    pub cheeks: [Patch; 2],
    /// Eyes, image-left then image-right.
    pub eyes: [Patch; 2],
}

/// Occlusion scores of one face: 0 for skin that looks like the forehead, growing with the
/// difference.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Occlusion {
    /// Lower face (mask, scarf, hand).
    pub lower: f32,
    /// Eyes (dark sunglasses).
    pub eyes: f32,
    /// Per-region distances behind `lower`: nose, philtrum, chin, lower cheeks.
    pub parts: [f32; 4],
}

impl Occlusion {
    /// The decision value: the worse of lower face and eyes.
    pub fn score(&self) -> f32 {
        self.lower.max(self.eyes)
    }
}

/// Occlusion scores of the face `mesh` found in `frame`, or `None` when the face is too small
/// or a region falls outside the frame.
pub fn measure(frame: &Frame, mesh: &Mesh) -> Option<Occlusion> {
    let r = regions(frame, mesh)?;
    Some(score(&r))
}

/// Region summaries, or `None` when the face is too small or a region is outside the frame.
pub fn regions(frame: &Frame, mesh: &Mesh) -> Option<Regions> {
    let p = &mesh.points;
    if p.len() != MESH_POINTS {
        return None;
    }
    let [sl, sr] = crate::mesh::index::FACE_SIDES.map(|i| p[i]);
    let width = (sr[0] - sl[0]).hypot(sr[1] - sl[1]);
    if !(width.is_finite() && width >= MIN_FACE_PX) {
        return None;
    }
    let step = width * STEP_OF_FACE;
    let (w, h) = (frame.width() as f32, frame.height() as f32);
    let patch = |anchors: &[usize]| -> Option<Patch> {
        let mut rs = Vec::with_capacity(anchors.len() * 9);
        let mut gs = Vec::with_capacity(anchors.len() * 9);
        let mut ys = Vec::with_capacity(anchors.len() * 9);
        for &i in anchors {
            let [x, y, _] = p[i];
            for dy in [-1.0, 0.0, 1.0] {
                for dx in [-1.0, 0.0, 1.0] {
                    let (tx, ty) = (x + dx * step, y + dy * step);
                    let half = step / 2.0;
                    if !(tx - half >= 0.0 && ty - half >= 0.0 && tx + half < w && ty + half < h) {
                        continue;
                    }
                    let [cr, cg, cb] = frame.sample_area(tx, ty, step);
                    let sum = cr + cg + cb + 3.0 * CHROMA_OFFSET;
                    rs.push((cr + CHROMA_OFFSET) / sum);
                    gs.push((cg + CHROMA_OFFSET) / sum);
                    ys.push(luma([cr, cg, cb]).ln_1p());
                }
            }
        }
        // A face cut by the frame edge keeps its regions while most of each is visible.
        if rs.len() * 2 < anchors.len() * 9 {
            return None;
        }
        Some(Patch {
            r: median(&mut rs),
            g: median(&mut gs),
            log_y: median(&mut ys),
        })
    };
    Some(Regions {
        forehead: patch(&FOREHEAD)?,
        nose: patch(&NOSE)?,
        philtrum: patch(&PHILTRUM)?,
        chin: patch(&CHIN)?,
        cheeks: [patch(&CHEEKS[0])?, patch(&CHEEKS[1])?],
        eyes: [patch(&EYES[0])?, patch(&EYES[1])?],
    })
}

/// Hue difference (degrees round the grey point) that counts as one unit. Bona fide regions
/// stay within 36° of the forehead (p95 14°, stubble and shadow included); blue, black and white
/// fabric sits 40–180° away.
const HUE_UNIT_DEG: f32 = 40.0;
/// Loss of saturation relative to the forehead that counts as one unit. Shading makes skin
/// *more* saturated, so only losses count; grey fabric (black, white) loses 0.8–0.98.
const DESAT_UNIT: f32 = 0.9;
/// Saturation (distance from grey in normalised rg) below which hue and saturation loss are
/// noise and are faded out: near-greyscale photos, grey fabric.
const SAT_RELIABLE: f32 = 0.03;
/// Darkening (ln luma) that shading alone produces: bona fide lower-face regions and eye
/// regions reach −0.9 (shadow under the nose, deep-set eyes); black fabric and dark lenses are
/// −1.3 to −2.0.
const DARK_FREE: f32 = 1.0;
/// Brightening (ln luma) a bare lower face or eye region reaches (nose-tip highlights: +0.1);
/// a white mask is +0.1 to +0.65.
const BRIGHT_FREE: f32 = 0.3;
/// Luma difference beyond the free range that counts as one unit.
const LUMA_UNIT: f32 = 0.5;

/// Saturation and hue angle of a patch round the grey point (1/3, 1/3).
fn polar(p: &Patch) -> (f32, f32) {
    let (x, y) = (p.r - 1.0 / 3.0, p.g - 1.0 / 3.0);
    (x.hypot(y), y.atan2(x))
}

/// How unlike the reference skin `f` the region `t` is: the Euclidean combination of hue
/// change, saturation loss, darkening and brightening, each in its own unit.
fn distance(t: &Patch, f: &Patch) -> f32 {
    let (st, ht) = polar(t);
    let (sf, hf) = polar(f);
    let dh =
        (ht - hf + std::f32::consts::PI).rem_euclid(std::f32::consts::TAU) - std::f32::consts::PI;
    let hue = dh.abs().to_degrees() / HUE_UNIT_DEG * (st.min(sf) / SAT_RELIABLE).min(1.0);
    let desat = if sf > 0.0 {
        (1.0 - st / sf).max(0.0)
    } else {
        0.0
    } / DESAT_UNIT
        * (sf / SAT_RELIABLE).min(1.0);
    let dl = t.log_y - f.log_y;
    let dark = (-dl - DARK_FREE).max(0.0) / LUMA_UNIT;
    let bright = (dl - BRIGHT_FREE).max(0.0) / LUMA_UNIT;
    (hue * hue + desat * desat + dark * dark + bright * bright).sqrt()
}

/// Scores from region summaries.
///
/// The lower-face score is the second-worst of nose, philtrum, chin and lower cheeks (the
/// cheek nearer the camera): any lower-face occluder covers at least two of them, while a single
/// odd region on a bare face (stubble on the philtrum, a cheek in deep shadow) is ignored. The
/// eye score is the eye nearer to skin, so one shadowed eye socket does not count.
pub fn score(r: &Regions) -> Occlusion {
    let f = &r.forehead;
    let d = |t: &Patch| distance(t, f);
    let parts = [
        d(&r.nose),
        d(&r.philtrum),
        d(&r.chin),
        d(&r.cheeks[0]).min(d(&r.cheeks[1])),
    ];
    let mut sorted = parts;
    sorted.sort_by(f32::total_cmp);
    Occlusion {
        lower: sorted[2],
        eyes: d(&r.eyes[0]).min(d(&r.eyes[1])),
        parts,
    }
}

fn median(v: &mut [f32]) -> f32 {
    v.sort_by(f32::total_cmp);
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::index;

    const SKIN: [u8; 3] = [200, 150, 120];

    /// A frontal face 100 px wide in a 200×200 frame: only the vertices the cue reads are placed.
    fn mesh() -> Mesh {
        let mut p = vec![[100.0f32, 100.0, 0.0]; MESH_POINTS];
        let mut set = |ids: &[usize], x: f32, y: f32| {
            for (k, &i) in ids.iter().enumerate() {
                p[i] = [x + k as f32 * 3.0, y, 0.0];
            }
        };
        set(&[index::FACE_SIDES[0]], 50.0, 90.0);
        set(&[index::FACE_SIDES[1]], 150.0, 90.0);
        set(&FOREHEAD, 92.0, 45.0);
        set(&EYES[0], 66.0, 72.0);
        set(&EYES[1], 116.0, 72.0);
        set(&NOSE, 97.0, 100.0);
        set(&PHILTRUM, 97.0, 116.0);
        set(&CHIN, 95.0, 150.0);
        set(&CHEEKS[0], 66.0, 128.0);
        set(&CHEEKS[1], 128.0, 128.0);
        Mesh {
            points: p,
            presence: 1.0,
        }
    }

    /// Skin everywhere, darker towards the bottom by `shade` (1 = none), then `paint` applied.
    fn frame(shade: f32, paint: impl Fn(usize, usize) -> Option<[u8; 3]>) -> Frame {
        let mut rgb = Vec::with_capacity(200 * 200 * 3);
        for y in 0..200 {
            for x in 0..200 {
                let k = 1.0 - (1.0 - shade) * y as f32 / 200.0;
                let px = paint(x, y).unwrap_or(SKIN.map(|c| (c as f32 * k) as u8));
                rgb.extend_from_slice(&px);
            }
        }
        Frame::from_rgb(200, 200, rgb).unwrap()
    }

    fn lower_face(x: usize, y: usize) -> bool {
        (55..=150).contains(&x) && (92..=165).contains(&y)
    }

    #[test]
    fn bare_skin_scores_low_even_with_strong_shading() {
        for shade in [1.0, 0.5] {
            let o = measure(&frame(shade, |_, _| None), &mesh()).unwrap();
            assert!(o.score() < OCCLUSION_MAX / 2.0, "shade {shade}: {o:?}");
        }
    }

    #[test]
    fn masks_over_the_lower_face_score_high() {
        let bare = measure(&frame(1.0, |_, _| None), &mesh()).unwrap();
        for mask in [[150, 190, 215], [30, 30, 34], [236, 236, 232]] {
            let f = frame(1.0, |x, y| lower_face(x, y).then_some(mask));
            let o = measure(&f, &mesh()).unwrap();
            assert!(
                o.lower > OCCLUSION_MAX && o.lower > bare.lower,
                "{mask:?}: {o:?}"
            );
            assert!(o.eyes < OCCLUSION_MAX, "{mask:?}: {o:?}");
        }
    }

    #[test]
    fn dark_lenses_over_both_eyes_score_high() {
        let f = frame(1.0, |x, y| {
            ((58..=140).contains(&x) && (62..=82).contains(&y)).then_some([25, 25, 30])
        });
        let o = measure(&f, &mesh()).unwrap();
        assert!(o.eyes > OCCLUSION_MAX && o.lower < OCCLUSION_MAX, "{o:?}");
        assert_eq!(o.score(), o.eyes);
    }

    #[test]
    fn one_odd_region_alone_is_not_an_occlusion() {
        // A dark grey patch on the philtrum only: the second-worst region decides.
        let f = frame(1.0, |x, y| {
            ((88..=112).contains(&x) && (110..=122).contains(&y)).then_some([40, 40, 44])
        });
        let o = measure(&f, &mesh()).unwrap();
        assert!(
            o.parts[1] > OCCLUSION_MAX && o.lower < OCCLUSION_MAX,
            "{o:?}"
        );
    }

    #[test]
    fn small_or_cut_off_faces_are_not_measured() {
        let mut small = mesh();
        small.points[index::FACE_SIDES[1]][0] = 90.0;
        assert!(measure(&frame(1.0, |_, _| None), &small).is_none());
        let mut cut = mesh();
        for i in CHIN {
            cut.points[i][1] = 230.0;
        }
        assert!(measure(&frame(1.0, |_, _| None), &cut).is_none());
        let mut short = mesh();
        short.points.truncate(10);
        assert!(measure(&frame(1.0, |_, _| None), &short).is_none());
    }

    #[test]
    fn measuring_is_deterministic() {
        let f = frame(0.8, |x, y| lower_face(x, y).then_some([150, 190, 215]));
        assert_eq!(measure(&f, &mesh()), measure(&f, &mesh()));
    }
}
