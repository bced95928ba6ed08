use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::{grants, members, oauth_apps, project_admins, projects, teams, users};
use crate::domain::Audience;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = grants)]
pub struct Grant {
    pub id: i64,
    pub app_id: i64,
    pub user_id: i64,
    pub team_id: i64,
    pub project_id: Option<i64>,
    pub member_id: Option<i64>,
    pub scope: String,
    pub access_token_hash: String,
    pub access_token_issued_at: PrimitiveDateTime,
    pub access_token_expires_at: Option<PrimitiveDateTime>,
    pub created_at: PrimitiveDateTime,
    pub last_used_at: Option<PrimitiveDateTime>,
    pub revoked_at: Option<PrimitiveDateTime>,
    pub revoked_reason: Option<String>,
    pub device_name: Option<String>,
    /// RFC 8707 resources approved (space-separated), if any.
    pub resources: Option<String>,
    /// The resources the live access token is for: all of `resources`, or fewer.
    pub audience: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = grants)]
pub struct NewGrant<'a> {
    pub app_id: i64,
    pub user_id: i64,
    pub team_id: i64,
    pub project_id: Option<i64>,
    pub member_id: i64,
    pub scope: &'a str,
    pub access_token_hash: &'a str,
    pub access_token_issued_at: PrimitiveDateTime,
    pub access_token_expires_at: Option<PrimitiveDateTime>,
    pub created_at: PrimitiveDateTime,
    pub device_name: Option<&'a str>,
    pub resources: Option<&'a str>,
    pub audience: Option<&'a str>,
}

pub fn create(conn: &mut DbConnection, new: &NewGrant) -> QueryResult<Grant> {
    diesel::insert_into(grants::table).values(new).execute(conn)?;
    grants::table
        .filter(grants::access_token_hash.eq(new.access_token_hash))
        .select(Grant::as_select())
        .get_result(conn)
}

