//! What a signed-in person may do in a team (the pages; the session side of `/v1`): their
//! membership as it is now — built-in role, custom roles, project-admin grants — judged by the
//! same decision function as every credential (`authz::decide`, SPEC §2).

use secrecy::ExposeSecret;

use super::decisions::{ResourceName, resolve};
use super::verify::{self, Verified, custom_role};
use super::{Actor, OpError, OpResult};
use crate::authz::{Action, Decision, MemberGrant, Resource, Subject, TokenScope, decide};
use crate::db::models::teams::{self, Team};
use crate::db::models::{members, roles};
use crate::db::{DbConnection, now};
use crate::domain::{MemberRole, Slug};

/// The person `user_id` as a member of `team_id`, or `None` when they are not one.
pub fn member(conn: &mut DbConnection, user_id: i64, team_id: i64) -> OpResult<Option<Subject>> {
    let Some(member) = members::find(conn, team_id, user_id)? else {
        return Ok(None);
    };
    let role = MemberRole::from_stored(&member.role);
    let custom_roles = match role {
        MemberRole::Custom => {
            roles::for_member(conn, member.id)?.into_iter().map(|r| custom_role(r.name, &r.statements)).collect()
        }
        _ => Vec::new(),
    };
    Ok(Some(Subject::Member(MemberGrant {
        team_id,
        role,
        custom_roles,
        project_admin_of: members::project_admin_of(conn, member.id)?,
        scope: TokenScope::Team,
    })))
}

/// A member's standing read once, for a page that makes many decisions at one point in time
/// (a list with a Revoke per row, the targets a form offers).
pub struct Standing(Subject);

impl Standing {
    /// Whether the member may perform `action` on `resource` (SPEC §2, via `authz::decide`).
    pub fn may(&self, action: Action, resource: &Resource) -> bool {
        self.decide(action, resource).allowed
    }

    /// The decision itself, with its reason, for use cases that narrow one (SPEC §2's
    /// "for grants they made themselves" narrows `allowed_by_developer_role`).
    pub fn decide(&self, action: Action, resource: &Resource) -> Decision {
        decide(&self.0, action, resource, None)
    }
}

/// How an actor is judged in one team, read once for the decisions a use case makes at one
/// point in time.
pub enum Judge {
    /// Operators (the CLI) and the server itself: trusted, not judged.
    Trusted,
    /// A signed-in person, or an application token within its scope: their standing now.
    Judged(Standing),
}

impl Judge {
    /// The decision on `action` at `resource`; `None` for the trusted, who are not judged.
    pub fn decision(&self, action: Action, resource: &Resource) -> Option<Decision> {
        match self {
            Judge::Trusted => None,
            Judge::Judged(standing) => Some(standing.decide(action, resource)),
        }
    }
}

/// How `actor` is judged in `team_id`, inside the use case's own transaction, so the CLI, the
/// pages and the API share one rule: operators (the CLI) and the server itself are trusted; a
/// signed-in person is judged by their membership as it is now (`NotFound` outside the team:
/// a team one cannot see does not exist for them); an application token is verified again
/// here and judged by its user's standing now within its scope (SPEC §2: a team token never
/// manages members, roles or apps; `NotFound` for another team); an application's own
/// credentials act only through the protocol endpoints (`Forbidden`).
pub fn judge(conn: &mut DbConnection, actor: &Actor, team_id: i64) -> OpResult<Judge> {
    let no_such_team = OpError::no_such_team;
    match actor {
        Actor::Cli | Actor::System => Ok(Judge::Trusted),
        Actor::User { id, .. } => Ok(Judge::Judged(standing(conn, *id, team_id)?.ok_or_else(no_such_team)?)),
        Actor::Token { credential, .. } => {
            let inactive = || OpError::Forbidden("the credential is no longer active".into());
            let verified = verify::verify(conn, credential.expose_secret(), now())?.ok_or_else(inactive)?;
            if !matches!(verified, Verified::AppToken(_)) {
                return Err(OpError::Forbidden("only an application's access token manages a team".into()));
            }
            if team_id != verified.team_id() {
                return Err(no_such_team());
            }
            Ok(Judge::Judged(Standing(verify::subject(conn, &verified)?)))
        }
        Actor::App { .. } => Err(OpError::Forbidden("an application acts only through the OAuth endpoints".into())),
        Actor::Anonymous { .. } => Err(OpError::Forbidden("sign in first".into())),
    }
}

