//! `fio`: analyse, compare and evaluate faces with the OpenFIO pipeline, natively.

mod eval;
mod evidence;
mod image_io;
mod liveness_eval;
mod mesh;
mod occlusion;
mod segments;
mod y4m;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use fio_vision::pipeline::PHOTO_DETECTOR_SIZE;
use fio_vision::{FaceAnalysis, ModelFiles, Pipeline};
use serde::Serialize;

const USAGE: &str = "usage:
  fio analyze IMAGE... [--json]        every face: box, landmarks, liveness, age/gender, quality
  fio compare IMAGE_A IMAGE_B [--json] similarity of the largest faces and the shipped verdict
  fio eval LABELS.csv [--json]         genuine/impostor statistics for a CSV of file,identity
  fio template IMAGE... [--json]       the largest face's compact template (base64), as the
                                       browser sends it to the edge, with age/gender/liveness
  fio mesh VIDEO.y4m|IMAGE... [--json] per-frame face-mesh cues of the largest face: eye aspect
                                       ratios, yaw/pitch/roll, mouth opening, face width
                                       (--json: one JSON object per line; --points adds
                                       the 468 points)
  fio mesh VIDEO.y4m --segments [--json]
                                       time segments with blinks, head turns, looking up,
                                       coming closer and neutral stretches
  fio occlusion LABELS.csv [VIDEO.y4m...] [--json]
                                       occlusion cue (ignoreObscuredFaces) on the labelled
                                       photos and every 10th frame of the clips (default
                                       data/video/cap12.y4m, cap13.y4m next to the CSV), bare
                                       and with synthetic masks, sunglasses and a hand
  fio occlude CONDITION VIDEO.y4m OUT_DIR
                                       the video's frames as OUT_DIR/NNNNN.ppm with a
                                       synthetic occluder (surgicalMask, blackMask,
                                       whiteMask, sunglasses, hand) painted on the face
  fio liveness-eval [DATA_DIR] [SEGMENTS.json] [--json]
                                       APCER per attack species and BPCER of the liveness
                                       decision on the real clips and the attack videos,
                                       with and without edge re-verification of crops
  fio evidence-crops VIDEO.y4m SEGMENTS.json OUT_DIR [--json]
                                       the widget's edge re-verification evidence for one
                                       bona fide clip: OUT_DIR/rest.rgb and <action>.rgb
                                       (160x160 RGB) from one-action challenges answered by
                                       the clip's segments, and template.txt (the reference)
options:
  --models DIR   model directory (default: the repository's models/, or $FIO_MODELS)";

/// A failure the CLI reports on stderr with a non-zero exit.
#[derive(Debug)]
pub struct CliError(String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(e.to_string())
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Usage(msg)) => {
            eprintln!("fio: {msg}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failed(e)) => {
            eprintln!("fio: error: {}", e.0);
            ExitCode::FAILURE
        }
    }
}

enum Outcome {
    Usage(String),
    Failed(CliError),
}
use Outcome::{Failed, Usage};

impl From<CliError> for Outcome {
    fn from(e: CliError) -> Self {
        Failed(e)
    }
}

struct Args {
    json: bool,
    segments: bool,
    points: bool,
    models: PathBuf,
    positional: Vec<String>,
}

fn parse(args: Vec<String>) -> Result<Args, Outcome> {
    let mut json = false;
    let mut segments = false;
    let mut points = false;
    let mut models = std::env::var_os("FIO_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(fio_vision::models::repo_models_dir);
    let mut positional = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => json = true,
            "--segments" => segments = true,
            "--points" => points = true,
            "--models" => {
                models = it
                    .next()
                    .map(PathBuf::from)
                    .ok_or_else(|| Usage("--models needs a directory".into()))?
            }
            s if s.starts_with("--") => return Err(Usage(format!("unknown option {s}"))),
            _ => positional.push(a),
        }
    }
    Ok(Args {
        json,
        segments,
        points,
        models,
        positional,
    })
}

