use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::json;

use super::audit::{self, Actor, Event};
use super::users::require_by_email;
use super::{OpError, OpResult, access, projects, teams};
use crate::authz::Action;
use crate::db::models::grants::Ending;
use crate::db::models::{grants, members, projects as project_rows, roles};
use crate::db::{DbConnection, now};
use crate::domain::{Email, MemberRole, RoleName, Slug, TeamRole};

/// A member as the team settings list them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Membership {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    /// `admin`, `developer` or `custom`.
    #[serde(serialize_with = "role_name")]
    #[schema(value_type = String)]
    pub role: MemberRole,
    /// By name; empty unless `role` is `custom`.
    pub custom_roles: Vec<String>,
    /// The projects (slugs) they are project admin of.
    pub project_admin_of: Vec<String>,
    pub joined_at: String,
}

fn role_name<S: serde::Serializer>(role: &MemberRole, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(role.as_str())
}

#[derive(Debug, Serialize)]
pub struct MembersOut {
    pub team: String,
    pub members: Vec<Membership>,
}

/// [`list`], for the team with this slug.
pub fn list_in(conn: &mut DbConnection, team: &Slug) -> OpResult<MembersOut> {
    let team = teams::require(conn, team)?;
    Ok(MembersOut { members: list(conn, team.id)?, team: team.slug })
}

