//! Helpers shared by the integration tests of the `fio` and `fio-eval` binaries (fio-eval's
//! tests include this file by path).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A path below the repository root that must exist (fixtures come from `fixtures/fetch.sh`).
pub fn repo_path(rel: &str) -> PathBuf {
    // The workspace root is the crate's nearest ancestor with the Cargo.lock.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|d| d.join("Cargo.lock").exists())
        .expect("workspace root above the crate");
    let p = root.join(rel);
    assert!(
        p.exists(),
        "{} missing: run `bash fixtures/fetch.sh`",
        p.display()
    );
    p
}

/// Runs the binary `bin` with `args`.
fn run(bin: Option<&str>, name: &str, args: &[&str]) -> Output {
    let bin = bin.unwrap_or_else(|| panic!("the {name} binary is not built for these tests"));
    Command::new(bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e}"))
}

/// Runs the `fio` binary built for this test run (fio-cli's tests only).
pub fn fio(args: &[&str]) -> Output {
    run(option_env!("CARGO_BIN_EXE_fio"), "fio", args)
}

/// Runs the `fio-eval` binary built for this test run (fio-eval's tests only).
pub fn fio_eval(args: &[&str]) -> Output {
    run(option_env!("CARGO_BIN_EXE_fio-eval"), "fio-eval", args)
}

/// The command's stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the command exited with `code`, named the problem (`needle`) on stderr and did not
/// panic.
pub fn assert_fails(o: &Output, code: i32, needle: &str) {
    assert_eq!(o.status.code(), Some(code), "stderr: {}", stderr(o));
    assert!(
        stderr(o).contains(needle),
        "expected {needle:?} in: {}",
        stderr(o)
    );
    assert!(!stderr(o).contains("panicked"), "{}", stderr(o));
}

/// The command's stdout parsed as JSON, after asserting it succeeded.
pub fn json(o: &Output) -> Value {
    assert!(o.status.success(), "command failed: {}", stderr(o));
    serde_json::from_slice(&o.stdout).expect("JSON on stdout")
}

/// A file `name` holding `bytes` in a fresh temporary directory (removed when the guard drops).
pub fn temp_file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    (dir, p)
}
