//! Use cases: each public function is one transaction that checks what it must, changes what
//! it must, and writes the audit event. The CLI, the JSON API and the pages all call these.

pub mod apps;
pub mod audit;
pub mod backends;
pub mod decisions;
pub mod demo;
pub mod deployments;
pub mod grants;
pub mod members;
pub mod projects;
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

impl From<Invalid> for OpError {
    fn from(invalid: Invalid) -> Self {
        OpError::Invalid(invalid.0)
    }
}

impl From<DieselError> for OpError {
    fn from(error: DieselError) -> Self {
        match error {
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
