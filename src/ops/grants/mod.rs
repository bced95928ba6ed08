//! The life of a grant: consent → authorization code → tokens → refresh → revocation.
//! (RFC 6749 §4.1 and §6, RFC 7009, and SPEC §4's token endpoint rules.) One file per use
//! case; what several of them share is here.

mod code;
mod consent;
pub mod device;
mod issue;
mod list;
mod refresh;
mod revoke;
#[cfg(test)]
mod tests;

use time::{Duration, PrimitiveDateTime};

pub use self::code::{Redeemed, find_code, redeem_code};
pub use self::consent::{Approval, ProjectChoice, approve};
pub use self::list::{TeamGrant, TeamGrants, UserGrants, list_for_team, list_for_user, sees_team_grants};
pub use self::refresh::{RefreshAsk, RefreshRefused, refresh};
pub use self::revoke::{ending, revoke, revoke_token};
use super::access::{self, Judge};
use super::{Actor, OpError, OpResult};
use crate::authz::{Action, ProjectRef, Reason, Resource};
use crate::db::DbConnection;
use crate::db::models::apps::{self, App};
use crate::db::models::refresh_tokens;
use crate::domain::Scope;
use crate::telemetry::metrics::{self, TokenKind};
use crate::tokens::credential::{project_token, team_token};
use crate::tokens::{SecretHash, generate_secret};

/// Lifetimes and limits from configuration.
#[derive(Debug, Clone, Copy)]
pub struct GrantPolicy {
    pub code_ttl: Duration,
    pub refresh_ttl: Duration,
    pub unverified_app_team_limit: i64,
    /// How long a public client's access tokens live when the app sets no lifetime of its own
    /// (SPEC §7 "Lifetimes": OAuth 2.1 wants public clients' tokens to expire and refresh).
    pub public_token_ttl_seconds: i64,
    /// How long a device code waits for the user (RFC 8628 §3.2 `expires_in`).
    pub device_code_ttl: Duration,
}

impl GrantPolicy {
    /// The access-token lifetime of `app`'s tokens, in seconds; `None`: they never expire (and
    /// come without a refresh token). An app's own setting wins; public clients default to
    /// [`Self::public_token_ttl_seconds`].
    pub fn token_ttl(&self, app: &App) -> Option<i64> {
        app.token_ttl_seconds.or(app.is_public().then_some(self.public_token_ttl_seconds))
    }
}

/// Why the server refuses the approval; shown to the user or sent to the client as
/// `access_denied`.
fn refuse(message: impl Into<String>) -> OpError {
    OpError::Forbidden(message.into())
}

/// An unverified app may be authorized by at most N distinct teams (SPEC §2).
fn check_unverified_limit(conn: &mut DbConnection, app: &App, team_id: i64, policy: &GrantPolicy) -> OpResult<()> {
    if app.verified_at.is_some() {
        return Ok(());
    }
    let (teams, includes_this_one) = apps::authorized_teams(conn, app.id, team_id)?;
    if !includes_this_one && teams >= policy.unverified_app_team_limit {
        return Err(refuse(format!(
            "this application is unverified and already authorized by {teams} teams, its limit"
        )));
    }
    Ok(())
}

/// Where a grant lives and who made it, as decisions about it see it.
struct GrantPlace {
    team_id: i64,
    project: Option<ProjectRef>,
    user_id: i64,
}

/// [`access::judge`], with no standing in the team (not a member, an inactive token or one of
/// another team, an application's own credentials) as `None`.
fn judge_in(conn: &mut DbConnection, actor: &Actor, team_id: i64) -> OpResult<Option<Judge>> {
    match access::judge(conn, actor, team_id) {
        Ok(judge) => Ok(Some(judge)),
        Err(OpError::NotFound(_) | OpError::Forbidden(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Whose grants at one place (a project, or the team for team-wide grants) a judge's standing
/// covers for `token:view` / `token:revoke`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Everyone's.
    All,
    /// Only the grants the person made themselves.
    Own,
    /// Nobody's.
    None,
}

/// SPEC §2's `action` (`token:view` or `token:revoke`) on the grants at `project` of
/// `team_id` (`None`: the team-wide grants). On a project, the decision there: team admins,
/// project admins and custom roles that allow it reach every grant, while the built-in
/// developer role's allowance is "for grants they made themselves" (`authz` allows developers
/// on any project and leaves that narrowing to the use case). A team-wide grant has no project
/// to decide on: only the team's admins reach it, which is `team:view` decided as
/// `allowed_by_team_admin` (a session, or a team token of an admin: a project token does not
/// reach the team). Operators and the server reach everything.
fn reach(judge: &Judge, action: Action, team_id: i64, project: Option<&ProjectRef>) -> Reach {
    let decision = match project {
        Some(project) => judge.decision(action, &Resource::Project { team_id, project: project.clone() }),
        None => judge.decision(Action::TeamView, &Resource::Team { team_id }),
    };
    let Some(decision) = decision else {
        return Reach::All;
    };
    match (project, decision.reason) {
        (Some(_), Reason::AllowedByDeveloperRole) => Reach::Own,
        (Some(_), reason) if reason.allows() => Reach::All,
        (None, Reason::AllowedByTeamAdmin) => Reach::All,
        _ => Reach::None,
    }
}

/// Whether `actor`, judged by `judge` in the grant's team (`None`: no standing there), may
/// perform `action` on the grant at `place`: [`reach`], and a person's own grant always, in
/// person (the "authorized applications" page of the one who approved it).
fn may(actor: &Actor, judge: Option<&Judge>, action: Action, place: &GrantPlace) -> bool {
    let own = actor.person() == Some(place.user_id);
    if own && matches!(actor, Actor::User { .. }) {
        return true;
    }
    match judge.map(|judge| reach(judge, action, place.team_id, place.project.as_ref())) {
        Some(Reach::All) => true,
        Some(Reach::Own) => own,
        Some(Reach::None) | None => false,
    }
}

/// Tokens handed to a client.
#[derive(Debug)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
    pub scope: Scope,
}

impl IssuedTokens {
    /// Counts these tokens as issued: call once the transaction that stored them committed.
    fn count_issued(&self) {
        metrics::issued(TokenKind::access(self.scope == Scope::Project), 1);
        if self.refresh_token.is_some() {
            metrics::issued(TokenKind::RefreshToken, 1);
        }
    }
}

fn mint_access_token(team_slug: &str, project_slug: Option<&str>) -> String {
    let secret = generate_secret();
    match project_slug {
        Some(project) => project_token(team_slug, project, &secret),
        None => team_token(team_slug, &secret),
    }
}

fn new_refresh_token(
    conn: &mut DbConnection,
    grant_id: i64,
    now: PrimitiveDateTime,
    policy: &GrantPolicy,
) -> OpResult<String> {
    let token = generate_secret();
    refresh_tokens::create(
        conn,
        &refresh_tokens::NewRefreshToken {
            grant_id,
            token_hash: SecretHash::of(&token).as_str(),
            created_at: now,
            expires_at: now + policy.refresh_ttl,
        },
    )?;
    Ok(token)
}
