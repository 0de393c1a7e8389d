//! The pipeline on real photos fetched from registry packages (see fixtures/README.md).

mod common;

use common::{csv, frame, pipeline};
use fio_core::decision::MIN_DETECTION_SCORE;
use fio_core::matching::MATCH_THRESHOLD;
use fio_vision::attributes::Gender;
use fio_vision::embed::cosine;
use fio_vision::FaceAnalysis;

fn confident_faces(rel: &str) -> Vec<FaceAnalysis> {
    pipeline()
        .analyze(&frame(rel), usize::MAX)
        .unwrap()
        .into_iter()
        .filter(|f| f.score >= MIN_DETECTION_SCORE)
        .collect()
}

#[test]
fn every_labelled_portrait_has_one_face_with_sane_outputs() {
    for row in csv("labels.csv") {
        let faces = confident_faces(&row[0]);
        assert!(!faces.is_empty(), "{}: no face found", row[0]);
        let f = &faces[0];
        let norm: f32 = f.embedding.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!(
            (norm - 1.0).abs() < 1e-4,
            "{}: embedding norm {norm}",
            row[0]
        );
        for s in [f.liveness.antispoof, f.liveness.liveness] {
            assert!((0.0..=1.0).contains(&s), "{}: liveness score {s}", row[0]);
        }
        let age = f.attributes.as_ref().expect("every stage is loaded").age;
        assert!((1.0..100.0).contains(&age), "{}: age {age}", row[0]);
        let [x, y, w, h] = f.bbox;
        for [lx, ly] in f.landmarks {
            assert!(
                lx >= x - 0.1 * w && lx <= x + 1.1 * w && ly >= y - 0.1 * h && ly <= y + 1.1 * h,
                "{}: landmark outside box",
                row[0]
            );
        }
        // Image-left eye is left of the image-right eye, eyes above the mouth.
        assert!(
            f.landmarks[0][0] < f.landmarks[1][0] && f.landmarks[0][1] < f.landmarks[3][1],
            "{}: landmark order",
            row[0]
        );
        assert!(
            f.quality.alignment_residual < 10.0,
            "{}: residual {}",
            row[0],
            f.quality.alignment_residual
        );
    }
}

#[test]
fn images_without_people_have_no_faces() {
    let mut checked = 0;
    for row in csv("nofaces.csv") {
        if row[2] != "0" {
            continue;
        }
        let faces = confident_faces(&row[0]);
        assert!(
            faces.is_empty(),
            "{} ({}): found {} face(s), best score {}",
            row[0],
            row[1],
            faces.len(),
            faces[0].score
        );
        checked += 1;
    }
    assert!(
        checked > 0,
        "nofaces.csv lists no image that must have zero faces"
    );
}

#[test]
fn group_photos_have_several_faces() {
    let groups = csv("groups.csv");
    assert!(!groups.is_empty());
    for row in groups {
        let min: usize = row[1].parse().unwrap();
        let n = confident_faces(&row[0]).len();
        assert!(n >= min, "{}: {n} faces, expected at least {min}", row[0]);
    }
}

#[test]
fn same_person_above_threshold_different_people_below() {
    let rows = csv("labels.csv");
    let emb: Vec<(String, String, Vec<f32>)> = rows
        .iter()
        .map(|r| {
            (
                r[0].clone(),
                r[1].clone(),
                confident_faces(&r[0]).swap_remove(0).embedding,
            )
        })
        .collect();
    let (mut genuine, mut accepted, mut impostor) = (0, 0, 0);
    for i in 0..emb.len() {
        for j in i + 1..emb.len() {
            let s = cosine(&emb[i].2, &emb[j].2);
            if emb[i].1 == emb[j].1 {
                genuine += 1;
                accepted += usize::from(s >= MATCH_THRESHOLD);
            } else {
                impostor += 1;
                assert!(
                    s < MATCH_THRESHOLD,
                    "false accept: {} ~ {} = {s}",
                    emb[i].0,
                    emb[j].0
                );
            }
        }
    }
    assert!(genuine > 0 && impostor > 0);
    assert!(
        accepted * 100 >= genuine * 95,
        "only {accepted}/{genuine} genuine pairs accepted"
    );
}

#[test]
fn mirrored_photo_keeps_identity() {
    let row = &csv("labels.csv")[0];
    let f = frame(&row[0]);
    let a = pipeline().analyze(&f, 1).unwrap().swap_remove(0);
    let b = pipeline().analyze(&f.flipped(), 1).unwrap().swap_remove(0);
    assert!(cosine(&a.embedding, &b.embedding) > 0.9);
}

#[test]
fn age_and_gender_are_plausible_on_labelled_portraits() {
    let rows = csv("attributes.csv");
    let (mut gender_right, mut worst_age_error, mut total_age_error) = (0, 0.0f32, 0.0f32);
    for row in &rows {
        let f = confident_faces(&row[0]).swap_remove(0);
        let expected = if row[1] == "male" {
            Gender::Male
        } else {
            Gender::Female
        };
        let a = f.attributes.expect("every stage is loaded");
        gender_right += usize::from(a.gender == expected);
        let approx_age: f32 = row[2].parse().unwrap();
        let err = (a.age - approx_age).abs();
        eprintln!(
            "{}: {:?} {:.0} (label {approx_age})",
            row[0], a.gender, a.age
        );
        worst_age_error = worst_age_error.max(err);
        total_age_error += err;
    }
    let mae = total_age_error / rows.len() as f32;
    eprintln!(
        "age MAE {mae:.2} y, worst {worst_age_error:.1} y; gender right {gender_right}/{}",
        rows.len()
    );
    // Measured with faceres: 25/25 genders right; age MAE 5.2 years against labels that are
    // themselves only ±10 years, worst 13.
    assert!(
        gender_right * 100 >= rows.len() * 90,
        "gender right for {gender_right}/{}",
        rows.len()
    );
    assert!(mae <= 8.0, "age MAE {mae}");
    assert!(
        worst_age_error <= 20.0,
        "an age estimate is {worst_age_error} years off"
    );
}

#[test]
fn faceres_descriptor_is_unit_length_and_tells_people_apart() {
    use fio_vision::attributes::{attribute_crop, FACERES_DESCRIPTOR_DIM};
    use fio_vision::detect::{confident_faces, Detection};
    let describe = |rel: &str| {
        let f = frame(rel);
        let d: Detection = confident_faces(pipeline().detect(&f).unwrap()).swap_remove(0);
        let crop = attribute_crop(&f, &d);
        pipeline().attributes().unwrap().descriptor(&crop).unwrap()
    };
    let a = describe("data/face_recognition/obama.jpg");
    let b = describe("data/face_recognition/obama2.jpg");
    let other = describe("data/face_recognition/biden.jpg");
    assert_eq!(a.len(), FACERES_DESCRIPTOR_DIM);
    let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    let (same, diff) = (cosine(&a, &b), cosine(&a, &other));
    assert!(same > diff, "same person {same:.3}, other person {diff:.3}");
}