pub fn find_by_id(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Grant>> {
    grants::table.find(id).select(Grant::as_select()).get_result(conn).optional()
}

pub fn find_by_access_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<Grant>> {
    grants::table.filter(grants::access_token_hash.eq(hash)).select(Grant::as_select()).get_result(conn).optional()
}

/// Revokes one grant; returns whether it was live until now.
pub fn revoke(conn: &mut DbConnection, id: i64, reason: &str, now: PrimitiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(grants::table.find(id).filter(grants::revoked_at.is_null()))
        .set((grants::revoked_at.eq(now), grants::revoked_reason.eq(reason)))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Revokes every live grant a user made in a team; returns how many.
pub fn revoke_for_member(
    conn: &mut DbConnection,
    team_id: i64,
    user_id: i64,
    reason: &str,
    now: PrimitiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        grants::table
            .filter(grants::team_id.eq(team_id))
            .filter(grants::user_id.eq(user_id))
            .filter(grants::revoked_at.is_null()),
    )
    .set((grants::revoked_at.eq(now), grants::revoked_reason.eq(reason)))
    .execute(conn)
}

/// Revokes every live grant a user made anywhere; returns how many.
pub fn revoke_for_user(
    conn: &mut DbConnection,
    user_id: i64,
    reason: &str,
    now: PrimitiveDateTime,
) -> QueryResult<usize> {
    diesel::update(grants::table.filter(grants::user_id.eq(user_id)).filter(grants::revoked_at.is_null()))
        .set((grants::revoked_at.eq(now), grants::revoked_reason.eq(reason)))
        .execute(conn)
}

/// Live grants a bulk change is about to end.
#[derive(Debug, Clone, Copy)]
pub enum Ending {
    /// A member's grants in one team (removal).
    Member { team_id: i64, user_id: i64 },
    /// A user's grants anywhere (disable).
    User(i64),
    /// A project's grants (deleted with it).
    Project(i64),
    /// An app's grants (deleted with it).
    App(i64),
}

/// How many live grants `which` names, as (project-scoped, team-wide): counted before the
/// change, inside its transaction and after its locks.
pub fn live_by_scope(conn: &mut DbConnection, which: Ending) -> QueryResult<(u64, u64)> {
    let live = grants::table.filter(grants::revoked_at.is_null()).select(grants::project_id.is_not_null());
    let project_scoped: Vec<bool> = match which {
        Ending::Member { team_id, user_id } => {
            live.filter(grants::team_id.eq(team_id)).filter(grants::user_id.eq(user_id)).load(conn)?
        }
        Ending::User(user_id) => live.filter(grants::user_id.eq(user_id)).load(conn)?,
        Ending::Project(project_id) => live.filter(grants::project_id.eq(project_id)).load(conn)?,
        Ending::App(app_id) => live.filter(grants::app_id.eq(app_id)).load(conn)?,
    };
    let projects = project_scoped.iter().filter(|scoped| **scoped).count() as u64;
    Ok((projects, project_scoped.len() as u64 - projects))
}

/// Replaces the grant's access token (refresh rotation): the previous one stops matching at
/// once, which keeps exactly one live access token per grant.
pub fn replace_access_token(
    conn: &mut DbConnection,
    id: i64,
    hash: &str,
    issued_at: PrimitiveDateTime,
    expires_at: Option<PrimitiveDateTime>,
    audience: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(grants::table.find(id).filter(grants::revoked_at.is_null()))
        .set((
            grants::access_token_hash.eq(hash),
            grants::access_token_issued_at.eq(issued_at),
            grants::access_token_expires_at.eq(expires_at),
            grants::audience.eq(audience),
        ))
        .execute(conn)
}

set_last_used!(grants);

/// A grant whose access token is live as far as stored state goes, with everything needed to
/// answer for it: the user as they are now, their *current* membership (the one the grant was
/// issued under: removing the member clears the grant's `member_id`, so a re-added member —
/// who may get the same id back, SQLite reuses the highest rowid — never matches), the team,
/// project and app. Expiry is left to the caller, which knows the time.
#[derive(Debug, Clone, Queryable)]
pub struct LiveGrant {
    pub grant_id: i64,
    pub scope: String,
    pub access_token_issued_at: PrimitiveDateTime,
    pub access_token_expires_at: Option<PrimitiveDateTime>,
    pub created_at: PrimitiveDateTime,
    pub user_id: i64,
    pub user_email: String,
    pub team_id: i64,
    pub team_slug: String,
    pub project_id: Option<i64>,
    pub project_slug: Option<String>,
    pub member_id: i64,
    pub role: String,
    pub project_admin: Option<i64>,
    pub client_id: String,
    pub app_name: String,
    pub audience: Option<String>,
}

/// The hot path of every introspection: runs natively (see `natively!`).
pub fn find_live_by_access_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<LiveGrant>> {
    natively!(conn, |c| grants::table
        .inner_join(members::table.on(members::id.nullable().eq(grants::member_id)))
        .inner_join(users::table.on(users::id.eq(grants::user_id)))
        .inner_join(teams::table.on(teams::id.eq(grants::team_id)))
        .inner_join(oauth_apps::table.on(oauth_apps::id.eq(grants::app_id)))
        .left_join(projects::table.on(projects::id.nullable().eq(grants::project_id)))
        .left_join(project_admins::table.on(
            project_admins::member_id.eq(members::id).and(project_admins::project_id.nullable().eq(grants::project_id)),
        ))
        .filter(grants::access_token_hash.eq(hash))
        .filter(grants::revoked_at.is_null())
        .filter(users::disabled_at.is_null())
        .select((
            grants::id,
            grants::scope,
            grants::access_token_issued_at,
            grants::access_token_expires_at,
            grants::created_at,
            users::id,
            users::email,
            teams::id,
            teams::slug,
            projects::id.nullable(),
            projects::slug.nullable(),
            members::id,
            members::role,
            project_admins::member_id.nullable(),
            oauth_apps::client_id,
            oauth_apps::name,
            grants::audience,
        ))
        .get_result(c)
        .optional())
}

/// A grant as the "authorized applications" pages list it.
#[derive(Debug, Clone, Queryable)]
pub struct GrantListing {
    pub id: i64,
    pub scope: String,
    pub created_at: PrimitiveDateTime,
    pub last_used_at: Option<PrimitiveDateTime>,
    pub user_id: i64,
    pub user_email: String,
    pub app_name: String,
    pub client_id: String,
    /// The device it was approved for, when the client named one (RFC 8628 flow).
    pub device_name: Option<String>,
    pub team_id: i64,
    pub team_slug: String,
    pub team_name: String,
    pub project_id: Option<i64>,
    pub project_slug: Option<String>,
    pub project_name: Option<String>,
    /// The RFC 8707 resources approved, as stored (see [`crate::domain::Audience`]).
    pub resources: Option<String>,
}

impl GrantListing {
    /// The resource servers its tokens are accepted by, as text to show (none when unbound).
    pub fn resource_uris(&self) -> Vec<String> {
        Audience::listed(Audience::from_stored(self.resources.as_deref()).as_ref())
    }
}

/// Whose grants to list.
#[derive(Debug, Clone, Copy)]
pub enum ListFor {
    /// The grants a user has made.
    User(i64),
    /// The grants on a team.
    Team(i64),
}

/// Live grants, newest first.
pub fn list(conn: &mut DbConnection, whose: ListFor) -> QueryResult<Vec<GrantListing>> {
    let query = grants::table
        .inner_join(users::table.on(users::id.eq(grants::user_id)))
        .inner_join(teams::table.on(teams::id.eq(grants::team_id)))
        .inner_join(oauth_apps::table.on(oauth_apps::id.eq(grants::app_id)))
        .left_join(projects::table.on(projects::id.nullable().eq(grants::project_id)))
        .filter(grants::revoked_at.is_null())
        .order((grants::created_at.desc(), grants::id.desc()))
        .select((
            grants::id,
            grants::scope,
            grants::created_at,
            grants::last_used_at,
            users::id,
            users::email,
            oauth_apps::name,
            oauth_apps::client_id,
            grants::device_name,
            teams::id,
            teams::slug,
            teams::name,
            projects::id.nullable(),
            projects::slug.nullable(),
            projects::name.nullable(),
            grants::resources,
        ))
        .into_boxed();
    let query = match whose {
        ListFor::User(user_id) => query.filter(grants::user_id.eq(user_id)),
        ListFor::Team(team_id) => query.filter(grants::team_id.eq(team_id)),
    };
    query.load(conn)
}
