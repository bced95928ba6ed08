use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::models::users::User;
use crate::db::schema::{sessions, users};

#[derive(Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub session_hash: &'a str,
    pub user_id: i64,
    pub created_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
}

pub fn create(conn: &mut DbConnection, new: &NewSession) -> QueryResult<()> {
    diesel::insert_into(sessions::table).values(new).execute(conn).map(drop)
}

/// The session's user, if the session exists, has not expired and the user is enabled.
pub fn find_live_user(conn: &mut DbConnection, hash: &str, now: PrimitiveDateTime) -> QueryResult<Option<User>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::session_hash.eq(hash))
        .filter(sessions::expires_at.gt(now))
        .filter(users::disabled_at.is_null())
        .select(User::as_select())
        .get_result(conn)
        .optional()
}

pub fn delete_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::session_hash.eq(hash))).execute(conn)
}

pub fn delete_for_user(conn: &mut DbConnection, user_id: i64) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)
}

pub fn purge_expired(conn: &mut DbConnection, now: PrimitiveDateTime) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)
}
