//! The one redactor and the one text cleaner, for every output.
//!
//! Whatever the server (or a proxy in front of it) puts in a body or a header
//! ends up in cron mail, the journal, the JSON on stdout and the monitor's
//! ping body. It must not be able to forge a log line (CR/LF), drive the
//! terminal (escape sequences), reorder what a line reads (bidirectional
//! overrides), flood the log, or show a secret it was sent (a server that
//! echoes `bad key <key>`, a redirect to `/login?key=<key>`, a monitor that
//! quotes its check id, a proxy that repeats its credentials). So every
//! piece of outside text passes through [`for_log`] before it is formatted,
//! and the secrets are masked there, where no caller can forget them.
//! [`redact`] is the same masking for text that is not the server's, such
//! as the HTTP library's own log records (the logger passes every record
//! through it) and the JSON on stdout.
//!
//! One registry holds every secret of the invocation, filled where each is
//! read: the key ([`hide_key`], when the configuration is loaded), the
//! secret parts of each monitor's URL ([`hide_monitor_secret`]) and the
//! credentials of each proxy in use ([`hide_proxy_credentials`]). Each is
//! matched as itself and percent-encoded, and replaced by the one [`MASK`].
//! The registry is process-wide, as the logger that reads it is (the `log`
//! crate's logger is global by design).

use std::borrow::Cow;
use std::sync::{PoisonError, RwLock};

/// How many characters of server text a log line carries.
pub const MAX_SERVER_TEXT: usize = 300;

/// What stands for a secret wherever one would be shown: in text from
/// outside, in log lines, in the URLs the dry run shows, and as the key's
/// own `Display`.
pub const MASK: &str = "(redacted)";

/// Shorter parts of a monitor's URL (and proxy user names) are not
/// registered: masking them would garble ordinary words (`ping` in
/// `/ping/<uuid>`), and no check id, token or key a monitor issues is this
/// short.
pub const MIN_SECRET_LEN: usize = 8;

/// One registered secret, and what it is for the text that withholds it.
struct Hidden {
    value: String,
    what: &'static str,
}

/// Every secret no output may show, longest first, so that one containing
/// another is masked whole.
static HIDDEN: RwLock<Vec<Hidden>> = RwLock::new(Vec::new());

fn register(value: &str, what: &'static str) {
    let mut hidden = HIDDEN.write().unwrap_or_else(PoisonError::into_inner);
    if value.is_empty() || hidden.iter().any(|h| h.value == value) {
        return;
    }
    hidden.push(Hidden {
        value: value.to_owned(),
        what,
    });
    hidden.sort_by_key(|h| std::cmp::Reverse(h.value.len()));
}

fn registered() -> std::sync::RwLockReadGuard<'static, Vec<Hidden>> {
    HIDDEN.read().unwrap_or_else(PoisonError::into_inner)
}

/// Registers the API key, so that no output shows it from now on.
pub fn hide_key(key: &str) {
    register(key, "the API key");
}

/// Registers a secret part of a monitor's URL (a check id, token or key),
/// unless it is too short to be one or is made of lowercase words only
/// (`calculate-pending`, a healthchecks slug): every output goes through the
/// redactor, so such a part would mask the job's own route and ordinary
/// text wherever it appears, and the ids, tokens and keys monitors issue
/// all carry digits or capitals. (The dry run still masks such a part where
/// it stands in the monitor's URL, by position.)
pub fn hide_monitor_secret(part: &str) {
    let words = part
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_');
    if part.len() >= MIN_SECRET_LEN && !words {
        register(part, "a monitor's secret");
    }
}

/// Registers a proxy's credentials, decoded (as sent): the password
/// whatever its length, as the key is, and the user name unless it is too
/// short to be more than a word.
pub fn hide_proxy_credentials(username: Option<&str>, password: Option<&str>) {
    if let Some(password) = password {
        register(password, "a proxy credential");
    }
    if let Some(username) = username.filter(|u| u.len() >= MIN_SECRET_LEN) {
        register(username, "a proxy credential");
    }
}

/// Sanitises outside text for a log line: removes escape sequences and
/// control and invisible characters, reduces an HTML page to its title (or
/// first heading), folds runs of white space into one space, replaces every
/// registered secret (also percent-encoded) with [`MASK`], and cuts the
/// result to `max_chars` characters, marking the cut with `…`.
pub fn for_log(text: &str, max_chars: usize) -> String {
    for_log_hiding(text, max_chars, &registered())
}

