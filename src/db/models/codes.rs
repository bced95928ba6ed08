use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::authorization_codes;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = authorization_codes)]
pub struct Code {
    pub id: i64,
    pub code_hash: String,
    pub app_id: i64,
    pub user_id: i64,
    pub team_id: i64,
    pub project_id: Option<i64>,
    pub scope: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub created_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
    pub redeemed_at: Option<PrimitiveDateTime>,
    pub replayed_at: Option<PrimitiveDateTime>,
    pub grant_id: Option<i64>,
    /// RFC 8707 resources asked for (space-separated), if any.
    pub resources: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = authorization_codes)]
pub struct NewCode<'a> {
    pub code_hash: &'a str,
    pub app_id: i64,
    pub user_id: i64,
    pub team_id: i64,
    pub project_id: Option<i64>,
    pub scope: &'a str,
    pub redirect_uri: &'a str,
    pub code_challenge: Option<&'a str>,
    pub created_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
    pub resources: Option<&'a str>,
}

pub fn create(conn: &mut DbConnection, new: &NewCode) -> QueryResult<()> {
    diesel::insert_into(authorization_codes::table).values(new).execute(conn).map(drop)
}

pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<Code>> {
    authorization_codes::table
        .filter(authorization_codes::code_hash.eq(hash))
        .select(Code::as_select())
        .get_result(conn)
        .optional()
}

/// Marks the code redeemed if, and only if, nobody has yet: the conditional update is atomic
/// on both backends, so of any number of concurrent redemptions exactly one sees `true` (on
/// PostgreSQL the others wait for its transaction and then find the code redeemed).
pub fn claim(conn: &mut DbConnection, id: i64, now: PrimitiveDateTime) -> QueryResult<bool> {
    let updated =
        diesel::update(authorization_codes::table.find(id).filter(authorization_codes::redeemed_at.is_null()))
            .set(authorization_codes::redeemed_at.eq(now))
            .execute(conn)?;
    Ok(updated == 1)
}

/// Records a second redemption attempt; returns the grant issued from the first, if any yet
/// (none either when the code is gone: deleted with its project, or purged, since it was read).
pub fn mark_replayed(conn: &mut DbConnection, id: i64, now: PrimitiveDateTime) -> QueryResult<Option<i64>> {
    diesel::update(authorization_codes::table.find(id)).set(authorization_codes::replayed_at.eq(now)).execute(conn)?;
    let grant: Option<Option<i64>> =
        authorization_codes::table.find(id).select(authorization_codes::grant_id).get_result(conn).optional()?;
    Ok(grant.flatten())
}

/// Links the grant issued from a redeemed code, for a later replay to revoke. Runs in the
/// transaction that claimed the code, which holds the code's row until it commits: a replay
/// waits for it and then sees the grant.
pub fn link_grant(conn: &mut DbConnection, id: i64, grant_id: i64) -> QueryResult<()> {
    diesel::update(authorization_codes::table.find(id))
        .set(authorization_codes::grant_id.eq(grant_id))
        .execute(conn)
        .map(drop)
}

/// Deletes codes that expired before `cutoff` (redeemed ones included: replay detection is
/// only meaningful while a code could still be presented).
pub fn purge_expired(conn: &mut DbConnection, cutoff: PrimitiveDateTime) -> QueryResult<usize> {
    diesel::delete(authorization_codes::table.filter(authorization_codes::expires_at.lt(cutoff))).execute(conn)
}
