//! Measures how the crop around the detector box changes age/gender estimates on the labelled
//! fixtures (`fixtures/attributes.csv`: file, gender, approximate age when the photo was taken):
//! `cargo run --release -p fio-vision --example attributes`.

use fio_vision::align::face_crop;
use fio_vision::attributes::{Gender, ATTRIBUTE_SIZE};
use fio_vision::pipeline::PHOTO_DETECTOR_SIZE;
use fio_vision::{models, Frame, ModelFiles, Pipeline};

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let rows =
        std::fs::read_to_string(root.join("attributes.csv")).expect("fixtures/attributes.csv");
    let files = ModelFiles::from_dir(&models::repo_models_dir()).unwrap();
    let pipeline = Pipeline::load(&files, PHOTO_DETECTOR_SIZE).unwrap();
    let mut faces = Vec::new();
    for line in rows.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let img = image::open(root.join(cols[0])).unwrap().to_rgb8();
        let (w, h) = img.dimensions();
        let frame = Frame::from_rgb(w as usize, h as usize, img.into_raw()).unwrap();
        let mut dets = pipeline.detect(&frame).unwrap();
        dets.sort_by(|a, b| (b.bbox[2] * b.bbox[3]).total_cmp(&(a.bbox[2] * a.bbox[3])));
        let gender = if cols[1] == "male" {
            Gender::Male
        } else {
            Gender::Female
        };
        faces.push((
            frame,
            dets.swap_remove(0),
            gender,
            cols[2].parse::<f32>().unwrap(),
        ));
    }
    println!("{} labelled faces", faces.len());
    println!(
        "{:>7} {:>14} {:>14} {:>12}",
        "expand", "gender correct", "age MAE (yrs)", "age range"
    );
    for expand in [0.8f32, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0] {
        let (mut correct, mut abs_err, mut lo, mut hi) = (0, 0.0, f32::MAX, f32::MIN);
        for (frame, d, gender, age) in &faces {
            let crop = face_crop(frame, d.bbox, &d.landmarks, expand, ATTRIBUTE_SIZE);
            let a = pipeline.attributes().estimate(&crop).unwrap();
            correct += usize::from(a.gender == *gender);
            abs_err += (a.age - age).abs();
            lo = lo.min(a.age);
            hi = hi.max(a.age);
        }
        println!(
            "{expand:>7.1} {:>10}/{:<3} {:>14.1} {:>5.0}–{:<5.0}",
            correct,
            faces.len(),
            abs_err / faces.len() as f32,
            lo,
            hi
        );
    }
}