/// The members of `team_id`, by email, with their custom roles and project-admin grants (three
/// reads, whatever the team's size).
pub fn list(conn: &mut DbConnection, team_id: i64) -> OpResult<Vec<Membership>> {
    let custom: Vec<(i64, String)> = roles::held_in(conn, team_id)?;
    let admins = members::project_admins_in(conn, team_id)?;
    let slugs: std::collections::BTreeMap<i64, String> =
        project_rows::list_for_team(conn, team_id)?.into_iter().map(|p| (p.id, p.slug)).collect();
    Ok(members::list_for_team(conn, team_id)?
        .into_iter()
        .map(|row| {
            let id = row.member.id;
            Membership {
                user_id: row.member.user_id,
                email: row.email,
                name: row.name,
                role: MemberRole::from_stored(&row.member.role),
                custom_roles: custom.iter().filter(|(member, _)| *member == id).map(|(_, name)| name.clone()).collect(),
                project_admin_of: admins
                    .iter()
                    .filter(|(member, _)| *member == id)
                    .filter_map(|(_, project)| slugs.get(project).cloned())
                    .collect(),
                joined_at: super::rfc3339(row.member.created_at),
            }
        })
        .collect())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberOut {
    pub team: String,
    pub email: String,
    pub role: String,
}

/// A team keeps at least one admin: without one, nobody but an operator could manage its
/// members or apps again. Called before `member` stops being an admin.
fn keep_an_admin(conn: &mut DbConnection, team_id: i64, member: &members::Member) -> OpResult<()> {
    if MemberRole::from_stored(&member.role) == MemberRole::Admin && members::lock_admins(conn, team_id)? <= 1 {
        return Err(OpError::Conflict("this is the team's last admin: make another member admin first".into()));
    }
    Ok(())
}

/// The member with this email, looked up only once the team is known to be visible to `actor`.
fn require_member(
    conn: &mut DbConnection,
    actor: &Actor,
    team: &Slug,
    email: &Email,
) -> OpResult<(crate::db::models::teams::Team, i64, members::Member)> {
    let team = access::visible_team(conn, actor, team)?;
    let user = require_by_email(conn, email)?;
    let member = members::find(conn, team.id, user.id)?
        .ok_or_else(|| OpError::NotFound(format!("{email} is not a member of team {}", team.slug)))?;
    Ok((team, user.id, member))
}

pub fn add(conn: &mut DbConnection, actor: &Actor, team: &Slug, email: &Email, role: TeamRole) -> OpResult<MemberOut> {
    conn.write_transaction(|conn| {
        let team = access::visible_team(conn, actor, team)?;
        let user = require_by_email(conn, email)?;
        let elevates = role == TeamRole::Admin;
        access::authorize_member_change(conn, actor, Action::MemberInvite, team.id, user.id, elevates)?;
        if members::find(conn, team.id, user.id)?.is_some() {
            return Err(OpError::Conflict(format!("{email} is already a member of team {}", team.slug)));
        }
        let member = members::create(
            conn,
            &members::NewMember { team_id: team.id, user_id: user.id, role: role.as_str(), created_at: now() },
        )?;
        audit::record(
            conn,
            actor,
            Event {
                action: "member.add",
                target_type: "member",
                target_id: member.id.to_string(),
                team_id: Some(team.id),
                details: json!({ "user_id": user.id, "role": role.as_str() }),
            },
        )?;
        Ok(MemberOut { team: team.slug, email: user.email, role: role.as_str().into() })
    })
}

/// Changes a member's built-in role (dropping any custom roles). Tokens follow at once: every
/// use reads the current role.
pub fn set_role(
    conn: &mut DbConnection,
    actor: &Actor,
    team: &Slug,
    email: &Email,
    role: TeamRole,
) -> OpResult<MemberOut> {
    conn.write_transaction(|conn| {
        let (team, user_id, member) = require_member(conn, actor, team, email)?;
        let elevates = role == TeamRole::Admin || MemberRole::from_stored(&member.role) == MemberRole::Admin;
        access::authorize_member_change(conn, actor, Action::MemberUpdateRole, team.id, user_id, elevates)?;
        if role != TeamRole::Admin {
            keep_an_admin(conn, team.id, &member)?;
        }
        members::set_role(conn, member.id, role.as_str())?;
        roles::clear_for_member(conn, member.id)?;
        audit::record(
            conn,
            actor,
            Event {
                action: "member.set_role",
                target_type: "member",
                target_id: member.id.to_string(),
                team_id: Some(team.id),
                details: json!({ "user_id": user_id, "from": MemberRole::from_stored(&member.role).as_str(), "to": role.as_str() }),
            },
        )?;
        Ok(MemberOut { team: team.slug, email: email.to_string(), role: role.as_str().into() })
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomRolesOut {
    pub team: String,
    pub email: String,
    /// Always `custom`.
    pub role: String,
    pub custom_roles: Vec<String>,
}

/// Gives a member exactly these custom roles in place of any built-in role (SPEC §2: a member
/// with custom roles has exactly what the statements allow, plus project-admin grants). The
/// membership is locked first, as removal does.
pub fn set_custom_roles(
    conn: &mut DbConnection,
    actor: &Actor,
    team: &Slug,
    email: &Email,
    names: &[RoleName],
) -> OpResult<CustomRolesOut> {
    let names: BTreeSet<&RoleName> = names.iter().collect();
    if names.is_empty() {
        return Err(OpError::Invalid("give at least one role".into()));
    }
    conn.write_transaction(|conn| {
        let (team, user_id, member) = require_member(conn, actor, team, email)?;
        access::authorize_member_change(conn, actor, Action::MemberUpdateRole, team.id, user_id, true)?;
        keep_an_admin(conn, team.id, &member)?;
        members::lock(conn, member.id)?;
        let role_ids = names
            .iter()
            .map(|name| super::roles::require_in(conn, &team, name).map(|r| r.id))
            .collect::<OpResult<Vec<_>>>()?;
        if member.role != MemberRole::Custom.as_str() {
            members::set_role(conn, member.id, MemberRole::Custom.as_str())?;
        }
        roles::clear_for_member(conn, member.id)?;
        roles::grant_to_member(conn, member.id, &role_ids)?;
        let custom_roles: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        audit::record(
            conn,
            actor,
            Event {
                action: "member.set_custom_roles",
                target_type: "member",
                target_id: member.id.to_string(),
                team_id: Some(team.id),
                details: json!({ "user_id": user_id, "from": member.role, "custom_roles": custom_roles }),
            },
        )?;
        Ok(CustomRolesOut { team: team.slug, email: email.to_string(), role: "custom".into(), custom_roles })
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RemovedOut {
    pub team: String,
    pub email: String,
    pub removed: bool,
    pub revoked_grants: usize,
}

/// Removes a member and, in the same transaction, revokes every grant they made in the team.
/// The membership row is locked first (the lock order of `ops`): a grant being issued or
/// refreshed under it commits before the revocation runs, and is revoked with the others.
/// Deleting the row also clears the grants' link to it, so re-adding the member (who may get
/// the same id back on SQLite) never revives an old token.
pub fn remove(conn: &mut DbConnection, actor: &Actor, team: &Slug, email: &Email) -> OpResult<RemovedOut> {
    conn.write_transaction(|conn| {
        let (team, user_id, member) = require_member(conn, actor, team, email)?;
        let elevates = MemberRole::from_stored(&member.role) == MemberRole::Admin;
        access::authorize_member_change(conn, actor, Action::MemberRemove, team.id, user_id, elevates)?;
        keep_an_admin(conn, team.id, &member)?;
        if !members::lock(conn, member.id)? {
            return Err(OpError::NotFound(format!("{email} is not a member of team {}", team.slug)));
        }
        let now = now();
        super::grants::ending(conn, Ending::Member { team_id: team.id, user_id })?;
        let revoked_grants = grants::revoke_for_member(conn, team.id, user_id, "member_removed", now)?;
        members::delete(conn, member.id)?;
        audit::record(
            conn,
            actor,
            Event {
                action: "member.remove",
                target_type: "member",
                target_id: member.id.to_string(),
                team_id: Some(team.id),
                details: json!({ "user_id": user_id, "revoked_grants": revoked_grants }),
            },
        )?;
        Ok(RemovedOut { team: team.slug, email: email.to_string(), removed: true, revoked_grants })
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProjectAdminOut {
    pub team: String,
    pub project: String,
    pub email: String,
    pub project_admin: bool,
}

pub fn set_project_admin(
    conn: &mut DbConnection,
    actor: &Actor,
    team: &Slug,
    project: &Slug,
    email: &Email,
    on: bool,
) -> OpResult<ProjectAdminOut> {
    conn.write_transaction(|conn| {
        let (team, user_id, member) = require_member(conn, actor, team, email)?;
        access::authorize_member_change(conn, actor, Action::MemberUpdateRole, team.id, user_id, true)?;
        let project = projects::require_in(conn, &team, project)?;
        members::set_project_admin(conn, member.id, project.id, on, now())?;
        audit::record(
            conn,
            actor,
            Event {
                action: "member.set_project_admin",
                target_type: "member",
                target_id: member.id.to_string(),
                team_id: Some(team.id),
                details: json!({ "user_id": user_id, "project_id": project.id, "project_admin": on }),
            },
        )?;
        Ok(ProjectAdminOut { team: team.slug, project: project.slug, email: email.to_string(), project_admin: on })
    })
}
