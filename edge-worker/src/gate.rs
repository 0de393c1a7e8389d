//! The widget API's admission rules: origin, country and client IP (pure, unit-tested).

use fio_core::ErrorCode;

use crate::app_config::AppOptions;

/// Default port of a web scheme.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    }
}

/// Normalises an `allowedOrigins` entry to `scheme://host[:port]` (port only when not the
/// scheme's default), `scheme://*.example.com` for subdomains, or `*`. An entry without a
/// scheme means `https`; a path is dropped. Origins are compared whole (scheme, host, port):
/// `https://example.com` does not admit `http://example.com` or `https://example.com:8443`.
pub fn normalize_origin_rule(rule: &str) -> Option<String> {
    let r = rule.trim().to_ascii_lowercase();
    if r == "*" {
        return Some(r);
    }
    let (scheme, rest) = r.split_once("://").unwrap_or(("https", r.as_str()));
    let default = default_port(scheme)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') && !p.contains(']') => (h, Some(p.parse::<u16>().ok()?)),
        _ => (authority, None),
    };
    let bare = host.strip_prefix("*.").unwrap_or(host);
    let ipv6 = bare.starts_with('[') && bare.ends_with(']') && bare.len() > 2;
    let ok = ipv6
        || (!bare.is_empty()
            && bare.len() <= 253
            && bare
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            && !bare.starts_with('.')
            && !bare.ends_with('.'));
    if !ok || (ipv6 && host != bare) {
        return None;
    }
    Some(match port.filter(|&p| p != default) {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    })
}

/// An origin as compared: scheme, lower-case host, effective port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

/// The origin of an origin or URL string (`https://a.example.com:8443/x`).
fn url_origin(s: &str) -> Option<Origin> {
    let u = worker::Url::parse(s.trim()).ok()?;
    let host = u.host_str().filter(|h| !h.is_empty())?.to_ascii_lowercase();
    Some(Origin {
        scheme: u.scheme().to_owned(),
        port: u.port_or_known_default()?,
        host,
    })
}

/// The requesting page's origin: from `Origin`, else from `Referer`. `Origin: null` counts as
/// absent.
pub fn request_origin(origin: Option<&str>, referer: Option<&str>) -> Option<Origin> {
    origin
        .filter(|o| !o.trim().is_empty() && o.trim() != "null")
        .and_then(url_origin)
        .or_else(|| {
            referer
                .filter(|r| !r.trim().is_empty())
                .and_then(url_origin)
        })
}

/// True when the origin header or referer is present at all (even if unparseable).
fn has_origin(origin: Option<&str>, referer: Option<&str>) -> bool {
    let present = |v: Option<&str>| v.is_some_and(|s| !s.trim().is_empty() && s.trim() != "null");
    present(origin) || present(referer)
}

/// `host` against a host pattern; `*.example.com` matches subdomains, not the apex.
fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
        None => pattern == host,
    }
}

/// An origin against one normalised rule (rules stored before origins were compared whole,
/// bare hosts, read as `https` on the default port).
pub fn origin_matches(rule: &str, origin: &Origin) -> bool {
    if rule == "*" {
        return true;
    }
    let Some(normal) = normalize_origin_rule(rule) else {
        return false;
    };
    let Some((scheme, authority)) = normal.split_once("://") else {
        return false;
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, p.parse::<u16>().ok()),
        _ => (authority, default_port(scheme)),
    };
    scheme == origin.scheme && port == Some(origin.port) && host_matches(host, &origin.host)
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
    match request_origin(origin, referer) {
        Some(o) if opts.allowed_origins.iter().any(|r| origin_matches(r, &o)) => Ok(()),
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

/// Which request header carries the client's address: a deployment setting (`CLIENT_IP_HEADER`
/// in wrangler.toml `[vars]`), since only the platform in front of the worker can vouch for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientIpHeader {
    /// `CF-Connecting-IP`: set by Cloudflare itself (the default; spoofable when self-hosted).
    CfConnectingIp,
    /// The last `X-Forwarded-For` hop: the address a trusted reverse proxy in front saw.
    XForwardedFor,
    /// No header is trusted: every client shares the `unknown` bucket.
    None,
}

impl ClientIpHeader {
    /// Setting name.
    pub const SETTING: &'static str = "CLIENT_IP_HEADER";

    /// Parses the setting (unset = `cf-connecting-ip`); `Err` names the accepted values.
    pub fn parse(setting: Option<&str>) -> Result<Self, String> {
        match setting.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("cf-connecting-ip") => Ok(Self::CfConnectingIp),
            Some("x-forwarded-for") => Ok(Self::XForwardedFor),
            Some("none") => Ok(Self::None),
            Some(other) => Err(format!(
                "{} = {other:?}: expected \"cf-connecting-ip\", \"x-forwarded-for\" or \"none\"",
                Self::SETTING
            )),
        }
    }
}