/// `text` with every registered secret replaced by [`MASK`]; borrowed when
/// there is nothing to replace.
pub fn redact(text: &str) -> Cow<'_, str> {
    redact_all(text, &registered())
}

fn for_log_hiding(text: &str, max_chars: usize, secrets: &[Hidden]) -> String {
    let text = if looks_like_html(text) {
        Cow::Owned(html_summary(text))
    } else {
        Cow::Borrowed(text)
    };
    // Cleaned a little past the cut, so that a secret starting before the
    // cut is whole when it is looked for (percent-encoded, up to three
    // characters a byte), and so that the cut knows there was more.
    // Six: the longest escape of one byte (`\u002d`, `&#x2d;`).
    let slack = secrets.iter().map(|s| 6 * s.value.len()).max().unwrap_or(0);
    let clean = clean(&text, max_chars.saturating_add(slack).saturating_add(1));
    // A secret spelled with escapes (a JSON `\u002d` or `\"`, an HTML
    // `&#45;`) cannot be cut out where it stands: the whole text is
    // withheld rather than guessed at. Each secret is looked for with only
    // its own plain forms masked, so that a shorter one masked inside it
    // does not hide the rest.
    let spelled = secrets.iter().find(|secret| {
        let masked = redact_all(&clean, std::slice::from_ref(secret));
        unescape(&masked).contains(&secret.value)
    });
    if let Some(secret) = spelled {
        return withheld(secret.what);
    }
    cut(redact_all(&clean, secrets).into_owned(), max_chars)
}

/// What stands instead of outside text that spelled `what` (a secret) in
/// escaped form.
fn withheld(what: &str) -> String {
    format!("(text withheld: it spelled {what} in escaped form)")
}

/// `text` with JSON string escapes and HTML character references decoded,
/// for spotting the key behind them. Anything malformed stays as it is.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let (decoded, used) = match c {
            '\\' => match rest[1..].chars().next() {
                Some('u') => (
                    rest.get(2..6)
                        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                        .and_then(char::from_u32),
                    6,
                ),
                Some(e @ ('"' | '\\' | '/')) => (Some(e), 2),
                _ => (None, 1),
            },
            // A reference is short: look no further than a dozen bytes.
            '&' => match rest.bytes().take(12).position(|b| b == b';') {
                Some(end) => (entity(&rest[1..end]), end + 1),
                None => (None, 1),
            },
            _ => (None, c.len_utf8()),
        };
        match decoded {
            Some(d) => {
                out.push(d);
                rest = &rest[used..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// The character an HTML reference between `&` and `;` names, if any.
fn entity(name: &str) -> Option<char> {
    let number = match name.strip_prefix('#') {
        Some(hex) if hex.starts_with(['x', 'X']) => u32::from_str_radix(&hex[1..], 16).ok(),
        Some(decimal) => decimal.parse().ok(),
        None => {
            return match name {
                "quot" => Some('"'),
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "apos" => Some('\''),
                _ => None,
            };
        }
    };
    number.and_then(char::from_u32)
}

/// At most `max_chars` characters of `text`, with `…` if it was longer. A
/// space just before the cut is dropped with the rest.
fn cut(text: String, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text,
        Some((end, _)) => {
            let mut out = text[..end].trim_end_matches(' ').to_owned();
            out.push('…');
            out
        }
    }
}

/// Removes escape sequences, control characters and invisible formatting
/// characters, folds white space, and stops after `limit` characters.
fn clean(text: &str, limit: usize) -> String {
    let mut out = String::with_capacity(text.len().min(limit.saturating_mul(4)));
    let mut pending_space = false;
    let mut count = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => skip_escape(&mut chars),
            // The 8-bit forms of CSI and OSC.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' => skip_string(&mut chars),
            c if c.is_whitespace() || c.is_control() => pending_space = true,
            // Bidirectional overrides and isolates can make a log line read
            // differently from what it contains.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            // Invisible characters: inside a word they would hide what it
            // is (the key with a zero-width space in it).
            '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}' => {}
            c => {
                if pending_space && !out.is_empty() {
                    if count == limit {
                        break;
                    }
                    out.push(' ');
                    count += 1;
                }
                pending_space = false;
                if count == limit {
                    break;
                }
                out.push(c);
                count += 1;
            }
        }
    }
    out
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Skips what follows an ESC: a whole CSI (`ESC [ … final`), a whole
/// string sequence (OSC `ESC ] … BEL or ESC \`, and DCS, SOS, PM, APC), or
/// a short sequence (`ESC ( B`, `ESC c`).
fn skip_escape(chars: &mut Chars<'_>) {
    match chars.peek() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars);
        }
        // Intermediate bytes, then a final byte. Anything else after the
        // ESC is left alone.
        _ => {
            while chars.next_if(|c| ('\x20'..='\x2f').contains(c)).is_some() {}
            chars.next_if(|c| ('\x30'..='\x7e').contains(c));
        }
    }
}

