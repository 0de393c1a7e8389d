//! Measures age/gender estimates on the labelled fixtures (`fixtures/attributes.csv`: file,
//! gender, approximate age when the photo was taken) for both attribute models and several crop
//! sizes: `cargo run --release -p fio-vision --example attributes`.

use fio_vision::align::face_crop;
use fio_vision::attributes::{
    Attributes, FaceRes, Gender, SmallAttributeModels, AGE_MODEL, FACERES_MODEL, FACERES_SIZE,
    GENDER_MODEL, SMALL_ATTRIBUTE_SIZE,
};
use fio_vision::detect::{Detection, Detector};
use fio_vision::pipeline::PHOTO_DETECTOR_SIZE;
use fio_vision::{models, Frame, ModelFiles};

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let rows =
        std::fs::read_to_string(root.join("attributes.csv")).expect("fixtures/attributes.csv");
    let names = ["retinaface_mnet025", FACERES_MODEL, AGE_MODEL, GENDER_MODEL];
    let files = ModelFiles::from_dir_named(&models::repo_models_dir(), &names).unwrap();
    let detector = Detector::load(files.get(names[0]).unwrap(), PHOTO_DETECTOR_SIZE).unwrap();
    let faceres = FaceRes::load(files.get(FACERES_MODEL).unwrap()).unwrap();
    let small = SmallAttributeModels::load(
        files.get(AGE_MODEL).unwrap(),
        files.get(GENDER_MODEL).unwrap(),
    )
    .unwrap();
    let mut faces: Vec<(Frame, Detection, Gender, f32)> = Vec::new();
    for line in rows.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let img = image::open(root.join(cols[0])).unwrap().to_rgb8();
        let (w, h) = img.dimensions();
        let frame = Frame::from_rgb(w as usize, h as usize, img.into_raw()).unwrap();
        let mut dets = detector.detect(&frame).unwrap();
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
    println!(
        "{} labelled faces; age error against rough labels (±10 y)",
        faces.len()
    );
    println!(
        "{:<10} {:>7} {:>14} {:>9} {:>9} {:>12}",
        "model", "expand", "gender right", "age MAE", "worst", "age range"
    );
    type Estimate<'a> = Box<dyn Fn(&Frame, &Detection, f32) -> Attributes + 'a>;
    let models: [(&str, Estimate); 2] = [
        (
            "faceres",
            Box::new(|f, d, e| {
                faceres
                    .estimate(&face_crop(f, d.bbox, &d.landmarks, e, FACERES_SIZE))
                    .unwrap()
            }),
        ),
        (
            "ssr-net",
            Box::new(|f, d, e| {
                small
                    .estimate(&face_crop(f, d.bbox, &d.landmarks, e, SMALL_ATTRIBUTE_SIZE))
                    .unwrap()
            }),
        ),
    ];
    for (name, estimate) in &models {
        for expand in [1.0f32, 1.2, 1.4, 1.6, 1.8, 2.0] {
            let (mut correct, mut abs_err, mut worst, mut lo, mut hi) =
                (0, 0.0, 0.0f32, f32::MAX, f32::MIN);
            for (frame, d, gender, age) in &faces {
                let a = estimate(frame, d, expand);
                correct += usize::from(a.gender == *gender);
                abs_err += (a.age - age).abs();
                worst = worst.max((a.age - age).abs());
                lo = lo.min(a.age);
                hi = hi.max(a.age);
            }
            let n = faces.len();
            println!("{name:<10} {expand:>7.1} {correct:>10}/{n:<3} {:>9.1} {worst:>9.1} {lo:>5.0}–{hi:<5.0}", abs_err / n as f32);
        }
    }
}
