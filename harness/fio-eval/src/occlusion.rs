//! `fio-eval occlusion`: the occlusion cue ("ignore obscured faces") on bona fide photos and webcam
//! frames, and on the same images with **synthetic** occluders painted over the face mesh:
//! surgical, black and white masks, dark sunglasses, and a hand over mouth and chin.
//!
//! Every occluded image goes through detection and the mesh again, as a live frame would; the
//! occluder is placed with the bona fide face's mesh.

use std::path::{Path, PathBuf};
use std::time::Instant;

use fio_vision::detect::{Detector, DETECTOR_MODEL};
use fio_vision::mesh::{FaceMesh, MESH_MODEL};
use fio_vision::occlusion::{self, Occlusion, Regions, OCCLUSION_MAX};
use fio_vision::pipeline::{PHOTO_DETECTOR_SIZE, WEBCAM_DETECTOR_SIZE};
use fio_vision::y4m::Y4mReader;
use fio_vision::{Frame, Mesh, ModelFiles};
use serde::Serialize;

use fio_cli::{image_io, CliError};

/// Labelled photos (file names) that show a real occluder: not bona fide for this cue. The
/// Terminator still wears dark sunglasses.
const REAL_OCCLUDERS: [&str; 1] = ["terminator_crop.jpg"];

/// Every `VIDEO_STRIDE`-th video frame is measured (neighbouring frames are near-duplicates).
const VIDEO_STRIDE: usize = 10;
/// Clips measured when none are given, relative to the labels file's folder.
const DEFAULT_CLIPS: [&str; 2] = ["data/video/cap12.y4m", "data/video/cap13.y4m"];

/// A synthetic occluder painted from the mesh.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Condition {
    /// The unmodified image.
    BonaFide,
    /// An unmodified labelled photo that shows a real occluder (see [`REAL_OCCLUDERS`]).
    RealOccluder,
    /// Light-blue pleated surgical mask, nose bridge to under the chin.
    SurgicalMask,
    /// Black cloth mask, same shape.
    BlackMask,
    /// White mask, same shape.
    WhiteMask,
    /// Dark sunglasses: an ellipse over each eye.
    Sunglasses,
    /// A skin-toned hand (not the face's tone) over mouth and chin.
    Hand,
}

const CONDITIONS: [Condition; 7] = [
    Condition::BonaFide,
    Condition::RealOccluder,
    Condition::SurgicalMask,
    Condition::BlackMask,
    Condition::WhiteMask,
    Condition::Sunglasses,
    Condition::Hand,
];

impl Condition {
    fn label(self) -> &'static str {
        match self {
            Condition::BonaFide => "bona fide",
            Condition::RealOccluder => "real dark sunglasses (terminator_crop.jpg)",
            Condition::SurgicalMask => "surgical mask (synthetic)",
            Condition::BlackMask => "black cloth mask (synthetic)",
            Condition::WhiteMask => "white mask (synthetic)",
            Condition::Sunglasses => "dark sunglasses (synthetic)",
            Condition::Hand => "hand over mouth/chin (synthetic)",
        }
    }
}

/// One measured image.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Sample {
    source: String,
    condition: Condition,
    /// The cue; absent when no face was found or the face was too small or cut off.
    #[serde(skip_serializing_if = "Option::is_none")]
    occlusion: Option<Occlusion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    regions: Option<Regions>,
}

/// Statistics of one condition.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    condition: Condition,
    synthetic: bool,
    /// Images with a measured face.
    n: usize,
    /// Images where detection or the cue found no usable face.
    unmeasured: usize,
    min: f32,
    median: f32,
    max: f32,
    /// Share of measured faces scoring above the shipped threshold.
    rejected: f32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    note: &'static str,
    threshold: f32,
    bona_fide_max: f32,
    /// Lowest score of the masks, the sunglasses and the real occluder; the skin-toned hand is
    /// left out (colour cannot see it, its row says how often it is caught anyway).
    occluded_min: f32,
    separated: bool,
    measure_ms_mean: f64,
    rows: Vec<Row>,
    samples: Vec<Sample>,
}

/// Detection and mesh at photo and webcam detector sizes.
struct Engine {
    photo: Detector,
    webcam: Detector,
    mesh: FaceMesh,
}

