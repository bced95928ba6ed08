//! Custom roles (SPEC §2): create, list, update and delete a team's roles, validated by
//! [`Statement::parse_all`]. A role's definition is read on every use of every credential
//! that carries it, so an edit takes effect on the next request.

use serde::Serialize;
use serde_json::{Value, json};

use super::audit::{self, Actor, Event};
use super::{OpError, OpResult, access, conflict_as, rfc3339, teams};
use crate::authz::{Action, Resource, Statement};
use crate::db::models::roles::{self, CustomRoleRow, NewCustomRole};
use crate::db::models::teams::Team;
use crate::db::{DbConnection, now};
use crate::domain::{Invalid, RoleName, Slug};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoleOut {
    pub id: i64,
    pub team: String,
    pub name: String,
    /// The SPEC §2 statements, as saved.
    #[schema(value_type = Vec<Object>)]
    pub statements: Value,
    /// Emails of the members holding the role.
    pub members: Vec<String>,
    /// Ids of the deploy keys carrying it.
    pub deploy_keys: Vec<i64>,
    pub created_at: String,
}

/// Validates a `--statements` value (a JSON array of SPEC §2 statements) and returns it in the
/// compact form it is stored in.
pub fn validated_statements(json: &str) -> Result<String, Invalid> {
    Statement::parse_all(json)?;
    let value: Value = serde_json::from_str(json).map_err(|e| Invalid(e.to_string()))?;
    Ok(value.to_string())
}

fn out(conn: &mut DbConnection, team: &Team, role: CustomRoleRow) -> OpResult<RoleOut> {
    Ok(RoleOut {
        members: roles::holders(conn, role.id)?,
        deploy_keys: roles::keys_using(conn, role.id)?,
        id: role.id,
        team: team.slug.clone(),
        name: role.name,
        statements: serde_json::from_str(&role.statements).unwrap_or(Value::Null),
        created_at: rfc3339(role.created_at),
    })
}

/// The team, once `actor` is known to hold `customRole:manage` on it (SPEC §2).
fn manageable(conn: &mut DbConnection, actor: &Actor, team: &Slug) -> OpResult<Team> {
    let team = access::visible_team(conn, actor, team)?;
    access::authorize(conn, actor, Action::CustomRoleManage, &Resource::Team { team_id: team.id })?;
    Ok(team)
}

pub(crate) fn require_in(conn: &mut DbConnection, team: &Team, name: &RoleName) -> OpResult<CustomRoleRow> {
    roles::find(conn, team.id, name.as_str())?
        .ok_or_else(|| OpError::NotFound(format!("no role {name} in team {}", team.slug)))
}

fn record(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &str,
    team: &Team,
    role: &CustomRoleRow,
    details: Value,
) -> OpResult<()> {
    audit::record(
        conn,
        actor,
        Event { action, target_type: "custom_role", target_id: role.id.to_string(), team_id: Some(team.id), details },
    )?;
    Ok(())
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    team: &Slug,
    name: &RoleName,
    statements: &str,
) -> OpResult<RoleOut> {
    let statements = validated_statements(statements)?;
    conn.write_transaction(|conn| {
        let team = manageable(conn, actor, team)?;
        let role = roles::create(
            conn,
            &NewCustomRole { team_id: team.id, name: name.as_str(), statements: &statements, created_at: now() },
        )
        .map_err(conflict_as(format!("team {} already has a role named {name}", team.slug)))?;
        record(conn, actor, "role.create", &team, &role, json!({ "name": role.name, "statements": role.statements }))?;
        out(conn, &team, role)
    })
}

/// A team's roles, by name, each with where it is used.
pub fn list(conn: &mut DbConnection, team: &Slug) -> OpResult<Vec<RoleOut>> {
    let team = teams::require(conn, team)?;
    roles::list_for_team(conn, team.id)?.into_iter().map(|role| out(conn, &team, role)).collect()
}

pub fn show(conn: &mut DbConnection, team: &Slug, name: &RoleName) -> OpResult<RoleOut> {
    let team = teams::require(conn, team)?;
    let role = require_in(conn, &team, name)?;
    out(conn, &team, role)
}

/// Replaces a role's statements; every member and key holding it follows on its next use.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    team: &Slug,
    name: &RoleName,
    statements: &str,
) -> OpResult<RoleOut> {
    let statements = validated_statements(statements)?;
    conn.write_transaction(|conn| {
        let team = manageable(conn, actor, team)?;
        let role = require_in(conn, &team, name)?;
        roles::set_statements(conn, role.id, &statements)?;
        record(conn, actor, "role.update", &team, &role, json!({ "from": role.statements, "to": statements }))?;
        let role = require_in(conn, &team, name)?;
        out(conn, &team, role)
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeletedRoleOut {
    pub team: String,
    pub name: String,
    pub deleted: bool,
    /// Members it was taken from (`--force`).
    pub removed_from_members: Vec<String>,
    /// Deploy keys it was taken off (`--force`): they keep their own actions.
    pub removed_from_deploy_keys: Vec<i64>,
}

/// Deletes a role. One still held by a member or carried by a deploy key is refused unless
/// `force`, which takes it from them in the same transaction: members keep their other custom
/// roles (with none left they may do nothing but what project admin gives), keys keep their
/// own allowed actions.
pub fn delete(
    conn: &mut DbConnection,
    actor: &Actor,
    team: &Slug,
    name: &RoleName,
    force: bool,
) -> OpResult<DeletedRoleOut> {
    conn.write_transaction(|conn| {
        let team = manageable(conn, actor, team)?;
        let role = require_in(conn, &team, name)?;
        let members = roles::holders(conn, role.id)?;
        let keys = roles::keys_using(conn, role.id)?;
        if !(force || members.is_empty() && keys.is_empty()) {
            return Err(OpError::Conflict(format!(
                "role {name} is held by {} member(s) and {} deploy key(s); pass --force to take it from them and delete it",
                members.len(),
                keys.len()
            )));
        }
        roles::detach_from_keys(conn, role.id)?;
        roles::delete(conn, role.id)?;
        record(conn, actor, "role.delete", &team, &role, json!({ "name": role.name, "members": members, "deploy_keys": keys }))?;
        Ok(DeletedRoleOut {
            team: team.slug,
            name: role.name,
            deleted: true,
            removed_from_members: members,
            removed_from_deploy_keys: keys,
        })
    })
}
