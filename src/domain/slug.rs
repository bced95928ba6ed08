use std::fmt;

use super::Invalid;

/// A team or project slug: `[a-z0-9][a-z0-9-]{1,62}` (SPEC §2), so 2 to 63 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    pub fn parse(value: &str) -> Result<Slug, Invalid> {
        let bytes = value.as_bytes();
        let valid_first = bytes.first().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let valid_rest =
            bytes[1.min(bytes.len())..].iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
        if (2..=63).contains(&bytes.len()) && valid_first && valid_rest {
            Ok(Slug(value.to_owned()))
        } else {
            Err(Invalid(format!(
                "invalid slug {value:?}: use 2-63 characters a-z, 0-9 and '-', starting with a letter or digit"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_grammar() {
        for ok in ["ab", "a1", "0-team", "acme", "web-app-2", &"a".repeat(63)] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for bad in ["", "a", "-ab", "Acme", "ac me", "acme_", "acmé", "a:b", "a|b", &"a".repeat(64)] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }
}
