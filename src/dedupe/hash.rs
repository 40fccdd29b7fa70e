//! Stable hashes for keys and fingerprints that are stored, so they never change between builds.
//!
//! `std`'s `DefaultHasher` is explicitly allowed to change between Rust releases, which would
//! silently invalidate every key and fingerprint in the database; these are fixed algorithms.

const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 64 bits, over the byte parts in order (no separator is added between parts).
pub fn fnv1a_64(parts: &[&[u8]]) -> u64 {
    let mut hash = Fnv1a::default();
    for part in parts {
        hash.update(part);
    }
    hash.finish()
}

/// FNV-1a fed piece by piece: the same value as [`fnv1a_64`] over the concatenated pieces, with
/// no buffer holding them all (a 10,000-source config's `Debug` text is megabytes). As a
/// [`std::fmt::Write`], it hashes formatted text as it is written.
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(FNV_OFFSET_BASIS)
    }
}

impl Fnv1a {
    pub fn update(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }

    pub fn finish(&self) -> u64 {
        self.0
    }
}

impl std::fmt::Write for Fnv1a {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.update(text.as_bytes());
        Ok(())
    }
}

/// The SplitMix64 finaliser: spreads FNV's weak low bits so every bit of the result is uniform,
/// which the bottom-k sketch relies on.
pub fn mix64(mut value: u64) -> u64 {
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a_64(&[b""]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(&[b"a"]), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(&[b"foobar"]), 0x8594_4171_f739_67e8);
        assert_eq!(fnv1a_64(&[b"foo", b"bar"]), fnv1a_64(&[b"foobar"]));
    }

    #[test]
    fn fed_piece_by_piece_it_is_the_same_hash() {
        use std::fmt::Write as _;
        let mut hash = Fnv1a::default();
        let (word, quoted) = ("foo", "bar");
        write!(hash, "{word}{quoted:?}").unwrap();
        assert_eq!(hash.finish(), fnv1a_64(&[b"foo\"bar\""]));
        assert_ne!(hash.finish(), fnv1a_64(&[b"foobar"]));
    }

    #[test]
    fn mix_is_a_fixed_function() {
        assert_eq!(mix64(0), 0);
        assert_ne!(mix64(1), mix64(2));
        assert_eq!(mix64(12345), mix64(12345));
    }
}
