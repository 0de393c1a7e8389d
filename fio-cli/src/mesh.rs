//! `fio mesh`: per-frame face-mesh cues (blinks, head pose, mouth, face size) for a y4m video or
//! a list of images, as the live view would compute them. `fio-eval segments` finds the action
//! segments of the fixture clips in the same cues.

use std::path::Path;

use fio_vision::detect::{confident_faces, Detection, Detector, DETECTOR_MODEL};
use fio_vision::mesh::{FaceMesh, MESH_MODEL};
use fio_vision::pattern::pattern_score;
use fio_vision::pipeline::{PHOTO_DETECTOR_SIZE, WEBCAM_DETECTOR_SIZE};
use fio_vision::y4m::Y4mReader;
use fio_vision::{Frame, Mesh, MeshCues, ModelFiles};
use serde::Serialize;

use crate::{image_io, CliError};

/// Cues of one frame: the largest confident face's, or none.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameCues {
    /// Frame index from 0 (video) or position in the image list.
    pub frame: usize,
    /// Presentation time in seconds (video only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_s: Option<f64>,
    /// The image file (image lists only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Faces at or above the decision's minimum detection score.
    pub faces: usize,
    /// The largest face's cues; absent without a face.
    #[serde(flatten)]
    pub cues: Option<MeshCues>,
    /// The largest face's 468 mesh points `[x, y, z]` in frame pixels (with `--points`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<[f32; 3]>>,
    /// The largest face's periodic-pattern score (moiré, halftone), when measurable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<f32>,
}

impl FrameCues {
    fn new(frame: usize, faces: usize, found: Option<Found>, points: bool) -> Self {
        let (pattern, found) = found.map(|(p, c, m)| (p, (c, m))).unzip();
        let (cues, mesh) = found.unzip();
        FrameCues {
            frame,
            time_s: None,
            file: None,
            faces,
            cues,
            points: mesh.filter(|_| points).map(|m| m.points),
            pattern: pattern.flatten(),
        }
    }
}

/// The largest face's pattern score, cues and mesh.
type Found = (Option<f32>, MeshCues, Mesh);

/// Detection plus mesh, nothing else: the live-view path.
struct MeshOnly {
    detector: Detector,
    mesh: FaceMesh,
}

impl MeshOnly {
    fn load(models: &Path, detector_size: usize) -> Result<Self, CliError> {
        let files = ModelFiles::from_dir_named(models, &[DETECTOR_MODEL, MESH_MODEL])?;
        Ok(MeshOnly {
            detector: Detector::load(files.get(DETECTOR_MODEL)?, detector_size)?,
            mesh: FaceMesh::load(files.get(MESH_MODEL)?)?,
        })
    }

    /// Face count and the largest face's cues and mesh points.
    fn cues(&self, frame: &Frame) -> Result<(usize, Option<Found>), CliError> {
        let (faces, Some(largest)) = largest_face(&self.detector, frame)? else {
            return Ok((0, None));
        };
        let mesh = self.mesh.run(frame, &largest)?;
        let pattern = pattern_score(frame, largest.bbox);
        Ok((
            faces,
            Some((pattern, MeshCues::measure(&mesh, frame), mesh)),
        ))
    }
}

/// Confident faces in `frame` and the largest of them.
pub fn largest_face(
    detector: &Detector,
    frame: &Frame,
) -> Result<(usize, Option<Detection>), CliError> {
    let faces = confident_faces(detector.detect(frame)?);
    Ok((faces.len(), faces.into_iter().next()))
}

/// Cues for every frame of a y4m video (webcam detector size, as in the browser).
pub fn video_cues(models: &Path, path: &Path, points: bool) -> Result<Vec<FrameCues>, CliError> {
    let engine = MeshOnly::load(models, WEBCAM_DETECTOR_SIZE)?;
    let mut reader = Y4mReader::open(path)?;
    let mut out = Vec::new();
    while let Some(frame) = reader
        .next_frame()
        .map_err(|e| CliError(format!("{}: {e}", path.display())))?
    {
        let (faces, found) = engine.cues(&frame)?;
        let mut f = FrameCues::new(out.len(), faces, found, points);
        f.time_s = Some(out.len() as f64 / reader.fps);
        out.push(f);
    }
    Ok(out)
}

/// Cues for a list of image files (photo detector size).
pub fn image_cues(
    models: &Path,
    files: &[String],
    points: bool,
) -> Result<Vec<FrameCues>, CliError> {
    let engine = MeshOnly::load(models, PHOTO_DETECTOR_SIZE)?;
    files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let (faces, found) = engine.cues(&image_io::read_frame(Path::new(file))?)?;
            let mut f = FrameCues::new(i, faces, found, points);
            f.file = Some(file.clone());
            Ok(f)
        })
        .collect()
}

/// What `fio mesh` prints.
pub struct Options {
    /// JSON (lines) instead of text.
    pub json: bool,
    /// Include the 468 points in the JSON lines.
    pub points: bool,
}

/// `fio mesh`: per-frame lines for y4m videos or for images.
pub fn run(models: &Path, inputs: &[String], opts: &Options) -> Result<(), CliError> {
    let videos = inputs
        .iter()
        .all(|i| i.to_ascii_lowercase().ends_with(".y4m"));
    if !videos {
        return print_frames(&image_cues(models, inputs, opts.points)?, None, opts.json);
    }
    for input in inputs {
        let frames = video_cues(models, Path::new(input), opts.points)?;
        let clip = clip_name(input);
        print_frames(&frames, (inputs.len() > 1).then_some(&clip), opts.json)?;
    }
    Ok(())
}

/// A video's name in reports: its file stem (`cap12` for `fixtures/data/video/cap12.y4m`).
pub fn clip_name(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn print_frames(frames: &[FrameCues], clip: Option<&String>, json: bool) -> Result<(), CliError> {
    for f in frames {
        if json {
            let mut v = serde_json::to_value(f)?;
            if let (Some(clip), Some(o)) = (clip, v.as_object_mut()) {
                o.insert("clip".into(), clip.as_str().into());
            }
            println!("{v}");
        } else {
            let prefix = clip.map(|c| format!("{c} ")).unwrap_or_default();
            println!("{prefix}{}", text_line(f));
        }
    }
    Ok(())
}

fn text_line(f: &FrameCues) -> String {
    let at = match (&f.time_s, &f.file) {
        (Some(t), _) => format!("{t:7.2}s"),
        (None, Some(file)) => file.clone(),
        _ => String::new(),
    };
    match &f.cues {
        None => format!("#{:<4} {at} faces {}", f.frame, f.faces),
        Some(c) => format!(
            "#{:<4} {at} faces {} presence {:.2} EAR {:.2}/{:.2} yaw {:+5.1}° pitch {:+5.1}° roll {:+5.1}° mouth {:.2} width {:.0}px in-frame {:.2}",
            f.frame, f.faces, c.presence, c.ear_left, c.ear_right, c.yaw_deg, c.pitch_deg,
            c.roll_deg, c.mouth_open, c.face_width_px, c.in_frame
        ),
    }
}
