//! Widget interaction languages and their resolution from parameters and browser settings.

/// Languages the widget is translated into (BCP 47 primary subtags).
pub const SUPPORTED_LOCALES: [&str; 7] = ["en", "es", "fr", "de", "pt", "ar", "ja"];

/// Fallback language (FACEIO falls back to US English).
pub const DEFAULT_LOCALE: &str = "en";

/// Right-to-left primary subtags (only `ar` is supported today; the rest keep `is_rtl` honest).
pub const RTL_LANGUAGES: [&str; 4] = ["ar", "he", "fa", "ur"];

/// Lowercased primary subtag: `pt-BR` → `pt`, `en_US` → `en`.
fn primary_subtag(tag: &str) -> String {
    tag.trim()
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The supported locale for a language tag, if any.
pub fn supported_locale(tag: &str) -> Option<&'static str> {
    let primary = primary_subtag(tag);
    SUPPORTED_LOCALES.into_iter().find(|l| *l == primary)
}

/// Resolves the widget language: an explicit supported code wins; `auto` (or empty) takes the
/// first supported browser language, then the application's default locale when it is supported;
/// anything else falls back to [`DEFAULT_LOCALE`], as FACEIO does for unsupported explicit codes.
///
/// The widget's twin (js/locales/index.js `resolveLocale`) is held to the same answers by the
/// golden vectors in `tests/vectors/locale.json`.
pub fn resolve_locale(
    requested: &str,
    browser_langs: &[String],
    app_default: &str,
) -> &'static str {
    let requested = requested.trim();
    if requested.is_empty() || requested.eq_ignore_ascii_case("auto") {
        return browser_langs
            .iter()
            .find_map(|l| supported_locale(l))
            .or_else(|| supported_locale(app_default))
            .unwrap_or(DEFAULT_LOCALE);
    }
    supported_locale(requested).unwrap_or(DEFAULT_LOCALE)
}

/// True for right-to-left languages.
pub fn is_rtl(locale: &str) -> bool {
    RTL_LANGUAGES.contains(&primary_subtag(locale).as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    // resolve_locale's cases are the golden vectors (tests/vectors/locale.json, fio-core/tests/rule_vectors.rs),
    // which the widget's resolver is checked against too.

    #[test]
    fn rtl() {
        assert!(is_rtl("ar"));
        assert!(is_rtl("ar-SA"));
        assert!(!is_rtl("en"));
        assert!(SUPPORTED_LOCALES
            .iter()
            .filter(|l| is_rtl(l))
            .eq(["ar"].iter()));
    }
}
