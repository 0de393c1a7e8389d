//! `fio-eval recognition`: how often a login with a hard face (expression, occlusion, pose, a
//! small face, another age) is accepted while strangers stay out, on the validation/test split
//! of `fixtures/recognition.csv`.
//!
//! Protocol, as the widget and the edge do it: an identity's enroll rows are analysed like
//! enrollment frames and fused into its template (fio-core's mean, the shipped fusion); every
//! probe row is one login attempt compared with every enrolled template. A pair is genuine when
//! both are the same person, else impostor. A probe with no usable face is a genuine pair
//! refused. Embedding candidates and fusions are measured side by side, each at the shipped
//! threshold and at zero false accepts (just above its split's worst impostor); choices are
//! made on the validation split, the test split is only reported.

use std::collections::BTreeMap;
use std::path::Path;

use fio_core::matching::MATCH_THRESHOLD;
use fio_core::template::EMBEDDING_DIM;
use fio_core::Embedding;
use fio_vision::align::align_arcface;
use fio_vision::attributes::attribute_crop;
use fio_vision::detect::{confident_faces, Detection};
use fio_vision::embed::cosine;
use fio_vision::pipeline::{FaceAnalysis, WEBCAM_DETECTOR_SIZE};
use fio_vision::{occlusion, Frame, Mesh, ModelFiles, Pipeline, StageTimes};
use serde::Serialize;

use fio_cli::CliError;

mod external;
pub use external::{crops, external};

/// Role of a row: part of an enrollment, or one login attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Enroll,
    Probe,
}

/// Which split a probe belongs to (enroll rows serve both).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Split {
    Validation,
    Test,
}

const SPLITS: [Split; 2] = [Split::Validation, Split::Test];

impl Split {
    fn name(self) -> &'static str {
        match self {
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }
}

/// Conditions a probe may be labelled with, in report order.
pub(crate) const CONDITIONS: [&str; 6] =
    ["neutral", "expression", "occlusion", "pose", "small", "age"];

/// One row of the CSV.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    file: String,
    identity: String,
    role: Role,
    condition: &'static str,
    /// `None` for enroll rows.
    split: Option<Split>,
    /// Integer factor the image is shrunk by before analysis (1: as is).
    shrink: usize,
}

/// Parses `file,identity,role,condition,split[,shrink]` rows (`#` comments, one header).
pub(crate) fn read_rows(csv: &Path) -> Result<Vec<Row>, CliError> {
    let text =
        std::fs::read_to_string(csv).map_err(|e| CliError(format!("{}: {e}", csv.display())))?;
    let mut rows = Vec::new();
    let mut header_seen = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !header_seen && line.starts_with("file,identity,role") {
            header_seen = true;
            continue;
        }
        let bad = |why: &str| CliError(format!("{}:{}: {why}: {line:?}", csv.display(), n + 1));
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if !(5..=6).contains(&f.len()) || f[..5].iter().any(|x| x.is_empty()) {
            return Err(bad("expected file,identity,role,condition,split[,shrink]"));
        }
        let role = match f[2] {
            "enroll" => Role::Enroll,
            "probe" => Role::Probe,
            _ => return Err(bad("role must be enroll or probe")),
        };
        let condition = CONDITIONS.iter().find(|c| **c == f[3]).ok_or_else(|| {
            bad(&format!(
                "condition must be one of {}",
                CONDITIONS.join(", ")
            ))
        })?;
        let split = match (role, f[4]) {
            (Role::Enroll, "both") => None,
            (Role::Probe, "validation") => Some(Split::Validation),
            (Role::Probe, "test") => Some(Split::Test),
            _ => {
                return Err(bad(
                    "split must be both (enroll) or validation/test (probe)",
                ))
            }
        };
        let shrink = match f.get(5) {
            None => 1,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|k| (1..=16).contains(k))
                .ok_or_else(|| bad("shrink must be an integer 1..16"))?,
        };
        rows.push(Row {
            file: f[0].to_string(),
            identity: f[1].to_string(),
            role,
            condition,
            split,
            shrink,
        });
    }
    if !rows.iter().any(|r| r.role == Role::Enroll) || !rows.iter().any(|r| r.role == Role::Probe) {
        return Err(CliError(format!(
            "{}: needs enroll and probe rows",
            csv.display()
        )));
    }
    Ok(rows)
}

