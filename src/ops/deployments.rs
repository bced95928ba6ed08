use serde::Serialize;
use serde_json::json;

use super::audit::{self, Actor, Event};
use super::decisions::ResourceName;
use super::{OpError, OpResult, access, projects, signing};
use crate::authz::{Action, DeploymentRef, ProjectRef, Resource};
use crate::db::models::deployments::{self, NewDeployment};
use crate::db::{DbConnection, after_commit, now};
use crate::domain::{DeploymentName, DeploymentType, Slug};
use crate::telemetry::metrics::{self, TokenKind};
use crate::tokens::{SecretHash, admin_key};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedDeploymentOut {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub deployment_type: String,
    pub team: String,
    pub project: String,
    /// Shown once; only its hash is stored.
    pub admin_key: String,
}

/// Registers a deployment and mints its admin key (SPEC §3). Without a name, a fresh
/// `adjective-animal-NNN` name is chosen.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    team: &Slug,
    project: &Slug,
    deployment_type: DeploymentType,
    name: Option<&DeploymentName>,
) -> OpResult<CreatedDeploymentOut> {
    conn.write_transaction(|conn| {
        let team = access::visible_team(conn, actor, team)?;
        let project = projects::require_in(conn, &team, project)?;
        let at = Resource::Project { team_id: team.id, project: ProjectRef { id: project.id, slug: project.slug.clone() } };
        access::authorize(conn, actor, Action::DeploymentCreate, &at)?;
        let name = match name {
            Some(name) => {
                if deployments::find_by_name(conn, name.as_str())?.is_some() {
                    return Err(OpError::Conflict(format!("deployment name {name} is taken")));
                }
                name.clone()
            }
            None => unused_name(conn)?,
        };
        let key = signing::current_key(conn)?;
        let admin_key = admin_key::mint(&signing::signer(&key)?, name.as_str())?;
        let deployment = deployments::create(
            conn,
            &NewDeployment {
                project_id: project.id,
                name: name.as_str(),
                deployment_type: deployment_type.as_str(),
                admin_key_hash: SecretHash::of(&admin_key).as_str(),
                signing_key_id: key.id,
                created_at: now(),
            },
        )?;
        audit::record(
            conn,
            actor,
            Event {
                action: "deployment.create",
                target_type: "deployment",
                target_id: deployment.id.to_string(),
                team_id: Some(team.id),
                details: json!({ "name": deployment.name, "type": deployment.deployment_type, "project_id": project.id }),
            },
        )?;
        Ok(CreatedDeploymentOut {
            id: deployment.id,
            name: deployment.name,
            deployment_type: deployment.deployment_type,
            team: team.slug,
            project: project.slug,
            admin_key,
        })
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeletedDeploymentOut {
    pub name: String,
    #[serde(rename = "type")]
    pub deployment_type: String,
    pub team: String,
    pub project: String,
    pub deleted: bool,
    /// Deploy keys of the deployment that were live and ended with it.
    pub ended_deploy_keys: i64,
}

/// Deletes a deployment (`deployment:delete` on it, SPEC §2) and with it every credential
/// scoped to it, in one transaction: its admin key (verified by looking the deployment up, so
/// it is inactive at once) and its deploy keys (deleted by cascade). The change-log triggers on
/// `deployments` and `deploy_keys` make every server's verification cache forget them on the
/// next request (SQLite and PostgreSQL alike). Preview deploy keys of the project are not
/// scoped to one deployment and stay.
pub fn delete(conn: &mut DbConnection, actor: &Actor, name: &DeploymentName) -> OpResult<DeletedDeploymentOut> {
    conn.write_transaction(|conn| {
        let not_found = || OpError::NotFound(format!("no deployment named {name}"));
        let resource = access::resource(conn, &ResourceName::Deployment(name.clone())).map_err(|_| not_found())?;
        access::authorize(conn, actor, Action::DeploymentDelete, &resource)?;
        let found = deployments::find_in_context_by_name(conn, name.as_str())?.ok_or_else(not_found)?;
        let deployment = found.deployment;
        let ended_deploy_keys = deployments::count_live_keys(conn, deployment.id, now())?;
        let counted = u64::try_from(ended_deploy_keys).unwrap_or_default();
        after_commit(move || metrics::revoked(TokenKind::DeployKey, counted));
        deployments::delete(conn, deployment.id)?;
        audit::record(
            conn,
            actor,
            Event {
                action: "deployment.delete",
                target_type: "deployment",
                target_id: deployment.id.to_string(),
                team_id: Some(found.team_id),
                details: json!({
                    "name": deployment.name,
                    "type": deployment.deployment_type,
                    "project_id": deployment.project_id,
                    "ended_deploy_keys": ended_deploy_keys,
                }),
            },
        )?;
        Ok(DeletedDeploymentOut {
            name: deployment.name,
            deployment_type: deployment.deployment_type,
            team: found.team_slug,
            project: found.project_slug,
            deleted: true,
            ended_deploy_keys,
        })
    })
}

fn unused_name(conn: &mut DbConnection) -> OpResult<DeploymentName> {
    for _ in 0..20 {
        let candidate = DeploymentName::generate();
        if deployments::find_by_name(conn, candidate.as_str())?.is_none() {
            return Ok(candidate);
        }
    }
    Err(OpError::Conflict("could not find a free deployment name; pass --name".into()))
}

/// A deployment as lists show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeploymentOut {
    pub id: i64,
    pub name: String,
    /// `prod`, `dev`, `preview` or `custom`.
    #[serde(rename = "type")]
    pub deployment_type: String,
    pub project: String,
}

/// The deployments of project `project_id` (in `team_id`) that `actor` may view
/// (`deployment:view`, judged per deployment: a developer sees prod ones, a custom role may not).
pub fn visible_in_project(
    conn: &mut DbConnection,
    actor: &Actor,
    team_id: i64,
    project_id: i64,
) -> OpResult<Vec<DeploymentOut>> {
    let mut visible = Vec::new();
    for at in resources_in(conn, team_id)? {
        let Resource::Deployment { project, deployment, .. } = &at else { continue };
        if project.id != project_id {
            continue;
        }
        match access::authorize(conn, actor, Action::DeploymentView, &at) {
            Ok(()) => visible.push(DeploymentOut {
                id: deployment.id,
                name: deployment.name.clone(),
                deployment_type: deployment.deployment_type.as_str().to_owned(),
                project: project.slug.clone(),
            }),
            Err(OpError::Forbidden(_)) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(visible)
}

/// Every deployment of a team as the decisions see it (SPEC §2), by project slug then name.
pub fn resources_in(conn: &mut DbConnection, team_id: i64) -> OpResult<Vec<Resource>> {
    deployments::list_for_team(conn, team_id)?
        .into_iter()
        .map(|(deployment, project_id, project_slug)| {
            Ok(Resource::Deployment {
                team_id,
                project: ProjectRef { id: project_id, slug: project_slug },
                deployment: DeploymentRef {
                    id: deployment.id,
                    deployment_type: DeploymentType::parse(&deployment.deployment_type)?,
                    name: deployment.name,
                },
            })
        })
        .collect()
}
