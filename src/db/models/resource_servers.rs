use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::{deployments, projects, resource_servers};

/// A registered resource server (RFC 8707), with the deployment it belongs to, if any, and
/// that deployment's project.
#[derive(Debug, Clone, Queryable)]
pub struct ResourceServer {
    pub id: i64,
    pub uri: String,
    pub created_at: PrimitiveDateTime,
    pub deployment_name: Option<String>,
    pub project_id: Option<i64>,
    pub team_id: Option<i64>,
}

/// `resource_servers` left-joined to its deployment and that deployment's project.
macro_rules! joined {
    () => {
        resource_servers::table
            .left_join(deployments::table.on(deployments::id.nullable().eq(resource_servers::deployment_id)))
            .left_join(projects::table.on(projects::id.eq(deployments::project_id)))
    };
}

/// The columns of [`ResourceServer`] in [`joined`].
macro_rules! columns {
    () => {
        (
            resource_servers::id,
            resource_servers::uri,
            resource_servers::created_at,
            deployments::name.nullable(),
            deployments::project_id.nullable(),
            projects::team_id.nullable(),
        )
    };
}

pub fn create(
    conn: &mut DbConnection,
    uri: &str,
    deployment_id: Option<i64>,
    now: PrimitiveDateTime,
) -> QueryResult<ResourceServer> {
    diesel::insert_into(resource_servers::table)
        .values((
            resource_servers::uri.eq(uri),
            resource_servers::deployment_id.eq(deployment_id),
            resource_servers::created_at.eq(now),
        ))
        .execute(conn)?;
    let mut found = find_all(conn, &[uri])?;
    found.pop().ok_or(diesel::result::Error::NotFound)
}

/// The registered resource servers among `uris`.
pub fn find_all(conn: &mut DbConnection, uris: &[&str]) -> QueryResult<Vec<ResourceServer>> {
    joined!().filter(resource_servers::uri.eq_any(uris)).select(columns!()).load(conn)
}

pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<ResourceServer>> {
    joined!().order(resource_servers::uri).select(columns!()).load(conn)
}

/// Unregisters the resource server `uri`; returns whether it was registered.
pub fn delete(conn: &mut DbConnection, uri: &str) -> QueryResult<bool> {
    Ok(diesel::delete(resource_servers::table.filter(resource_servers::uri.eq(uri))).execute(conn)? == 1)
}