/// Embedding candidates measured on every image.
pub(crate) const CANDIDATES: [&str; 4] = ["shipped", "mirror", "mesh-points", "faceres"];

/// How an identity's enrollment frames become what a probe is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Fusion {
    /// One template, the mean of the frames (what the edge stores today).
    Mean,
    /// Every frame kept; a probe's score is its best match among them.
    MaxOfFrames,
}

/// What one image gave: an embedding per candidate and whether the widget's occlusion cue calls
/// the face obscured, or why it gave nothing.
struct Analysed {
    embeddings: Option<[Vec<f32>; 4]>,
    obscured: bool,
    failure: Option<String>,
}

/// The first confident face of a frame as every candidate reads it: the detection, the
/// pipeline's analysis (its ArcFace crop and embedding) and the face mesh.
struct Face {
    detection: Detection,
    analysis: FaceAnalysis,
    mesh: Mesh,
}

fn first_face(pipeline: &Pipeline, frame: &Frame) -> Result<Option<Face>, CliError> {
    let Some(d) = confident_faces(pipeline.detect(frame)?).into_iter().next() else {
        return Ok(None);
    };
    let fa = pipeline.analyze_detection(frame, d.clone(), &mut StageTimes::default(), &|| 0.0)?;
    let mesh = Mesh {
        points: fa.mesh_points.clone(),
        presence: fa.mesh.presence,
    };
    Ok(Some(Face {
        detection: d,
        analysis: fa,
        mesh,
    }))
}

fn analyse(pipeline: &Pipeline, frame: &Frame) -> Result<Analysed, CliError> {
    let Some(face) = first_face(pipeline, frame)? else {
        return Ok(Analysed {
            embeddings: None,
            obscured: false,
            failure: Some("no face".into()),
        });
    };
    let embedder = pipeline.embedder()?;
    let mirror = embedder.embed_mirror_averaged(&face.analysis.aligned)?;
    let obscured = fio_core::is_obscured(occlusion::measure(frame, &face.mesh).map(|o| o.score()));
    let mesh_points = match align_arcface(frame, &face.mesh.five_points()) {
        Some(crop) => embedder.embed(&crop)?,
        None => face.analysis.embedding.clone(),
    };
    let faceres = pipeline
        .attributes()?
        .descriptor(&attribute_crop(frame, &face.detection))?;
    Ok(Analysed {
        embeddings: Some([face.analysis.embedding, mirror, mesh_points, faceres]),
        obscured,
        failure: None,
    })
}

/// Similarity as the edge computes it: 192-D embeddings through fio-core's int8 templates, other
/// candidates by float cosine.
fn similarity(a: &[f32], b: &[f32]) -> f32 {
    if a.len() == EMBEDDING_DIM && b.len() == EMBEDDING_DIM {
        match (Embedding::new(a.to_vec()), Embedding::new(b.to_vec())) {
            (Ok(a), Ok(b)) => a.to_template().similarity(&b.to_template()),
            _ => f32::NAN,
        }
    } else {
        cosine(a, b)
    }
}

/// The fused enrollment of one identity for one candidate.
fn enroll(frames: &[&Vec<f32>], fusion: Fusion) -> Vec<Vec<f32>> {
    match fusion {
        Fusion::MaxOfFrames => frames.iter().map(|v| v.to_vec()).collect(),
        Fusion::Mean if frames[0].len() == EMBEDDING_DIM => {
            let e: Vec<Embedding> = frames
                .iter()
                .filter_map(|v| Embedding::new(v.to_vec()).ok())
                .collect();
            // The mean embedding; `similarity` quantises it to a template, as the edge stores it.
            match Embedding::mean(&e) {
                Ok(m) => vec![m.as_slice().to_vec()],
                Err(_) => Vec::new(),
            }
        }
        Fusion::Mean => {
            let mut sum = vec![0.0f32; frames[0].len()];
            for v in frames {
                for (s, x) in sum.iter_mut().zip(v.iter()) {
                    *s += x;
                }
            }
            fio_vision::embed::l2_normalised(sum).into_iter().collect()
        }
    }
}