/// The standing of `user_id` in `team_id`, or `None` when they are not a member.
pub fn standing(conn: &mut DbConnection, user_id: i64, team_id: i64) -> OpResult<Option<Standing>> {
    Ok(member(conn, user_id, team_id)?.map(Standing))
}

/// Whether `user_id` may perform `action` on `resource` now.
pub fn may(conn: &mut DbConnection, user_id: i64, action: Action, resource: &Resource) -> OpResult<bool> {
    Ok(standing(conn, user_id, resource.team_id())?.is_some_and(|standing| standing.may(action, resource)))
}

/// [`may`], as an error: `NotFound` for someone outside the team (a team one cannot see does
/// not exist for them), `Forbidden` for a member without the right.
pub fn require(conn: &mut DbConnection, user_id: i64, action: Action, resource: &Resource) -> OpResult<()> {
    let Some(standing) = standing(conn, user_id, resource.team_id())? else {
        return Err(OpError::no_such_team());
    };
    if standing.may(action, resource) { Ok(()) } else { Err(OpError::Forbidden(format!("you may not {action} here"))) }
}

/// The named resource as it is now; `NotFound` when it does not exist.
pub fn resource(conn: &mut DbConnection, name: &ResourceName) -> OpResult<Resource> {
    resolve(conn, name)?.ok_or_else(|| OpError::NotFound("no such team, project or deployment".into()))
}

/// Whether `actor` may perform `action` on `resource`, as [`judge`] judges it: `Ok` or the
/// error to answer with (`Forbidden` for a member or token without the right).
pub fn authorize(conn: &mut DbConnection, actor: &Actor, action: Action, resource: &Resource) -> OpResult<()> {
    match judge(conn, actor, resource.team_id())?.decision(action, resource) {
        None => Ok(()),
        Some(decision) if decision.allowed => Ok(()),
        Some(decision) => Err(OpError::Forbidden(match actor {
            Actor::Token { .. } => format!("this token may not {action} here ({})", decision.reason),
            _ => format!("you may not {action} here"),
        })),
    }
}

/// The team with this slug, if `actor` is inside it: a member, a token issued in it, or an
/// operator. `NotFound` for a team that does not exist and for one the actor is outside of
/// alike, and before anything inside it is looked up, so nothing about it leaks.
pub fn visible_team(conn: &mut DbConnection, actor: &Actor, slug: &Slug) -> OpResult<Team> {
    let not_found = OpError::no_such_team;
    let team = teams::find_by_slug(conn, slug.as_str())?.ok_or_else(not_found)?;
    let inside = match actor {
        Actor::Cli | Actor::System => true,
        Actor::User { id, .. } => members::find(conn, team.id, *id)?.is_some(),
        Actor::Token { credential, .. } => {
            verify::verify(conn, credential.expose_secret(), now())?.is_some_and(|v| v.team_id() == team.id)
        }
        Actor::App { .. } | Actor::Anonymous { .. } => false,
    };
    if inside { Ok(team) } else { Err(not_found()) }
}

/// [`visible_team`], once `actor` may perform `action` on the team itself.
pub fn team(conn: &mut DbConnection, actor: &Actor, slug: &Slug, action: Action) -> OpResult<Team> {
    let team = visible_team(conn, actor, slug)?;
    authorize(conn, actor, action, &Resource::Team { team_id: team.id })?;
    Ok(team)
}

/// No escalation through membership changes (SPEC §2): only a team admin hands out the
/// `admin` role, project admin or custom roles, and nobody changes their own standing.
/// Whoever else holds `member:updateRole` may make members developers.
/// `action` is the one the change needs (`member:invite`, `member:updateRole`,
/// `member:remove`); `elevates` says whether it hands out (or takes from an admin) more than a
/// developer has.
pub fn authorize_member_change(
    conn: &mut DbConnection,
    actor: &Actor,
    action: Action,
    team_id: i64,
    target_user_id: i64,
    elevates: bool,
) -> OpResult<()> {
    authorize(conn, actor, action, &Resource::Team { team_id })?;
    let Some(id) = actor.person() else {
        return Ok(());
    };
    if id == target_user_id && action == Action::MemberUpdateRole {
        return Err(OpError::Forbidden("you may not change your own role or project-admin grants".into()));
    }
    let is_admin =
        members::find(conn, team_id, id)?.is_some_and(|m| MemberRole::from_stored(&m.role) == MemberRole::Admin);
    if elevates && !is_admin {
        return Err(OpError::Forbidden(
            "only a team admin may hand out the admin role, project admin or custom roles".into(),
        ));
    }
    Ok(())
}
