//! Which proxy, if any, the request goes through, by curl's rules.
//!
//! ureq on its own takes the first of `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`
//! for every scheme, so an `HTTPS_PROXY` meant for outbound https would also
//! capture `http://localhost:3000`. Operators expect curl's behaviour, so the
//! choice is made here and ureq is handed the result explicitly:
//!
//! - `http` URLs use `http_proxy` (lower case only: an upper-case
//!   `HTTP_PROXY` can be injected by a CGI `Proxy:` header, hence curl ignores it);
//! - `https` URLs use `https_proxy`, then `HTTPS_PROXY`;
//! - either falls back to `all_proxy`, then `ALL_PROXY`;
//! - `no_proxy` / `NO_PROXY` lists hosts and domains that go direct
//!   (`*` for all; `example.com` and `.example.com` both cover subdomains).
//!
//! Empty variables count as unset, as in curl.

/// The variable that chose the proxy and its value.
pub struct ProxyChoice {
    pub variable: &'static str,
    pub url: String,
}

/// Picks the proxy for a request to `host` over `scheme`, reading variables
/// through `env` (the real environment in production, a table in tests).
pub fn select(
    scheme: &str,
    host: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<ProxyChoice> {
    let get = |name: &'static str| {
        env(name)
            .filter(|v| !v.trim().is_empty())
            .map(|url| ProxyChoice {
                variable: name,
                url,
            })
    };
    let for_scheme = match scheme {
        "https" => get("https_proxy").or_else(|| get("HTTPS_PROXY")),
        _ => get("http_proxy"),
    };
    let choice = for_scheme
        .or_else(|| get("all_proxy"))
        .or_else(|| get("ALL_PROXY"))?;
    let no_proxy = get("no_proxy").or_else(|| get("NO_PROXY"));
    match no_proxy {
        Some(list) if bypasses(&list.url, host) => None,
        _ => Some(choice),
    }
}

/// Whether `host` matches an entry of a `no_proxy` list.
fn bypasses(list: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    list.split(|c: char| c == ',' || c.is_ascii_whitespace())
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry
                .trim_start_matches('.')
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase();
            host == entry
                || host
                    .strip_suffix(entry.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn chosen(
        scheme: &str,
        host: &str,
        pairs: &'static [(&'static str, &'static str)],
    ) -> Option<&'static str> {
        select(scheme, host, &env_of(pairs)).map(|c| c.variable)
    }

    #[test]
    fn follows_curl_per_scheme() {
        let both = &[
            ("http_proxy", "http://p1:1"),
            ("HTTPS_PROXY", "http://p2:2"),
        ];
        assert_eq!(chosen("http", "h", both), Some("http_proxy"));
        assert_eq!(chosen("https", "h", both), Some("HTTPS_PROXY"));
        // HTTPS_PROXY alone never captures http.
        assert_eq!(chosen("http", "h", &[("HTTPS_PROXY", "http://p:1")]), None);
        // Upper-case HTTP_PROXY is ignored, as in curl.
        assert_eq!(chosen("http", "h", &[("HTTP_PROXY", "http://p:1")]), None);
        assert_eq!(
            chosen("http", "h", &[("ALL_PROXY", "http://p:1")]),
            Some("ALL_PROXY")
        );
        assert_eq!(chosen("https", "h", &[("https_proxy", "")]), None);
    }

    #[test]
    fn no_proxy_hosts_and_domains() {
        let env = &[
            ("http_proxy", "http://p:1"),
            ("NO_PROXY", "localhost, .internal,10.0.0.1,[::1]"),
        ];
        assert_eq!(chosen("http", "localhost", env), None);
        assert_eq!(chosen("http", "api.internal", env), None);
        assert_eq!(chosen("http", "internal", env), None);
        assert_eq!(chosen("http", "10.0.0.1", env), None);
        assert_eq!(chosen("http", "[::1]", env), None);
        assert_eq!(chosen("http", "notinternal", env), Some("http_proxy"));
        assert_eq!(chosen("http", "example.com", env), Some("http_proxy"));
        let all = &[("http_proxy", "http://p:1"), ("no_proxy", "*")];
        assert_eq!(chosen("http", "example.com", all), None);
    }
}
