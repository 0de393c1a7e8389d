//! `fio-eval eval` on the labelled fetched photos, `fio-eval recognition` on the hard-face
//! validation/test set, and both on malformed label files.

#[path = "../../../fio-cli/tests/common/mod.rs"]
mod common;
use common::{assert_fails, fio_eval, json, repo_path, temp_file};

#[test]
fn eval_on_the_labelled_photos_has_no_false_accepts() {
    let labels = repo_path("fixtures/labels.csv");
    let report = json(&fio_eval(&["eval", labels.to_str().unwrap(), "--json"]));
    assert_eq!(report["failed"].as_array().unwrap().len(), 0, "{report}");
    assert_eq!(report["false_accepts"], 0, "{report}");
    assert!(
        report["genuine_accept_rate"].as_f64().unwrap() >= 0.95,
        "{report}"
    );
    assert!(report["impostor"]["pairs"].as_u64().unwrap() > 500);
}

#[test]
fn malformed_labels_csv_is_refused() {
    let (_d, p) = temp_file(
        "labels.csv",
        b"file,identity\njust-a-file-without-identity\n",
    );
    assert_fails(
        &fio_eval(&["eval", p.to_str().unwrap()]),
        1,
        "expected `file,identity`",
    );
    let (_d2, empty) = temp_file("empty.csv", b"file,identity\n");
    assert_fails(
        &fio_eval(&["eval", empty.to_str().unwrap()]),
        1,
        "no labelled images",
    );
}

