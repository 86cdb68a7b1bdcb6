//! The process environment as ocd-cron reads it: every value as the OS
//! gives it, bytes that are not UTF-8 included.
//!
//! Settings are looked up as text ([`super::Lookup`]), but an environment
//! value is bytes. Decoding it lossily would silently rewrite a setting
//! (U+FFFD in a path: a different metrics file written, an existing key
//! file "not found"; in a URL: a request to an altered path). So each byte
//! that is not part of valid UTF-8 is kept, escaped as a NUL followed by
//! two hex digits: no environment value can hold a NUL, so the escape is
//! never ambiguous. A path setting turns the escapes back into the exact
//! bytes ([`path`]); every text setting (a URL, the key, a proxy) refuses a
//! value holding them, since NUL is a control character it already
//! refuses, and [`not_text`] names the cause without quoting the value.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// Marks an escaped byte; see the module documentation.
const ESCAPE: char = '\0';

/// The variable `name` from the real environment, escaped as above.
pub(super) fn read(name: &str) -> Option<String> {
    std::env::var_os(name).map(|value| escape(&value))
}

/// `value`'s valid UTF-8 as it is, every other byte escaped.
fn escape(value: &OsStr) -> String {
    let mut text = String::new();
    for chunk in value.as_bytes().utf8_chunks() {
        text.push_str(chunk.valid());
        for byte in chunk.invalid() {
            text.push(ESCAPE);
            text.push_str(&format!("{byte:02x}"));
        }
    }
    text
}

/// A path setting's value as a path: exactly the bytes the environment
/// held, also where an env file's `$VAR` brought them in. (An env file's
/// own text is UTF-8, and a NUL in a path could not be opened anyway.)
pub(super) fn path(value: &str) -> PathBuf {
    if !value.contains(ESCAPE) {
        return PathBuf::from(value);
    }
    let mut bytes = Vec::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find(ESCAPE) {
        bytes.extend_from_slice(&rest.as_bytes()[..at]);
        let hex = rest.get(at + 1..at + 3);
        match hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
            Some(byte) => {
                bytes.push(byte);
                rest = &rest[at + 3..];
            }
            // Not an escape this module wrote: kept, and refused by the
            // OS as a path with a NUL in it.
            None => {
                bytes.push(0);
                rest = &rest[at + 1..];
            }
        }
    }
    bytes.extend_from_slice(rest.as_bytes());
    PathBuf::from(OsString::from_vec(bytes))
}

/// Whether a text setting's value held bytes that are not UTF-8, which
/// only an escape from [`read`] can show.
pub(super) fn not_text(value: &str) -> bool {
    value.contains(ESCAPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_come_back_byte_for_byte() {
        for bytes in [
            &b"/var/lib/node_exporter/ocd.prom"[..],
            b"/tmp/m\xff.prom",
            b"/tmp/\xe9t\xe9/key",
            b"\xc3",
            b"/t/\xf0\x9f\x98",
            "/tmp/ünïcode/ok".as_bytes(),
        ] {
            let value = OsStr::from_bytes(bytes);
            let escaped = escape(value);
            assert_eq!(path(&escaped).as_os_str(), value, "{escaped:?}");
            assert_eq!(not_text(&escaped), std::str::from_utf8(bytes).is_err());
        }
        assert_eq!(escape(OsStr::from_bytes(b"a\xffb")), "a\u{0}ffb");
    }

    #[test]
    fn a_nul_that_is_no_escape_is_kept() {
        assert_eq!(path("a\u{0}zz").as_os_str().as_bytes(), b"a\0zz");
        assert_eq!(path("a\u{0}f").as_os_str().as_bytes(), b"a\0f");
        assert_eq!(path("a\u{0}").as_os_str().as_bytes(), b"a\0");
        assert_eq!(path("plain"), PathBuf::from("plain"));
    }
}
