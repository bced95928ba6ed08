use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::audit_events;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i64,
    pub created_at: PrimitiveDateTime,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub team_id: Option<i64>,
    pub client_ip: Option<String>,
    pub details: String,
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent<'a> {
    pub created_at: PrimitiveDateTime,
    pub actor: &'a str,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: &'a str,
    pub team_id: Option<i64>,
    pub client_ip: Option<&'a str>,
    pub details: &'a str,
}

pub fn create(conn: &mut DbConnection, new: &NewAuditEvent) -> QueryResult<()> {
    diesel::insert_into(audit_events::table).values(new).execute(conn).map(drop)
}

/// The newest events first.
pub fn list(conn: &mut DbConnection, team_id: Option<i64>, limit: i64) -> QueryResult<Vec<AuditEvent>> {
    let mut query = audit_events::table.into_boxed();
    if let Some(team_id) = team_id {
        query = query.filter(audit_events::team_id.eq(team_id));
    }
    query.order(audit_events::id.desc()).limit(limit).select(AuditEvent::as_select()).load(conn)
}

/// Which of a team's events [`list_for_team`] answers.
#[derive(Debug, Clone, Copy)]
pub struct TeamEvents<'a> {
    pub team_id: i64,
    /// `created_at >= since`.
    pub since: Option<PrimitiveDateTime>,
    /// `created_at < until`.
    pub until: Option<PrimitiveDateTime>,
    pub action: Option<ActionMatch<'a>>,
    /// Only events with a smaller id: older than the last one a caller saw.
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// An event's `action`, exactly or by its first characters.
#[derive(Debug, Clone, Copy)]
pub enum ActionMatch<'a> {
    Exactly(&'a str),
    Prefix(&'a str),
}

/// A team's events, newest (highest id) first, filtered in the database and cut at `limit`;
/// served by the index on `(team_id, id)`. Ids only grow, so walking down from `before_id`
/// neither repeats nor skips an event while new ones are being written.
pub fn list_for_team(conn: &mut DbConnection, events: &TeamEvents) -> QueryResult<Vec<AuditEvent>> {
    let mut query = audit_events::table.filter(audit_events::team_id.eq(events.team_id)).into_boxed();
    if let Some(since) = events.since {
        query = query.filter(audit_events::created_at.ge(since));
    }
    if let Some(until) = events.until {
        query = query.filter(audit_events::created_at.lt(until));
    }
    match events.action {
        Some(ActionMatch::Exactly(action)) => query = query.filter(audit_events::action.eq(action)),
        // `_` and `%` are LIKE wildcards: taken literally here.
        Some(ActionMatch::Prefix(prefix)) => {
            let escaped = prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            query = query.filter(audit_events::action.like(format!("{escaped}%")).escape('\\'));
        }
        None => {}
    }
    if let Some(before_id) = events.before_id {
        query = query.filter(audit_events::id.lt(before_id));
    }
    query.order(audit_events::id.desc()).limit(events.limit).select(AuditEvent::as_select()).load(conn)
}
