//! The widget API's admission rules: origin, country and client IP (pure, unit-tested).

use fio_core::ErrorCode;

use crate::app_config::AppOptions;

/// Normalises an `allowedOrigins` entry to a lower-case host pattern: `example.com`,
/// `*.example.com` or `*`. Accepts full origins (`https://example.com:8443/`) and drops scheme,
/// port and path: rules match hosts.
pub fn normalize_origin_rule(rule: &str) -> Option<String> {
    let r = rule.trim().to_ascii_lowercase();
    let r = r.split_once("://").map_or(r.as_str(), |(_, rest)| rest);
    let r = r.split('/').next().unwrap_or_default();
    let host = match r.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => r,
    };
    if host == "*" {
        return Some(host.to_owned());
    }
    let bare = host.strip_prefix("*.").unwrap_or(host);
    let ok = !bare.is_empty()
        && bare.len() <= 253
        && bare
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !bare.starts_with('.')
        && !bare.ends_with('.');
    ok.then(|| host.to_owned())
}

/// Host of an origin or URL string (`https://a.example.com:8443/x` → `a.example.com`).
fn url_host(s: &str) -> Option<String> {
    let u = worker::Url::parse(s.trim()).ok()?;
    u.host_str()
        .filter(|h| !h.is_empty())
        .map(|h| h.to_ascii_lowercase())
}

/// The requesting page's host: from `Origin`, else from `Referer`. `Origin: null` counts as absent.
pub fn request_host(origin: Option<&str>, referer: Option<&str>) -> Option<String> {
    origin
        .filter(|o| !o.trim().is_empty() && o.trim() != "null")
        .and_then(url_host)
        .or_else(|| referer.filter(|r| !r.trim().is_empty()).and_then(url_host))
}

/// True when the origin header or referer is present at all (even if unparseable).
fn has_origin(origin: Option<&str>, referer: Option<&str>) -> bool {
    let present = |v: Option<&str>| v.is_some_and(|s| !s.trim().is_empty() && s.trim() != "null");
    present(origin) || present(referer)
}

/// `host` against one normalised rule; `*.example.com` matches subdomains, not the apex.
pub fn host_matches(rule: &str, host: &str) -> bool {
    if rule == "*" {
        return true;
    }
    match rule.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
        None => rule == host,
    }
}

/// `EMPTY_ORIGIN` / `FORBIDDDEN_ORIGIN` rules.
pub fn check_origin(
    opts: &AppOptions,
    origin: Option<&str>,
    referer: Option<&str>,
) -> Result<(), ErrorCode> {
    if opts.reject_empty_origin && !has_origin(origin, referer) {
        return Err(ErrorCode::EmptyOrigin);
    }
    if opts.allowed_origins.is_empty() {
        return Ok(());
    }
    match request_host(origin, referer) {
        Some(host) if opts.allowed_origins.iter().any(|r| host_matches(r, &host)) => Ok(()),
        _ => Err(ErrorCode::ForbiddenOrigin),
    }
}

/// `FORBIDDDEN_COUNTRY`: with an allow-list, a missing `CF-IPCountry` is not allowed.
pub fn check_country(opts: &AppOptions, country: Option<&str>) -> Result<(), ErrorCode> {
    if opts.allowed_countries.is_empty() {
        return Ok(());
    }
    let c = country.map(|c| c.trim().to_ascii_uppercase());
    match c {
        Some(c) if opts.allowed_countries.contains(&c) => Ok(()),
        _ => Err(ErrorCode::ForbiddenCountry),
    }
}