/// The client IP by the trusted header only (anything else a client sends is ignored), or
/// `unknown`.
pub fn client_ip(
    source: ClientIpHeader,
    cf_connecting_ip: Option<&str>,
    x_forwarded_for: Option<&str>,
) -> String {
    let clean = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.len() <= 64).then(|| s.to_owned())
    };
    match source {
        ClientIpHeader::CfConnectingIp => cf_connecting_ip.and_then(clean),
        // Hops a client wrote come first; the proxy appends the address it saw last.
        ClientIpHeader::XForwardedFor => x_forwarded_for
            .and_then(|x| x.rsplit(',').next())
            .and_then(clean),
        ClientIpHeader::None => None,
    }
    .unwrap_or_else(|| "unknown".to_owned())
}

/// The key a client's quotas and PIN failures are counted under: the IP, or for IPv6 its /64
/// (one subscriber's prefix: a client can pick any address in it).
pub fn quota_key(client_ip: &str) -> String {
    match client_ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_some() => v6
            .to_ipv4_mapped()
            .map(|v4| v4.to_string())
            .unwrap_or_default(),
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(ip) => ip.to_string(),
        Err(_) => client_ip.to_owned(),
    }
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
        let n = |r: &str| normalize_origin_rule(r);
        assert_eq!(
            n("https://Example.com:8443/x").unwrap(),
            "https://example.com:8443"
        );
        assert_eq!(n("https://example.com:443").unwrap(), "https://example.com");
        assert_eq!(n("*.example.com").unwrap(), "https://*.example.com");
        assert_eq!(n("example.com").unwrap(), "https://example.com");
        assert_eq!(n("http://localhost:5173").unwrap(), "http://localhost:5173");
        assert_eq!(n("http://[::1]:8080/").unwrap(), "http://[::1]:8080");
        assert_eq!(n("*").unwrap(), "*");
        assert!(n("").is_none());
        assert!(n("bad host").is_none());
        assert!(n("*.").is_none());
        assert!(n("ftp://example.com").is_none());
        assert!(n("https://example.com:99999").is_none());
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
            check_origin(&list, Some("https://EXAMPLE.com:443"), None),
            Ok(())
        );
        // Scheme and port count: http:// or another port is another origin.
        for other in [
            "http://example.com",
            "https://example.com:8443",
            "http://EXAMPLE.com:8080",
        ] {
            assert_eq!(
                check_origin(&list, Some(other), None),
                Err(ErrorCode::ForbiddenOrigin),
                "{other}"
            );
        }
        let dev = opts(&["http://127.0.0.1:8788"], &[], false);
        assert_eq!(
            check_origin(&dev, Some("http://127.0.0.1:8788"), None),
            Ok(())
        );
        assert_eq!(
            check_origin(&dev, Some("http://127.0.0.1:8789"), None),
            Err(ErrorCode::ForbiddenOrigin)
        );
        // A bare host stored by an older version reads as https on the default port.
        assert!(origin_matches(
            "example.com",
            &request_origin(Some("https://example.com"), None).unwrap()
        ));
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
        use ClientIpHeader as H;
        assert_eq!(
            client_ip(H::CfConnectingIp, Some("1.2.3.4"), Some("5.6.7.8")),
            "1.2.3.4"
        );
        assert_eq!(
            client_ip(H::CfConnectingIp, None, Some("5.6.7.8")),
            "unknown"
        );
        assert_eq!(client_ip(H::CfConnectingIp, Some(" "), None), "unknown");
        assert_eq!(
            client_ip(H::XForwardedFor, Some("1.2.3.4"), Some("5.6.7.8, 10.0.0.1")),
            "10.0.0.1"
        );
        assert_eq!(
            client_ip(H::XForwardedFor, Some("1.2.3.4"), None),
            "unknown"
        );
        assert_eq!(
            client_ip(H::None, Some("1.2.3.4"), Some("5.6.7.8")),
            "unknown"
        );
        assert_eq!(H::parse(None), Ok(H::CfConnectingIp));
        assert_eq!(H::parse(Some(" X-Forwarded-For")), Ok(H::XForwardedFor));
        assert_eq!(H::parse(Some("none")), Ok(H::None));
        assert!(H::parse(Some("true-client-ip")).is_err());
    }

    #[test]
    fn quota_keys_group_ipv6_by_64() {
        assert_eq!(
            quota_key("2001:db8:1:2::1"),
            quota_key("2001:db8:1:2:ffff::9")
        );
        assert_ne!(quota_key("2001:db8:1:2::1"), quota_key("2001:db8:1:3::1"));
        assert_eq!(quota_key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(quota_key("1.2.3.4"), "1.2.3.4");
        assert_eq!(quota_key("::ffff:1.2.3.4"), "1.2.3.4");
        assert_eq!(quota_key("unknown"), "unknown");
    }
}
