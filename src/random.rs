//! Randomness: the request id (a UUID v4 sent as
//! `Idempotency-Key`), the jitter of retry waits and of `--jitter`, and
//! the ids of trace context.
//!
//! Sixteen bytes from the OS are all this needs, so they come from
//! `getrandom`, which ring (the TLS crypto) links already, rather than from
//! a UUID or RNG crate. It asks the kernel directly (the `getrandom` system
//! call on Linux; `/dev/urandom` only on kernels without it), so no file
//! descriptor is needed. Should the OS refuse even so (a sandbox that
//! forbids both), std's randomly keyed SipHash stands in: it is seeded from
//! the OS too, and uniqueness, not secrecy, is what matters here.

use std::hash::{BuildHasher, RandomState};

/// Sixteen random bytes.
pub fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        let state = RandomState::new();
        let hi = state.hash_one(std::process::id()).to_le_bytes();
        let lo = state.hash_one(std::time::SystemTime::now()).to_le_bytes();
        bytes[..8].copy_from_slice(&hi);
        bytes[8..].copy_from_slice(&lo);
    }
    bytes
}

/// A new random UUID v4 in its canonical lower-case hyphenated form.
pub fn uuid_v4() -> String {
    let mut b = random_bytes();
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A random fraction in `[0, 1)`, for jitter.
pub fn fraction() -> f64 {
    let b = random_bytes();
    let n = u64::from_le_bytes(b[..8].try_into().expect("eight bytes"));
    (n >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_canonical_v4_uuid() {
        let id = uuid_v4();
        assert_eq!(id.len(), 36);
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"));
        assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }

    #[test]
    fn ids_differ() {
        assert_ne!(uuid_v4(), uuid_v4());
    }

    #[test]
    fn fraction_is_in_range_and_varies() {
        let draws: Vec<f64> = (0..100).map(|_| fraction()).collect();
        assert!(draws.iter().all(|f| (0.0..1.0).contains(f)), "{draws:?}");
        // A constant would make every client retry in step.
        assert!(draws.iter().any(|&f| f != draws[0]), "{draws:?}");
    }
}