impl Engine {
    fn load(models: &Path) -> Result<Self, CliError> {
        let files = ModelFiles::from_dir_named(models, &[DETECTOR_MODEL, MESH_MODEL])?;
        Ok(Engine {
            photo: Detector::load(files.get(DETECTOR_MODEL)?, PHOTO_DETECTOR_SIZE)?,
            webcam: Detector::load(files.get(DETECTOR_MODEL)?, WEBCAM_DETECTOR_SIZE)?,
            mesh: FaceMesh::load(files.get(MESH_MODEL)?)?,
        })
    }

    /// The largest confident face's mesh.
    fn mesh(&self, frame: &Frame, webcam: bool) -> Result<Option<Mesh>, CliError> {
        let detector = if webcam { &self.webcam } else { &self.photo };
        match fio_cli::mesh::largest_face(detector, frame)? {
            (_, Some(largest)) => Ok(Some(self.mesh.run(frame, &largest)?)),
            (_, None) => Ok(None),
        }
    }
}

/// Image paths of a `file,identity` CSV, relative to the CSV's folder.
fn read_labels(csv: &Path) -> Result<Vec<PathBuf>, CliError> {
    let base = csv.parent().unwrap_or(Path::new("."));
    Ok(crate::eval::read_labels(csv)?
        .into_iter()
        .map(|(file, _)| base.join(file))
        .collect())
}

/// Measures the bona fide image and every synthetic occluder on it.
struct Measurer {
    engine: Engine,
    samples: Vec<Sample>,
    measure_ns: u128,
    measured: u32,
}

impl Measurer {
    fn one(&mut self, source: &str, frame: &Frame, webcam: bool) -> Result<(), CliError> {
        let bare = if REAL_OCCLUDERS.iter().any(|f| source.ends_with(f)) {
            Condition::RealOccluder
        } else {
            Condition::BonaFide
        };
        let Some(mesh) = self.engine.mesh(frame, webcam)? else {
            // No face on the bare image: nothing to paint on; recorded so the table shows it.
            self.push(source, bare, frame, None);
            return Ok(());
        };
        self.push(source, bare, frame, Some(&mesh));
        for condition in &CONDITIONS[2..] {
            let painted = paint(frame, &mesh, *condition)?;
            let found = self.engine.mesh(&painted, webcam)?;
            self.push(source, *condition, &painted, found.as_ref());
        }
        Ok(())
    }

    fn push(&mut self, source: &str, condition: Condition, frame: &Frame, mesh: Option<&Mesh>) {
        let t = Instant::now();
        let occ = mesh.and_then(|m| occlusion::measure(frame, m));
        self.measure_ns += t.elapsed().as_nanos();
        self.measured += 1;
        let regions = mesh.and_then(|m| occlusion::regions(frame, m));
        self.samples.push(Sample {
            source: source.to_string(),
            condition,
            score: occ.as_ref().map(Occlusion::score),
            occlusion: occ,
            regions,
        });
    }
}