/// Client IP: `CF-Connecting-IP`, else the first `X-Forwarded-For` hop, else `unknown`.
pub fn client_ip(cf_connecting_ip: Option<&str>, x_forwarded_for: Option<&str>) -> String {
    let clean = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.len() <= 64).then(|| s.to_owned())
    };
    cf_connecting_ip
        .and_then(clean)
        .or_else(|| {
            x_forwarded_for
                .and_then(|x| x.split(',').next())
                .and_then(clean)
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(origins: &[&str], countries: &[&str], reject_empty: bool) -> AppOptions {
        AppOptions {
            allowed_origins: origins
                .iter()
                .map(|o| normalize_origin_rule(o).unwrap())
                .collect(),
            allowed_countries: countries.iter().map(|c| c.to_string()).collect(),
            reject_empty_origin: reject_empty,
            ..AppOptions::default()
        }
    }

    #[test]
    fn rules_normalise() {
        assert_eq!(
            normalize_origin_rule("https://Example.com:8443/x").unwrap(),
            "example.com"
        );
        assert_eq!(
            normalize_origin_rule("*.example.com").unwrap(),
            "*.example.com"
        );
        assert_eq!(
            normalize_origin_rule("localhost:5173").unwrap(),
            "localhost"
        );
        assert_eq!(normalize_origin_rule("*").unwrap(), "*");
        assert!(normalize_origin_rule("").is_none());
        assert!(normalize_origin_rule("bad host").is_none());
        assert!(normalize_origin_rule("*.").is_none());
    }

    #[test]
    fn origin_checks() {
        let any = opts(&[], &[], false);
        assert_eq!(check_origin(&any, None, None), Ok(()));
        let strict = opts(&[], &[], true);
        assert_eq!(
            check_origin(&strict, None, None),
            Err(ErrorCode::EmptyOrigin)
        );
        assert_eq!(
            check_origin(&strict, Some("null"), None),
            Err(ErrorCode::EmptyOrigin)
        );
        assert_eq!(
            check_origin(&strict, None, Some("https://a.b/page")),
            Ok(())
        );
        let list = opts(&["example.com", "*.corp.example"], &[], false);
        assert_eq!(
            check_origin(&list, Some("https://example.com"), None),
            Ok(())
        );
        assert_eq!(
            check_origin(&list, Some("http://EXAMPLE.com:8080"), None),
            Ok(())
        );
        assert_eq!(
            check_origin(&list, Some("https://app.corp.example"), None),
            Ok(())
        );
        assert_eq!(
            check_origin(&list, Some("https://a.b.corp.example"), None),
            Ok(())
        );
        assert_eq!(
            check_origin(&list, Some("https://corp.example"), None),
            Err(ErrorCode::ForbiddenOrigin)
        );
        assert_eq!(
            check_origin(&list, Some("https://evilcorp.example"), None),
            Err(ErrorCode::ForbiddenOrigin)
        );
        assert_eq!(
            check_origin(&list, Some("https://example.com.evil.net"), None),
            Err(ErrorCode::ForbiddenOrigin)
        );
        assert_eq!(
            check_origin(&list, None, Some("https://example.com/login?x=1")),
            Ok(())
        );
        assert_eq!(
            check_origin(&list, None, None),
            Err(ErrorCode::ForbiddenOrigin)
        );
        assert_eq!(
            check_origin(&list, Some("garbage"), None),
            Err(ErrorCode::ForbiddenOrigin)
        );
    }

    #[test]
    fn country_checks() {
        let o = opts(&[], &["FR", "DE"], false);
        assert_eq!(check_country(&o, Some("fr")), Ok(()));
        assert_eq!(
            check_country(&o, Some("US")),
            Err(ErrorCode::ForbiddenCountry)
        );
        assert_eq!(check_country(&o, None), Err(ErrorCode::ForbiddenCountry));
        assert_eq!(check_country(&opts(&[], &[], false), None), Ok(()));
    }

    #[test]
    fn ip_sources() {
        assert_eq!(client_ip(Some("1.2.3.4"), Some("5.6.7.8")), "1.2.3.4");
        assert_eq!(client_ip(None, Some("5.6.7.8, 10.0.0.1")), "5.6.7.8");
        assert_eq!(client_ip(Some(" "), None), "unknown");
        assert_eq!(client_ip(None, None), "unknown");
    }
}
