//! `fio-eval`: the evaluation harness. Benchmarks of the shipped decisions on the fixtures
//! (recognition, liveness, occlusion cue) and the tools that derive fixtures from the real clips
//! (action segments, synthetic occluders, evidence crops for the edge specs). The user-facing
//! commands are `fio` (`fio-cli`), whose helpers this crate reuses.

mod eval;
mod evidence_crops;
mod liveness_eval;
mod occlusion;
mod recognition;
mod replay;
mod segments;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use fio_cli::{load_pipeline, parse, Outcome};

use Outcome::{Failed, Usage};

const USAGE: &str = "usage:
  fio-eval eval LABELS.csv [--json]    genuine/impostor statistics for a CSV of file,identity
  fio-eval recognition RECOGNITION.csv [HISTOGRAM.svg] [--json]
                                       genuine accept rate per condition (expression,
                                       occlusion, pose, small face, age) at zero false
                                       accepts on the validation/test split, for the shipped
                                       embedding and the candidates, with mean and
                                       max-of-frames enrollment; the test split's score
                                       histograms as an SVG picture
  fio-eval recognition-crops RECOGNITION.csv OUT_DIR
                                       the crops the shipped pipeline makes of every row
                                       (ArcFace from RetinaFace and from mesh points, a
                                       dlib-style chip, the attribute crop) for embedders
                                       outside the product, listed in OUT_DIR/rows.json
  fio-eval recognition-external RECOGNITION.csv DIR [--json]
                                       the candidates table for DIR/*.embeddings.json (one
                                       embedding per row, from those crops), scored as
                                       `recognition` scores the shipped embedder
  fio-eval liveness-eval [DATA_DIR] [SEGMENTS.json] [--json]
                                       APCER per attack species and BPCER of the liveness
                                       decision on the real clips and the attack videos,
                                       with and without edge re-verification of crops
  fio-eval occlusion LABELS.csv [VIDEO.y4m...] [--json]
                                       occlusion cue (ignoreObscuredFaces) on the labelled
                                       photos and every 10th frame of the clips (default
                                       data/video/cap12.y4m, cap13.y4m next to the CSV), bare
                                       and with synthetic masks, sunglasses and a hand
  fio-eval passive-clip VIDEO.y4m [--json]
                                       a bona fide clip through passive-mode ceremonies
                                       starting every second: verdict, reason and report
fixture generation:
  fio-eval segments VIDEO.y4m... [--json]
                                       time segments with blinks, head turns, looking up,
                                       coming closer and neutral stretches (--json: the
                                       format of fixtures/segments.json)
  fio-eval occlude CONDITION VIDEO.y4m OUT_DIR
                                       the video's frames as OUT_DIR/NNNNN.ppm with a
                                       synthetic occluder (surgicalMask, blackMask,
                                       whiteMask, sunglasses, hand) painted on the face
  fio-eval evidence-crops VIDEO.y4m SEGMENTS.json OUT_DIR [--json]
                                       the widget's edge re-verification evidence for one
                                       bona fide clip: OUT_DIR/rest.rgb and <action>.rgb
                                       (160x160 RGB) from one-action challenges answered by
                                       the clip's segments, and template.txt (the reference)
options:
  --models DIR   model directory (default: the repository's models/, or $FIO_MODELS)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    fio_cli::exit("fio-eval", USAGE, run(args))
}

fn run(args: Vec<String>) -> Result<(), Outcome> {
    let Some((cmd, rest)) = args.split_first() else {
        return Err(Usage("no command".into()));
    };
    let args = parse(rest.to_vec(), &["--json"])?;
    let json = args.flag("--json");
    match cmd.as_str() {
        "eval" => {
            if args.positional.len() != 1 {
                return Err(Usage("eval needs one LABELS.csv".into()));
            }
            let pipeline = load_pipeline(&args.models)?;
            eval::run(&pipeline, Path::new(&args.positional[0]), json).map_err(Failed)
        }
        "recognition" => {
            let (csv, svg) = match args.positional.as_slice() {
                [csv] => (csv, None),
                [csv, svg] => (csv, Some(Path::new(svg))),
                _ => {
                    return Err(Usage(
                        "recognition needs RECOGNITION.csv [HISTOGRAM.svg]".into(),
                    ))
                }
            };
            recognition::run(&args.models, Path::new(csv), json, svg).map_err(Failed)
        }
        "recognition-crops" => {
            let [csv, out] = args.positional.as_slice() else {
                return Err(Usage(
                    "recognition-crops needs RECOGNITION.csv OUT_DIR".into(),
                ));
            };
            recognition::crops(&args.models, Path::new(csv), Path::new(out)).map_err(Failed)
        }
        "recognition-external" => {
            let [csv, dir] = args.positional.as_slice() else {
                return Err(Usage(
                    "recognition-external needs RECOGNITION.csv DIR".into(),
                ));
            };
            recognition::external(Path::new(csv), Path::new(dir), json).map_err(Failed)
        }
        "passive-clip" => {
            let [video] = args.positional.as_slice() else {
                return Err(Usage("passive-clip needs one VIDEO.y4m".into()));
            };
            liveness_eval::passive_clip(&args.models, Path::new(video), json).map_err(Failed)
        }
        "segments" => {
            if args.positional.is_empty() {
                return Err(Usage("segments needs at least one y4m video".into()));
            }
            segments::run(&args.models, &args.positional, json).map_err(Failed)
        }
        "occlusion" => {
            let Some((labels, videos)) = args.positional.split_first() else {
                return Err(Usage("occlusion needs LABELS.csv".into()));
            };
            occlusion::run(&args.models, Path::new(labels), videos, json).map_err(Failed)
        }
        "occlude" => {
            let [condition, video, out] = args.positional.as_slice() else {
                return Err(Usage("occlude needs CONDITION VIDEO.y4m OUT_DIR".into()));
            };
            let (n, painted) =
                occlusion::occlude_video(&args.models, condition, Path::new(video), Path::new(out))
                    .map_err(Failed)?;
            eprintln!("fio-eval occlude: {n} frames, {painted} with a face painted");
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
            liveness_eval::run(&args.models, &data, &segments, json).map_err(Failed)
        }
        "evidence-crops" => {
            let [video, segments, out] = args.positional.as_slice() else {
                return Err(Usage(
                    "evidence-crops needs VIDEO.y4m SEGMENTS.json OUT_DIR".into(),
                ));
            };
            evidence_crops::crops_command(
                &args.models,
                Path::new(video),
                Path::new(segments),
                Path::new(out),
                json,
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