/// One compared pair.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Pair {
    probe: String,
    enrolled: String,
    genuine: bool,
    condition: &'static str,
    split: Split,
    /// `None`: the probe had no usable face (a genuine pair refused).
    score: Option<f32>,
    /// The occlusion cue calls the probe's face obscured.
    obscured: bool,
}

/// Genuine and impostor figures of one condition (or all) in one split at one threshold.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ConditionFigures {
    condition: String,
    genuine_pairs: usize,
    no_face: usize,
    genuine_accepted: usize,
    impostor_pairs: usize,
    false_accepts: usize,
    max_impostor: f32,
    min_genuine: f32,
    median_genuine: f32,
    /// Genuine pairs scoring above every impostor pair of the split (all conditions).
    tar_at_far0: f32,
    /// Genuine pairs whose probe the occlusion cue calls obscured: a widget that asks the user to
    /// uncover the face instead of sending such a frame would not make these attempts.
    genuine_obscured: usize,
    /// Of the genuine pairs not obscured, how many are accepted.
    unobscured_accepted: usize,
    /// Impostor pairs whose probe is obscured.
    impostor_obscured: usize,
}

fn figures(
    pairs: &[&Pair],
    condition: &str,
    threshold: f32,
    split_max_imp: f32,
) -> ConditionFigures {
    let of = |p: &&&Pair| condition == "all" || p.condition == condition;
    let gen: Vec<&&Pair> = pairs.iter().filter(|p| p.genuine).filter(of).collect();
    let imp: Vec<f32> = pairs
        .iter()
        .filter(|p| !p.genuine)
        .filter(of)
        .filter_map(|p| p.score)
        .collect();
    let mut gs: Vec<f32> = gen.iter().filter_map(|p| p.score).collect();
    gs.sort_by(f32::total_cmp);
    ConditionFigures {
        condition: condition.to_string(),
        genuine_pairs: gen.len(),
        no_face: gen.iter().filter(|p| p.score.is_none()).count(),
        genuine_accepted: gs.iter().filter(|s| **s >= threshold).count(),
        impostor_pairs: imp.len(),
        false_accepts: imp.iter().filter(|s| **s >= threshold).count(),
        max_impostor: imp.iter().copied().fold(f32::NAN, f32::max),
        min_genuine: gs.first().copied().unwrap_or(f32::NAN),
        median_genuine: gs.get(gs.len() / 2).copied().unwrap_or(f32::NAN),
        tar_at_far0: ratio(gs.iter().filter(|s| **s > split_max_imp).count(), gen.len()),
        genuine_obscured: gen.iter().filter(|p| p.obscured).count(),
        unobscured_accepted: gen
            .iter()
            .filter(|p| !p.obscured && p.score.is_some_and(|s| s >= threshold))
            .count(),
        impostor_obscured: pairs
            .iter()
            .filter(|p| !p.genuine && p.obscured)
            .filter(of)
            .count(),
    }
}

fn ratio(a: usize, b: usize) -> f32 {
    if b == 0 {
        f32::NAN
    } else {
        a as f32 / b as f32
    }
}

fn max_impostor(pairs: &[&Pair]) -> f32 {
    pairs
        .iter()
        .filter(|p| !p.genuine)
        .filter_map(|p| p.score)
        .fold(f32::NAN, f32::max)
}

/// One candidate × fusion at the shipped threshold: per split, per condition and overall.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct CandidateRow {
    candidate: String,
    fusion: Fusion,
    splits: BTreeMap<Split, Vec<ConditionFigures>>,
}

impl CandidateRow {
    fn figures(&self, split: Split, condition: &str) -> Option<&ConditionFigures> {
        self.splits
            .get(&split)?
            .iter()
            .find(|f| f.condition == condition)
    }
}

/// Everything `fio-eval recognition` reports.
#[derive(Serialize)]
pub(crate) struct Report {
    images: usize,
    identities_enrolled: usize,
    strangers: usize,
    no_face: Vec<String>,
    shipped_threshold: f32,
    /// Every candidate and fusion; the first is what ships.
    candidates: Vec<CandidateRow>,
    pairs: Vec<Pair>,
}

