use std::fmt;

use super::Invalid;

fn clean(value: &str, what: &str, min: usize, max: usize) -> Result<String, Invalid> {
    let value = value.trim();
    let len = value.chars().count();
    if len < min || len > max {
        return Err(Invalid(format!("{what} must be {min} to {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(Invalid(format!("{what} must not contain control characters")));
    }
    Ok(value.to_owned())
}

/// A person's, team's, project's or key's display name: 1–100 printable characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(value: &str) -> Result<DisplayName, Invalid> {
        clean(value, "name", 1, 100).map(DisplayName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An OAuth application's name: 3–128 characters (SPEC §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppName(String);

impl AppName {
    pub fn parse(value: &str) -> Result<AppName, Invalid> {
        clean(value, "application name", 3, 128).map(AppName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names_are_3_to_128_characters() {
        assert!(AppName::parse("ab").is_err());
        assert!(AppName::parse("  ab  ").is_err());
        assert!(AppName::parse("abc").is_ok());
        assert!(AppName::parse(&"é".repeat(128)).is_ok());
        assert!(AppName::parse(&"é".repeat(129)).is_err());
        assert!(AppName::parse("bad\u{7}name").is_err());
    }

    #[test]
    fn display_names_are_trimmed() {
        assert_eq!(DisplayName::parse("  Ada ").unwrap().as_str(), "Ada");
        assert!(DisplayName::parse("   ").is_err());
    }
}