/// Skips a CSI's parameter and intermediate bytes and its final byte. A
/// character that cannot be part of it ends it without being skipped.
fn skip_csi(chars: &mut Chars<'_>) {
    while chars.next_if(|c| ('\x20'..='\x3f').contains(c)).is_some() {}
    chars.next_if(|c| ('\x40'..='\x7e').contains(c));
}

/// Skips a string sequence up to and including its terminator: BEL, ST
/// (`ESC \`) or the 8-bit ST. Unterminated, it runs to the end of the text,
/// as a terminal would swallow it.
fn skip_string(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            '\x07' | '\u{9c}' => return,
            '\x1b' => {
                chars.next_if_eq(&'\\');
                return;
            }
            _ => {}
        }
    }
}

/// Whether `text` spells `secret`, as itself or percent-encoded: for
/// settings that must not carry the key (a URL would print and send it).
pub fn spells(text: &str, secret: &str) -> bool {
    let secret = Hidden {
        value: secret.to_owned(),
        what: "",
    };
    matches!(redact_all(text, &[secret]), Cow::Owned(_))
}

/// `text` with every occurrence of each of `secrets` replaced by [`MASK`],
/// including forms where any of its bytes is percent-encoded (`%6B` or
/// `%6b`), as in a redirect's query string. Where several match at one
/// place, the first (the longest) is masked.
fn redact_all<'t>(text: &'t str, secrets: &[Hidden]) -> Cow<'t, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let (mut copied, mut i) = (0, 0);
    while i < bytes.len() {
        // An empty secret matches nowhere (it would match everywhere).
        let found = secrets.iter().find_map(|secret| {
            match_encoded(&bytes[i..], secret.value.as_bytes()).filter(|&len| len > 0)
        });
        match found {
            Some(len) => {
                let out = out.get_or_insert_with(String::new);
                // Both ends are ASCII bytes, hence character boundaries.
                out.push_str(&text[copied..i]);
                out.push_str(MASK);
                i += len;
                copied = i;
            }
            None => i += 1,
        }
    }
    match out {
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(text),
    }
}

/// The length of `text`'s prefix that spells `key`, each byte either as
/// itself or percent-encoded.
fn match_encoded(text: &[u8], key: &[u8]) -> Option<usize> {
    let mut at = 0;
    for &want in key {
        if text.get(at) == Some(&want) {
            at += 1;
        } else if text.get(at) == Some(&b'%')
            && let Some(hex) = text.get(at + 1..at + 3)
            && std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                == Some(want)
        {
            at += 3;
        } else {
            return None;
        }
    }
    Some(at)
}

fn looks_like_html(text: &str) -> bool {
    text.trim_start().starts_with('<')
}

/// What an HTML page says in a line: its `<title>`, else its first
/// heading, else its text without tags, comments, scripts and styles.
fn html_summary(page: &str) -> String {
    let page = visible(page);
    // ASCII lower-casing keeps every byte offset, so positions found in
    // `lower` are valid in `page`.
    let lower = page.to_ascii_lowercase();
    for tag in ["title", "h1", "h2", "h3", "h4", "h5", "h6"] {
        if let Some(inner) = element_text(&page, &lower, tag) {
            let text = decode_entities(&strip_tags(inner));
            if !text.trim().is_empty() {
                return text;
            }
        }
    }
    decode_entities(&strip_tags(&page))
}

