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
//!   (`*` for all; `example.com` and `.example.com` both cover subdomains),
//!   and, for a host written as an IP address, addresses and CIDR ranges
//!   (`10.0.0.0/8`, `::1/128`), as curl does since 7.86. An IP address is
//!   never matched as a domain suffix (`0.0.1` does not cover `10.0.0.1`).
//!
//! Empty variables count as unset, as in curl.

use std::net::IpAddr;

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
    let host = unbracket(host).to_ascii_lowercase();
    let ip = host.parse::<IpAddr>().ok();
    list.split(|c: char| c == ',' || c.is_ascii_whitespace())
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            if let Some(ip) = ip {
                return ip_matches(ip, entry);
            }
            let entry = unbracket(entry.trim_start_matches('.')).to_ascii_lowercase();
            host == entry
                || host
                    .strip_suffix(entry.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        })
}

fn unbracket(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// Whether the address `ip` is the entry's address, or inside its CIDR
/// range. An entry of the other address family, or not an address, never
/// matches.
fn ip_matches(ip: IpAddr, entry: &str) -> bool {
    let (address, prefix) = match entry.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (entry, None),
    };
    let Ok(network) = unbracket(address).parse::<IpAddr>() else {
        return false;
    };
    let (ip, network, bits) = match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            (u128::from(ip.to_bits()), u128::from(net.to_bits()), 32)
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => (ip.to_bits(), net.to_bits(), 128),
        _ => return false,
    };
    let prefix = match prefix {
        None => bits,
        Some(text) => match text.parse::<u32>() {
            Ok(prefix) if prefix <= bits && text.bytes().all(|b| b.is_ascii_digit()) => prefix,
            _ => return false,
        },
    };
    // The host part: the low `bits - prefix` bits (all 128 for `::/0`).
    let host_bits = 1u128
        .checked_shl(bits - prefix)
        .map_or(u128::MAX, |bit| bit - 1);
    ip & !host_bits == network & !host_bits
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
        // An address is not a domain: no suffix matching.
        assert_eq!(chosen("http", "110.0.0.1", env), Some("http_proxy"));
        let all = &[("http_proxy", "http://p:1"), ("no_proxy", "*")];
        assert_eq!(chosen("http", "example.com", all), None);
    }

    #[test]
    fn no_proxy_cidr_ranges_cover_ip_literals() {
        let env = &[
            ("http_proxy", "http://p:1"),
            (
                "no_proxy",
                "127.0.0.0/8, 10.0.0.0/8,192.168.1.0/24 ::1/128,[fd00::]/8,172.16.5.4/32",
            ),
        ];
        for host in [
            "127.0.0.1",
            "127.255.255.254",
            "10.1.2.3",
            "192.168.1.200",
            "[::1]",
            "::1",
            "fd12:3456::1",
            "172.16.5.4",
        ] {
            assert_eq!(chosen("http", host, env), None, "{host}");
        }
        for host in [
            "128.0.0.1",
            "11.0.0.1",
            "192.168.2.1",
            "::2",
            "fe00::1",
            "172.16.5.5",
            "10.example.com",
        ] {
            assert_eq!(chosen("http", host, env), Some("http_proxy"), "{host}");
        }
    }

    #[test]
    fn cidr_edge_cases() {
        let v4 = |ip: &str| ip.parse::<IpAddr>().unwrap();
        assert!(ip_matches(v4("1.2.3.4"), "0.0.0.0/0"));
        assert!(ip_matches(v4("::5"), "::/0"));
        assert!(ip_matches(v4("10.0.0.1"), "10.0.0.1"));
        assert!(ip_matches(v4("10.0.0.1"), "10.0.0.0/31"));
        assert!(!ip_matches(v4("10.0.0.2"), "10.0.0.0/31"));
        assert!(ip_matches(v4("10.255.255.255"), "10.0.0.0/8"));
        assert!(!ip_matches(v4("11.0.0.0"), "10.0.0.0/8"));
        assert!(ip_matches(v4("2001:db8::ffff"), "2001:db8::/112"));
        assert!(!ip_matches(v4("2001:db8::1:0"), "2001:db8::/112"));
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "::/129",
            "x/8",
            "10.0.0.0/8/8",
            "::1",
        ] {
            assert!(!ip_matches(v4("10.0.0.1"), bad), "{bad}");
        }
        assert!(!ip_matches(v4("::ffff:10.0.0.1"), "10.0.0.0/8"));
    }
}
