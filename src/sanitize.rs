//! Turns text from outside (a server's body or header, a proxy's error
//! page, a library's error message) into something safe to show.
//!
//! Whatever the server (or a proxy in front of it) puts in a body or a header
//! ends up in cron mail, the journal, the JSON on stdout and the monitor's
//! ping body. It must not be able to forge a log line (CR/LF), drive the
//! terminal (escape sequences), reorder what a line reads (bidirectional
//! overrides), flood the log, or show the API key it was sent (a server that
//! echoes `bad key <key>`, a redirect to `/login?key=<key>`). So every piece
//! of outside text passes through [`for_log`] before it is formatted, and
//! the key is scrubbed there, where no caller can forget it: [`hide`]
//! registers it once, when the configuration is loaded. [`redact`] is the
//! same scrubbing for text that is not the server's, such as the HTTP
//! library's own log records.

use std::borrow::Cow;
use std::sync::OnceLock;

/// How many characters of server text a log line carries.
pub const MAX_SERVER_TEXT: usize = 300;

/// What the key is replaced with wherever it appears.
pub const REDACTED: &str = "(redacted)";

/// The API key, once loaded.
static SECRET: OnceLock<String> = OnceLock::new();

/// Registers the key so that no outside text shows it from now on. The
/// first call wins: one process loads one key.
pub fn hide(secret: &str) {
    let _ = SECRET.set(secret.to_owned());
}

/// Sanitises outside text for a log line: removes escape sequences and
/// control and invisible characters, reduces an HTML page to its title (or
/// first heading), folds runs of white space into one space, replaces the
/// key (also percent-encoded) with `(redacted)`, and cuts the result to
/// `max_chars` characters, marking the cut with `…`.
pub fn for_log(text: &str, max_chars: usize) -> String {
    for_log_hiding(text, max_chars, SECRET.get().map(String::as_str))
}

/// `text` with the registered key replaced by `(redacted)`; borrowed when
/// there is nothing to replace.
pub fn redact(text: &str) -> Cow<'_, str> {
    match SECRET.get() {
        Some(secret) => redact_secret(text, secret),
        None => Cow::Borrowed(text),
    }
}

fn for_log_hiding(text: &str, max_chars: usize, secret: Option<&str>) -> String {
    let text = if looks_like_html(text) {
        Cow::Owned(html_summary(text))
    } else {
        Cow::Borrowed(text)
    };
    // Cleaned a little past the cut, so that a key starting before the cut
    // is whole when it is looked for (percent-encoded, up to three
    // characters a byte), and so that the cut knows there was more.
    // Six: the longest escape of one byte (`\u002d`, `&#x2d;`).
    let slack = secret.map_or(0, |s| 6 * s.len());
    let clean = clean(&text, max_chars.saturating_add(slack).saturating_add(1));
    let clean = match secret {
        Some(secret) => {
            let redacted = redact_secret(&clean, secret).into_owned();
            // The key spelled with escapes (a JSON `\u002d` or `\"`, an
            // HTML `&#45;`) cannot be cut out where it stands: the whole
            // text is withheld rather than guessed at.
            if unescape(&redacted).contains(secret) {
                return WITHHELD.to_owned();
            }
            redacted
        }
        None => clean,
    };
    cut(clean, max_chars)
}

/// What stands instead of outside text that spelled the key in escapes.
pub const WITHHELD: &str = "(text withheld: it spelled the API key in escaped form)";

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
    matches!(redact_secret(text, secret), Cow::Owned(_))
}

