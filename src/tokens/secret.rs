//! High-entropy secrets and their storage form.
//!
//! Secrets we generate (tokens, codes, client secrets, session ids) carry 256 bits of entropy,
//! so a single SHA-256 is a sufficient, fast storage hash: nothing to brute-force, and lookups
//! by hash cost one index probe. Passwords, which people choose, use Argon2id instead.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// 32 random bytes from the OS CSPRNG, base64url without padding: 43 characters from
/// `A-Z a-z 0-9 - _`, safe in a form body, a URL and an `Authorization` header.
pub fn generate_secret() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// `N` random bytes, lowercase hex: identifiers such as client ids and key ids.
pub fn generate_hex_id<const N: usize>() -> String {
    hex::encode(random_bytes::<N>())
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// The SHA-256 of a secret as bytes: what in-memory caches key on (no hex on the hot path).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretDigest([u8; 32]);

impl SecretDigest {
    pub fn of(secret: &str) -> SecretDigest {
        SecretDigest(Sha256::digest(secret.as_bytes()).into())
    }

    /// Reads a stored hash back; `None` for anything that is not 64 hex digits.
    pub fn from_stored(stored: &str) -> Option<SecretDigest> {
        let mut digest = [0u8; 32];
        hex::decode_to_slice(stored, &mut digest).ok()?;
        Some(SecretDigest(digest))
    }

    /// The storage form.
    pub fn to_hash(&self) -> SecretHash {
        SecretHash(hex::encode(self.0))
    }

    /// Whether `presented` hashes to this digest, compared in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        SecretDigest::of(presented).0.ct_eq(&self.0).into()
    }
}

impl fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretDigest({}…)", hex::encode(&self.0[..4]))
    }
}

/// The SHA-256 of a secret as lowercase hex: what the database stores and indexes.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(String);

impl SecretHash {
    pub fn of(secret: &str) -> SecretHash {
        SecretDigest::of(secret).to_hash()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// Whether `presented` hashes to the stored digest, compared in constant time.
    pub fn matches_stored(stored: &str, presented: &str) -> bool {
        SecretHash::of(presented).0.as_bytes().ct_eq(stored.as_bytes()).into()
    }
}

/// Digests are not secrets, but there is no reason to print them either.
impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretHash({}…)", &self.0[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_43_url_safe_characters_and_unique() {
        let a = generate_secret();
        let b = generate_secret();
        assert_eq!(a.len(), 43);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
    }

    #[test]
    fn hash_matches_only_the_same_secret() {
        let stored = SecretHash::of("s3cret").into_string();
        assert_eq!(stored.len(), 64);
        assert!(SecretHash::matches_stored(&stored, "s3cret"));
        assert!(!SecretHash::matches_stored(&stored, "s3cret "));
        assert!(!SecretHash::matches_stored(&stored, ""));
    }

    #[test]
    fn digests_round_trip_through_the_stored_form() {
        let digest = SecretDigest::of("s3cret");
        assert_eq!(SecretDigest::from_stored(digest.to_hash().as_str()), Some(digest));
        assert!(digest.matches("s3cret") && !digest.matches("s3cret "));
        assert_eq!(SecretDigest::from_stored("not hex"), None);
        assert_eq!(SecretDigest::from_stored(&"ab".repeat(31)), None);
    }
}
