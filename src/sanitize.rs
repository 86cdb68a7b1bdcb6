//! Turns text a server sent into something safe to put in a log line.
//!
//! Whatever the server (or a proxy in front of it) puts in a body or a header
//! ends up in cron mail and the journal. It must not be able to forge a log
//! line (CR/LF), drive the terminal (ESC sequences) or flood the log, so every
//! server-supplied string passes through [`for_log`] before it is formatted.

/// How many characters of server text a log line carries.
pub const MAX_SERVER_TEXT: usize = 300;

/// Removes control characters, strips HTML tags (proxies answer with HTML
/// error pages), folds runs of white space into one space and cuts the result
/// to `max_chars` characters, marking the cut with `…`.
pub fn for_log(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars + 4));
    let mut in_tag = false;
    let mut pending_space = false;
    let mut count = 0;
    let html = looks_like_html(text);
    for c in text.chars() {
        match c {
            '<' if html => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                pending_space = true;
            }
            _ if in_tag => {}
            c if c.is_whitespace() || c.is_control() => pending_space = true,
            // Bidirectional overrides can make a log line read differently
            // from what it contains.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c => {
                if pending_space && !out.is_empty() {
                    if count == max_chars {
                        out.push('…');
                        return out;
                    }
                    out.push(' ');
                    count += 1;
                }
                pending_space = false;
                if count == max_chars {
                    out.push('…');
                    return out;
                }
                out.push(c);
                count += 1;
            }
        }
    }
    out
}

fn looks_like_html(text: &str) -> bool {
    let head = text.trim_start().get(..15).unwrap_or(text.trim_start());
    head.starts_with('<')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_escapes_and_line_breaks() {
        let s = for_log("bad\x1b[31m red\r\n[ERROR] forged\x07", 100);
        assert!(!s.contains('\x1b') && !s.contains('\r') && !s.contains('\n'));
        assert!(!s.contains('\x07'));
        assert_eq!(s, "bad [31m red [ERROR] forged");
    }

    #[test]
    fn strips_html_of_a_proxy_error_page() {
        let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        assert_eq!(for_log(page, 300), "502 Bad Gateway 502 Bad Gateway nginx");
    }

    #[test]
    fn cuts_long_text_on_a_character_boundary() {
        let s = for_log(&"é".repeat(1000), 10);
        assert_eq!(s.chars().count(), 11);
        assert!(s.ends_with('…'));
    }

    #[test]
    fn keeps_comparison_signs_in_plain_text() {
        assert_eq!(for_log("a < b > c", 50), "a < b > c");
    }
}
