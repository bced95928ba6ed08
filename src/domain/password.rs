use secrecy::{ExposeSecret, SecretString};

use super::Invalid;

/// A new password: 8 to 1024 characters (the upper bound keeps Argon2 input bounded).
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    pub fn parse(value: &str) -> Result<Password, Invalid> {
        let len = value.chars().count();
        if !(8..=1024).contains(&len) {
            return Err(Invalid::new("password must be 8 to 1024 characters"));
        }
        Ok(Password(SecretString::from(value)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}
