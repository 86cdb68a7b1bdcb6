//! Base URLs (the OCD app's and a monitor's): what makes one acceptable, how
//! a path prefix is joined, whether the host is this machine, and which
//! proxy reaches it.
//!
//! A leaf: configuration, client and pings all use a [`Target`], so this
//! module imports none of them. Refusals are the message's text, which
//! the caller wraps as a configuration error; the environment is read
//! through the closures it is handed, and whether a value was text is
//! asked of the caller too (only the environment reader knows how it
//! marks bytes that are not UTF-8).
//!
//! The URL is split by hand, once, here; everything else reads the parts a
//! [`Target`] keeps. `http::Uri` (linked through ureq) checks only the
//! result: as a parser of what operators type it is looser than ocd-cron
//! must be (it takes `user:password@`, port 0, an empty port, a port over
//! 65535 as none, a zone id, `[localhost]`, hosts no DNS name has, and
//! bytes beyond ASCII in the path, which curl percent-encodes), and where
//! it refuses, its error names no cause, while each refusal here says
//! what to fix.

use std::net::IpAddr;

use crate::proxy;

/// A checked base URL, and the proxy that reaches it.
#[derive(Clone, Debug)]
pub struct Target {
    /// `scheme://authority/prefix`, without a trailing slash.
    pub base: String,
    pub scheme: String,
    /// Without IPv6 brackets, lower case.
    pub host: String,
    /// The proxy chosen by curl's rules, already parsed.
    pub proxy: Option<ureq::Proxy>,
    /// Where the path prefix starts in `base`.
    prefix_at: usize,
    /// Whether the authority names a port.
    port_given: bool,
}

impl Target {
    /// The base joined with `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `scheme://authority` of the base.
    pub fn origin(&self) -> &str {
        &self.base[..self.prefix_at]
    }

    /// The base's path prefix (`/ocd`), empty when it has none.
    pub fn prefix(&self) -> &str {
        &self.base[self.prefix_at..]
    }

    /// `host:port` as the URL writes it (lower case, an IPv6 address in
    /// brackets), with the scheme's port when it names none.
    pub fn address(&self) -> String {
        let authority = self.origin()[self.scheme.len() + "://".len()..].to_ascii_lowercase();
        if self.port_given {
            authority
        } else {
            let port = if self.scheme == "https" { 443 } else { 80 };
            format!("{authority}:{port}")
        }
    }
}

/// Checks a base URL (the OCD app's, or a monitor's without its query) and
/// picks its proxy; `what` names the setting in errors, whose wording fits
/// both. `env` reads the proxy variables (the real environment in
/// production, a table in tests); `not_text` says whether a value
/// held bytes that are not UTF-8.
pub fn check(
    value: &str,
    what: &str,
    env: &dyn Fn(&str) -> Option<String>,
    not_text: fn(&str) -> bool,
) -> Result<Target, String> {
    let mut target = parse_base(value, not_text).map_err(|why| {
        format!(
            "{what} {why}; expected the form https://HOST[:PORT][/PATH] \
             (or http://)"
        )
    })?;
    // Proxy variables are read from the real environment only: they belong
    // to the machine, not to the app's .env, and curl reads them the same way.
    let host = &target.host;
    target.proxy = match proxy::select(&target.scheme, host, env) {
        None => None,
        Some(choice) => {
            let invalid = |why: &str| {
                format!(
                    "{} {why}; expected http://host:port (or https://), or add {host} to no_proxy / NO_PROXY",
                    choice.variable
                )
            };
            if choice.url.chars().any(char::is_control) {
                return Err(invalid(
                    "is not a valid proxy URL (it holds bytes that are not UTF-8, or control characters)",
                ));
            }
            for name in ["no_proxy", "NO_PROXY"] {
                if env(name).is_some_and(|list| not_text(&list)) {
                    return Err(format!(
                        "{name} holds bytes that are not UTF-8, so which hosts it lists is \
                         unclear; write it in plain text"
                    ));
                }
            }
            let proxy =
                ureq::Proxy::new(&choice.url).map_err(|_| invalid("is not a valid proxy URL"))?;
            // ureq is built without its SOCKS support (and would panic on
            // such a proxy at the first request): refused here, before
            // anything is sent.
            if !matches!(
                proxy.protocol(),
                ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https
            ) {
                return Err(invalid("is a SOCKS proxy, which ocd-cron does not speak"));
            }
            // Whoever quotes its credentials from here on (the proxy's own
            // error page, the HTTP library's log) shows them masked.
            crate::sanitize::hide_proxy_credentials(proxy.username(), proxy.password());
            Some(proxy)
        }
    };
    Ok(target)
}

