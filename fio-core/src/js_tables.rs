//! The tables the JavaScript widget shares with fio-core, rendered as one ES module
//! (`js/generated/core-tables.js`), so that each rule lives once, here.
//!
//! The module is committed; a test (`cargo test -p fio-core js_tables`) fails when it differs
//! from [`render`], and rewrites it when `UPDATE_JS_TABLES=1` is set. Only data goes there: where
//! JS keeps logic of its own (the PIN check, locale resolution), golden vectors under
//! `tests/vectors/` hold both implementations to the same answers.

use std::fmt::Write as _;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::error_code::ErrorCode;
use crate::liveness::Thresholds;
use crate::locale::{DEFAULT_LOCALE, RTL_LANGUAGES, SUPPORTED_LOCALES};
use crate::params::{
    AuthenticateParams, EnrollParams, AUTHENTICATE_METHOD_ALIASES, ENROLL_METHOD_ALIASES,
};
use crate::pin::{PinPolicy, COMMON_PINS};
use crate::protocol::MAX_PAYLOAD_BYTES;

/// Path of the generated module, relative to the repository root.
pub const JS_TABLES_PATH: &str = "js/generated/core-tables.js";

/// FACEIO's codes as a name → number object, in numeric order (serialized straight from
/// [`ErrorCode::ALL`], so the order does not depend on how serde_json's `Map` is configured).
struct ErrorCodeTable;

impl Serialize for ErrorCodeTable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(ErrorCode::ALL.len()))?;
        for code in ErrorCode::ALL {
            map.serialize_entry(code.name(), &code.code())?;
        }
        map.end()
    }
}

/// Pretty JSON of a value. Serialized directly (no `serde_json::Value` in between), so struct
/// fields keep their declaration order whatever features unify serde_json in a workspace build.
fn json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("the tables serialize to JSON")
}

/// Renders `js/generated/core-tables.js`: one frozen export per table, every one of them flat
/// (numbers, strings, booleans and null inside), so `Object.freeze` makes it fully immutable.
/// The freezes are marked pure so bundlers drop the tables the widget does not use (the liveness
/// thresholds are for the tests; the wasm carries its own).
pub fn render() -> String {
    let mut out = String::from(
        "// Generated from fio-core by `cargo test -p fio-core` (fio-core/src/js_tables.rs): do not edit.\n\
         // Change the Rust source, then regenerate: UPDATE_JS_TABLES=1 cargo test -p fio-core js_tables\n",
    );
    let mut table = |doc: &str, name: &str, value: String| {
        let frozen = if value.starts_with(['{', '[']) {
            format!("/* @__PURE__ */ Object.freeze({value})")
        } else {
            value
        };
        write!(out, "\n/** {doc} */\nexport const {name} = {frozen};\n").expect("String write");
    };
    table(
        "FACEIO's error codes (fioErrCode.*), numbered and spelled as fio.js has them (fio_core::ErrorCode).",
        "ERROR_CODES",
        json(&ErrorCodeTable),
    );
    table(
        "enroll() parameters and their defaults (fio_core::params::EnrollParams; timeouts in seconds, termsTimeout in minutes).",
        "ENROLL_DEFAULTS",
        json(&EnrollParams::default()),
    );
    table(
        "authenticate() parameters and their defaults (fio_core::params::AuthenticateParams).",
        "AUTHENTICATE_DEFAULTS",
        json(&AuthenticateParams::default()),
    );
    table(
        "Largest enroll() payload, bytes of compact UTF-8 JSON (fio_core::MAX_PAYLOAD_BYTES).",
        "MAX_PAYLOAD_BYTES",
        json(&MAX_PAYLOAD_BYTES),
    );
    table(
        "Method names fio.js accepts for enroll() (fio_core::params::ENROLL_METHOD_ALIASES).",
        "ENROLL_ALIASES",
        json(&ENROLL_METHOD_ALIASES),
    );
    table(
        "Method names fio.js accepts for authenticate() (fio_core::params::AUTHENTICATE_METHOD_ALIASES).",
        "AUTHENTICATE_ALIASES",
        json(&AUTHENTICATE_METHOD_ALIASES),
    );
    table(
        "The PIN policy an application gets unless it sets its own (fio_core::PinPolicy::default()).",
        "DEFAULT_PIN_POLICY",
        json(&PinPolicy::default()),
    );
    table(
        "PINs rejected as too common when the policy rejects weak PINs (fio_core::pin::COMMON_PINS).",
        "COMMON_PINS",
        json(COMMON_PINS),
    );
    table(
        "Languages the widget is translated into, BCP 47 primary subtags (fio_core::locale::SUPPORTED_LOCALES).",
        "SUPPORTED_LOCALES",
        json(&SUPPORTED_LOCALES),
    );
    table(
        "The fallback language (fio_core::locale::DEFAULT_LOCALE).",
        "DEFAULT_LOCALE",
        json(DEFAULT_LOCALE),
    );
    table(
        "Right-to-left primary subtags (fio_core::locale::RTL_LANGUAGES).",
        "RTL_LANGUAGES",
        json(&RTL_LANGUAGES),
    );
    table(
        "The shipped liveness thresholds (fio_core::liveness::Thresholds::DEFAULT).",
        "LIVENESS_THRESHOLDS",
        json(&Thresholds::DEFAULT),
    );
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// The committed module must be what [`render`] produces; `UPDATE_JS_TABLES=1` rewrites it.
    #[test]
    fn committed_module_is_current() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(JS_TABLES_PATH);
        let want = render();
        if std::env::var_os("UPDATE_JS_TABLES").is_some_and(|v| v == "1") {
            std::fs::create_dir_all(path.parent().expect("path has a parent"))
                .expect("create js/generated");
            std::fs::write(&path, &want).expect("write the generated module");
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{JS_TABLES_PATH} is not what fio-core renders; regenerate it with \
             UPDATE_JS_TABLES=1 cargo test -p fio-core js_tables (and commit it)"
        );
    }

    #[test]
    fn module_holds_every_table_as_data() {
        let js = render();
        assert!(js.starts_with("// Generated from fio-core"));
        assert!(js.contains("\"FORBIDDDEN_ORIGIN\": 17"));
        assert!(js.contains("\"MINORS_NOT_ALLOWED\": 22"));
        // Numeric order, as fio.js lists them (not serde_json's sorted map order).
        assert!(js.find("\"PERMISSION_REFUSED\"") < js.find("\"FACE_MISMATCH\""));
        assert!(js.contains("\"termsTimeout\": 10.0"));
        assert!(js.contains("export const MAX_PAYLOAD_BYTES = 16384;"));
        assert!(js.contains("export const DEFAULT_LOCALE = \"en\";"));
        assert!(js.contains("\"turnYawDeg\": 10.0"));
        assert!(js.contains("\"blinkClosedRatio\": 0.8"));
        assert!(js.contains("\"rejectWeak\": true"));
        // Data only: no code besides the freezing.
        assert!(!js.contains("function"));
        assert!(!js.contains("import"));
        let exports = js.matches("\nexport const ").count();
        assert_eq!(exports, 12);
        assert_eq!(js.matches("Object.freeze(").count(), 10);
    }
}
