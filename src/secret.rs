//! The API key's type. It cannot be printed by accident: `Debug` and
//! `Display` show the one mask ([`MASK`]), and the only way to the value is
//! [`Secret::expose`], used where the header is set and where the key is
//! registered with the redactor. A leaf, so that what carries the key
//! (the configuration, the request) need not import each other for it.

use std::fmt;

use crate::sanitize::MASK;

/// The API key.
pub struct Secret(String);

impl Secret {
    pub(crate) fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_value() {
        let secret = Secret::new("s3cr3t-value".into());
        assert_eq!(format!("{secret}"), MASK);
        assert_eq!(format!("{secret:?}"), MASK);
        assert_eq!(secret.expose(), "s3cr3t-value");
    }
}
