use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::{deploy_keys, deployments, projects, teams};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deployments)]
pub struct Deployment {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub deployment_type: String,
    pub admin_key_hash: String,
    pub signing_key_id: i64,
    pub created_at: PrimitiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = deployments)]
pub struct NewDeployment<'a> {
    pub project_id: i64,
    pub name: &'a str,
    pub deployment_type: &'a str,
    pub admin_key_hash: &'a str,
    pub signing_key_id: i64,
    pub created_at: PrimitiveDateTime,
}

pub fn create(conn: &mut DbConnection, new: &NewDeployment) -> QueryResult<Deployment> {
    diesel::insert_into(deployments::table).values(new).execute(conn)?;
    find_by_name(conn, new.name)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find_by_name(conn: &mut DbConnection, name: &str) -> QueryResult<Option<Deployment>> {
    deployments::table.filter(deployments::name.eq(name)).select(Deployment::as_select()).get_result(conn).optional()
}

/// Deletes a deployment; its deploy keys go with it (`ON DELETE CASCADE`), and the change log
/// triggers on both tables tell every verification cache.
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(deployments::table.find(id)).execute(conn)
}

/// How many deploy keys of the deployment are live (not revoked, not expired) at `now`.
pub fn count_live_keys(conn: &mut DbConnection, id: i64, now: PrimitiveDateTime) -> QueryResult<i64> {
    deploy_keys::table
        .filter(deploy_keys::deployment_id.eq(id))
        .filter(deploy_keys::revoked_at.is_null())
        .filter(deploy_keys::expires_at.is_null().or(deploy_keys::expires_at.gt(now)))
        .count()
        .get_result(conn)
}

/// A deployment with the slugs and ids of its project and team.
#[derive(Debug, Clone, Queryable)]
pub struct DeploymentInContext {
    pub deployment: Deployment,
    pub project_slug: String,
    pub team_id: i64,
    pub team_slug: String,
}

pub fn find_in_context_by_name(conn: &mut DbConnection, name: &str) -> QueryResult<Option<DeploymentInContext>> {
    deployments::table
        .inner_join(projects::table.inner_join(teams::table))
        .filter(deployments::name.eq(name))
        .select((Deployment::as_select(), projects::slug, teams::id, teams::slug))
        .get_result(conn)
        .optional()
}

/// The deployment whose admin key hashes to `hash`, with its context.
pub fn find_by_admin_key_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<DeploymentInContext>> {
    deployments::table
        .inner_join(projects::table.inner_join(teams::table))
        .filter(deployments::admin_key_hash.eq(hash))
        .select((Deployment::as_select(), projects::slug, teams::id, teams::slug))
        .get_result(conn)
        .optional()
}

/// Every deployment of a team with its project's id and slug, by project slug then name.
pub fn list_for_team(conn: &mut DbConnection, team_id: i64) -> QueryResult<Vec<(Deployment, i64, String)>> {
    deployments::table
        .inner_join(projects::table)
        .filter(projects::team_id.eq(team_id))
        .order((projects::slug.asc(), deployments::name.asc()))
        .select((Deployment::as_select(), projects::id, projects::slug))
        .load(conn)
}
