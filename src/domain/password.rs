use secrecy::{ExposeSecret, SecretString};

use super::Invalid;

/// A new password: 8 to 1024 characters (the upper bound keeps Argon2 input bounded), without
/// control characters (the login form refuses those at the text boundary, so such a password
/// could never be used).
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    pub fn parse(value: &str) -> Result<Password, Invalid> {
        let len = value.chars().count();
        if !(8..=1024).contains(&len) {
            return Err(Invalid::new("password must be 8 to 1024 characters"));
        }
        if value.chars().any(char::is_control) {
            return Err(Invalid::new("password must not contain control characters"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_the_login_form_could_not_send_are_refused() {
        assert!(Password::parse("correct horse battery").is_ok());
        assert!(Password::parse("short").is_err());
        for control in ["tab\there-ok?", "nul\0-in-the-middle", "line\nbreak-here"] {
            assert!(Password::parse(control).is_err(), "{control:?}");
        }
    }
}
