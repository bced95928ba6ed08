//! Audit events: who did what to which credential or membership, when, from where.

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
    /// The server itself (e.g. replay detection revoking a grant).
    System,
}

impl Actor {
    fn label(&self) -> String {
        match self {
            Actor::Cli => "cli".into(),
            Actor::User { id, .. } => format!("user:{id}"),
            Actor::App { client_id, .. } => format!("app:{client_id}"),
            Actor::System => "system".into(),
        }
    }

    fn client_ip(&self) -> Option<&str> {
        match self {
            Actor::User { client_ip, .. } | Actor::App { client_ip, .. } => client_ip.as_deref(),
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
