//! Helpers shared by the `fio` binary's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A path below the repository root that must exist (fixtures come from `fixtures/fetch.sh`).
pub fn repo_path(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    assert!(
        p.exists(),
        "{} missing: run `bash fixtures/fetch.sh`",
        p.display()
    );
    p
}

/// Runs the `fio` binary built for this test run.
pub fn fio(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fio"))
        .args(args)
        .output()
        .expect("run fio")
}

/// The command's stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts `fio` exited with `code`, named the problem (`needle`) on stderr and did not panic.
pub fn assert_fails(o: &Output, code: i32, needle: &str) {
    assert_eq!(o.status.code(), Some(code), "stderr: {}", stderr(o));
    assert!(
        stderr(o).contains(needle),
        "expected {needle:?} in: {}",
        stderr(o)
    );
    assert!(!stderr(o).contains("panicked"), "{}", stderr(o));
}
