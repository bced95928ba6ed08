use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::{custom_roles, deploy_keys, deployments, grants, projects, teams};

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

set_last_used!(deploy_keys);

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
