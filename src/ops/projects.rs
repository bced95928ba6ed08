use serde::Serialize;
use serde_json::json;

use super::audit::{self, Actor, Event};
use super::{OpError, OpResult, access, conflict_as, rfc3339};
use crate::authz::{Action, ProjectRef, Resource};
use crate::db::models::grants::Ending;
use crate::db::models::projects;
use crate::db::models::teams::Team;
use crate::db::{DbConnection, now};
use crate::domain::{DisplayName, Slug};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProjectOut {
    pub id: i64,
    pub team: String,
    pub slug: String,
    pub name: String,
    pub created_at: String,
}

pub(crate) fn out(team: &Team, project: &projects::Project) -> ProjectOut {
    ProjectOut {
        id: project.id,
        team: team.slug.clone(),
        slug: project.slug.clone(),
        name: project.name.clone(),
        created_at: rfc3339(project.created_at),
    }
}

pub(crate) fn resource(team: &Team, project: &projects::Project) -> Resource {
    Resource::Project { team_id: team.id, project: ProjectRef { id: project.id, slug: project.slug.clone() } }
}

pub(crate) fn require_in(conn: &mut DbConnection, team: &Team, slug: &Slug) -> OpResult<projects::Project> {
    projects::find(conn, team.id, slug.as_str())?
        .ok_or_else(|| OpError::NotFound(format!("no project {slug} in team {}", team.slug)))
}

/// The projects of `team` (by slug).
pub fn list_in(conn: &mut DbConnection, team: &Team) -> OpResult<Vec<projects::Project>> {
    Ok(projects::list_for_team(conn, team.id)?)
}

/// Creates a project inside an open transaction (shared with the consent page, which creates
/// a project and grants it in one step).
pub(crate) fn create_in_tx(
    conn: &mut DbConnection,
    actor: &Actor,
    team: &Team,
    slug: &Slug,
    name: &DisplayName,
) -> OpResult<projects::Project> {
    let project = projects::create(
        conn,
        &projects::NewProject { team_id: team.id, slug: slug.as_str(), name: name.as_str(), created_at: now() },
    )
    .map_err(conflict_as(format!("project slug {slug} is taken in team {}", team.slug)))?;
    audit::record(
        conn,
        actor,
        Event {
            action: "project.create",
            target_type: "project",
            target_id: project.id.to_string(),
            team_id: Some(team.id),
            details: json!({ "slug": project.slug }),
        },
    )?;
    Ok(project)
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    team: &Slug,
    slug: &Slug,
    name: &DisplayName,
) -> OpResult<ProjectOut> {
    conn.write_transaction(|conn| {
        let team = access::visible_team(conn, actor, team)?;
        access::authorize(conn, actor, Action::ProjectCreate, &Resource::Team { team_id: team.id })?;
        let project = create_in_tx(conn, actor, &team, slug, name)?;
        Ok(out(&team, &project))
    })
}

/// Renames a project; tokens keep working (their prefix records the slug at issue time).
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    team: &Slug,
    slug: &Slug,
    new_slug: Option<&Slug>,
    name: Option<&DisplayName>,
) -> OpResult<ProjectOut> {
    conn.write_transaction(|conn| {
        let team = access::visible_team(conn, actor, team)?;
        let project = require_in(conn, &team, slug)?;
        access::authorize(conn, actor, Action::ProjectUpdate, &resource(&team, &project))?;
        let new_slug = new_slug.map_or(project.slug.as_str(), Slug::as_str);
        let new_name = name.map_or(project.name.as_str(), DisplayName::as_str);
        projects::update(conn, project.id, new_slug, new_name)
            .map_err(conflict_as(format!("project slug {new_slug} is taken in team {}", team.slug)))?;
        audit::record(
            conn,
            actor,
            Event {
                action: "project.update",
                target_type: "project",
                target_id: project.id.to_string(),
                team_id: Some(team.id),
                details: json!({ "slug": { "from": project.slug, "to": new_slug }, "name": { "from": project.name, "to": new_name } }),
            },
        )?;
        let updated = projects::find_by_id(conn, project.id)?.ok_or_else(|| OpError::NotFound("project vanished".into()))?;
        Ok(out(&team, &updated))
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeletedProjectOut {
    pub team: String,
    pub slug: String,
    pub deleted: bool,
    pub revoked_grants: i64,
}

/// Deletes a project. Every credential scoped to it (grants and their tokens, codes, deploy
/// keys, its deployments and their admin keys) is deleted with it, in the same transaction.
pub fn delete(conn: &mut DbConnection, actor: &Actor, team: &Slug, slug: &Slug) -> OpResult<DeletedProjectOut> {
    conn.write_transaction(|conn| {
        let team = access::visible_team(conn, actor, team)?;
        let project = require_in(conn, &team, slug)?;
        access::authorize(conn, actor, Action::ProjectDelete, &resource(&team, &project))?;
        let revoked_grants = super::grants::ending(conn, Ending::Project(project.id))?;
        projects::delete(conn, project.id)?;
        audit::record(
            conn,
            actor,
            Event {
                action: "project.delete",
                target_type: "project",
                target_id: project.id.to_string(),
                team_id: Some(team.id),
                details: json!({ "slug": project.slug, "revoked_grants": revoked_grants }),
            },
        )?;
        Ok(DeletedProjectOut { team: team.slug, slug: project.slug, deleted: true, revoked_grants })
    })
}
