//! Use cases: each public function is one transaction that checks what it must, changes what
//! it must, and writes the audit event. The CLI, the JSON API and the pages all call these.
//!
//! # Lock order
//!
//! On PostgreSQL (READ COMMITTED) a transaction that reads and then writes on what it read
//! locks rows; SQLite's write transaction holds the database write lock and needs none. The
//! use cases around grants take their locks in this one order, each skipping what it does
//! not need, so no two of them can deadlock:
//!
//! 1. the user (`users::disable` updates it);
//! 2. the memberships (`members::lock`: issuance, refresh, removal, disable; the user is read
//!    after it, so a disable that got there first is seen);
//! 3. the OAuth app (`apps::lock`: issuance for an unverified app, before counting its teams);
//! 4. the project (`projects::lock_against_deletion`: issuance of a project grant; a project
//!    deletion locks it first too, by deleting it);
//! 5. the authorization code (claimed by a conditional `UPDATE`);
//! 6. grants (issued, refreshed or revoked);
//! 7. refresh tokens (claimed by a conditional `UPDATE`).
//!
//! Whoever ends a member's standing (removal, disable) locks the membership before revoking,
//! and whoever issues or refreshes under it holds that lock until it commits: the revocation
//! then sees the new grant, or the issuance sees the standing gone. Deleting an app or a project
//! cascades from it to its codes, grants and refresh tokens: the same direction, and issuance
//! holds the project before it claims the code, so a deletion either waits for the grant (and
//! deletes it) or is waited for (and the code is gone). Teams cannot be deleted.

pub mod access;
pub mod apps;
pub mod audit;
pub mod backends;
pub mod client_documents;
pub mod decisions;
pub mod demo;
pub mod deploy_keys;
pub mod deployments;
pub mod grants;
pub mod members;
pub mod page;
pub mod projects;
pub mod resources;
pub mod roles;
pub mod secrets;
pub mod signing;
pub mod teams;
pub mod users;
pub mod verify;

use diesel::result::{DatabaseErrorKind, Error as DieselError};

pub use self::audit::Actor;
use crate::domain::Invalid;

/// Why a use case did not happen. The messages are meant for the caller.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type OpResult<T> = Result<T, OpError>;

impl OpError {
    /// A team that does not exist, or that the caller is outside of: the same words for both,
    /// so that nobody learns which teams exist.
    pub fn no_such_team() -> OpError {
        OpError::NotFound("no team with that slug".into())
    }
}

impl From<Invalid> for OpError {
    fn from(invalid: Invalid) -> Self {
        OpError::Invalid(invalid.0)
    }
}

/// A row that was required and is gone is the caller's 404 (it went between their request and
/// ours), a duplicate their 409; anything else is a fault of ours.
impl From<DieselError> for OpError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => OpError::NotFound("it no longer exists".into()),
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                OpError::Conflict("it already exists".into())
            }
            other => OpError::Internal(other.into()),
        }
    }
}

/// Maps a unique violation to a conflict with a specific message; other errors pass through.
pub(crate) fn conflict_as(message: impl Into<String>) -> impl FnOnce(DieselError) -> OpError {
    move |error| match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => OpError::Conflict(message.into()),
        other => other.into(),
    }
}

/// Formats a timestamp as RFC 3339 (UTC) for JSON output.
pub fn rfc3339(at: time::PrimitiveDateTime) -> String {
    at.assume_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use diesel::result::DatabaseErrorInformation;

    use super::*;

    struct Violation;

    impl DatabaseErrorInformation for Violation {
        fn message(&self) -> &str {
            "duplicate key"
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    #[test]
    fn database_refusals_map_to_the_callers_answers() {
        assert!(matches!(OpError::from(DieselError::NotFound), OpError::NotFound(_)));
        let duplicate = DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, Box::new(Violation));
        assert!(matches!(OpError::from(duplicate), OpError::Conflict(_)));
        assert!(matches!(OpError::from(DieselError::BrokenTransactionManager), OpError::Internal(_)));
    }
}
