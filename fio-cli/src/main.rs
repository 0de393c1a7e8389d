//! `fio`: analyse and compare faces and compute templates with the OpenFIO pipeline, natively.
//! Evaluation and fixture tooling (benchmarks, segments, synthetic occluders, evidence crops) is
//! the separate `fio-eval` command (`harness/fio-eval`).

use std::path::Path;
use std::process::ExitCode;

use fio_cli::{image_io, largest_face, load_pipeline, mesh, parse, Args, CliError, Outcome};
use serde::Serialize;

use Outcome::{Failed, Usage};

const USAGE: &str = "usage:
  fio analyze IMAGE... [--json]        every face: box, landmarks, liveness, age/gender, quality
  fio compare IMAGE_A IMAGE_B [--json] similarity of the largest faces and the shipped verdict
  fio template IMAGE... [--json]       the largest face's compact template (base64), as the
                                       browser sends it to the edge, with age/gender/liveness
  fio mesh VIDEO.y4m|IMAGE... [--json] per-frame face-mesh cues of the largest face: eye aspect
                                       ratios, yaw/pitch/roll, mouth opening, face width
                                       (--json: one JSON object per line; --points adds
                                       the 468 points)
options:
  --models DIR   model directory (default: the repository's models/, or $FIO_MODELS)
evaluation (recognition and liveness benchmarks, occlusion, action segments, evidence crops):
  fio-eval help";

/// Commands that moved to `fio-eval`: named in the error so old invocations find them.
const EVAL_COMMANDS: [&str; 5] = [
    "eval",
    "occlusion",
    "occlude",
    "liveness-eval",
    "evidence-crops",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    fio_cli::exit("fio", USAGE, run(args))
}

fn run(args: Vec<String>) -> Result<(), Outcome> {
    let Some((cmd, rest)) = args.split_first() else {
        return Err(Usage("no command".into()));
    };
    if EVAL_COMMANDS.contains(&cmd.as_str()) {
        return Err(Usage(format!(
            "{cmd} is an evaluation command: run `fio-eval {cmd}` (harness/fio-eval)"
        )));
    }
    if cmd == "mesh" && rest.iter().any(|a| a == "--segments") {
        return Err(Usage(
            "action segments are fixture generation: run `fio-eval segments VIDEO.y4m...`".into(),
        ));
    }
    let args = parse(rest.to_vec(), &["--json", "--points"])?;
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
                json: args.flag("--json"),
                points: args.flag("--points"),
            };
            mesh::run(&args.models, &args.positional, &opts).map_err(Failed)
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(Usage(format!("unknown command {other:?}"))),
    }
}

#[derive(Serialize)]
struct FaceReport<'a> {
    bbox: [f32; 4],
    score: f32,
    landmarks: [[f32; 2]; 5],
    liveness: &'a fio_vision::passive_scores::LivenessScores,
    // Always present in practice: the CLI loads every model stage.
    #[serde(flatten)]
    attributes: Option<&'a fio_vision::attributes::Attributes>,
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
                    attributes: f.attributes.as_ref(),
                    quality: &f.quality,
                    embedding_dim: f.embedding.len(),
                })
                .collect(),
        })
        .collect();
    if args.flag("--json") {
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
            let attributes = match f.attributes {
                Some(a) => format!(
                    "{:?} {:.0}y (p={:.2})",
                    a.gender, a.age, a.gender_confidence
                ),
                None => "age/gender not measured".into(),
            };
            println!(
                "  #{i} box [{:.0} {:.0} {:.0} {:.0}] score {:.3} | {attributes} | antispoof {:.3} liveness {:.3} | size {:.0}px sharp {:.0} bright {:.0} yaw {:.0}° pitch {:.0}° roll {:.0}°",
                f.bbox[0], f.bbox[1], f.bbox[2], f.bbox[3], f.score,
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
    if args.flag("--json") {
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
            "age": face.attributes.as_ref().map(|a| a.age),
            "gender": face.attributes.as_ref().map(|a| a.gender),
            "liveness": face.liveness,
            "embedding": face.embedding,
        }));
    }
    if args.flag("--json") {
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
