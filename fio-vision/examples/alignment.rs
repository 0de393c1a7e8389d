//! Measures how alignment choices change recognition on the labelled fixtures:
//! `cargo run --release -p fio-vision --example alignment`.
//!
//! Prints, per variant, the genuine and impostor similarity ranges, the gap between the weakest
//! genuine and the strongest impostor pair, and the genuine accept rate at zero false accepts.

use fio_vision::align::{face_crop, warp, Similarity, ALIGNED_SIZE, ARCFACE_TEMPLATE};
use fio_vision::detect::Detection;
use fio_vision::embed::cosine;
use fio_vision::pipeline::PHOTO_DETECTOR_SIZE;
use fio_vision::{models, Frame, ModelFiles, Pipeline};

type Variant = (&'static str, fn(&Pipeline, &Frame, &Detection) -> Vec<f32>);

fn five_point(p: &Pipeline, f: &Frame, d: &Detection) -> Vec<f32> {
    let crop = fio_vision::align::align_arcface(f, &d.landmarks).unwrap();
    p.embedder().unwrap().embed(&crop).unwrap()
}

fn five_point_mirror(p: &Pipeline, f: &Frame, d: &Detection) -> Vec<f32> {
    let crop = fio_vision::align::align_arcface(f, &d.landmarks).unwrap();
    p.embedder().unwrap().embed_mirror_averaged(&crop).unwrap()
}

fn mesh_five_point(p: &Pipeline, f: &Frame, d: &Detection) -> Vec<f32> {
    let points = p.mesh(f, d).unwrap().five_points();
    let crop = fio_vision::align::align_arcface(f, &points).unwrap();
    p.embedder().unwrap().embed(&crop).unwrap()
}

fn eyes_only(p: &Pipeline, f: &Frame, d: &Detection) -> Vec<f32> {
    let t = Similarity::fit(&d.landmarks[..2], &ARCFACE_TEMPLATE[..2]).unwrap();
    let crop = warp(f, &t.inverse().unwrap(), ALIGNED_SIZE);
    p.embedder().unwrap().embed(&crop).unwrap()
}

fn box_crop(p: &Pipeline, f: &Frame, d: &Detection) -> Vec<f32> {
    p.embedder()
        .unwrap()
        .embed(&face_crop(f, d.bbox, &d.landmarks, 1.0, ALIGNED_SIZE))
        .unwrap()
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let labels =
        std::fs::read_to_string(root.join("labels.csv")).expect("run bash fixtures/fetch.sh");
    let files = ModelFiles::from_dir(&models::repo_models_dir()).unwrap();
    let pipeline = Pipeline::load(&files, PHOTO_DETECTOR_SIZE).unwrap();
    let mut faces = Vec::new();
    for line in labels.lines().skip(1) {
        let (file, id) = line.split_once(',').unwrap();
        let img = image::open(root.join(file)).unwrap().to_rgb8();
        let (w, h) = img.dimensions();
        let frame = Frame::from_rgb(w as usize, h as usize, img.into_raw()).unwrap();
        let mut dets = pipeline.detect(&frame).unwrap();
        dets.sort_by(|a, b| (b.bbox[2] * b.bbox[3]).total_cmp(&(a.bbox[2] * a.bbox[3])));
        faces.push((id.to_string(), frame, dets.swap_remove(0)));
    }
    let variants: [Variant; 5] = [
        ("5-point ArcFace (shipped)", five_point),
        ("5-point ArcFace + mirror", five_point_mirror),
        ("5 points from face mesh", mesh_five_point),
        ("2-point (eyes only)", eyes_only),
        ("box crop, eye-levelled", box_crop),
    ];
    println!(
        "{} photos; similarity = cosine of L2-normalised MobileFaceNet embeddings",
        faces.len()
    );
    println!(
        "{:<26} {:>9} {:>9} {:>9} {:>9} {:>7} {:>12}",
        "alignment", "gen min", "gen mean", "imp max", "imp mean", "gap", "TAR@FAR=0"
    );
    for (name, f) in variants {
        let emb: Vec<(String, Vec<f32>)> = faces
            .iter()
            .map(|(id, fr, d)| (id.clone(), f(&pipeline, fr, d)))
            .collect();
        let (mut gen, mut imp) = (Vec::new(), Vec::new());
        for i in 0..emb.len() {
            for j in i + 1..emb.len() {
                let s = cosine(&emb[i].1, &emb[j].1);
                if emb[i].0 == emb[j].0 {
                    gen.push(s)
                } else {
                    imp.push(s)
                }
            }
        }
        let max_imp = imp.iter().copied().fold(f32::MIN, f32::max);
        let min_gen = gen.iter().copied().fold(f32::MAX, f32::min);
        let tar = gen.iter().filter(|s| **s > max_imp).count() as f32 / gen.len() as f32;
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        println!(
            "{name:<26} {min_gen:>9.3} {:>9.3} {max_imp:>9.3} {:>9.3} {:>7.3} {:>11.1}%",
            mean(&gen),
            mean(&imp),
            min_gen - max_imp,
            100.0 * tar
        );
    }
}
