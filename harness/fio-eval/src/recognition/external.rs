//! Embedders outside the product, measured on the same pairs: `fio-eval recognition-crops`
//! writes the face crops the shipped pipeline makes of every row, a script runs the foreign
//! models on them (`harness/embedder-candidates/embed.py`), and `fio-eval recognition-external`
//! scores what it wrote with the same protocol and figures as `fio-eval recognition`. Only the
//! models run outside Rust; detection, landmarks, crops, fusion and scoring are the shipped code.

use std::path::{Path, PathBuf};

use fio_vision::align::{align_arcface, warp, Similarity, ALIGNED_SIZE, ARCFACE_TEMPLATE};
use fio_vision::attributes::{attribute_crop, FACERES_SIZE};
use fio_vision::pipeline::WEBCAM_DETECTOR_SIZE;
use fio_vision::{Frame, ModelFiles, Pipeline};
use serde::{Deserialize, Serialize};

use super::{first_face, load_frame, print_candidates, read_rows, score_candidates, Role, Row};
use fio_cli::image_io::write_ppm;
use fio_cli::CliError;

/// Side of the dlib-style chip (face-api.js' 128-D ResNet reads 150×150).
const DLIB_CHIP: usize = 150;

/// dlib's chip frames the face looser and higher than ArcFace's 112 template: the same five
/// points scaled to 150 px and moved up by a tenth of the chip. The shift was chosen on the
/// validation split (−0.10 beat 0, −0.16 and −0.22; with no shift the descriptor barely
/// separates people), never on the test split.
fn dlib_template() -> [[f32; 2]; 5] {
    let k = DLIB_CHIP as f32 / 112.0;
    ARCFACE_TEMPLATE.map(|[x, y]| {
        [
            (x - 56.0) * k + DLIB_CHIP as f32 / 2.0,
            (y - 56.0) * k + DLIB_CHIP as f32 / 2.0 - 0.1 * DLIB_CHIP as f32,
        ]
    })
}

/// Crop files of one row (relative to the crops directory), `None` when the row had no face.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RowCrops {
    /// The CSV's file column, to check the crops belong to the CSV being scored.
    pub file: String,
    /// 112×112 ArcFace crop from RetinaFace's five points: what the shipped embedder reads.
    pub arcface: Option<String>,
    /// 112×112 ArcFace crop from the face mesh's five points.
    pub mesh: Option<String>,
    /// 150×150 dlib-style chip from RetinaFace's five points.
    pub dlib: Option<String>,
    /// 224×224 attribute crop (faceres' input).
    pub attribute: Option<String>,
}

/// What an external embedder wrote: one embedding per CSV row, in row order (any length; they
/// are L2-normalised on reading and scored like the in-product candidates: 192-D through
/// fio-core's int8 templates as the edge stores them, others by float cosine).
#[derive(Debug, Deserialize)]
struct External {
    name: String,
    embeddings: Vec<Option<Vec<f32>>>,
}

fn crops_of(
    pipeline: &Pipeline,
    frame: &Frame,
    file: &str,
    dir: &Path,
    n: usize,
) -> Result<RowCrops, CliError> {
    let mut out = RowCrops {
        file: file.to_string(),
        arcface: None,
        mesh: None,
        dlib: None,
        attribute: None,
    };
    let Some(face) = first_face(pipeline, frame)? else {
        return Ok(out);
    };
    let save =
        |kind: &str, rgb: Option<Vec<u8>>, size: usize| -> Result<Option<String>, CliError> {
            let Some(rgb) = rgb else { return Ok(None) };
            let name = format!("{n:04}_{kind}.ppm");
            write_ppm(&dir.join(&name), size, size, &rgb)?;
            Ok(Some(name))
        };
    out.arcface = save("arcface", Some(face.analysis.aligned), ALIGNED_SIZE)?;
    out.mesh = save(
        "mesh",
        align_arcface(frame, &face.mesh.five_points()),
        ALIGNED_SIZE,
    )?;
    let dlib = Similarity::fit(&face.detection.landmarks, &dlib_template())
        .and_then(|t| t.inverse())
        .map(|to_src| warp(frame, &to_src, DLIB_CHIP));
    out.dlib = save("dlib", dlib, DLIB_CHIP)?;
    out.attribute = save(
        "attribute",
        Some(attribute_crop(frame, &face.detection)),
        FACERES_SIZE,
    )?;
    Ok(out)
}

