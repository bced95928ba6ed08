use diesel::dsl::{count_star, min};
use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::login_failures;

pub fn record(conn: &mut DbConnection, email: &str, client_ip: &str, now: PrimitiveDateTime) -> QueryResult<()> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::email.eq(email),
            login_failures::client_ip.eq(client_ip),
            login_failures::failed_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Failures since `since` for the account and for the address: (count, oldest) for each.
pub fn recent(
    conn: &mut DbConnection,
    email: &str,
    client_ip: &str,
    since: PrimitiveDateTime,
) -> QueryResult<[(i64, Option<PrimitiveDateTime>); 2]> {
    let by_email = login_failures::table
        .filter(login_failures::email.eq(email))
        .filter(login_failures::failed_at.gt(since))
        .select((count_star(), min(login_failures::failed_at)))
        .get_result(conn)?;
    let by_ip = login_failures::table
        .filter(login_failures::client_ip.eq(client_ip))
        .filter(login_failures::failed_at.gt(since))
        .select((count_star(), min(login_failures::failed_at)))
        .get_result(conn)?;
    Ok([by_email, by_ip])
}

pub fn purge_before(conn: &mut DbConnection, cutoff: PrimitiveDateTime) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::failed_at.le(cutoff))).execute(conn)
}

/// Forgets an account's failures after a successful login.
pub fn clear_for_email(conn: &mut DbConnection, email: &str) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::email.eq(email))).execute(conn)
}