/// The content of the first `<tag>` element of `page`.
fn element_text<'p>(page: &'p str, lower: &str, tag: &str) -> Option<&'p str> {
    let mut from = 0;
    loop {
        let open = from + lower[from..].find(&format!("<{tag}"))?;
        let after_name = open + 1 + tag.len();
        // `<h1>` or `<h1 class=…>`, not `<header>`.
        if lower[after_name..].starts_with(['>', ' ', '\t', '\r', '\n', '/']) {
            let start = after_name + lower[after_name..].find('>')? + 1;
            let end = start + lower[start..].find(&format!("</{tag}"))?;
            return Some(&page[start..end]);
        }
        from = after_name;
    }
}

/// An HTML page without what a browser never shows as text: comments and
/// `<script>` and `<style>` elements (a Next.js error page's inline CSS).
/// An unclosed one hides the rest of the page.
fn visible(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len());
    let openers = ["<!--", "<script", "<style"];
    // Where each opener next occurs: searched again only once passed, so a
    // page of a million comments is still read a few times, not a million.
    let mut found = openers.map(|open| lower.find(open));
    let mut i = 0;
    loop {
        for (slot, open) in found.iter_mut().zip(openers) {
            if slot.is_some_and(|at| at < i) {
                *slot = lower[i..].find(open).map(|at| i + at);
            }
        }
        let next = found
            .iter()
            .zip(openers)
            .filter_map(|(at, open)| at.map(|at| (at, open)))
            .min();
        let Some((at, open)) = next else {
            out.push_str(&html[i..]);
            return out;
        };
        out.push_str(&html[i..at]);
        out.push(' ');
        let close = match open {
            "<!--" => "-->",
            "<script" => "</script>",
            _ => "</style>",
        };
        match lower[at..].find(close) {
            Some(end) => i = at + end + close.len(),
            None => return out,
        }
    }
}

/// The text of an HTML fragment, each tag replaced by a space.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if in_tag => {}
            c => out.push(c),
        }
    }
    out
}