/// A warning when the base URL's path prefix holds what ocd-cron appends
/// itself: it ends in `/api` (`http://host:3000/api`), or holds `/api/training`
/// (a job's endpoint pasted whole). Both pass every check and `--dry-run`,
/// then fail as a 404 on `/api/api/training/…`. `route` is the first job's
/// path, for the URL the request would go to.
pub fn route_in_prefix(api: &Target, route: &str, what: &str) -> Option<String> {
    let segments: Vec<&str> = api.prefix().strip_prefix('/')?.split('/').collect();
    let is_api = |s: &&str| s.eq_ignore_ascii_case("api");
    let api_at = segments.iter().enumerate().position(|(i, s)| {
        is_api(s) && (i + 1 == segments.len() || segments[i + 1].eq_ignore_ascii_case("training"))
    })?;
    let kept: String = segments[..api_at].iter().map(|s| format!("/{s}")).collect();
    Some(format!(
        "{what} is {}, whose path already holds {}, which ocd-cron appends itself: \
         requests go to {}, a 404; set it to {}{kept}",
        api.base,
        &api.prefix()[kept.len()..],
        api.url(route),
        api.origin(),
    ))
}

/// Loopback hosts, where plain http never leaves the machine.
pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Checks a base URL (which may carry a path prefix) and splits it into
/// the parts a [`Target`] keeps (its proxy not chosen yet). The error
/// completes the setting's name (`--base-url / API_BASE_URL …`,
/// `--ping-url / OCD_CRON_PING_URL …`).
fn parse_base(base: &str, not_text: fn(&str) -> bool) -> Result<Target, String> {
    if not_text(base) {
        return Err("is not text: it holds bytes that are not UTF-8 (or a NUL)".into());
    }
    // Other white space (a no-break space) is percent-encoded in the path
    // like any character beyond ASCII, as curl does.
    if base
        .chars()
        .any(|c| c.is_ascii_whitespace() || c.is_control())
    {
        return Err("contains white space or control characters".into());
    }
    let Some((scheme, rest)) = base.split_once("://") else {
        return Err("is not an absolute URL (it must start with http:// or https://)".into());
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "has scheme '{scheme}'; only http and https are supported"
        ));
    }
    if rest.contains('?') || rest.contains('#') {
        return Err("has a query or fragment".into());
    }
    let (authority, prefix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.contains('@') {
        return Err(format!(
            "has credentials (user:password@) in it, which ocd-cron never sends; remove them \
             (the OCD app's key belongs in {})",
            crate::setting::KEY
        ));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("has an unclosed IPv6 bracket")?;
        if host.contains('%') {
            return Err(
                "has an IPv6 address with a zone id (%25…), which ocd-cron cannot connect \
                 through; use the host's global or unique-local address, or its name"
                    .into(),
            );
        }
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("has something in [brackets] that is not an IPv6 address".into());
        }
        match (after, after.strip_prefix(':')) {
            ("", _) => (host, None),
            (_, Some(port)) => (host, Some(port)),
            (_, None) => return Err("has an invalid port".into()),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    if !host.is_ascii() {
        return Err(
            "has a host name that is not plain ASCII (letters from other scripts, or invisible \
             characters); write an international name in its ASCII form (xn--…)"
                .into(),
        );
    }
    // What DNS can look up: a name that cannot be one would only be
    // retried until the deadline.
    if !authority.starts_with('[')
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
    {
        return Err(
            "has a host name with characters no DNS name has (only letters, digits, '-', '.' and '_')"
                .into(),
        );
    }
    if let Some(port) = port
        && !(port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p > 0))
    {
        return Err("has an invalid port".into());
    }
    let origin = format!("{scheme}://{authority}");
    let base = format!("{origin}{}", encode_path(prefix.trim_end_matches('/')));
    // Every path joined to it later starts with a plain ASCII segment.
    if format!("{base}/x").parse::<ureq::http::Uri>().is_err() {
        return Err("is not a valid URL".into());
    }
    Ok(Target {
        prefix_at: origin.len(),
        port_given: port.is_some(),
        host: host.to_ascii_lowercase(),
        base,
        scheme,
        proxy: None,
    })
}

