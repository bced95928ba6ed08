use std::fmt;

use super::Invalid;

/// A built-in team role that an operator can assign (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamRole {
    Admin,
    Developer,
}

impl TeamRole {
    pub fn parse(value: &str) -> Result<TeamRole, Invalid> {
        match value {
            "admin" => Ok(TeamRole::Admin),
            "developer" => Ok(TeamRole::Developer),
            other => Err(Invalid(format!("unknown role {other:?}: use \"admin\" or \"developer\""))),
        }
    }

    pub fn as_str(self) -> &'static str {
        MemberRole::from(self).as_str()
    }
}

/// A membership's role as stored: a built-in role, or `custom` (the member's custom roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    Admin,
    Developer,
    Custom,
}

impl MemberRole {
    /// Reads the stored column; unknown values (impossible under the CHECK constraint) are
    /// treated as having no built-in permissions.
    pub fn from_stored(value: &str) -> MemberRole {
        match value {
            "admin" => MemberRole::Admin,
            "developer" => MemberRole::Developer,
            _ => MemberRole::Custom,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Admin => "admin",
            MemberRole::Developer => "developer",
            MemberRole::Custom => "custom",
        }
    }
}

/// A team's custom role name: 1–64 characters `A-Z a-z 0-9 - _`, starting with a letter or
/// digit, so that it reads unambiguously in a decision reason (`allowed_by_role:<name>`) and on
/// a command line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleName(String);

impl RoleName {
    pub fn parse(value: &str) -> Result<RoleName, Invalid> {
        let bytes = value.as_bytes();
        let valid_first = bytes.first().is_some_and(u8::is_ascii_alphanumeric);
        let valid_rest = bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        if bytes.len() <= 64 && valid_first && valid_rest {
            Ok(RoleName(value.to_owned()))
        } else {
            Err(Invalid(format!(
                "invalid role name {value:?}: use 1-64 characters A-Z, a-z, 0-9, '-' and '_', starting with a letter or digit"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<TeamRole> for MemberRole {
    fn from(role: TeamRole) -> Self {
        match role {
            TeamRole::Admin => MemberRole::Admin,
            TeamRole::Developer => MemberRole::Developer,
        }
    }
}

impl fmt::Display for MemberRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names() {
        for good in ["ci", "Deployer", "prod-deployer_2", "a", &"r".repeat(64)] {
            assert!(RoleName::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "-ci", "_ci", "with space", "colon:name", "é", &"r".repeat(65), "a\0"] {
            assert!(RoleName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
