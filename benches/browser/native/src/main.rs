//! `fio-bench-browser-native MODELS_DIR DETECTOR_SIZE FRAME.rgba:W:H...` then one command per
//! stdin line: `<frame index> <0|1 full>` → one JSON line `{"ms", "timings", "tracked", "faces",
//! "main"}`. The engine keeps its live-view track between calls, as the browser worker's does.
//!
//! Times exactly what the browser worker's `engine.analyze()` call does inside wasm: RGBA →
//! `Frame`, `fio_vision::frame_engine::Engine::analyze` (what fio-wasm calls) (detection, guidance, and with `full` the
//! template, liveness and age/gender of the largest face) and serialisation of the result.
//! Single-threaded, like tract in the browser. A long-lived process so the orchestrator can
//! interleave native and browser calls under the same machine load.

use std::io::{BufRead, Write};
use std::time::Instant;

use fio_vision::{Frame, ModelFiles};
use fio_vision::frame_engine::Engine;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: fio-bench-browser-native MODELS_DIR DETECTOR_SIZE FRAME.rgba:W:H...");
        std::process::exit(2);
    }
    let files = ModelFiles::from_dir(std::path::Path::new(&args[0])).expect("models");
    let size: usize = args[1].parse().expect("detector size");
    let mut engine = Engine::load(&files, size).expect("engine");
    let frames: Vec<(Vec<u8>, usize, usize)> = args[2..]
        .iter()
        .map(|a| {
            let mut p = a.rsplitn(3, ':');
            let h: usize = p.next().unwrap().parse().expect("height");
            let w: usize = p.next().unwrap().parse().expect("width");
            let path = p.next().expect("path");
            let rgba = std::fs::read(path).expect("frame");
            assert_eq!(rgba.len(), w * h * 4, "{path}: size");
            (rgba, w, h)
        })
        .collect();
    let epoch = Instant::now();
    let now = move || epoch.elapsed().as_secs_f64() * 1e3;
    println!("{{\"ready\":true}}");
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line.expect("stdin");
        let mut it = line.split_whitespace();
        let (Some(i), Some(full)) = (it.next(), it.next()) else { continue };
        let (rgba, w, h) = &frames[i.parse::<usize>().expect("index")];
        let full = full == "1";
        let t = now();
        let frame = Frame::from_rgba(*w, *h, rgba).expect("frame");
        let a = engine.analyze(&frame, full, &now).expect("analyze");
        let json = serde_json::to_value(&a).expect("json");
        let ms = now() - t;
        let reply = serde_json::json!({
            "ms": ms,
            "timings": json["timings"],
            "tracked": json["tracked"],
            "faces": json["faces"].as_array().map(|f| f.len()).unwrap_or(0),
            "main": !json["main"].is_null(),
        });
        writeln!(out, "{reply}").unwrap();
        out.flush().unwrap();
    }
}
