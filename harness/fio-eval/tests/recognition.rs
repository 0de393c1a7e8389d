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
