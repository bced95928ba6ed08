use serde::Serialize;
use serde_json::json;

use super::audit::{self, Actor, Event};
use super::users::require_by_email;
use super::{OpError, OpResult, conflict_as, rfc3339};
use crate::db::models::{members, teams};
use crate::db::{DbConnection, now};
use crate::domain::{DisplayName, Email, MemberRole, Slug};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TeamOut {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub created_at: String,
}

impl From<&teams::Team> for TeamOut {
    fn from(team: &teams::Team) -> Self {
        TeamOut { id: team.id, slug: team.slug.clone(), name: team.name.clone(), created_at: rfc3339(team.created_at) }
    }
}

pub(crate) fn require(conn: &mut DbConnection, slug: &Slug) -> OpResult<teams::Team> {
    // The same words as for a team the caller is outside of (`access`), so that none leaks.
    teams::find_by_slug(conn, slug.as_str())?.ok_or_else(OpError::no_such_team)
}

/// The teams `user_id` belongs to (by slug), with the user's role in each.
pub fn memberships(conn: &mut DbConnection, user_id: i64) -> OpResult<Vec<(teams::Team, MemberRole)>> {
    Ok(teams::list_for_user(conn, user_id)?
        .into_iter()
        .map(|(team, role)| (team, MemberRole::from_stored(&role)))
        .collect())
}

#[derive(Debug, Serialize)]
pub struct CreatedTeamOut {
    #[serde(flatten)]
    pub team: TeamOut,
    pub owner: String,
}

/// Creates a team with `owner` as its first admin.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &Slug,
    name: &DisplayName,
    owner: &Email,
) -> OpResult<CreatedTeamOut> {
    conn.write_transaction(|conn| {
        let user = require_by_email(conn, owner)?;
        let team = teams::create(conn, &teams::NewTeam { slug: slug.as_str(), name: name.as_str(), created_at: now() })
            .map_err(conflict_as(format!("team slug {slug} is taken")))?;
        members::create(
            conn,
            &members::NewMember {
                team_id: team.id,
                user_id: user.id,
                role: MemberRole::Admin.as_str(),
                created_at: now(),
            },
        )?;
        audit::record(
            conn,
            actor,
            Event {
                action: "team.create",
                target_type: "team",
                target_id: team.id.to_string(),
                team_id: Some(team.id),
                details: json!({ "slug": team.slug, "owner_user_id": user.id }),
            },
        )?;
        Ok(CreatedTeamOut { team: TeamOut::from(&team), owner: user.email })
    })
}

/// Renames a team. Tokens keep working: their prefixes record the slug at issue time.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &Slug,
    new_slug: Option<&Slug>,
    name: Option<&DisplayName>,
) -> OpResult<TeamOut> {
    conn.write_transaction(|conn| {
        let team = super::access::visible_team(conn, actor, slug)?;
        super::access::authorize(conn, actor, crate::authz::Action::TeamUpdate, &crate::authz::Resource::Team {
            team_id: team.id,
        })?;
        let new_slug = new_slug.map_or(team.slug.as_str(), Slug::as_str);
        let new_name = name.map_or(team.name.as_str(), DisplayName::as_str);
        teams::update(conn, team.id, new_slug, new_name).map_err(conflict_as(format!("team slug {new_slug} is taken")))?;
        audit::record(
            conn,
            actor,
            Event {
                action: "team.update",
                target_type: "team",
                target_id: team.id.to_string(),
                team_id: Some(team.id),
                details: json!({ "slug": { "from": team.slug, "to": new_slug }, "name": { "from": team.name, "to": new_name } }),
            },
        )?;
        let updated = teams::find_by_id(conn, team.id)?.ok_or_else(|| OpError::NotFound("team vanished".into()))?;
        Ok(TeamOut::from(&updated))
    })
}
