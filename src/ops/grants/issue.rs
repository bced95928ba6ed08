//! Turning a decided approval into a grant: what redeeming an authorization code (RFC 6749
//! §4.1.3) and an approved device code (RFC 8628 §3.4) share.

use serde_json::json;
use time::{Duration, PrimitiveDateTime};

use super::{GrantPolicy, IssuedTokens, check_unverified_limit, mint_access_token, new_refresh_token};
use crate::db::DbConnection;
use crate::db::models::apps::{self, App};
use crate::db::models::{grants, members, projects as project_rows, teams, users};
use crate::domain::{Audience, Scope};
use crate::ops::OpResult;
use crate::ops::audit::{self, Actor, Event};
use crate::ops::resources::{self, NotTarget};
use crate::tokens::SecretHash;

/// What the user approved, as stored with the code or device code being redeemed.
pub(super) struct Approved<'a> {
    pub app: &'a App,
    pub user_id: i64,
    pub team_id: i64,
    pub project_id: Option<i64>,
    pub scope: &'a str,
    pub device_name: Option<&'a str>,
    /// The RFC 8707 resources approved.
    pub resources: Option<&'a Audience>,
    /// The resources the token request names, to narrow the token's audience to.
    pub requested: Option<&'a Audience>,
}

/// What [`issue_in_tx`] did.
pub(super) enum Issue {
    Issued {
        tokens: IssuedTokens,
        grant_id: i64,
    },
    /// Claimed, but the user can no longer grant this access.
    Refused,
    /// Somebody else claimed it first.
    Lost,
    /// The token request's resources were not approved, or are no longer registered: nothing
    /// was claimed (RFC 8707 §2.2 `invalid_target`).
    Untargeted(NotTarget),
}

/// In the caller's write transaction: locks in the order of the module doc of `ops`
/// (membership, app, project), then `claim`s the code (which must succeed for exactly one of
/// any number of concurrent callers), then re-checks the user, the membership and the limits
/// at this moment and creates the grant with its one access token (and a refresh token when
/// the app's tokens expire).
pub(super) fn issue_in_tx(
    conn: &mut DbConnection,
    approved: &Approved,
    policy: &GrantPolicy,
    actor: &Actor,
    now: PrimitiveDateTime,
    claim: impl FnOnce(&mut DbConnection) -> OpResult<bool>,
) -> OpResult<Issue> {
    let app = approved.app;
    let scope = Scope::parse(approved.scope)?;
    let audience = match Audience::narrowed(approved.resources, approved.requested) {
        Ok(audience) => audience,
        Err(widened) => return Ok(Issue::Untargeted(widened.into())),
    };
    if let Err(refused) = resources::check_targets(conn, audience.as_ref(), scope, approved.project_id)? {
        return Ok(Issue::Untargeted(refused));
    }
    let member = match members::find(conn, approved.team_id, approved.user_id)? {
        Some(member) if members::lock(conn, member.id)? => Some(member),
        _ => None,
    };
    if app.verified_at.is_none() {
        apps::lock(conn, app.id)?;
    }
    if let Some(project_id) = approved.project_id {
        project_rows::lock_against_deletion(conn, project_id)?;
    }
    if !claim(conn)? {
        return Ok(Issue::Lost);
    }
    // Read after the membership lock: a disable that took it first is seen here.
    let user = users::find_by_id(conn, approved.user_id)?;
    let team = teams::find_by_id(conn, approved.team_id)?;
    let (Some(user), Some(team), Some(member)) = (user, team, member) else {
        return Ok(Issue::Refused);
    };
    if user.disabled_at.is_some() || check_unverified_limit(conn, app, team.id, policy).is_err() {
        return Ok(Issue::Refused);
    }
    let project = match approved.project_id {
        Some(id) => match project_rows::find_by_id(conn, id)? {
            Some(project) => Some(project),
            None => return Ok(Issue::Refused),
        },
        None => None,
    };
    let access_token = mint_access_token(&team.slug, project.as_ref().map(|p| p.slug.as_str()));
    let access_hash = SecretHash::of(&access_token);
    let ttl = policy.token_ttl(app);
    let grant = grants::create(
        conn,
        &grants::NewGrant {
            app_id: app.id,
            user_id: user.id,
            team_id: team.id,
            project_id: project.as_ref().map(|p| p.id),
            member_id: member.id,
            scope: scope.as_str(),
            access_token_hash: access_hash.as_str(),
            access_token_issued_at: now,
            access_token_expires_at: ttl.map(|ttl| now + Duration::seconds(ttl)),
            created_at: now,
            device_name: approved.device_name,
            resources: approved.resources.map(Audience::to_stored).as_deref(),
            audience: audience.as_ref().map(Audience::to_stored).as_deref(),
        },
    )?;
    let refresh_token = match ttl {
        Some(_) => Some(new_refresh_token(conn, grant.id, now, policy)?),
        None => None,
    };
    audit::record(
        conn,
        actor,
        Event {
            action: "grant.issue",
            target_type: "grant",
            target_id: grant.id.to_string(),
            team_id: Some(team.id),
            details: json!({ "user_id": user.id, "scope": scope.as_str(), "project_id": grant.project_id }),
        },
    )?;
    Ok(Issue::Issued {
        tokens: IssuedTokens { access_token, refresh_token, expires_in: ttl, scope },
        grant_id: grant.id,
    })
}
