//! Registered resource servers and the binding of tokens to them (RFC 8707, SPEC §7).
//!
//! A request may name a resource server only when an operator registered it. A resource
//! server registered for a deployment serves only project tokens of that deployment's project:
//! a team-scope request for it, or an approval for another project, is refused.

use serde::Serialize;
use serde_json::json;

use super::audit::{self, Actor, Event};
use super::{OpError, OpResult};
use crate::db::models::deployments;
use crate::db::models::resource_servers::{self, ResourceServer};
use crate::db::{DbConnection, now};
use crate::domain::{Audience, DeploymentName, ResourceUri, Scope, Widened};

#[derive(Debug, Serialize)]
pub struct ResourceServerOut {
    pub id: i64,
    pub uri: String,
    /// The deployment whose project's tokens alone may be bound to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    pub created_at: String,
}

impl From<ResourceServer> for ResourceServerOut {
    fn from(server: ResourceServer) -> Self {
        ResourceServerOut {
            id: server.id,
            uri: server.uri,
            deployment: server.deployment_name,
            created_at: super::rfc3339(server.created_at),
        }
    }
}

/// Registers the resource server `uri`, for `deployment` when given.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    uri: &ResourceUri,
    deployment: Option<&DeploymentName>,
) -> OpResult<ResourceServerOut> {
    conn.write_transaction(|conn| {
        let deployment_id = match deployment {
            Some(name) => Some(
                deployments::find_by_name(conn, name.as_str())?
                    .ok_or_else(|| OpError::NotFound(format!("no deployment named {name}")))?
                    .id,
            ),
            None => None,
        };
        if !resource_servers::find_all(conn, &[uri.as_str()])?.is_empty() {
            return Err(OpError::Conflict(format!("resource server {uri} is already registered")));
        }
        let server = resource_servers::create(conn, uri.as_str(), deployment_id, now())?;
        audit::record(
            conn,
            actor,
            Event {
                action: "resource_server.create",
                target_type: "resource_server",
                target_id: server.uri.clone(),
                team_id: server.team_id,
                details: json!({ "deployment": server.deployment_name }),
            },
        )?;
        Ok(server.into())
    })
}

pub fn list(conn: &mut DbConnection) -> OpResult<Vec<ResourceServerOut>> {
    Ok(resource_servers::list(conn)?.into_iter().map(ResourceServerOut::from).collect())
}

#[derive(Debug, Serialize)]
pub struct DeletedResourceServerOut {
    pub deleted: String,
}

/// Unregisters a resource server: no new token can be bound to it. Tokens already bound keep
/// their audience (a resource server that still checks `aud` keeps accepting them until their
/// grants end); revoke those grants to end them.
pub fn delete(conn: &mut DbConnection, actor: &Actor, uri: &str) -> OpResult<DeletedResourceServerOut> {
    conn.write_transaction(|conn| {
        let server = resource_servers::find_all(conn, &[uri])?
            .pop()
            .ok_or_else(|| OpError::NotFound(format!("no resource server {uri}")))?;
        resource_servers::delete(conn, uri)?;
        audit::record(
            conn,
            actor,
            Event {
                action: "resource_server.delete",
                target_type: "resource_server",
                target_id: server.uri.clone(),
                team_id: server.team_id,
                details: json!({}),
            },
        )?;
        Ok(DeletedResourceServerOut { deleted: server.uri })
    })
}

/// Why a request may not be bound to the resources it names (RFC 8707 §2: `invalid_target`).
#[derive(Debug, PartialEq, Eq)]
pub struct NotTarget(pub String);

/// Whether a token of `scope` (for `project_id`, once chosen) may be bound to `audience`: every
/// resource registered, and each deployment's resource only for its project's tokens.
pub fn check_targets(
    conn: &mut DbConnection,
    audience: Option<&Audience>,
    scope: Scope,
    project_id: Option<i64>,
) -> OpResult<Result<(), NotTarget>> {
    let Some(audience) = audience else {
        return Ok(Ok(()));
    };
    let uris: Vec<&str> = audience.uris().iter().map(ResourceUri::as_str).collect();
    let registered = resource_servers::find_all(conn, &uris)?;
    if let Some(unknown) = uris.iter().find(|uri| !registered.iter().any(|r| r.uri == **uri)) {
        return Ok(Err(NotTarget(format!("{unknown} is not a registered resource server"))));
    }
    for server in &registered {
        let (Some(deployment), Some(its_project)) = (&server.deployment_name, server.project_id) else {
            continue;
        };
        let mismatch = match (scope, project_id) {
            (Scope::Team, _) => true,
            (Scope::Project, Some(chosen)) => chosen != its_project,
            (Scope::Project, None) => false,
        };
        if mismatch {
            return Ok(Err(NotTarget(format!(
                "{} belongs to deployment {deployment}: only a project token of that deployment's project can use it",
                server.uri
            ))));
        }
    }
    Ok(Ok(()))
}

impl From<Widened> for NotTarget {
    fn from(widened: Widened) -> Self {
        NotTarget(format!("{} was not part of what the user approved", widened.0))
    }
}

impl From<NotTarget> for OpError {
    fn from(refused: NotTarget) -> Self {
        OpError::Invalid(refused.0)
    }
}
