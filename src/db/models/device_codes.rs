use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::device_codes;

/// Where a device authorization request stands (RFC 8628 §3.5).
pub mod status {
    pub const PENDING: &str = "pending";
    pub const APPROVED: &str = "approved";
    pub const DENIED: &str = "denied";
    pub const REDEEMED: &str = "redeemed";
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = device_codes)]
pub struct DeviceCode {
    pub id: i64,
    pub device_code_hash: String,
    pub user_code: String,
    pub app_id: i64,
    pub scope: String,
    pub device_name: Option<String>,
    pub interval_seconds: i64,
    pub last_polled_at: Option<PrimitiveDateTime>,
    pub status: String,
    pub user_id: Option<i64>,
    pub team_id: Option<i64>,
    pub project_id: Option<i64>,
    pub grant_id: Option<i64>,
    pub created_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
    pub decided_at: Option<PrimitiveDateTime>,
    /// RFC 8707 resources asked for (space-separated), if any.
    pub resources: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = device_codes)]
pub struct NewDeviceCode<'a> {
    pub device_code_hash: &'a str,
    pub user_code: &'a str,
    pub app_id: i64,
    pub scope: &'a str,
    pub device_name: Option<&'a str>,
    pub interval_seconds: i64,
    pub status: &'a str,
    pub created_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
    pub resources: Option<&'a str>,
}

pub fn create(conn: &mut DbConnection, new: &NewDeviceCode) -> QueryResult<()> {
    diesel::insert_into(device_codes::table).values(new).execute(conn).map(drop)
}

pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<DeviceCode>> {
    device_codes::table
        .filter(device_codes::device_code_hash.eq(hash))
        .select(DeviceCode::as_select())
        .get_result(conn)
        .optional()
}

/// The request waiting for a decision under `user_code`, unless it expired.
pub fn find_pending(
    conn: &mut DbConnection,
    user_code: &str,
    now: PrimitiveDateTime,
) -> QueryResult<Option<DeviceCode>> {
    device_codes::table
        .filter(device_codes::user_code.eq(user_code))
        .filter(device_codes::status.eq(status::PENDING))
        .filter(device_codes::expires_at.gt(now))
        .select(DeviceCode::as_select())
        .get_result(conn)
        .optional()
}

/// Records a poll at `now`, with the interval the client must keep from now on.
pub fn record_poll(conn: &mut DbConnection, id: i64, interval: i64, now: PrimitiveDateTime) -> QueryResult<()> {
    diesel::update(device_codes::table.find(id))
        .set((device_codes::last_polled_at.eq(now), device_codes::interval_seconds.eq(interval)))
        .execute(conn)
        .map(drop)
}

/// The user's decision on a pending, unexpired request; `false` when it was no longer pending.
pub fn decide(conn: &mut DbConnection, id: i64, decision: &Decision, now: PrimitiveDateTime) -> QueryResult<bool> {
    let pending = device_codes::table
        .find(id)
        .filter(device_codes::status.eq(status::PENDING))
        .filter(device_codes::expires_at.gt(now));
    let updated = match decision {
        Decision::Approve { user_id, team_id, project_id } => diesel::update(pending)
            .set((
                device_codes::status.eq(status::APPROVED),
                device_codes::user_id.eq(user_id),
                device_codes::team_id.eq(team_id),
                device_codes::project_id.eq(project_id),
                device_codes::decided_at.eq(now),
            ))
            .execute(conn)?,
        Decision::Deny { user_id } => diesel::update(pending)
            .set((
                device_codes::status.eq(status::DENIED),
                device_codes::user_id.eq(user_id),
                device_codes::decided_at.eq(now),
            ))
            .execute(conn)?,
    };
    Ok(updated == 1)
}

/// A user's decision on a device authorization request.
pub enum Decision {
    Approve { user_id: i64, team_id: i64, project_id: Option<i64> },
    Deny { user_id: i64 },
}

/// Marks an approved request redeemed if, and only if, nobody has yet (atomic on both
/// backends, like `codes::claim`): of concurrent polls exactly one sees `true`.
pub fn claim(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    let updated = diesel::update(device_codes::table.find(id).filter(device_codes::status.eq(status::APPROVED)))
        .set(device_codes::status.eq(status::REDEEMED))
        .execute(conn)?;
    Ok(updated == 1)
}

pub fn link_grant(conn: &mut DbConnection, id: i64, grant_id: i64) -> QueryResult<()> {
    diesel::update(device_codes::table.find(id)).set(device_codes::grant_id.eq(grant_id)).execute(conn).map(drop)
}

/// Forgets requests that expired before `cutoff` (their grants, if any, stay).
pub fn purge_expired(conn: &mut DbConnection, cutoff: PrimitiveDateTime) -> QueryResult<usize> {
    diesel::delete(device_codes::table.filter(device_codes::expires_at.le(cutoff))).execute(conn)
}