/// `fio-eval recognition-crops CSV OUT_DIR`: every row's crops and `OUT_DIR/rows.json`.
pub fn crops(models: &Path, csv: &Path, out: &Path) -> Result<(), CliError> {
    let rows = read_rows(csv)?;
    std::fs::create_dir_all(out).map_err(|e| CliError(format!("{}: {e}", out.display())))?;
    let files = ModelFiles::from_dir(models)?;
    let pipeline = Pipeline::load(&files, WEBCAM_DETECTOR_SIZE)?;
    let mut listed = Vec::with_capacity(rows.len());
    for (n, r) in rows.iter().enumerate() {
        let frame = load_frame(csv, r)?;
        listed.push(crops_of(&pipeline, &frame, &r.file, out, n)?);
    }
    let path = out.join("rows.json");
    std::fs::write(&path, serde_json::to_string_pretty(&listed)?)
        .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    println!(
        "{} rows, {} with a face: crops and rows.json in {}",
        rows.len(),
        listed.iter().filter(|c| c.arcface.is_some()).count(),
        out.display()
    );
    Ok(())
}

fn read_external(path: &Path, rows: &[Row]) -> Result<External, CliError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    let mut ext: External = serde_json::from_str(&text)
        .map_err(|e| CliError(format!("{}: not an embeddings file: {e}", path.display())))?;
    if ext.embeddings.len() != rows.len() {
        return Err(CliError(format!(
            "{}: {} embeddings for {} CSV rows",
            path.display(),
            ext.embeddings.len(),
            rows.len()
        )));
    }
    let dim = ext.embeddings.iter().flatten().map(Vec::len).next();
    if ext
        .embeddings
        .iter()
        .flatten()
        .any(|e| Some(e.len()) != dim || e.iter().any(|x| !x.is_finite()))
    {
        return Err(CliError(format!(
            "{}: embeddings differ in length or are not finite",
            path.display()
        )));
    }
    // Scored by cosine, as every candidate is: only the direction counts.
    for e in ext.embeddings.iter_mut().flatten() {
        *e = fio_vision::embed::l2_normalised(std::mem::take(e))
            .ok_or_else(|| CliError(format!("{}: an all-zero embedding", path.display())))?;
    }
    for (r, e) in rows.iter().zip(&ext.embeddings) {
        if r.role == Role::Enroll && e.is_none() {
            return Err(CliError(format!(
                "{}: no embedding for enrollment image {}",
                path.display(),
                r.file
            )));
        }
    }
    Ok(ext)
}

/// `fio-eval recognition-external CSV DIR`: the candidates table for `DIR/*.embeddings.json`.
pub fn external(csv: &Path, dir: &Path, json: bool) -> Result<(), CliError> {
    let rows = read_rows(csv)?;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| CliError(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".embeddings.json"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(CliError(format!(
            "{}: no *.embeddings.json files",
            dir.display()
        )));
    }
    let candidates = paths
        .iter()
        .map(|p| read_external(p, &rows).map(|e| (e.name, e.embeddings)))
        .collect::<Result<Vec<_>, _>>()?;
    let (table, _) = score_candidates(&rows, &candidates, &vec![false; rows.len()]);
    if json {
        println!("{}", serde_json::to_string_pretty(&table)?);
    } else {
        print_candidates(&table);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dlib_chip_keeps_the_arcface_shape_higher_in_a_larger_crop() {
        let t = dlib_template();
        let eye_gap = t[1][0] - t[0][0];
        let arc_gap = ARCFACE_TEMPLATE[1][0] - ARCFACE_TEMPLATE[0][0];
        assert!((eye_gap / arc_gap - 150.0 / 112.0).abs() < 1e-4);
        // Eyes above the chip's centre line by more than ArcFace puts them.
        assert!(t[0][1] < 75.0 - 15.0);
    }
}
