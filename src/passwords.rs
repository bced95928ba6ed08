//! Password hashing: Argon2id with the crate's defaults (RFC 9106's second recommended
//! configuration: 19 MiB, 2 passes, 1 lane), PHC strings in the database.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::domain::Password;

pub fn hash(password: &Password) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// A hash of nothing anybody knows, verified against when the account does not exist so that
/// a login for an unknown email costs the same time as one for a known email.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(b"portcullis timing equaliser", &salt)
        .map(|hash| hash.to_string())
        .unwrap_or_default()
});

/// Verifies `password` against `stored`, or against a dummy hash when there is no account.
pub fn verify(stored: Option<&str>, password: &str) -> bool {
    let (hash, real) = match stored {
        Some(hash) => (hash, true),
        None => (DUMMY_HASH.as_str(), false),
    };
    let matches = PasswordHash::new(hash)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok());
    real && matches
}

/// Computes the dummy hash now rather than during the first login for an unknown account.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_the_right_password_only() {
        let stored = hash(&Password::parse("correct horse").unwrap()).unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(Some(&stored), "correct horse"));
        assert!(!verify(Some(&stored), "wrong horse"));
        assert!(!verify(None, "portcullis timing equaliser"));
        assert!(!verify(Some("not a phc string"), "x"));
    }
}
