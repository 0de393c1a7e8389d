//! Draws the face mesh on a photo, to check the crop and the point order by eye:
//! `cargo run --release -p fio-vision --example mesh_overlay -- IN.jpg OUT.png`.
//!
//! Every point is a grey dot; the points the cues read are coloured: eyes (EAR contour) green,
//! mouth red, face sides and forehead/chin blue, nose tip yellow, and the image-left eye's outer
//! corner (index 33) white.

use fio_vision::mesh::index;
use fio_vision::pipeline::PHOTO_DETECTOR_SIZE;
use fio_vision::{models, Frame, MeshCues, ModelFiles, Pipeline};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: mesh_overlay IN OUT.png");
        std::process::exit(2);
    };
    let mut img = image::open(input).expect("image").to_rgb8();
    let (w, h) = img.dimensions();
    let frame = Frame::from_rgb(w as usize, h as usize, img.clone().into_raw()).unwrap();
    let files = ModelFiles::from_dir(&models::repo_models_dir()).unwrap();
    let pipeline = Pipeline::load(&files, PHOTO_DETECTOR_SIZE).unwrap();
    let mut dot = |p: [f32; 3], c: [u8; 3], r: i32| {
        for dy in -r..=r {
            for dx in -r..=r {
                let (x, y) = (p[0].round() as i32 + dx, p[1].round() as i32 + dy);
                if x >= 0 && y >= 0 && (x as u32) < w && (y as u32) < h {
                    img.put_pixel(x as u32, y as u32, image::Rgb(c));
                }
            }
        }
    };
    for d in pipeline.detect(&frame).unwrap() {
        let mesh = pipeline.mesh(&frame, &d).unwrap();
        println!("{:?}", MeshCues::measure(&mesh, &frame));
        for &p in &mesh.points {
            dot(p, [160, 160, 160], 0);
        }
        let colour = |i: usize| mesh.points[i];
        for i in index::EYE_IMAGE_LEFT
            .into_iter()
            .chain(index::EYE_IMAGE_RIGHT)
        {
            dot(colour(i), [0, 255, 0], 1);
        }
        for i in index::MOUTH_CORNERS.into_iter().chain(index::INNER_LIPS) {
            dot(colour(i), [255, 0, 0], 1);
        }
        for i in index::FACE_SIDES
            .into_iter()
            .chain([index::FOREHEAD, index::CHIN])
        {
            dot(colour(i), [0, 0, 255], 2);
        }
        dot(colour(index::NOSE_TIP), [255, 255, 0], 2);
        dot(colour(33), [255, 255, 255], 2);
    }
    img.save(output).expect("write");
}
