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
