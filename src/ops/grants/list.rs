//! The "authorized applications" listings: the grants a person made, and the grants on a team
//! for those who oversee them (SPEC §2 `token:view`, the rule of [`super::may`]).

use super::{GrantPlace, Reach, judge_in, may, reach};
use crate::authz::{Action, ProjectRef};
use crate::db::DbConnection;
use crate::db::models::grants::{self, GrantListing, ListFor};
use crate::db::models::projects;
use crate::db::models::teams::{self, Team};
use crate::domain::Slug;
use crate::ops::access::{self, Judge};
use crate::ops::{Actor, OpError, OpResult};

/// A person's own grants, and the teams whose grants they oversee (see [`sees_team_grants`]).
pub struct UserGrants {
    pub grants: Vec<GrantListing>,
    pub oversees: Vec<Team>,
}

pub fn list_for_user(conn: &mut DbConnection, user_id: i64) -> OpResult<UserGrants> {
    let grants = grants::list(conn, ListFor::User(user_id))?;
    let mut oversees = Vec::new();
    for (team, _) in teams::list_for_user(conn, user_id)? {
        if sees_team_grants(conn, team.id, user_id)? {
            oversees.push(team);
        }
    }
    Ok(UserGrants { grants, oversees })
}

/// A grant on a team's page, and whether the one looking may revoke it (`token:revoke`).
pub struct TeamGrant {
    pub grant: GrantListing,
    pub revocable: bool,
}

/// The grants on a team that one overseer may view.
pub struct TeamGrants {
    pub team: Team,
    pub grants: Vec<TeamGrant>,
}

/// Whether `judge` may view (`token:view`) grants that others made on the team: team-wide
/// ones, or those on at least one of its projects.
fn oversees(conn: &mut DbConnection, judge: &Judge, team_id: i64) -> OpResult<bool> {
    if reach(judge, Action::TokenView, team_id, None) == Reach::All {
        return Ok(true);
    }
    Ok(projects::list_for_team(conn, team_id)?.into_iter().any(|project| {
        let project = ProjectRef { id: project.id, slug: project.slug };
        reach(judge, Action::TokenView, team_id, Some(&project)) == Reach::All
    }))
}

/// Whether `user_id` has the team's "Authorizations" page: they may view grants others made on
/// it (team admins; project admins and custom roles with `token:view`, for their projects). A
/// developer's `token:view` covers only their own grants, which their own page lists.
pub fn sees_team_grants(conn: &mut DbConnection, team_id: i64, user_id: i64) -> OpResult<bool> {
    match access::standing(conn, user_id, team_id)? {
        Some(standing) => oversees(conn, &Judge::Judged(standing), team_id),
        None => Ok(false),
    }
}

/// The grants on `team` that `actor` may view, each with whether they may revoke it, for one
/// who oversees some (see [`sees_team_grants`]). No such team and nothing to oversee look the
/// same.
pub fn list_for_team(conn: &mut DbConnection, actor: &Actor, team: &Slug) -> OpResult<TeamGrants> {
    let not_found = OpError::no_such_team;
    let team = teams::find_by_slug(conn, team.as_str())?.ok_or_else(not_found)?;
    let Some(judge) = judge_in(conn, actor, team.id)? else {
        return Err(not_found());
    };
    if !oversees(conn, &judge, team.id)? {
        return Err(not_found());
    }
    let grants = grants::list(conn, ListFor::Team(team.id))?
        .into_iter()
        .filter_map(|grant| {
            let project = grant.project_id.zip(grant.project_slug.clone()).map(|(id, slug)| ProjectRef { id, slug });
            let place = GrantPlace { team_id: grant.team_id, project, user_id: grant.user_id };
            may(actor, Some(&judge), Action::TokenView, &place)
                .then(|| TeamGrant { revocable: may(actor, Some(&judge), Action::TokenRevoke, &place), grant })
        })
        .collect();
    Ok(TeamGrants { team, grants })
}