/// A row's image as the pipeline sees it (shrunk when the row says so).
fn load_frame(csv: &Path, r: &Row) -> Result<Frame, CliError> {
    let base = csv.parent().unwrap_or(Path::new("."));
    let frame = fio_cli::image_io::read_frame(&base.join(&r.file))?;
    if r.shrink <= 1 {
        return Ok(frame);
    }
    let rect = [0, 0, frame.width(), frame.height()];
    frame
        .shrink_region(r.shrink, rect)
        .map(|(f, _)| f)
        .ok_or_else(|| CliError(format!("{}: too small to shrink", r.file)))
}

/// Analyses every row and builds the report.
pub(crate) fn evaluate(models: &Path, csv: &Path) -> Result<Report, CliError> {
    let rows = read_rows(csv)?;
    let files = ModelFiles::from_dir(models)?;
    // The widget's detector input size: what a login frame goes through.
    let pipeline = Pipeline::load(&files, WEBCAM_DETECTOR_SIZE)?;
    let mut analysed = Vec::with_capacity(rows.len());
    for r in &rows {
        let frame = load_frame(csv, r)?;
        let a = analyse(&pipeline, &frame)?;
        if r.role == Role::Enroll && a.embeddings.is_none() {
            return Err(CliError(format!(
                "{}: an enrollment image without a usable face",
                r.file
            )));
        }
        analysed.push(a);
    }
    let enrolled = enrolled_identities(&rows);
    let mut strangers: Vec<&str> = rows
        .iter()
        .filter(|r| !enrolled.contains(&r.identity.as_str()))
        .map(|r| r.identity.as_str())
        .collect();
    strangers.sort();
    strangers.dedup();

    let per_candidate: Vec<(String, Vec<Option<Vec<f32>>>)> = CANDIDATES
        .iter()
        .enumerate()
        .map(|(ci, name)| {
            let embeddings = analysed
                .iter()
                .map(|a| a.embeddings.as_ref().map(|e| e[ci].clone()))
                .collect();
            (name.to_string(), embeddings)
        })
        .collect();
    let obscured: Vec<bool> = analysed.iter().map(|a| a.obscured).collect();
    let (candidates, shipped_pairs) = score_candidates(&rows, &per_candidate, &obscured);
    let no_face = rows
        .iter()
        .zip(&analysed)
        .filter_map(|(r, a)| a.failure.as_ref().map(|f| format!("{}: {f}", r.file)))
        .collect();
    Ok(Report {
        images: rows.len(),
        identities_enrolled: enrolled.len(),
        strangers: strangers.len(),
        no_face,
        shipped_threshold: MATCH_THRESHOLD,
        candidates,
        pairs: shipped_pairs,
    })
}

