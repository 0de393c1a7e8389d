//! Per-stage pipeline times on a real photo, and per-model tract times on the reference inputs.
//!
//! `cargo bench -p fio-vision --bench stages -- [--json OUT] [--runs N]` prints a table;
//! `scripts/bench-vision.sh` runs onnxruntime on the same inputs and prints both side by side.

use std::time::Instant;

use fio_vision::onnx::OnnxModel;
use fio_vision::pipeline::{PHOTO_DETECTOR_SIZE, WEBCAM_DETECTOR_SIZE};
use fio_vision::{models, Frame, ModelFiles, Pipeline, StageTimes};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let runs: usize = arg("--runs").and_then(|r| r.parse().ok()).unwrap_or(20);
    let photo = arg("--photo").unwrap_or_else(|| "fixtures/data/face_recognition/obama.jpg".into());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let files = ModelFiles::from_dir(&models::repo_models_dir()).expect("models");

    let epoch = Instant::now();
    let now = move || epoch.elapsed().as_secs_f64() * 1e3;

    // Pipeline stages on a real photo, at both detector sizes.
    let bytes = std::fs::read(root.join(&photo)).expect("photo: run `bash fixtures/fetch.sh`");
    let mut decode = Vec::new();
    let mut frame: Option<Frame> = None;
    for _ in 0..runs {
        let t = now();
        let img = image::load_from_memory(&bytes).expect("decode").to_rgb8();
        let (w, h) = img.dimensions();
        frame = Some(Frame::from_rgb(w as usize, h as usize, img.into_raw()).unwrap());
        decode.push(now() - t);
    }
    let frame = frame.unwrap();
    println!(
        "photo {photo} ({}x{}), median of {runs} runs, ms",
        frame.width(),
        frame.height()
    );
    println!(
        "{:<10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>10} {:>8}",
        "detector", "decode", "detect", "mesh", "align", "embed", "liveness", "age/gender", "total"
    );
    let mut json_rows = Vec::new();
    for size in [WEBCAM_DETECTOR_SIZE, PHOTO_DETECTOR_SIZE] {
        let pipeline = Pipeline::load(&files, size).unwrap();
        let mut samples: Vec<StageTimes> = Vec::new();
        for _ in 0..runs {
            let (faces, t) = pipeline.analyze_timed(&frame, 1, &now).unwrap();
            assert_eq!(faces.len(), 1, "bench photo must show one face");
            samples.push(t);
        }
        let m = |f: fn(&StageTimes) -> f64| median(samples.iter().map(f).collect());
        let row = [
            median(decode.clone()),
            m(|t| t.detect),
            m(|t| t.mesh),
            m(|t| t.align),
            m(|t| t.embed),
            m(|t| t.liveness),
            m(|t| t.attributes),
        ];
        println!(
            "{:<10} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>10.2} {:>8.2}",
            format!("{size}x{size}"),
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            row[6],
            row.iter().sum::<f64>()
        );
        json_rows.push(serde_json::json!({"detector_size": size, "decode": row[0], "detect": row[1], "mesh": row[2], "align": row[3], "embed": row[4], "liveness": row[5], "attributes": row[6]}));
    }

    // Each model alone on the reference input, for the side-by-side with onnxruntime.
    println!("\nmodel inference alone (tract), median of {runs} runs, ms");
    let mut model_rows = Vec::new();
    for entry in fio_vision::manifest::entries().unwrap() {
        let name = entry.name.as_str();
        let path = models::repo_models_dir()
            .join("reference")
            .join(format!("{name}.json"));
        let reference: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let shape: Vec<usize> =
            serde_json::from_value(reference["input"]["shape"].clone()).unwrap();
        let (lo, hi) = (
            reference["input"]["lo"].as_f64().unwrap() as f32,
            reference["input"]["hi"].as_f64().unwrap() as f32,
        );
        let n: usize = shape.iter().product();
        let input: Vec<f32> = (0..n)
            .map(|i| lo + (hi - lo) * (((i * 37 + 11) % 251) as f32 / 250.0))
            .collect();
        let bytes = std::fs::read(models::repo_models_dir().join(&entry.file)).unwrap();
        let model = OnnxModel::load(name, &bytes, &shape).unwrap();
        let mut t = Vec::new();
        for _ in 0..runs.max(5) {
            let s = now();
            model.run(input.clone()).unwrap();
            t.push(now() - s);
        }
        let ms = median(t);
        println!("{name:<20} {ms:>8.3}");
        model_rows.push(serde_json::json!({"model": name, "shape": shape, "tract_ms": ms}));
    }
    if let Some(out) = arg("--json") {
        let doc = serde_json::json!({"runs": runs, "photo": photo, "stages": json_rows, "models": model_rows});
        std::fs::write(out, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    }
}