/// An error page's text with its character references decoded: those
/// [`entity`] knows, and `&nbsp;` as a space. Anything else stays as it is;
/// what the references spell is sanitised afterwards like any text.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // A reference is short: look no further than a dozen bytes.
        let decoded = rest
            .bytes()
            .take(12)
            .position(|b| b == b';')
            .and_then(|end| match &rest[1..end] {
                "nbsp" => Some((' ', end + 1)),
                name => entity(name).map(|c| (c, end + 1)),
            });
        let (c, used) = decoded.unwrap_or(('&', 1));
        out.push(c);
        rest = &rest[used..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `value` registered as what `what` says, for the pure functions.
    fn secret(value: &str, what: &'static str) -> Hidden {
        Hidden {
            value: value.to_owned(),
            what,
        }
    }

    fn key(value: &str) -> [Hidden; 1] {
        [secret(value, "the API key")]
    }

    /// `want` with `{M}` standing for the mask.
    fn masked(want: &str) -> String {
        want.replace("{M}", MASK)
    }

    const KEY_WITHHELD: &str = "(text withheld: it spelled the API key in escaped form)";

    #[test]
    fn named_references_and_spelled_keys() {
        assert_eq!(unescape("&quot;&amp;&lt;&gt;&apos;&nbsp;"), "\"&<>'&nbsp;");
        assert!(spells("https://h/s3cr3t-K3Y", "s3cr3t-K3Y"));
        assert!(spells("https://h/s3cr3t%2DK3Y", "s3cr3t-K3Y"));
        assert!(!spells("https://h/s3cr3t", "s3cr3t-K3Y"));
    }

    #[test]
    fn a_key_spelled_in_escapes_withholds_the_text() {
        let k = "s3cr3t-K3Y-0000";
        for text in [
            r#"["s3cr3t\u002dK3Y-0000"]"#,
            "bad key s3cr3t&#45;K3Y&#x2d;0000 here",
            "bad key s3cr3t&#x2D;K3Y-0000",
        ] {
            assert_eq!(for_log_hiding(text, 300, &key(k)), KEY_WITHHELD, "{text}");
        }
        // Escaped whole, six characters a byte, across the 300-character
        // cut: still found, so nothing of it is shown.
        let escaped: String = k.bytes().map(|b| format!("\\u{b:04x}")).collect();
        let text = format!("{} {escaped}", "x".repeat(280));
        assert_eq!(for_log_hiding(&text, 300, &key(k)), KEY_WITHHELD);
        let quoted = r#"Ab"cd\ef-12345678"#;
        let echoed = r#"{"errors": "Ab\"cd\\ef-12345678"}"#;
        assert_eq!(for_log_hiding(echoed, 300, &key(quoted)), KEY_WITHHELD);
        // Escapes that spell something else are shown as they are.
        assert_eq!(
            for_log_hiding(r#"a\u002db &amp; c &#45; \x"#, 300, &key(k)),
            r#"a\u002db &amp; c &#45; \x"#
        );
        assert_eq!(
            unescape(r#"\u00e9\"&lt;&#233;&#xE9;&bogus;\u12"#),
            "é\"<éé&bogus;\\u12"
        );
    }

    #[test]
    fn removes_escapes_and_line_breaks() {
        let s = for_log("bad\x1b[31m red\r\n[ERROR] forged\x07", 100);
        assert!(!s.contains('\x1b') && !s.contains('\r') && !s.contains('\n'));
        assert!(!s.contains('\x07'));
        assert_eq!(s, "bad red [ERROR] forged");
    }

    #[test]
    fn removes_whole_escape_sequences() {
        for (text, want) in [
            ("a\x1b[31mred\x1b[0m b", "ared b"),
            ("a\x1b[1;2;38;5;196mb", "ab"),
            ("a\x1b[?25lb", "ab"),
            ("a\x1b]0;evil title\x07b", "ab"),
            ("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),
            ("a\x1bPq#0;2;0\x1b\\b", "ab"),
            ("a\x1b(Bb", "ab"),
            ("a\x1bcb", "ab"),
            ("a\u{9b}31mb", "ab"),
            ("a\u{9d}0;t\u{9c}b", "ab"),
            ("a\x1b[31\nb", "a b"),
            ("a\x1b]0;never ends", "a"),
            ("a\x1b", "a"),
            ("a\x1b\nb", "a b"),
            ("a\x1béb", "aéb"),
            ("a\x1b(", "a"),
        ] {
            assert_eq!(for_log(text, 100), want, "{text:?}");
        }
    }

    #[test]
    fn removes_bidirectional_overrides_and_invisible_characters() {
        for c in ['\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}'] {
            assert_eq!(for_log(&format!("ab{c}cd"), 100), "abcd", "{c:?}");
        }
        for c in ['\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}'] {
            assert_eq!(for_log(&format!("ab{c}cd"), 100), "abcd", "{c:?}");
        }
        for c in ['\u{200b}', '\u{200d}', '\u{2060}', '\u{feff}', '\u{ad}'] {
            assert_eq!(for_log(&format!("ab{c}cd"), 100), "abcd", "{c:?}");
        }
        // Neighbours of the ranges are kept.
        assert_eq!(for_log("a\u{2029}b", 100), "a b");
        assert_eq!(for_log("a\u{2070}b", 100), "a\u{2070}b");
    }

    #[test]
    fn shows_an_html_error_page_by_its_title() {
        let nginx = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        assert_eq!(for_log(nginx, 300), "502 Bad Gateway");
        let next = concat!(
            "<!DOCTYPE html><html><head><meta charSet=\"utf-8\"/>",
            "<title>404: This page could not be found.</title>",
            "<style>body{color:#000;background:#fff;margin:0}.next-error-h1{border-right:1px solid rgba(0,0,0,.3)}</style>",
            "<script src=\"/_next/static/chunks/main.js\" async=\"\"></script></head>",
            "<body><div><h1 class=\"next-error-h1\">404</h1><h2>This page could not be found.</h2></div></body></html>"
        );
        assert_eq!(for_log(next, 300), "404: This page could not be found.");
    }

    #[test]
    fn an_html_page_without_a_title_shows_its_first_heading_or_its_text() {
        let heading = "<html><head><title> </title><style>h1{x:y}</style></head><body><header>menu</header><h1 class=\"e\">Service <b>Unavailable</b></h1><h2>later</h2></body></html>";
        assert_eq!(for_log(heading, 300), "Service Unavailable");
        let text = "<html><head><style>p{color:red}</style><script>var key=1;</script></head><!-- <h1>no</h1> --><body><p>Gateway &amp; proxy &lt;down&gt;</p></body></html>";
        assert_eq!(for_log(text, 300), "Gateway & proxy <down>");
        assert_eq!(for_log("<p>cut <script>alert(1)", 300), "cut");
        assert_eq!(for_log("<p>queue > 100</p>", 300), "queue > 100");
        let many = format!(
            "<p>{}</p><style>a{{}}</style>end",
            "<!-- c -->x".repeat(100_000)
        );
        let started = std::time::Instant::now();
        assert!(for_log(&many, 300).starts_with("x x x"));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(
            for_log("<title>Tom &amp; Jerry&#39;s</title>", 300),
            "Tom & Jerry's"
        );
        // One decoder: every numeric reference, each decoded once, and an
        // escape sequence spelled with one is still removed whole.
        assert_eq!(
            for_log(
                "<title>Caf&#233;&nbsp;&#x2014; &amp;lt; &#27;[31m &bogus; &</title>",
                300
            ),
            "Café — &lt; &bogus; &"
        );
    }

    #[test]
    fn cuts_long_text_on_a_character_boundary() {
        let s = for_log(&"é".repeat(1000), 10);
        assert_eq!(s.chars().count(), 11);
        assert!(s.ends_with('…'));
        assert_eq!(for_log(&"é".repeat(10), 10), "é".repeat(10));
    }

    #[test]
    fn folded_spaces_count_towards_the_cap() {
        let s = for_log(&"x ".repeat(5000), MAX_SERVER_TEXT);
        assert_eq!(s, format!("{}…", "x ".repeat(150).trim_end()));
        let s = for_log(&"x  \t ".repeat(5000), 9);
        assert_eq!(s, "x x x x x…");
    }

    #[test]
    fn cleaning_stops_at_its_limit_folded_spaces_included() {
        // The limit bounds the work on a 1 MiB body, whatever cut follows.
        let s = clean(&"x ".repeat(5000), 300);
        assert_eq!(s.chars().count(), 300);
        assert_eq!(clean(&"xy ".repeat(5000), 10), "xy xy xy x");
        assert_eq!(clean(" a  b ", 10), "a b");
    }

    #[test]
    fn keeps_comparison_signs_in_plain_text() {
        assert_eq!(for_log("a < b > c", 50), "a < b > c");
    }

    const KEY: &str = "k3y-S3cr3t/v";

    fn hiding(text: &str, max: usize) -> String {
        for_log_hiding(text, max, &key(KEY))
    }

    #[test]
    fn the_key_is_redacted_in_every_form() {
        for (text, want) in [
            ("bad key k3y-S3cr3t/v", "bad key {M}"),
            (
                "/login?key=k3y-S3cr3t%2Fv&next=k3y-S3cr3t%2fv",
                "/login?key={M}&next={M}",
            ),
            ("%6B%33%79%2D%53%33%63%72%33%74%2F%76!", "{M}!"),
            ("%6b3y-S3cr3t/v", "{M}"),
            ("k3y\x1b[0m-S3cr\u{200b}3t/v", "{M}"),
            ("<title>bad key k3y-S3cr3t/v</title>", "bad key {M}"),
            ("k3y-S3cr3t/vk3y-S3cr3t/v", "{M}{M}"),
            ("k3y-S3cr3t/", "k3y-S3cr3t/"),
            ("k3y-S3cr3t%2", "k3y-S3cr3t%2"),
            ("K3Y-S3CR3T/V", "K3Y-S3CR3T/V"),
        ] {
            assert_eq!(hiding(text, 300), masked(want), "{text:?}");
        }
    }

    #[test]
    fn a_key_across_the_cut_is_redacted_not_halved() {
        let text = format!("{}{KEY}", "a".repeat(295));
        let s = hiding(&text, 300);
        assert!(!s.contains("k3y"), "{s}");
        assert_eq!(s, format!("{}{}…", "a".repeat(295), &MASK[..5]));
        let encoded = format!("{}k3y-S3cr3t%2Fv", "a".repeat(299));
        assert_eq!(
            hiding(&encoded, 300),
            format!("{}{}…", "a".repeat(299), &MASK[..1])
        );
        // Every byte encoded: three characters each must fit in the slack,
        // or the cut would show the first bytes of the key.
        let all_encoded: String = KEY.bytes().map(|b| format!("%{b:02X}")).collect();
        let text = format!("{}{all_encoded}", "a".repeat(285));
        assert_eq!(hiding(&text, 300), format!("{}{MASK}", "a".repeat(285)));
    }

    #[test]
    fn redact_leaves_other_text_alone() {
        assert!(matches!(
            redact_all("nothing here", &key(KEY)),
            Cow::Borrowed(_)
        ));
        assert!(!spells("x", ""));
        assert_eq!(redact_all("x", &[secret("", "nothing")]), "x");
        assert_eq!(
            redact_all("Location: /a?k=k3y-S3cr3t%2fv é", &key(KEY)),
            masked("Location: /a?k={M} é")
        );
    }

    #[test]
    fn every_secret_is_masked_the_longest_first() {
        let secrets = [
            secret("0f7a1c2e-9b1d-longer", "a monitor's secret"),
            secret("k3y-S3cr3t/v", "the API key"),
            secret("0f7a1c2e", "a proxy credential"),
        ];
        assert_eq!(
            redact_all(
                "k3y-S3cr3t%2Fv 0f7a1c2e-9b1d-longer 0f7a1c2e-9b1d 0f7a%31c2e%2D9b1d-longer",
                &secrets
            ),
            masked("{M} {M} {M}-9b1d {M}")
        );
        // What the withheld text names is the secret it spelled.
        let json = r#"{"error": "no check 0f7a1c2e\u002d9b1d-longer"}"#;
        assert_eq!(
            for_log_hiding(json, 300, &secrets),
            "(text withheld: it spelled a monitor's secret in escaped form)"
        );
        // The slack is the longest secret's: a proxy password of 40
        // characters across the cut, every byte escaped, is still found.
        let long = "p".repeat(40);
        let escaped: String = long.bytes().map(|b| format!("\\u{b:04x}")).collect();
        let text = format!("{} {escaped}", "x".repeat(50));
        let secrets = [secret(&long, "a proxy credential"), secret("short", "x")];
        assert_eq!(
            for_log_hiding(&text, 60, &secrets),
            "(text withheld: it spelled a proxy credential in escaped form)"
        );
    }

    #[test]
    fn hidden_secrets_are_masked_from_then_on() {
        // Values no other test's text contains: the registry is the
        // process's, shared by every test.
        const KEY: &str = "h1dd3n-Unit-K3y";
        hide_key(KEY);
        assert_eq!(
            for_log(&format!("bad key {KEY}"), 100),
            masked("bad key {M}")
        );
        assert_eq!(redact(&format!("?k={KEY}")), masked("?k={M}"));
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));

        hide_monitor_secret("m0n-1234");
        hide_monitor_secret("m0n-123");
        assert_eq!(redact("/m0n-1234 /m0n-123"), masked("/{M} /m0n-123"));
        assert_eq!(redact("/m0n%2D1234"), masked("/{M}"));
        // Lowercase words are a slug or a route, not an issued secret.
        hide_monitor_secret("calculate-pending");
        hide_monitor_secret("nightly_rewards");
        assert_eq!(
            redact("/calculate-pending nightly_rewards"),
            "/calculate-pending nightly_rewards"
        );
        hide_monitor_secret("Nightlyrewards");
        assert_eq!(redact("Nightlyrewards"), masked("{M}"));

        hide_proxy_credentials(Some("pr0xyus3"), Some("Zq9"));
        hide_proxy_credentials(Some("pr0xyu7"), None);
        assert_eq!(redact("pr0xyus3:Zq9 pr0xyu7"), masked("{M}:{M} pr0xyu7"));
        // An empty password (`http://user:@proxy`) masks nothing, and
        // withholds nothing.
        hide_proxy_credentials(None, Some(""));
        assert_eq!(for_log("a plain line", 100), "a plain line");
    }

    mod property {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any text comes out on one line, without escapes or the key,
            /// and within the cap.
            #[test]
            fn any_text_is_safe_to_log(
                text in ".*",
                html in "<(html|title|h1|script|style|!--)>.{0,40}(</(title|h1|script|style)>|-->)?.{0,40}",
                bytes in proptest::collection::vec(any::<u8>(), 0..300),
                max in 0usize..400,
            ) {
                let lossy = String::from_utf8_lossy(&bytes).into_owned();
                for text in [text, html, lossy] {
                    let key_text = "k3y%";
                    let with_key = format!("{text}{key_text}{text}");
                    for input in [&text, &with_key] {
                        let out = for_log_hiding(input, max, &key(key_text));
                        prop_assert!(!out.contains(['\n', '\r', '\x1b', '\u{202e}']), "{:?}", out);
                        prop_assert!(!out.contains(key_text), "{:?} -> {:?}", input, out);
                        prop_assert!(out.chars().count() <= max + 1, "{:?}", out);
                    }
                }
            }
        }
    }
}
