use diesel::dsl::{count_star, min};
use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::login_failures;

/// What failed: a password, or a user code typed on the device page (SPEC §7). Each kind is
/// counted on its own; `email` holds the account for logins and the session's digest for user
/// codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Login,
    UserCode,
}

impl FailureKind {
    fn as_str(self) -> &'static str {
        match self {
            FailureKind::Login => "login",
            FailureKind::UserCode => "user_code",
        }
    }
}

/// What a login attempt may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The account or the address already has the allowed failures; the oldest of them.
    Throttled { oldest: PrimitiveDateTime },
    /// The attempt is recorded as a failure now, until a success clears it.
    Reserved,
}

/// Takes an attempt slot of `kind` for the account (or session) and the address: unless either already has `max`
/// failures since `since`, records this attempt as a failure, in the same step as the count,
/// so that of N parallel attempts at most `max` get a slot. The password is then verified
/// without holding any lock or connection; a success clears the account's failures (this one
/// included). Call in a write transaction: on PostgreSQL the table is locked against other
/// reservations (not against reads) until it commits; SQLite's write transaction already
/// holds the database write lock.
pub fn reserve(
    conn: &mut DbConnection,
    kind: FailureKind,
    email: &str,
    client_ip: &str,
    since: PrimitiveDateTime,
    now: PrimitiveDateTime,
    max: i64,
) -> QueryResult<Attempt> {
    if let Some(oldest) = over_limit(conn, kind, email, client_ip, since, max)? {
        return Ok(Attempt::Throttled { oldest });
    }
    record(conn, kind, email, client_ip, now)?;
    Ok(Attempt::Reserved)
}

/// Whether the account (or session) or the address already has `max` failures of `kind` since
/// `since`: the oldest of them if so. Call in a write transaction that records the failure, if
/// any, before it commits; on PostgreSQL this locks the table against other reservations (not
/// against reads) until then.
pub fn over_limit(
    conn: &mut DbConnection,
    kind: FailureKind,
    email: &str,
    client_ip: &str,
    since: PrimitiveDateTime,
    max: i64,
) -> QueryResult<Option<PrimitiveDateTime>> {
    if let DbConnection::Pg(c) = conn {
        diesel::sql_query("LOCK TABLE login_failures IN SHARE ROW EXCLUSIVE MODE").execute(c)?;
    }
    Ok(recent(conn, kind, email, client_ip, since)?
        .into_iter()
        .filter(|(count, _)| *count >= max)
        .filter_map(|(_, oldest)| oldest)
        .max())
}

/// Records one failure of `kind`.
pub fn record(
    conn: &mut DbConnection,
    kind: FailureKind,
    email: &str,
    client_ip: &str,
    now: PrimitiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::kind.eq(kind.as_str()),
            login_failures::email.eq(email),
            login_failures::client_ip.eq(client_ip),
            login_failures::failed_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Failures since `since` for the account and for the address: (count, oldest) for each.
fn recent(
    conn: &mut DbConnection,
    kind: FailureKind,
    email: &str,
    client_ip: &str,
    since: PrimitiveDateTime,
) -> QueryResult<[(i64, Option<PrimitiveDateTime>); 2]> {
    let by_email = login_failures::table
        .filter(login_failures::kind.eq(kind.as_str()))
        .filter(login_failures::email.eq(email))
        .filter(login_failures::failed_at.gt(since))
        .select((count_star(), min(login_failures::failed_at)))
        .get_result(conn)?;
    let by_ip = login_failures::table
        .filter(login_failures::kind.eq(kind.as_str()))
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
    diesel::delete(
        login_failures::table
            .filter(login_failures::kind.eq(FailureKind::Login.as_str()))
            .filter(login_failures::email.eq(email)),
    )
    .execute(conn)
}
