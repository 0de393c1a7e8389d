//! Widget interaction languages and their resolution from parameters and browser settings.

/// Languages the widget is translated into (BCP 47 primary subtags).
pub const SUPPORTED_LOCALES: [&str; 7] = ["en", "es", "fr", "de", "pt", "ar", "ja"];

/// Fallback language (FACEIO falls back to US English).
pub const DEFAULT_LOCALE: &str = "en";

/// Right-to-left primary subtags (only `ar` is supported today; the rest keep `is_rtl` honest).
const RTL_LANGUAGES: [&str; 4] = ["ar", "he", "fa", "ur"];

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
/// first supported browser language; anything else falls back to [`DEFAULT_LOCALE`], as FACEIO
/// does for unsupported explicit codes.
pub fn resolve_locale(requested: &str, browser_langs: &[String]) -> &'static str {
    let requested = requested.trim();
    if requested.is_empty() || requested.eq_ignore_ascii_case("auto") {
        return browser_langs
            .iter()
            .find_map(|l| supported_locale(l))
            .unwrap_or(DEFAULT_LOCALE);
    }
    supported_locale(requested).unwrap_or(DEFAULT_LOCALE)
}

/// True for right-to-left languages.
pub fn is_rtl(locale: &str) -> bool {
    RTL_LANGUAGES.contains(&primary_subtag(locale).as_str())
}

/// Language tags from an `Accept-Language` header, most preferred first (q=0 and `*` dropped).
pub fn parse_accept_language(header: &str) -> Vec<String> {
    let mut tags: Vec<(String, f32)> = header
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (!tag.is_empty() && tag != "*" && q > 0.0).then(|| (tag.to_owned(), q))
        })
        .collect();
    // Stable sort keeps header order among equal weights.
    tags.sort_by(|a, b| b.1.total_cmp(&a.1));
    tags.into_iter().map(|(t, _)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn langs(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn explicit_locale() {
        assert_eq!(resolve_locale("fr", &[]), "fr");
        assert_eq!(resolve_locale("pt-BR", &[]), "pt");
        assert_eq!(resolve_locale("JA", &[]), "ja");
        assert_eq!(resolve_locale("zh", &langs(&["fr"])), "en");
    }

    #[test]
    fn auto_uses_browser_languages() {
        assert_eq!(
            resolve_locale("auto", &langs(&["zh-CN", "de-DE", "fr"])),
            "de"
        );
        assert_eq!(resolve_locale("", &langs(&["ar_EG"])), "ar");
        assert_eq!(resolve_locale("AUTO", &langs(&["zh", "ko"])), "en");
        assert_eq!(resolve_locale("auto", &[]), "en");
    }

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

    #[test]
    fn accept_language_header() {
        assert_eq!(
            parse_accept_language("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5"),
            langs(&["fr-CH", "fr", "en", "de"])
        );
        assert_eq!(parse_accept_language("en;q=0.1, ja"), langs(&["ja", "en"]));
        assert_eq!(
            parse_accept_language("es;q=0, pt;q=abc, de"),
            langs(&["de"])
        );
        assert!(parse_accept_language("").is_empty());
        let header = parse_accept_language("zh-TW,zh;q=0.9,es;q=0.8");
        assert_eq!(resolve_locale("auto", &header), "es");
    }
}
