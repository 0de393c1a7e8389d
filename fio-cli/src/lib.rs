//! What the `fio` command shares with the evaluation harness (`harness/fio-eval`): errors, option
//! parsing and exit codes, image and model loading, and the face-mesh cues of a video or photos.

pub mod image_io;
pub mod mesh;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use fio_vision::pipeline::PHOTO_DETECTOR_SIZE;
use fio_vision::{FaceAnalysis, ModelFiles, Pipeline};

/// A failure the CLI reports on stderr with a non-zero exit.
#[derive(Debug)]
pub struct CliError(pub String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(e.to_string())
    }
}

/// How a command ends when it does not succeed.
pub enum Outcome {
    /// Wrong invocation: the message and the usage text, exit code 2.
    Usage(String),
    /// The command ran and failed: the message, exit code 1.
    Failed(CliError),
}

impl From<CliError> for Outcome {
    fn from(e: CliError) -> Self {
        Outcome::Failed(e)
    }
}

/// Reports `result` on stderr as `program` and turns it into the exit code.
pub fn exit(program: &str, usage: &str, result: Result<(), Outcome>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Outcome::Usage(msg)) => {
            eprintln!("{program}: {msg}\n{usage}");
            ExitCode::from(2)
        }
        Err(Outcome::Failed(e)) => {
            eprintln!("{program}: error: {}", e.0);
            ExitCode::FAILURE
        }
    }
}

/// A command's options: the boolean flags given, the model directory and the positional
/// arguments.
pub struct Args {
    flags: Vec<&'static str>,
    /// `--models DIR`, else `$FIO_MODELS`, else the repository's `models/`.
    pub models: PathBuf,
    /// Everything that is not an option, in order.
    pub positional: Vec<String>,
}

impl Args {
    /// Whether the boolean option `name` (e.g. `--json`) was given.
    pub fn flag(&self, name: &str) -> bool {
        self.flags.contains(&name)
    }
}

/// Parses `args`, accepting the boolean options in `flags` and `--models DIR`.
pub fn parse(args: Vec<String>, flags: &[&'static str]) -> Result<Args, Outcome> {
    let mut given = Vec::new();
    let mut models = std::env::var_os("FIO_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(fio_vision::models::repo_models_dir);
    let mut positional = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        if let Some(&f) = flags.iter().find(|&&f| f == a) {
            given.push(f);
            continue;
        }
        match a.as_str() {
            "--models" => {
                models = it
                    .next()
                    .map(PathBuf::from)
                    .ok_or_else(|| Outcome::Usage("--models needs a directory".into()))?
            }
            s if s.starts_with("--") => return Err(Outcome::Usage(format!("unknown option {s}"))),
            _ => positional.push(a),
        }
    }
    Ok(Args {
        flags: given,
        models,
        positional,
    })
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