/// `text` with every occurrence of `secret` replaced by `(redacted)`,
/// including forms where any of its bytes is percent-encoded (`%6B` or
/// `%6b`), as in a redirect's query string.
fn redact_secret<'t>(text: &'t str, secret: &str) -> Cow<'t, str> {
    let (bytes, key) = (text.as_bytes(), secret.as_bytes());
    if key.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out: Option<String> = None;
    let (mut copied, mut i) = (0, 0);
    while i < bytes.len() {
        match match_encoded(&bytes[i..], key) {
            Some(len) => {
                let out = out.get_or_insert_with(String::new);
                // Both ends are ASCII bytes, hence character boundaries.
                out.push_str(&text[copied..i]);
                out.push_str(REDACTED);
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

    #[test]
    fn named_references_and_spelled_keys() {
        assert_eq!(unescape("&quot;&amp;&lt;&gt;&apos;&nbsp;"), "\"&<>'&nbsp;");
        assert!(spells("https://h/s3cr3t-K3Y", "s3cr3t-K3Y"));
        assert!(spells("https://h/s3cr3t%2DK3Y", "s3cr3t-K3Y"));
        assert!(!spells("https://h/s3cr3t", "s3cr3t-K3Y"));
    }

    #[test]
    fn a_key_spelled_in_escapes_withholds_the_text() {
        let key = "s3cr3t-K3Y-0000";
        for text in [
            r#"["s3cr3t\u002dK3Y-0000"]"#,
            "bad key s3cr3t&#45;K3Y&#x2d;0000 here",
            "bad key s3cr3t&#x2D;K3Y-0000",
        ] {
            assert_eq!(for_log_hiding(text, 300, Some(key)), WITHHELD, "{text}");
        }
        // Escaped whole, six characters a byte, across the 300-character
        // cut: still found, so nothing of it is shown.
        let escaped: String = key.bytes().map(|b| format!("\\u{b:04x}")).collect();
        let text = format!("{} {escaped}", "x".repeat(280));
        assert_eq!(for_log_hiding(&text, 300, Some(key)), WITHHELD);
        let quoted = r#"Ab"cd\ef-12345678"#;
        let echoed = r#"{"errors": "Ab\"cd\\ef-12345678"}"#;
        assert_eq!(for_log_hiding(echoed, 300, Some(quoted)), WITHHELD);
        // Escapes that spell something else are shown as they are.
        assert_eq!(
            for_log_hiding(r#"a\u002db &amp; c &#45; \x"#, 300, Some(key)),
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
        for_log_hiding(text, max, Some(KEY))
    }

    #[test]
    fn the_key_is_redacted_in_every_form() {
        for (text, want) in [
            ("bad key k3y-S3cr3t/v", "bad key (redacted)"),
            (
                "/login?key=k3y-S3cr3t%2Fv&next=k3y-S3cr3t%2fv",
                "/login?key=(redacted)&next=(redacted)",
            ),
            ("%6B%33%79%2D%53%33%63%72%33%74%2F%76!", "(redacted)!"),
            ("%6b3y-S3cr3t/v", "(redacted)"),
            ("k3y\x1b[0m-S3cr\u{200b}3t/v", "(redacted)"),
            ("<title>bad key k3y-S3cr3t/v</title>", "bad key (redacted)"),
            ("k3y-S3cr3t/vk3y-S3cr3t/v", "(redacted)(redacted)"),
            ("k3y-S3cr3t/", "k3y-S3cr3t/"),
            ("k3y-S3cr3t%2", "k3y-S3cr3t%2"),
            ("K3Y-S3CR3T/V", "K3Y-S3CR3T/V"),
        ] {
            assert_eq!(hiding(text, 300), want, "{text:?}");
        }
    }

    #[test]
    fn a_key_across_the_cut_is_redacted_not_halved() {
        let text = format!("{}{KEY}", "a".repeat(295));
        let s = hiding(&text, 300);
        assert!(!s.contains("k3y"), "{s}");
        assert_eq!(s, format!("{}(reda…", "a".repeat(295)));
        let encoded = format!("{}k3y-S3cr3t%2Fv", "a".repeat(299));
        assert_eq!(hiding(&encoded, 300), format!("{}(…", "a".repeat(299)));
        // Every byte encoded: three characters each must fit in the slack,
        // or the cut would show the first bytes of the key.
        let all_encoded: String = KEY.bytes().map(|b| format!("%{b:02X}")).collect();
        let text = format!("{}{all_encoded}", "a".repeat(285));
        assert_eq!(hiding(&text, 300), format!("{}(redacted)", "a".repeat(285)));
    }

    #[test]
    fn redact_leaves_other_text_alone() {
        assert!(matches!(
            redact_secret("nothing here", KEY),
            Cow::Borrowed(_)
        ));
        assert_eq!(redact_secret("x", ""), "x");
        assert_eq!(
            redact_secret("Location: /a?k=k3y-S3cr3t%2fv é", KEY),
            "Location: /a?k=(redacted) é"
        );
    }

    #[test]
    fn a_hidden_key_is_redacted_from_then_on() {
        // The only test that registers a key (the process keeps the first),
        // one no other test's text contains.
        const HIDDEN: &str = "h1dd3n-Unit-K3y";
        hide(HIDDEN);
        assert_eq!(
            for_log(&format!("bad key {HIDDEN}"), 100),
            "bad key (redacted)"
        );
        assert_eq!(redact(&format!("?k={HIDDEN}")), "?k=(redacted)");
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
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
                    let key = "k3y%";
                    let with_key = format!("{text}{key}{text}");
                    for input in [&text, &with_key] {
                        let out = for_log_hiding(input, max, Some(key));
                        prop_assert!(!out.contains(['\n', '\r', '\x1b', '\u{202e}']), "{:?}", out);
                        prop_assert!(!out.contains(key), "{:?} -> {:?}", input, out);
                        prop_assert!(out.chars().count() <= max + 1, "{:?}", out);
                    }
                }
            }
        }
    }
}
