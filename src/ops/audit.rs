//! Audit events: who did what to which credential or membership, when, from where.

use secrecy::SecretString;
use serde_json::Value;

use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::{DbConnection, now};

/// Who is acting.
#[derive(Debug, Clone)]
pub enum Actor {
    /// An operator at the command line.
    Cli,
    /// A person signed in to the pages.
    User { id: i64, client_ip: Option<String> },
    /// An OAuth application, through the protocol endpoints.
    App { client_id: String, client_ip: Option<String> },
    /// An application acting for its user through `/v1` with its access token (`credential`,
    /// never logged: `SecretString` redacts itself). Use cases judge it by the credential as
    /// it is inside their own transaction (`access::authorize`).
    Token { credential: SecretString, client_id: String, user_id: i64, client_ip: Option<String> },
    /// The server itself (e.g. replay detection revoking a grant).
    System,
}

impl Actor {
    /// The person on whose behalf the change is made, if any: the signed-in user, or the
    /// user an application token acts for.
    pub fn person(&self) -> Option<i64> {
        match self {
            Actor::User { id, .. } => Some(*id),
            Actor::Token { user_id, .. } => Some(*user_id),
            Actor::Cli | Actor::App { .. } | Actor::System => None,
        }
    }

    fn label(&self) -> String {
        match self {
            Actor::Cli => "cli".into(),
            Actor::User { id, .. } => format!("user:{id}"),
            Actor::App { client_id, .. } => format!("app:{client_id}"),
            Actor::Token { client_id, user_id, .. } => format!("user:{user_id} via app:{client_id}"),
            Actor::System => "system".into(),
        }
    }

    fn client_ip(&self) -> Option<&str> {
        match self {
            Actor::User { client_ip, .. } | Actor::App { client_ip, .. } | Actor::Token { client_ip, .. } => {
                client_ip.as_deref()
            }
            Actor::Cli | Actor::System => None,
        }
    }
}

/// What happened to what.
pub struct Event<'a> {
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: String,
    pub team_id: Option<i64>,
    pub details: Value,
}

pub fn record(conn: &mut DbConnection, actor: &Actor, event: Event) -> diesel::QueryResult<()> {
    let details = event.details.to_string();
    audit::create(
        conn,
        &NewAuditEvent {
            created_at: now(),
            actor: &actor.label(),
            action: event.action,
            target_type: event.target_type,
            target_id: &event.target_id,
            team_id: event.team_id,
            client_ip: actor.client_ip(),
            details: &details,
        },
    )
}