/// The identities that have enroll rows, sorted.
fn enrolled_identities(rows: &[Row]) -> Vec<&str> {
    let mut ids: Vec<&str> = rows
        .iter()
        .filter(|r| r.role == Role::Enroll)
        .map(|r| r.identity.as_str())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Scores each candidate's per-row embeddings (`None`: no usable face) with every fusion:
/// the candidates table, and the pairs of the first candidate's mean fusion (what ships).
pub(crate) fn score_candidates(
    rows: &[Row],
    candidates: &[(String, Vec<Option<Vec<f32>>>)],
    obscured: &[bool],
) -> (Vec<CandidateRow>, Vec<Pair>) {
    let enrolled = enrolled_identities(rows);
    let mut table = Vec::new();
    let mut first_pairs = Vec::new();
    for (ci, (candidate, embeddings)) in candidates.iter().enumerate() {
        for fusion in [Fusion::Mean, Fusion::MaxOfFrames] {
            let galleries: Vec<(&str, Vec<Vec<f32>>)> = enrolled
                .iter()
                .map(|id| {
                    let frames: Vec<&Vec<f32>> = rows
                        .iter()
                        .zip(embeddings)
                        .filter(|(r, _)| r.role == Role::Enroll && r.identity == *id)
                        .filter_map(|(_, e)| e.as_ref())
                        .collect();
                    (*id, enroll(&frames, fusion))
                })
                .collect();
            let mut pairs = Vec::new();
            for ((r, e), obscured) in rows.iter().zip(embeddings).zip(obscured) {
                let Some(split) = r.split else { continue };
                for (id, gallery) in &galleries {
                    let genuine = r.identity == *id;
                    let score = e.as_ref().map(|e| {
                        gallery
                            .iter()
                            .map(|t| similarity(e, t))
                            .fold(f32::NAN, f32::max)
                    });
                    if score.is_none() && !genuine {
                        continue;
                    }
                    pairs.push(Pair {
                        probe: r.file.clone(),
                        enrolled: id.to_string(),
                        genuine,
                        condition: r.condition,
                        split,
                        score,
                        obscured: *obscured,
                    });
                }
            }
            let mut splits = BTreeMap::new();
            for split in SPLITS {
                let ps: Vec<&Pair> = pairs.iter().filter(|p| p.split == split).collect();
                let max = max_impostor(&ps);
                let mut out: Vec<ConditionFigures> = CONDITIONS
                    .iter()
                    .map(|c| figures(&ps, c, MATCH_THRESHOLD, max))
                    .filter(|f| f.genuine_pairs + f.impostor_pairs > 0)
                    .collect();
                out.push(figures(&ps, "all", MATCH_THRESHOLD, max));
                splits.insert(split, out);
            }
            table.push(CandidateRow {
                candidate: candidate.clone(),
                fusion,
                splits,
            });
            if ci == 0 && fusion == Fusion::Mean {
                first_pairs = pairs;
            }
        }
    }
    (table, first_pairs)
}

/// `fio-eval recognition CSV [SVG_OUT] [--json]`.
pub fn run(models: &Path, csv: &Path, json: bool, svg: Option<&Path>) -> Result<(), CliError> {
    let report = evaluate(models, csv)?;
    if let Some(path) = svg {
        std::fs::write(path, histogram_svg(&report.pairs, Split::Test))
            .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(())
}

fn pct(f: f32) -> String {
    if f.is_nan() {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * f)
    }
}

fn print_report(r: &Report) {
    println!(
        "{} images: {} enrolled identities, {} strangers; {} probe(s) without a usable face",
        r.images,
        r.identities_enrolled,
        r.strangers,
        r.no_face.len()
    );
    for f in &r.no_face {
        println!("  {f}");
    }
    let shipped = &r.candidates[0];
    for (split, rows) in &shipped.splits {
        println!(
            "\nshipped (5-point ArcFace + MobileFaceNet, mean enrollment template) at {:.2}, {} split",
            r.shipped_threshold,
            split.name()
        );
        println!(
            "{:<11} {:>8} {:>7} {:>9} {:>7} {:>9} {:>6} {:>8} {:>8} {:>10} {:>9} {:>10}",
            "condition",
            "genuine",
            "noface",
            "accepted",
            "TAR",
            "impostor",
            "FA",
            "max imp",
            "med gen",
            "TAR@FAR=0",
            "obscured",
            "TAR unobs"
        );
        for f in rows {
            println!(
                "{:<11} {:>8} {:>7} {:>9} {:>7} {:>9} {:>6} {:>8.3} {:>8.3} {:>10} {:>9} {:>10}",
                f.condition,
                f.genuine_pairs,
                f.no_face,
                f.genuine_accepted,
                pct(ratio(f.genuine_accepted, f.genuine_pairs)),
                f.impostor_pairs,
                f.false_accepts,
                f.max_impostor,
                f.median_genuine,
                pct(f.tar_at_far0),
                f.genuine_obscured,
                pct(ratio(
                    f.unobscured_accepted,
                    f.genuine_pairs - f.genuine_obscured
                ))
            );
        }
    }
    print_candidates(&r.candidates);
}

/// The candidates table: TAR@FAR=0 per split and the test split at the shipped threshold.
fn print_candidates(table: &[CandidateRow]) {
    let w = table
        .iter()
        .map(|c| c.candidate.len())
        .max()
        .unwrap_or(0)
        .max(12);
    println!(
        "\ncandidates: TAR@FAR=0 (above the split's worst impostor), and at the shipped {:.2}",
        MATCH_THRESHOLD
    );
    println!(
        "{:<w$} {:<14} {:>9} {:>8} {:>9} {:>8} {:>9} {:>8} {:>10} {:>10}",
        "embedding",
        "fusion",
        "val FAR0",
        "val imp",
        "test FAR0",
        "test imp",
        "test TAR",
        "test FA",
        "val occl",
        "test occl"
    );
    for c in table {
        let fusion = match c.fusion {
            Fusion::Mean => "mean",
            Fusion::MaxOfFrames => "max-of-frames",
        };
        let (Some(v), Some(t)) = (
            c.figures(Split::Validation, "all"),
            c.figures(Split::Test, "all"),
        ) else {
            continue;
        };
        let occl = |split| {
            c.figures(split, "occlusion").map_or("-".into(), |f| {
                format!("{}/{}", f.genuine_accepted, f.genuine_pairs)
            })
        };
        println!(
            "{:<w$} {:<14} {:>9} {:>8.3} {:>9} {:>8.3} {:>9} {:>8} {:>10} {:>10}",
            c.candidate,
            fusion,
            pct(v.tar_at_far0),
            v.max_impostor,
            pct(t.tar_at_far0),
            t.max_impostor,
            pct(ratio(t.genuine_accepted, t.genuine_pairs)),
            format!("{}/{}", t.false_accepts, t.impostor_pairs),
            occl(Split::Validation),
            occl(Split::Test)
        );
    }
}

/// Genuine (stacked by condition) and impostor score histograms of one split, as an SVG picture.
pub(crate) fn histogram_svg(pairs: &[Pair], split: Split) -> String {
    const BINS: usize = 40;
    const LO: f32 = -0.2;
    const HI: f32 = 1.0;
    const COLOURS: [&str; 6] = [
        "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02",
    ];
    let bin = |s: f32| (((s - LO) / (HI - LO) * BINS as f32) as usize).min(BINS - 1);
    let mut imp = [0usize; BINS];
    let mut gen = [[0usize; BINS]; 6];
    for p in pairs.iter().filter(|p| p.split == split) {
        let Some(s) = p.score else { continue };
        if p.genuine {
            let c = CONDITIONS
                .iter()
                .position(|c| *c == p.condition)
                .unwrap_or(0);
            gen[c][bin(s)] += 1;
        } else {
            imp[bin(s)] += 1;
        }
    }
    let (w, h, left, top, plot_h) = (720.0, 450.0, 50.0, 30.0, 150.0);
    let bw = (w - left - 20.0) / BINS as f32;
    let x_of = |s: f32| left + (s - LO) / (HI - LO) * (w - left - 20.0);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    let panel = |out: &mut String,
                 y0: f32,
                 title: &str,
                 stacks: &[[usize; BINS]],
                 colours: &[&str]| {
        let max = (0..BINS)
            .map(|b| stacks.iter().map(|s| s[b]).sum::<usize>())
            .max()
            .unwrap_or(1)
            .max(1) as f32;
        out.push_str(&format!(
            "<text x=\"{left}\" y=\"{}\">{title} (tallest bar {max})</text>\n",
            y0 - 6.0
        ));
        for b in 0..BINS {
            let mut y = y0 + plot_h;
            for (s, colour) in stacks.iter().zip(colours) {
                let hgt = s[b] as f32 / max * plot_h;
                if hgt > 0.0 {
                    y -= hgt;
                    out.push_str(&format!(
                        "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{hgt:.1}\" fill=\"{colour}\"/>\n",
                        left + b as f32 * bw,
                        bw - 1.0
                    ));
                }
            }
        }
        out.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"black\"/>\n",
            y0 + plot_h,
            w - 20.0
        ));
    };
    panel(
        &mut out,
        top,
        &format!("impostor pairs, {} split", split.name()),
        &[imp],
        &["#888888"],
    );
    panel(
        &mut out,
        top + plot_h + 50.0,
        &format!("genuine pairs, {} split, by condition", split.name()),
        &gen,
        &COLOURS,
    );
    let axis_y = top + 2.0 * plot_h + 50.0 + 14.0;
    for t in [-0.2f32, 0.0, 0.2, 0.4, 0.6, 0.8, 1.0] {
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{axis_y}\" text-anchor=\"middle\">{t:.1}</text>\n",
            x_of(t)
        ));
    }
    let tx = x_of(MATCH_THRESHOLD);
    out.push_str(&format!(
        "<line x1=\"{tx:.1}\" y1=\"{top}\" x2=\"{tx:.1}\" y2=\"{:.1}\" stroke=\"red\" stroke-dasharray=\"4 3\"/>\n\
         <text x=\"{:.1}\" y=\"{top}\" fill=\"red\">MATCH_THRESHOLD {MATCH_THRESHOLD}</text>\n",
        top + 2.0 * plot_h + 50.0,
        tx + 4.0
    ));
    for (i, (c, colour)) in CONDITIONS.iter().zip(COLOURS).enumerate() {
        let x = left + i as f32 * 100.0;
        out.push_str(&format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"{}\">{c}</text>\n",
            h - 30.0,
            x + 14.0,
            h - 21.0
        ));
    }
    out.push_str(&format!(
        "<text x=\"{left}\" y=\"{}\">cosine similarity (int8 templates, as the edge scores them)</text>\n</svg>\n",
        h - 5.0
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn rows_parse_with_header_comments_and_shrink() {
        let (_d, p) = write(
            "# c\nfile,identity,role,condition,split\na.png,x,enroll,neutral,both\n\
             b.png,x,probe,occlusion,test,2\n",
        );
        let rows = read_rows(&p).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].condition, "occlusion");
        assert_eq!(rows[1].split, Some(Split::Test));
        assert_eq!(rows[1].shrink, 2);
        assert_eq!(rows[0].split, None);
    }

    #[test]
    fn bad_rows_name_the_line() {
        for bad in [
            "a.png,x,enroll,neutral,test\nb.png,x,probe,neutral,test\n",
            "a.png,x,enroll,neutral,both\nb.png,x,probe,smiling,test\n",
            "a.png,x,enroll,neutral,both\nb.png,x,probe,neutral,test,0\n",
            "a.png,x,enroll,neutral,both\nb.png,x,guest,neutral,test\n",
            "a.png,x,enroll,neutral,both\n",
        ] {
            let (_d, p) = write(bad);
            let e = read_rows(&p).unwrap_err().0;
            assert!(e.contains("r.csv"), "{e}");
        }
    }

    fn pair(genuine: bool, condition: &'static str, score: Option<f32>) -> Pair {
        Pair {
            probe: "p".into(),
            enrolled: "e".into(),
            genuine,
            condition,
            split: Split::Test,
            score,
            obscured: false,
        }
    }

    #[test]
    fn figures_count_refusals_false_accepts_and_far0() {
        let ps = [
            pair(true, "expression", Some(0.7)),
            pair(true, "expression", Some(0.5)),
            pair(true, "occlusion", None),
            pair(false, "neutral", Some(0.45)),
            pair(false, "expression", Some(0.6)),
        ];
        let refs: Vec<&Pair> = ps.iter().collect();
        let all = figures(&refs, "all", 0.55, max_impostor(&refs));
        assert_eq!(
            (all.genuine_pairs, all.no_face, all.genuine_accepted),
            (3, 1, 1)
        );
        assert_eq!((all.impostor_pairs, all.false_accepts), (2, 1));
        assert!((all.tar_at_far0 - 1.0 / 3.0).abs() < 1e-6);
        let occ = figures(&refs, "occlusion", 0.55, 0.6);
        assert_eq!((occ.genuine_pairs, occ.genuine_accepted), (1, 0));
    }

    #[test]
    fn mean_fusion_of_192d_goes_through_templates_and_max_keeps_frames() {
        let mut a = vec![0.0f32; EMBEDDING_DIM];
        a[0] = 1.0;
        let mut b = vec![0.0f32; EMBEDDING_DIM];
        b[1] = 1.0;
        let mean = enroll(&[&a, &b], Fusion::Mean);
        assert_eq!(mean.len(), 1);
        assert!((mean[0][0] - mean[0][1]).abs() < 1e-2);
        assert_eq!(enroll(&[&a, &b], Fusion::MaxOfFrames).len(), 2);
        let s = similarity(&a, &mean[0]);
        assert!((s - std::f32::consts::FRAC_1_SQRT_2).abs() < 0.02, "{s}");
    }

    #[test]
    fn histogram_is_an_svg_with_both_panels() {
        let ps = [
            pair(true, "pose", Some(0.8)),
            pair(false, "neutral", Some(0.1)),
        ];
        let svg = histogram_svg(&ps, Split::Test);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("impostor pairs, test split"));
        assert!(svg.contains("genuine pairs, test split"));
        assert_eq!(svg.matches("fill=\"#888888\"").count(), 1);
    }
}