fn run(args: Vec<String>) -> Result<(), Outcome> {
    let Some((cmd, rest)) = args.split_first() else {
        return Err(Usage("no command".into()));
    };
    let args = parse(rest.to_vec())?;
    match cmd.as_str() {
        "analyze" | "analyse" => {
            if args.positional.is_empty() {
                return Err(Usage("analyze needs at least one IMAGE".into()));
            }
            analyze(&args)
        }
        "compare" => {
            if args.positional.len() != 2 {
                return Err(Usage("compare needs exactly two images".into()));
            }
            compare(&args)
        }
        "eval" => {
            if args.positional.len() != 1 {
                return Err(Usage("eval needs one LABELS.csv".into()));
            }
            let pipeline = load_pipeline(&args.models)?;
            eval::run(&pipeline, Path::new(&args.positional[0]), args.json).map_err(Failed)
        }
        "template" => {
            if args.positional.is_empty() {
                return Err(Usage("template needs at least one IMAGE".into()));
            }
            template(&args)
        }
        "mesh" => {
            if args.positional.is_empty() {
                return Err(Usage("mesh needs a y4m video or at least one IMAGE".into()));
            }
            let opts = mesh::Options {
                json: args.json,
                segments: args.segments,
                points: args.points,
            };
            mesh::run(&args.models, &args.positional, &opts).map_err(Failed)
        }
        "occlusion" => {
            let Some((labels, videos)) = args.positional.split_first() else {
                return Err(Usage("occlusion needs LABELS.csv".into()));
            };
            occlusion::run(&args.models, Path::new(labels), videos, args.json).map_err(Failed)
        }
        "occlude" => {
            let [condition, video, out] = args.positional.as_slice() else {
                return Err(Usage("occlude needs CONDITION VIDEO.y4m OUT_DIR".into()));
            };
            let (n, painted) =
                occlusion::occlude_video(&args.models, condition, Path::new(video), Path::new(out))
                    .map_err(Failed)?;
            eprintln!("fio occlude: {n} frames, {painted} with a face painted");
            Ok(())
        }
        "liveness-eval" => {
            let data = args
                .positional
                .first()
                .map_or_else(|| PathBuf::from("fixtures/data"), PathBuf::from);
            let segments = args
                .positional
                .get(1)
                .map_or_else(|| PathBuf::from("fixtures/segments.json"), PathBuf::from);
            liveness_eval::run(&args.models, &data, &segments, args.json).map_err(Failed)
        }
        "evidence-crops" => {
            let [video, segments, out] = args.positional.as_slice() else {
                return Err(Usage(
                    "evidence-crops needs VIDEO.y4m SEGMENTS.json OUT_DIR".into(),
                ));
            };
            evidence::crops_command(
                &args.models,
                Path::new(video),
                Path::new(segments),
                Path::new(out),
                args.json,
            )
            .map_err(Failed)
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(Usage(format!("unknown command {other:?}"))),
    }
}

/// Loads every model from `dir`, verified against the manifest.
pub fn load_pipeline(dir: &Path) -> Result<Pipeline, CliError> {
    let files = ModelFiles::from_dir(dir)?;
    Ok(Pipeline::load(&files, PHOTO_DETECTOR_SIZE)?)
}

/// The largest face in an image file, or an error naming the file.
pub fn largest_face(pipeline: &Pipeline, path: &Path) -> Result<FaceAnalysis, CliError> {
    let frame = image_io::read_frame(path)?;
    pipeline
        .analyze(&frame, 1)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            CliError(format!(
                "{}: no face detected (NO_FACES_DETECTED)",
                path.display()
            ))
        })
}

#[derive(Serialize)]
struct FaceReport<'a> {
    bbox: [f32; 4],
    score: f32,
    landmarks: [[f32; 2]; 5],
    liveness: &'a fio_vision::liveness::LivenessScores,
    age: f32,
    gender: fio_vision::attributes::Gender,
    gender_confidence: f32,
    quality: &'a fio_vision::quality::Quality,
    embedding_dim: usize,
}

