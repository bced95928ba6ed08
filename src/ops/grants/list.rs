//! The "authorized applications" listings: the grants a person made, and every grant on a
//! team for its admins.

use crate::db::DbConnection;
use crate::db::models::grants::{self, GrantListing, ListFor};
use crate::db::models::members;
use crate::db::models::teams::{self, Team};
use crate::domain::{MemberRole, Slug};
use crate::ops::{OpError, OpResult};

/// A person's own grants, and the teams they administer (whose grants they may also see).
pub struct UserGrants {
    pub grants: Vec<GrantListing>,
    pub admin_of: Vec<Team>,
}

pub fn list_for_user(conn: &mut DbConnection, user_id: i64) -> OpResult<UserGrants> {
    let grants = grants::list(conn, ListFor::User(user_id))?;
    let admin_of = teams::list_for_user(conn, user_id)?
        .into_iter()
        .filter(|(_, role)| MemberRole::from_stored(role) == MemberRole::Admin)
        .map(|(team, _)| team)
        .collect();
    Ok(UserGrants { grants, admin_of })
}

/// Every live grant on a team.
pub struct TeamGrants {
    pub team: Team,
    pub grants: Vec<GrantListing>,
}

/// Whether `user_id` may see every grant on the team: its admins may.
pub fn sees_team_grants(conn: &mut DbConnection, team_id: i64, user_id: i64) -> OpResult<bool> {
    Ok(members::find(conn, team_id, user_id)?.is_some_and(|m| MemberRole::from_stored(&m.role) == MemberRole::Admin))
}

/// The grants on `team` for one of its admins. Not an admin and no such team look the same.
pub fn list_for_team_admin(conn: &mut DbConnection, user_id: i64, team: &Slug) -> OpResult<TeamGrants> {
    let not_found = || OpError::NotFound("no such team".into());
    let team = teams::find_by_slug(conn, team.as_str())?.ok_or_else(not_found)?;
    if !sees_team_grants(conn, team.id, user_id)? {
        return Err(not_found());
    }
    let grants = grants::list(conn, ListFor::Team(team.id))?;
    Ok(TeamGrants { team, grants })
}
