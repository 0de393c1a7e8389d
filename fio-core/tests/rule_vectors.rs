//! Golden vectors shared with the widget: the rules JS keeps as code of its own (the PIN check,
//! locale resolution) answer these files exactly as fio-core does. The same files are run
//! against js/params.js and js/locales/index.js by tests/package/core-tables.test.mjs.

use std::path::PathBuf;

use fio_core::locale::{is_rtl, resolve_locale, DEFAULT_LOCALE};
use fio_core::pin::{validate_pin, PinPolicy, PinProblem};
use fio_core::Error;
use serde::Deserialize;

fn load<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

#[derive(Deserialize)]
struct PinVectors {
    vectors: Vec<PinVector>,
}

#[derive(Deserialize)]
struct PinVector {
    pin: String,
    policy: Option<PinPolicy>,
    problem: Option<String>,
}

/// The widget's name of a problem (js/params.js `pinProblem`).
fn problem_name(p: PinProblem) -> &'static str {
    match p {
        PinProblem::NotDigits => "notDigits",
        PinProblem::TooShort(_) => "tooShort",
        PinProblem::TooLong(_) => "tooLong",
        PinProblem::Weak => "weak",
        other => panic!("PinProblem {other:?} has no name in the widget yet"),
    }
}

#[test]
fn pin_vectors() {
    let file: PinVectors = load("pin.json");
    assert!(file.vectors.len() >= 40, "the PIN vectors are all there");
    let mut problems = std::collections::BTreeSet::new();
    for v in &file.vectors {
        let policy = v.policy.unwrap_or_default();
        let got = match validate_pin(&v.pin, &policy) {
            Ok(()) => None,
            Err(Error::InvalidPin(p)) => Some(problem_name(p)),
            Err(e) => panic!("{:?}: unexpected {e:?}", v.pin),
        };
        assert_eq!(
            got,
            v.problem.as_deref(),
            "pin {:?} policy {policy:?}",
            v.pin
        );
        problems.insert(got);
    }
    // Every outcome is exercised.
    assert_eq!(problems.len(), 5, "{problems:?}");
}

#[derive(Deserialize)]
struct LocaleVectors {
    resolve: Vec<ResolveVector>,
    rtl: Vec<RtlVector>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResolveVector {
    requested: String,
    browser: Vec<String>,
    app_default: Option<String>,
    expected: String,
}

#[derive(Deserialize)]
struct RtlVector {
    locale: String,
    rtl: bool,
}

#[test]
fn locale_vectors() {
    let file: LocaleVectors = load("locale.json");
    assert!(file.resolve.len() >= 15 && file.rtl.len() >= 5);
    for v in &file.resolve {
        let app_default = v.app_default.as_deref().unwrap_or(DEFAULT_LOCALE);
        assert_eq!(
            resolve_locale(&v.requested, &v.browser, app_default),
            v.expected,
            "requested {:?}, browser {:?}, app default {app_default:?}",
            v.requested,
            v.browser
        );
    }
    for v in &file.rtl {
        assert_eq!(is_rtl(&v.locale), v.rtl, "{:?}", v.locale);
    }
}
