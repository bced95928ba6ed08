use std::fmt;

use super::Invalid;

/// What an application token is scoped to (SPEC §1): one project, or a whole team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Project,
    Team,
}

impl Scope {
    pub fn parse(value: &str) -> Result<Scope, Invalid> {
        match value {
            "project" => Ok(Scope::Project),
            "team" => Ok(Scope::Team),
            other => Err(Invalid(format!("unknown scope {other:?}: use \"project\" or \"team\""))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Project => "project",
            Scope::Team => "team",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