/// `fio-eval occlusion LABELS.csv [VIDEO.y4m...]`: the cue on bona fide and synthetically occluded
/// faces, with per-condition statistics at [`OCCLUSION_MAX`].
pub fn run(models: &Path, labels: &Path, videos: &[String], json: bool) -> Result<(), CliError> {
    let photos = read_labels(labels)?;
    let base = labels.parent().unwrap_or(Path::new("."));
    let clips: Vec<PathBuf> = if videos.is_empty() {
        DEFAULT_CLIPS.iter().map(|c| base.join(c)).collect()
    } else {
        videos.iter().map(PathBuf::from).collect()
    };
    let mut m = Measurer {
        engine: Engine::load(models)?,
        samples: Vec::new(),
        measure_ns: 0,
        measured: 0,
    };
    for photo in &photos {
        let frame = image_io::read_frame(photo)?;
        m.one(&photo.display().to_string(), &frame, false)?;
    }
    for clip in &clips {
        let mut reader = Y4mReader::open(clip)?;
        let mut index = 0;
        while let Some(frame) = reader
            .next_frame()
            .map_err(|e| CliError(format!("{}: {e}", clip.display())))?
        {
            if index % VIDEO_STRIDE == 0 {
                m.one(&format!("{}#{index}", clip.display()), &frame, true)?;
            }
            index += 1;
        }
    }
    let report = summarise(m);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

fn summarise(m: Measurer) -> Report {
    let rows: Vec<Row> = CONDITIONS
        .iter()
        .map(|&c| {
            let mut scores: Vec<f32> = m
                .samples
                .iter()
                .filter(|s| s.condition == c)
                .filter_map(|s| s.score)
                .collect();
            scores.sort_by(f32::total_cmp);
            let total = m.samples.iter().filter(|s| s.condition == c).count();
            let n = scores.len();
            let pick = |q: f32| {
                scores
                    .get(((n.max(1) - 1) as f32 * q).round() as usize)
                    .copied()
                    .unwrap_or(f32::NAN)
            };
            Row {
                condition: c,
                synthetic: !matches!(c, Condition::BonaFide | Condition::RealOccluder),
                n,
                unmeasured: total - n,
                min: pick(0.0),
                median: pick(0.5),
                max: pick(1.0),
                rejected: scores.iter().filter(|s| **s > OCCLUSION_MAX).count() as f32
                    / n.max(1) as f32,
            }
        })
        .collect();
    let bona_fide_max = rows[0].max;
    let occluded_min = rows[1..]
        .iter()
        .filter(|r| r.n > 0 && r.condition != Condition::Hand)
        .map(|r| r.min)
        .fold(f32::INFINITY, f32::min);
    Report {
        note: "occluded conditions are synthetic: occluders painted over the bona fide mesh, \
               then detection and mesh run again on the painted image",
        threshold: OCCLUSION_MAX,
        bona_fide_max,
        occluded_min,
        separated: bona_fide_max < occluded_min,
        measure_ms_mean: m.measure_ns as f64 / 1e6 / f64::from(m.measured.max(1)),
        rows,
        samples: m.samples,
    }
}

fn print_table(r: &Report) {
    println!("Occlusion cue (score = max(lower, eyes)); occluded rows are SYNTHETIC occluders");
    println!("painted over the mesh, re-detected and re-meshed.\n");
    println!(
        "| condition | n | unmeasured | min | median | max | > {:.2} |",
        r.threshold
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in &r.rows {
        if row.n + row.unmeasured == 0 {
            continue;
        }
        println!(
            "| {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.0}% |",
            row.condition.label(),
            row.n,
            row.unmeasured,
            row.min,
            row.median,
            row.max,
            row.rejected * 100.0
        );
    }
    println!(
        "\nbona fide max {:.2}, occluded min {:.2} (masks, sunglasses, the real sunglasses; \
         not the hand): {}",
        r.bona_fide_max,
        r.occluded_min,
        if r.separated {
            format!(
                "separable by any threshold in ({:.2}, {:.2})",
                r.bona_fide_max, r.occluded_min
            )
        } else {
            "overlap".to_string()
        }
    );
    println!(
        "shipped threshold OCCLUSION_MAX = {:.2}: bona fide rejected {:.1}%, occluded rejected {}",
        r.threshold,
        r.rows[0].rejected * 100.0,
        r.rows[1..]
            .iter()
            .filter(|row| row.n > 0)
            .map(|row| format!("{:?} {:.1}%", row.condition, row.rejected * 100.0))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("cue cost: {:.3} ms per face (mean)", r.measure_ms_mean);
}

// ---- synthetic occluders ----------------------------------------------------------------

/// Face outline from the left cheek (below the temple) round the chin to the right cheek, then
/// across the lower nose bridge back: the mask's edge.
const MASK_OUTLINE: [usize; 23] = [
    93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323,
    346, 197, 117, 93,
];
/// Lower cheeks round the chin, with the top edge across the philtrum: a hand over mouth and chin.
const HAND_OUTLINE: [usize; 19] = [
    207, 135, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 364, 427, 410, 164, 186, 207,
];

/// `fio-eval occlude CONDITION VIDEO.y4m OUT_DIR`: every frame of the video with the synthetic
/// occluder painted where that frame's face is, as `OUT_DIR/00000.ppm`… (a masked "webcam"
/// for the browser tests; frames without a face are written unchanged). Returns the number of
/// frames written and how many had a face painted.
pub fn occlude_video(
    models: &Path,
    condition: &str,
    video: &Path,
    out: &Path,
) -> Result<(usize, usize), CliError> {
    let condition = CONDITIONS
        .into_iter()
        .filter(|c| !matches!(c, Condition::BonaFide | Condition::RealOccluder))
        .find(|c| serde_json::to_value(c).is_ok_and(|v| v == condition))
        .ok_or_else(|| {
            CliError(format!(
                "unknown occluder {condition:?} (surgicalMask, blackMask, whiteMask, sunglasses, hand)"
            ))
        })?;
    let engine = Engine::load(models)?;
    let mut reader =
        Y4mReader::open(video).map_err(|e| CliError(format!("{}: {e}", video.display())))?;
    std::fs::create_dir_all(out).map_err(|e| CliError(format!("{}: {e}", out.display())))?;
    let (mut n, mut painted) = (0, 0);
    while let Some(frame) = reader
        .next_frame()
        .map_err(|e| CliError(format!("{}: {e}", video.display())))?
    {
        let frame = match engine.mesh(&frame, true)? {
            Some(mesh) => {
                painted += 1;
                paint(&frame, &mesh, condition)?
            }
            None => frame,
        };
        fio_cli::image_io::write_ppm(
            &out.join(format!("{n:05}.ppm")),
            frame.width(),
            frame.height(),
            frame.rgb(),
        )?;
        n += 1;
    }
    Ok((n, painted))
}

/// Paints `condition` on a copy of `frame`, placed with `mesh`.
fn paint(frame: &Frame, mesh: &Mesh, condition: Condition) -> Result<Frame, CliError> {
    let p = &mesh.points;
    let xy = |i: usize| [p[i][0], p[i][1]];
    let face_w = {
        let (a, b) = (xy(234), xy(454));
        (b[0] - a[0]).hypot(b[1] - a[1]).max(1.0)
    };
    let feather = (face_w * 0.015).max(1.5);
    let mut rgb = frame.rgb().to_vec();
    let (w, h) = (frame.width(), frame.height());
    match condition {
        Condition::BonaFide | Condition::RealOccluder => {}
        Condition::SurgicalMask | Condition::BlackMask | Condition::WhiteMask => {
            let poly = expand(&MASK_OUTLINE.map(xy), 1.04);
            let (base, noise) = match condition {
                Condition::SurgicalMask => ([150.0, 190.0, 215.0], 4.0),
                Condition::BlackMask => ([32.0, 32.0, 36.0], 6.0),
                _ => ([236.0, 236.0, 232.0], 4.0),
            };
            let pleat = face_w * 0.09;
            let top = p[197][1];
            let shade = |x: f32, y: f32| {
                // Pleats (horizontal folds) and a side-to-side fall-off: slight shading.
                let fold = 0.94 + 0.06 * ((y - top) / pleat * std::f32::consts::TAU).sin();
                let side = 1.0 - 0.12 * ((x - p[1][0]) / face_w).abs();
                let n = hash_noise(x, y) * noise;
                base.map(|c| c * fold * side + n)
            };
            fill(
                &mut rgb,
                w,
                h,
                &grow(&poly, feather),
                |x, y| polygon_alpha(&poly, x, y, feather),
                shade,
            );
        }
        Condition::Sunglasses => {
            for eye in [[33, 133, 159, 145], [362, 263, 386, 374]] {
                let c = centroid(&eye.map(xy));
                let (a, b) = (xy(eye[0]), xy(eye[1]));
                let span = (b[0] - a[0]).hypot(b[1] - a[1]);
                let angle = (b[1] - a[1]).atan2(b[0] - a[0]);
                let (rx, ry) = (span * 0.95, span * 0.7);
                let shade = |x: f32, y: f32| {
                    // Darker at the bottom, a faint reflection towards the top.
                    let t = ((y - (c[1] - ry)) / (2.0 * ry)).clamp(0.0, 1.0);
                    let v = 48.0 - 30.0 * t + hash_noise(x, y) * 3.0;
                    [v, v, v + 6.0]
                };
                let alpha = |x: f32, y: f32| ellipse_alpha(c, rx, ry, angle, x, y, feather);
                let r = rx.max(ry) + feather;
                let bounds = [[c[0] - r, c[1] - r], [c[0] + r, c[1] + r]];
                fill(&mut rgb, w, h, &bounds, alpha, shade);
            }
        }
        Condition::Hand => {
            let poly = expand(&HAND_OUTLINE.map(xy), 1.03);
            let finger = face_w * 0.13;
            let shade = |x: f32, y: f32| {
                // Fingers lie across the mouth: darker gaps between them, a gradient down.
                let phase = ((y - p[164][1]) / finger).fract();
                let gap = if phase < 0.12 { 0.78 } else { 1.0 };
                let n = hash_noise(x, y) * 4.0;
                [206.0, 150.0, 118.0].map(|c| c * gap + n)
            };
            fill(
                &mut rgb,
                w,
                h,
                &grow(&poly, feather),
                |x, y| polygon_alpha(&poly, x, y, feather),
                shade,
            );
        }
    }
    Ok(Frame::from_rgb(w, h, rgb)?)
}

/// Blends `colour` into `rgb` with coverage `alpha`, over the box around `area`'s points.
fn fill(
    rgb: &mut [u8],
    w: usize,
    h: usize,
    area: &[[f32; 2]],
    alpha: impl Fn(f32, f32) -> f32,
    colour: impl Fn(f32, f32) -> [f32; 3],
) {
    let lo = |v: f32| v.floor().max(0.0) as usize;
    let (x0, y0) = (
        lo(area.iter().map(|q| q[0]).fold(f32::INFINITY, f32::min)),
        lo(area.iter().map(|q| q[1]).fold(f32::INFINITY, f32::min)),
    );
    let (x1, y1) = (
        lo(area.iter().map(|q| q[0]).fold(0.0, f32::max)).min(w.saturating_sub(1)),
        lo(area.iter().map(|q| q[1]).fold(0.0, f32::max)).min(h.saturating_sub(1)),
    );
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (fx, fy) = (x as f32, y as f32);
            let a = alpha(fx, fy);
            if a <= 0.0 {
                continue;
            }
            let c = colour(fx, fy);
            let i = (y * w + x) * 3;
            for k in 0..3 {
                let v = rgb[i + k] as f32 * (1.0 - a) + c[k] * a;
                rgb[i + k] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

fn centroid(p: &[[f32; 2]]) -> [f32; 2] {
    let n = p.len().max(1) as f32;
    [
        p.iter().map(|q| q[0]).sum::<f32>() / n,
        p.iter().map(|q| q[1]).sum::<f32>() / n,
    ]
}

/// The polygon's bounding box grown by `margin`.
fn grow(poly: &[[f32; 2]], margin: f32) -> [[f32; 2]; 2] {
    let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
    for q in poly {
        for k in 0..2 {
            lo[k] = lo[k].min(q[k] - margin);
            hi[k] = hi[k].max(q[k] + margin);
        }
    }
    [lo, hi]
}

/// The polygon scaled by `k` about its centroid.
fn expand(poly: &[[f32; 2]], k: f32) -> Vec<[f32; 2]> {
    let c = centroid(poly);
    poly.iter()
        .map(|q| [c[0] + (q[0] - c[0]) * k, c[1] + (q[1] - c[1]) * k])
        .collect()
}

/// Coverage of a soft-edged closed polygon at (x, y): 1 inside, 0 outside, a linear ramp
/// `feather` wide across the edge.
fn polygon_alpha(poly: &[[f32; 2]], x: f32, y: f32, feather: f32) -> f32 {
    let mut inside = false;
    let mut dist = f32::INFINITY;
    for k in 0..poly.len() {
        let a = poly[k];
        let b = poly[(k + 1) % poly.len()];
        if (a[1] > y) != (b[1] > y) && x < a[0] + (y - a[1]) / (b[1] - a[1]) * (b[0] - a[0]) {
            inside = !inside;
        }
        let (ex, ey) = (b[0] - a[0], b[1] - a[1]);
        let len2 = (ex * ex + ey * ey).max(1e-6);
        let t = (((x - a[0]) * ex + (y - a[1]) * ey) / len2).clamp(0.0, 1.0);
        dist = dist.min((x - a[0] - t * ex).hypot(y - a[1] - t * ey));
    }
    let signed = if inside { dist } else { -dist };
    (signed / feather + 0.5).clamp(0.0, 1.0)
}

/// Coverage of a soft-edged rotated ellipse.
fn ellipse_alpha(c: [f32; 2], rx: f32, ry: f32, angle: f32, x: f32, y: f32, feather: f32) -> f32 {
    let (s, co) = angle.sin_cos();
    let (dx, dy) = (x - c[0], y - c[1]);
    let (u, v) = (dx * co + dy * s, -dx * s + dy * co);
    let rho = ((u / rx).powi(2) + (v / ry).powi(2)).sqrt();
    let signed = (1.0 - rho) * rx.min(ry);
    (signed / feather + 0.5).clamp(0.0, 1.0)
}

/// Deterministic pixel noise in [-1, 1]: fabric and sensor grain, so occluders are not flat.
fn hash_noise(x: f32, y: f32) -> f32 {
    let mut v = (x as u32).wrapping_mul(0x9E37_79B1) ^ (y as u32).wrapping_mul(0x85EB_CA77);
    v ^= v >> 15;
    v = v.wrapping_mul(0x2C1B_3C6D);
    v ^= v >> 12;
    (v & 0xFFFF) as f32 / 32767.5 - 1.0
}