#[test]
fn hard_faces_report_every_condition_with_no_false_accepts_at_the_shipped_threshold() {
    let csv = repo_path("fixtures/recognition.csv");
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("h.svg");
    let report = json(&fio_eval(&[
        "recognition",
        csv.to_str().unwrap(),
        svg.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(report["no_face"].as_array().unwrap().len(), 0, "{report}");
    assert_eq!(report["identities_enrolled"], 8);
    assert_eq!(report["strangers"], 14);
    let shipped = &report["candidates"][0];
    assert_eq!(shipped["candidate"], "shipped");
    assert_eq!(shipped["fusion"], "mean");
    for (split, genuine) in [("validation", 56), ("test", 55)] {
        let rows = shipped["splits"][split].as_array().unwrap();
        let conditions: Vec<&str> = rows
            .iter()
            .map(|r| r["condition"].as_str().unwrap())
            .collect();
        for c in ["neutral", "expression", "occlusion", "pose", "small", "all"] {
            assert!(conditions.contains(&c), "{split} lacks {c}: {conditions:?}");
        }
        let all = rows.last().unwrap();
        assert_eq!(all["genuine_pairs"], genuine, "{split}: {all}");
        assert_eq!(all["false_accepts"], 0, "{split}: {all}");
        assert!(all["impostor_pairs"].as_u64().unwrap() > 300, "{all}");
    }
    let names: Vec<String> = report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}/{}",
                c["candidate"].as_str().unwrap(),
                c["fusion"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        names.contains(&"mesh-points/max-of-frames".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&"faceres/mean".to_string()), "{names:?}");
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.starts_with("<svg") && picture.contains("genuine pairs, test split"));
}

#[test]
fn malformed_recognition_csv_is_refused() {
    let (_d, p) = temp_file(
        "r.csv",
        b"file,identity,role,condition,split\na.png,x,enroll,neutral,both\nb.png,x,probe,sleepy,test\n",
    );
    assert_fails(
        &fio_eval(&["recognition", p.to_str().unwrap()]),
        1,
        "condition must be one of",
    );
    let (_d2, missing) = temp_file(
        "m.csv",
        b"file,identity,role,condition,split\nnope.png,x,enroll,neutral,both\nb.png,x,probe,neutral,test\n",
    );
    assert_fails(
        &fio_eval(&["recognition", missing.to_str().unwrap()]),
        1,
        "nope.png",
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_fails(&fio_eval(&["recognition"]), 2, "RECOGNITION.csv");
    assert_fails(&fio_eval(&[]), 2, "usage");
    assert_fails(&fio_eval(&["analyze", "x.jpg"]), 2, "unknown command");
    assert_fails(&fio_eval(&["eval"]), 2, "one LABELS.csv");
    assert_fails(
        &fio_eval(&["eval", "--points", "x.csv"]),
        2,
        "unknown option",
    );
}

/// A few rows of the recognition set (two enrolled people, each probed in both splits, and a
/// stranger), with absolute paths so the CSV can live in a temp dir.
fn small_recognition_csv(dir: &std::path::Path) -> std::path::PathBuf {
    let full = std::fs::read_to_string(repo_path("fixtures/recognition.csv")).unwrap();
    let data = repo_path("fixtures");
    let mut taken: Vec<(String, String, String)> = Vec::new();
    let mut out = String::from("file,identity,role,condition,split\n");
    for line in full.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if !["franck", "cap_man", "rihanna", "bill_murray"].contains(&f[1]) || f.len() > 5 {
            continue;
        }
        let key = (f[1].to_string(), f[2].to_string(), f[4].to_string());
        if taken.contains(&key) {
            continue;
        }
        taken.push(key);
        out.push_str(&format!(
            "{},{}\n",
            data.join(f[0]).display(),
            f[1..].join(",")
        ));
    }
    let p = dir.join("small.csv");
    std::fs::write(&p, out).unwrap();
    p
}

#[test]
fn external_embeddings_of_the_shipped_crops_score_exactly_as_the_shipped_row() {
    let dir = tempfile::tempdir().unwrap();
    let csv = small_recognition_csv(dir.path());
    let crops = dir.path().join("crops");
    let out = fio_eval(&[
        "recognition-crops",
        csv.to_str().unwrap(),
        crops.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(crops.join("rows.json")).unwrap()).unwrap();
    assert!(rows.len() >= 8, "{rows:?}");
    // Every row has its four crops at their sizes; the arcface one is what the product embeds:
    // run the shipped embedder on it, hand it back as an "external" embedder, and the scores
    // must be the shipped row's.
    let files = fio_vision::ModelFiles::from_dir(&repo_path("models")).unwrap();
    let pipeline =
        fio_vision::Pipeline::load(&files, fio_vision::pipeline::WEBCAM_DETECTOR_SIZE).unwrap();
    let embedder = pipeline.embedder().unwrap();
    let mut embeddings = Vec::new();
    for r in &rows {
        let crop = |kind: &str| {
            fio_cli::image_io::read_frame(&crops.join(r[kind].as_str().unwrap())).unwrap()
        };
        for (kind, side) in [
            ("arcface", 112),
            ("mesh", 112),
            ("dlib", 150),
            ("attribute", 224),
        ] {
            let c = crop(kind);
            assert_eq!((c.width(), c.height()), (side, side), "{kind} of {r}");
        }
        embeddings.push(embedder.embed(crop("arcface").rgb()).unwrap());
    }
    let ext = serde_json::json!({"name": "shipped, handed back", "embeddings": embeddings});
    std::fs::write(
        crops.join("x.embeddings.json"),
        serde_json::to_string(&ext).unwrap(),
    )
    .unwrap();
    let external = json(&fio_eval(&[
        "recognition-external",
        csv.to_str().unwrap(),
        crops.to_str().unwrap(),
        "--json",
    ]));
    let shipped = json(&fio_eval(&["recognition", csv.to_str().unwrap(), "--json"]));
    assert_eq!(external[0]["candidate"], "shipped, handed back");
    for split in ["validation", "test"] {
        let a = external[0]["splits"][split]
            .as_array()
            .unwrap()
            .last()
            .unwrap();
        let b = shipped["candidates"][0]["splits"][split]
            .as_array()
            .unwrap()
            .last()
            .unwrap();
        for k in [
            "genuine_pairs",
            "genuine_accepted",
            "impostor_pairs",
            "false_accepts",
        ] {
            assert_eq!(a[k], b[k], "{split} {k}: {a} vs {b}");
        }
        for k in ["max_impostor", "min_genuine"] {
            let (x, y) = (a[k].as_f64().unwrap(), b[k].as_f64().unwrap());
            assert!((x - y).abs() < 1e-6, "{split} {k}: {x} vs {y}");
        }
    }
}

#[test]
fn external_embeddings_that_do_not_fit_the_csv_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let csv = small_recognition_csv(dir.path());
    let n = std::fs::read_to_string(&csv).unwrap().lines().count() - 1;
    let run = |body: String| {
        let d = dir.path().join("ext");
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("c.embeddings.json"), body).unwrap();
        fio_eval(&[
            "recognition-external",
            csv.to_str().unwrap(),
            d.to_str().unwrap(),
        ])
    };
    let vecs = |k: usize, dim: usize| vec![vec![0.5f32; dim]; k];
    let too_few = serde_json::json!({"name": "c", "embeddings": vecs(n - 1, 4)});
    assert_fails(&run(too_few.to_string()), 1, "embeddings for");
    let mut ragged = vecs(n, 4);
    ragged[1] = vec![0.5; 3];
    let ragged = serde_json::json!({"name": "c", "embeddings": ragged});
    assert_fails(&run(ragged.to_string()), 1, "differ in length");
    let mut no_enroll: Vec<Option<Vec<f32>>> = vecs(n, 4).into_iter().map(Some).collect();
    no_enroll[0] = None;
    let no_enroll = serde_json::json!({"name": "c", "embeddings": no_enroll});
    assert_fails(
        &run(no_enroll.to_string()),
        1,
        "no embedding for enrollment",
    );
    assert_fails(&run("{\"name\": 3}".into()), 1, "not an embeddings file");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert_fails(
        &fio_eval(&[
            "recognition-external",
            csv.to_str().unwrap(),
            empty.to_str().unwrap(),
        ]),
        1,
        "no *.embeddings.json",
    );
    assert_fails(
        &fio_eval(&["recognition-crops", csv.to_str().unwrap()]),
        2,
        "OUT_DIR",
    );
}