#[derive(Serialize)]
struct ImageReport<'a> {
    file: String,
    width: usize,
    height: usize,
    faces: Vec<FaceReport<'a>>,
}

fn analyze(args: &Args) -> Result<(), Outcome> {
    let pipeline = load_pipeline(&args.models)?;
    let mut results = Vec::new();
    for file in &args.positional {
        let frame = image_io::read_frame(Path::new(file))?;
        let faces = pipeline
            .analyze(&frame, usize::MAX)
            .map_err(CliError::from)?;
        results.push((file.clone(), frame.width(), frame.height(), faces));
    }
    let reports: Vec<ImageReport> = results
        .iter()
        .map(|(file, width, height, faces)| ImageReport {
            file: file.clone(),
            width: *width,
            height: *height,
            faces: faces
                .iter()
                .map(|f| FaceReport {
                    bbox: f.bbox,
                    score: f.score,
                    landmarks: f.landmarks,
                    liveness: &f.liveness,
                    age: f.attributes.age,
                    gender: f.attributes.gender,
                    gender_confidence: f.attributes.gender_confidence,
                    quality: &f.quality,
                    embedding_dim: f.embedding.len(),
                })
                .collect(),
        })
        .collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).map_err(CliError::from)?
        );
        return Ok(());
    }
    for r in &reports {
        println!(
            "{} ({}x{}): {} face(s)",
            r.file,
            r.width,
            r.height,
            r.faces.len()
        );
        for (i, f) in r.faces.iter().enumerate() {
            println!(
                "  #{i} box [{:.0} {:.0} {:.0} {:.0}] score {:.3} | {:?} {:.0}y (p={:.2}) | antispoof {:.3} liveness {:.3} | size {:.0}px sharp {:.0} bright {:.0} yaw {:.0}° pitch {:.0}° roll {:.0}°",
                f.bbox[0], f.bbox[1], f.bbox[2], f.bbox[3], f.score, f.gender, f.age, f.gender_confidence,
                f.liveness.antispoof, f.liveness.liveness, f.quality.face_px, f.quality.sharpness,
                f.quality.brightness, f.quality.yaw_deg, f.quality.pitch_deg, f.quality.roll_deg
            );
        }
    }
    Ok(())
}

fn compare(args: &Args) -> Result<(), Outcome> {
    let pipeline = load_pipeline(&args.models)?;
    let a = largest_face(&pipeline, Path::new(&args.positional[0]))?;
    let b = largest_face(&pipeline, Path::new(&args.positional[1]))?;
    let similarity = fio_vision::embed::cosine(&a.embedding, &b.embedding);
    let same_person = similarity >= fio_core::matching::MATCH_THRESHOLD;
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "similarity": similarity, "same_person": same_person })
        );
    } else {
        println!(
            "similarity {similarity:.4} (threshold {}): {}",
            fio_core::matching::MATCH_THRESHOLD,
            if same_person {
                "same person"
            } else {
                "different people"
            }
        );
    }
    Ok(())
}

fn template(args: &Args) -> Result<(), Outcome> {
    let pipeline = load_pipeline(&args.models)?;
    let mut out = Vec::new();
    for file in &args.positional {
        let face = largest_face(&pipeline, Path::new(file))?;
        let embedding = fio_core::Embedding::new(face.embedding.clone()).map_err(CliError::from)?;
        let template = embedding.to_template();
        out.push(serde_json::json!({
            "file": file,
            "template": template.to_base64(),
            "quantisationSimilarity": embedding.cosine(&template.to_embedding()),
            "age": face.attributes.age,
            "gender": face.attributes.gender,
            "liveness": face.liveness,
            "embedding": face.embedding,
        }));
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(CliError::from)?
        );
    } else {
        for o in &out {
            println!(
                "{} {}",
                o["file"].as_str().unwrap_or_default(),
                o["template"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(())
}
