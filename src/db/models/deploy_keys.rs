use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::{custom_roles, deploy_keys, deployments, grants, oauth_apps, projects, teams, users};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deploy_keys)]
pub struct DeployKey {
    pub id: i64,
    pub token_hash: String,
    pub token_prefix: String,
    pub name: String,
    pub project_id: i64,
    pub deployment_id: Option<i64>,
    pub allowed_actions: String,
    pub custom_role_id: Option<i64>,
    pub grant_id: Option<i64>,
    pub created_by_user_id: Option<i64>,
    pub expires_at: Option<PrimitiveDateTime>,
    pub created_at: PrimitiveDateTime,
    pub last_used_at: Option<PrimitiveDateTime>,
    pub revoked_at: Option<PrimitiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = deploy_keys)]
pub struct NewDeployKey<'a> {
    pub token_hash: &'a str,
    pub token_prefix: &'a str,
    pub name: &'a str,
    pub project_id: i64,
    pub deployment_id: Option<i64>,
    pub allowed_actions: &'a str,
    pub custom_role_id: Option<i64>,
    pub grant_id: Option<i64>,
    pub created_by_user_id: Option<i64>,
    pub expires_at: Option<PrimitiveDateTime>,
    pub created_at: PrimitiveDateTime,
}

pub fn create(conn: &mut DbConnection, new: &NewDeployKey) -> QueryResult<DeployKey> {
    diesel::insert_into(deploy_keys::table).values(new).execute(conn)?;
    deploy_keys::table
        .filter(deploy_keys::token_hash.eq(new.token_hash))
        .select(DeployKey::as_select())
        .get_result(conn)
}

/// The key stored under `hash`, live or not.
pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<DeployKey>> {
    deploy_keys::table.filter(deploy_keys::token_hash.eq(hash)).select(DeployKey::as_select()).first(conn).optional()
}

/// Marks a key revoked; returns whether it was not revoked until now.
pub fn revoke(conn: &mut DbConnection, id: i64, now: PrimitiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(deploy_keys::table.find(id).filter(deploy_keys::revoked_at.is_null()))
        .set(deploy_keys::revoked_at.eq(now))
        .execute(conn)?;
    Ok(updated == 1)
}

set_last_used!(deploy_keys);

/// A key as its team's settings show it: where it acts, who made it, and whether it still
/// works (`grant_revoked_at`: the grant an application minted it through has ended).
#[derive(Debug, Clone, Queryable)]
pub struct KeyListing {
    pub key: DeployKey,
    pub team_id: i64,
    pub team_slug: String,
    pub project_slug: String,
    pub deployment_name: Option<String>,
    pub role_name: Option<String>,
    pub created_by: Option<String>,
    pub grant_revoked_at: Option<PrimitiveDateTime>,
    pub app_client_id: Option<String>,
}

/// Which keys to list.
#[derive(Debug, Clone, Copy)]
pub enum ListFor {
    Team(i64),
    Project(i64),
    Key(i64),
}

/// Keys, newest first.
pub fn list(conn: &mut DbConnection, which: ListFor) -> QueryResult<Vec<KeyListing>> {
    let query = deploy_keys::table
        .inner_join(projects::table.on(projects::id.eq(deploy_keys::project_id)))
        .inner_join(teams::table.on(teams::id.eq(projects::team_id)))
        .left_join(deployments::table.on(deployments::id.nullable().eq(deploy_keys::deployment_id)))
        .left_join(custom_roles::table.on(custom_roles::id.nullable().eq(deploy_keys::custom_role_id)))
        .left_join(users::table.on(users::id.nullable().eq(deploy_keys::created_by_user_id)))
        .left_join(grants::table.on(grants::id.nullable().eq(deploy_keys::grant_id)))
        .left_join(oauth_apps::table.on(oauth_apps::id.nullable().eq(grants::app_id.nullable())))
        .select((
            DeployKey::as_select(),
            teams::id,
            teams::slug,
            projects::slug,
            deployments::name.nullable(),
            custom_roles::name.nullable(),
            users::email.nullable(),
            grants::revoked_at.nullable(),
            oauth_apps::client_id.nullable(),
        ))
        .order(deploy_keys::id.desc())
        .into_boxed();
    let query = match which {
        ListFor::Team(id) => query.filter(teams::id.eq(id)),
        ListFor::Project(id) => query.filter(deploy_keys::project_id.eq(id)),
        ListFor::Key(id) => query.filter(deploy_keys::id.eq(id)),
    };
    query.load(conn)
}

/// A deploy key that is not revoked, whose grant (for keys an application minted) is live,
/// with its project, team, deployment and custom role statements. Expiry is left to the caller.
#[derive(Debug, Clone, Queryable)]
pub struct LiveDeployKey {
    pub key: DeployKey,
    pub project_slug: String,
    pub team_id: i64,
    pub team_slug: String,
    pub deployment_name: Option<String>,
    pub deployment_type: Option<String>,
    pub role_name: Option<String>,
    pub role_statements: Option<String>,
}

/// The hot path of deploy-key verification: runs natively (see `natively!`).
pub fn find_live_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<LiveDeployKey>> {
    natively!(conn, |c| deploy_keys::table
        .inner_join(projects::table.on(projects::id.eq(deploy_keys::project_id)))
        .inner_join(teams::table.on(teams::id.eq(projects::team_id)))
        .left_join(deployments::table.on(deployments::id.nullable().eq(deploy_keys::deployment_id)))
        .left_join(custom_roles::table.on(custom_roles::id.nullable().eq(deploy_keys::custom_role_id)))
        .left_join(grants::table.on(grants::id.nullable().eq(deploy_keys::grant_id)))
        .filter(deploy_keys::token_hash.eq(hash))
        .filter(deploy_keys::revoked_at.is_null())
        .filter(grants::revoked_at.is_null())
        .select((
            DeployKey::as_select(),
            projects::slug,
            teams::id,
            teams::slug,
            deployments::name.nullable(),
            deployments::deployment_type.nullable(),
            custom_roles::name.nullable(),
            custom_roles::statements.nullable(),
        ))
        .get_result(c)
        .optional())
}
