//! `fio-eval eval`: genuine/impostor similarity statistics over a labelled set of photos.

use std::path::Path;

use fio_core::matching::MATCH_THRESHOLD;
use fio_vision::embed::cosine;
use fio_vision::Pipeline;
use serde::Serialize;

use fio_cli::CliError;

/// Summary statistics of one set of similarities.
#[derive(Serialize, Default)]
struct Stats {
    pairs: usize,
    min: f32,
    mean: f32,
    max: f32,
}

impl Stats {
    fn of(v: &[f32]) -> Stats {
        if v.is_empty() {
            return Stats::default();
        }
        Stats {
            pairs: v.len(),
            min: v.iter().copied().fold(f32::INFINITY, f32::min),
            mean: v.iter().sum::<f32>() / v.len() as f32,
            max: v.iter().copied().fold(f32::NEG_INFINITY, f32::max),
        }
    }
}

#[derive(Serialize)]
struct Report {
    images: usize,
    identities: usize,
    failed: Vec<String>,
    threshold: f32,
    genuine: Stats,
    impostor: Stats,
    genuine_accepted: usize,
    genuine_accept_rate: f32,
    false_accepts: usize,
    accuracy: f32,
    hardest_genuine: Option<(String, String, f32)>,
    hardest_impostor: Option<(String, String, f32)>,
}

/// Parses `file,identity` rows (header optional); paths are relative to the CSV's folder.
pub(crate) fn read_labels(csv: &Path) -> Result<Vec<(String, String)>, CliError> {
    let text =
        std::fs::read_to_string(csv).map_err(|e| CliError(format!("{}: {e}", csv.display())))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty()
            || line.starts_with('#')
            || (n == 0 && line.eq_ignore_ascii_case("file,identity"))
        {
            continue;
        }
        let Some((file, id)) = line.split_once(',') else {
            return Err(CliError(format!(
                "{}:{}: expected `file,identity`, got {line:?}",
                csv.display(),
                n + 1
            )));
        };
        let (file, id) = (file.trim(), id.trim());
        if file.is_empty() || id.is_empty() || id.contains(',') {
            return Err(CliError(format!(
                "{}:{}: expected `file,identity`, got {line:?}",
                csv.display(),
                n + 1
            )));
        }
        rows.push((file.to_string(), id.to_string()));
    }
    if rows.is_empty() {
        return Err(CliError(format!("{}: no labelled images", csv.display())));
    }
    Ok(rows)
}

/// Embeds every labelled image and prints pair statistics at the shipped threshold.
pub fn run(pipeline: &Pipeline, csv: &Path, json: bool) -> Result<(), CliError> {
    let base = csv.parent().unwrap_or(Path::new("."));
    let mut embedded = Vec::new();
    let mut failed = Vec::new();
    for (file, id) in read_labels(csv)? {
        match fio_cli::largest_face(pipeline, &base.join(&file)) {
            Ok(face) => embedded.push((file, id, face.embedding)),
            Err(e) => failed.push(e.0),
        }
    }
    if embedded.is_empty() {
        return Err(CliError(format!(
            "{}: no labelled image had a usable face: {}",
            csv.display(),
            failed.join("; ")
        )));
    }
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    let mut hardest_genuine: Option<(String, String, f32)> = None;
    let mut hardest_impostor: Option<(String, String, f32)> = None;
    for i in 0..embedded.len() {
        for j in i + 1..embedded.len() {
            let (fa, ia, ea) = &embedded[i];
            let (fb, ib, eb) = &embedded[j];
            let s = cosine(ea, eb);
            if ia == ib {
                genuine.push(s);
                if hardest_genuine.as_ref().is_none_or(|h| s < h.2) {
                    hardest_genuine = Some((fa.clone(), fb.clone(), s));
                }
            } else {
                impostor.push(s);
                if hardest_impostor.as_ref().is_none_or(|h| s > h.2) {
                    hardest_impostor = Some((fa.clone(), fb.clone(), s));
                }
            }
        }
    }
    let genuine_accepted = genuine.iter().filter(|s| **s >= MATCH_THRESHOLD).count();
    let false_accepts = impostor.iter().filter(|s| **s >= MATCH_THRESHOLD).count();
    let total = genuine.len() + impostor.len();
    let mut ids: Vec<&String> = embedded.iter().map(|e| &e.1).collect();
    ids.sort();
    ids.dedup();
    let report = Report {
        images: embedded.len(),
        identities: ids.len(),
        failed,
        threshold: MATCH_THRESHOLD,
        genuine: Stats::of(&genuine),
        impostor: Stats::of(&impostor),
        genuine_accepted,
        genuine_accept_rate: ratio(genuine_accepted, genuine.len()),
        false_accepts,
        accuracy: ratio(genuine_accepted + impostor.len() - false_accepts, total),
        hardest_genuine,
        hardest_impostor,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

fn ratio(a: usize, b: usize) -> f32 {
    if b == 0 {
        0.0
    } else {
        a as f32 / b as f32
    }
}

fn print_table(r: &Report) {
    println!(
        "images {} ({} identities), {} without a usable face",
        r.images,
        r.identities,
        r.failed.len()
    );
    for f in &r.failed {
        println!("  skipped: {f}");
    }
    println!("threshold {:.3}", r.threshold);
    println!(
        "{:<10} {:>6} {:>7} {:>7} {:>7}",
        "pairs", "count", "min", "mean", "max"
    );
    for (name, s) in [("genuine", &r.genuine), ("impostor", &r.impostor)] {
        println!(
            "{:<10} {:>6} {:>7.3} {:>7.3} {:>7.3}",
            name, s.pairs, s.min, s.mean, s.max
        );
    }
    println!(
        "genuine accepted {}/{} ({:.1}%), false accepts {}/{}, accuracy {:.1}%",
        r.genuine_accepted,
        r.genuine.pairs,
        100.0 * r.genuine_accept_rate,
        r.false_accepts,
        r.impostor.pairs,
        100.0 * r.accuracy
    );
    if let Some((a, b, s)) = &r.hardest_genuine {
        println!("hardest genuine pair:  {a} ~ {b}: {s:.3}");
    }
    if let Some((a, b, s)) = &r.hardest_impostor {
        println!("hardest impostor pair: {a} ~ {b}: {s:.3}");
    }
}
