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
