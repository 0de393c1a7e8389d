//! `fio-eval eval` on the labelled fetched photos, and on malformed label files.

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
fn usage_errors_exit_2() {
    assert_fails(&fio_eval(&[]), 2, "usage");
    assert_fails(&fio_eval(&["analyze", "x.jpg"]), 2, "unknown command");
    assert_fails(&fio_eval(&["eval"]), 2, "one LABELS.csv");
    assert_fails(
        &fio_eval(&["eval", "--points", "x.csv"]),
        2,
        "unknown option",
    );
}