/// A path prefix as it may go on a request line: every byte that is not
/// ASCII (a letter from another script, an invisible character), and every
/// ASCII character a path may not hold, percent-encoded as curl encodes
/// non-ASCII; existing `%XX` escapes are kept. Encoded, an invisible
/// character also shows in every message that quotes the URL.
fn encode_path(prefix: &str) -> String {
    let mut encoded = String::with_capacity(prefix.len());
    for byte in prefix.bytes() {
        let allowed = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&byte);
        if allowed {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the environment reader marks as not text, for these tests.
    fn nul(value: &str) -> bool {
        value.contains('\0')
    }

    fn parsed(url: &str) -> Result<Target, String> {
        check(url, "--base-url / API_BASE_URL", &|_| None, nul)
    }

    #[test]
    fn path_prefix_is_kept_without_trailing_slashes() {
        for base in ["https://h/ocd", "https://h/ocd/", "https://h/ocd//"] {
            let target = parsed(base).unwrap();
            assert_eq!(target.url("/api/x"), "https://h/ocd/api/x", "{base}");
        }
        let v6 = parsed("http://[::1]:8080/").unwrap();
        assert_eq!(v6.url("/x"), "http://[::1]:8080/x");
        assert_eq!(v6.host, "::1");
        assert_eq!(parsed("HTTPS://Example.COM").unwrap().host, "example.com");
    }

    #[test]
    fn origin_prefix_and_address_are_the_parts_as_written() {
        for (base, origin, prefix, address) in [
            ("https://h", "https://h", "", "h:443"),
            ("http://h/", "http://h", "", "h:80"),
            (
                "HTTP://Hc.Internal:08000/Ping/",
                "http://Hc.Internal:08000",
                "/Ping",
                "hc.internal:08000",
            ),
            ("http://[::1]/a/b", "http://[::1]", "/a/b", "[::1]:80"),
            ("https://[::1]:9/é", "https://[::1]:9", "/%C3%A9", "[::1]:9"),
        ] {
            let target = parsed(base).unwrap();
            assert_eq!(
                (target.origin(), target.prefix(), target.address().as_str()),
                (origin, prefix, address),
                "{base}"
            );
        }
    }

    #[test]
    fn rejects_bad_base_urls() {
        for (bad, says) in [
            ("localhost:3000", "must start with http:// or https://"),
            ("example.com", "not an absolute URL"),
            ("ftp://h", "scheme 'ftp'"),
            ("http://", "no host"),
            ("http://user:pw@h", "credentials"),
            ("http://h/?a=1", "query or fragment"),
            ("http://h/#x", "query or fragment"),
            ("http://h:99999", "invalid port"),
            ("http://h:0", "invalid port"),
            ("http://h:", "invalid port"),
            ("http://[::1]x", "invalid port"),
            ("http://h :1", "white space"),
            ("http://[::1", "unclosed IPv6"),
            ("http://[fe80::1%25eth0]:3000", "zone id"),
            ("http://[fe80::1%eth0]", "zone id"),
            ("http://[::1%251]/x", "zone id"),
            ("http://[localhost]", "not an IPv6 address"),
            ("http://[1.2.3.4]", "not an IPv6 address"),
            ("http://bücher.example", "not plain ASCII"),
            ("http://ocd\u{200b}.example", "not plain ASCII"),
            ("http://\u{202e}lacol", "not plain ASCII"),
            ("http://a%20b:3000", "no DNS name has"),
            ("http://a!b", "no DNS name has"),
            ("http://a\"b/", "no DNS name has"),
        ] {
            let msg = parsed(bad).unwrap_err();
            assert!(msg.contains(says), "{bad:?}: {msg}");
            assert!(msg.contains("--base-url / API_BASE_URL"), "{msg}");
        }
    }

    #[test]
    fn path_prefixes_are_percent_encoded_beyond_ascii() {
        for (base, url) in [
            ("https://h/ocd/é", "https://h/ocd/%C3%A9/x"),
            ("https://h/ocd\u{200b}/", "https://h/ocd%E2%80%8B/x"),
            ("https://h/\u{feff}a", "https://h/%EF%BB%BFa/x"),
            ("https://h/日本", "https://h/%E6%97%A5%E6%9C%AC/x"),
            ("https://h/\u{a0}a\u{2028}", "https://h/%C2%A0a%E2%80%A8/x"),
            (
                "https://h/a\"b<c>d{e}|^`\\",
                "https://h/a%22b%3Cc%3Ed%7Be%7D%7C%5E%60%5C/x",
            ),
            ("https://h/a%41%2f", "https://h/a%41%2f/x"),
            (
                "https://h/a-b_c.d~e!$&'()*+,;=:@",
                "https://h/a-b_c.d~e!$&'()*+,;=:@/x",
            ),
        ] {
            let target = parsed(base).unwrap();
            assert_eq!(target.url("/x"), url, "{base}");
            assert!(target.url("/x").is_ascii());
        }
        assert_eq!(
            parsed("http://my_host.internal:1").unwrap().host,
            "my_host.internal"
        );
    }

    #[test]
    fn socks_proxies_are_refused_http_ones_kept() {
        let with = |variable: &'static str, proxy: &'static str| {
            check(
                "http://ocd.internal:3000",
                "--base-url / API_BASE_URL",
                &move |n| (n == variable).then(|| proxy.to_owned()),
                nul,
            )
        };
        for proxy in [
            "socks5://127.0.0.1:1080",
            "socks4://p:1",
            "socks4a://p:1",
            "socks5h://p:1",
        ] {
            let msg = with("all_proxy", proxy).unwrap_err().to_string();
            assert!(msg.contains("all_proxy is a SOCKS proxy"), "{proxy}: {msg}");
        }
        let kept = with("http_proxy", "http://127.0.0.1:3128").unwrap();
        assert_eq!(kept.proxy.unwrap().port(), 3128);
    }

    #[test]
    fn a_prefix_holding_what_is_appended_is_warned_about() {
        let warning = |base: &str| {
            route_in_prefix(
                &parsed(base).unwrap(),
                "/api/training/outcomes",
                "--base-url",
            )
        };
        assert_eq!(
            warning("http://host:3000/api").unwrap(),
            "--base-url is http://host:3000/api, whose path already holds /api, which \
             ocd-cron appends itself: requests go to \
             http://host:3000/api/api/training/outcomes, a 404; set it to http://host:3000"
        );
        let pasted = warning("https://h/ocd/api/training/calculate-pending/").unwrap();
        assert!(
            pasted.contains("already holds /api/training/calculate-pending,"),
            "{pasted}"
        );
        assert!(pasted.ends_with("set it to https://h/ocd"), "{pasted}");
        assert!(
            warning("https://h/API/Training")
                .unwrap()
                .ends_with("set it to https://h")
        );
        for fine in [
            "http://host:3000",
            "http://host:3000/",
            "https://h/ocd",
            "https://h/api-gateway",
            "https://h/apis",
            "https://h/api/v2",
            "https://h/x/api/y",
            "https://api.example.com",
            "http://api",
            "https://h/training",
        ] {
            assert_eq!(warning(fine), None, "{fine}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "app.localhost",
            "127.0.0.1",
            "127.9.9.9",
            "::1",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["example.com", "10.0.0.5", "localhost.example.com", "::2"] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
