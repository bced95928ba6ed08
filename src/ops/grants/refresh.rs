//! `grant_type=refresh_token` (RFC 6749 §6) with rotation and reuse detection.

use serde_json::json;
use time::{Duration, PrimitiveDateTime};

use super::revoke::revoke_in_tx;
use super::{GrantPolicy, IssuedTokens, mint_access_token, new_refresh_token};
use crate::db::DbConnection;
use crate::db::models::apps::App;
use crate::db::models::{grants, members, projects as project_rows, refresh_tokens, teams, users};
use crate::domain::{Audience, Scope};
use crate::ops::OpResult;
use crate::ops::audit::{self, Actor, Event};
use crate::ops::resources::{self, NotTarget};
use crate::tokens::SecretHash;

/// Why a refresh was refused (RFC 6749 §5.2).
#[derive(Debug)]
pub enum RefreshRefused {
    InvalidGrant,
    InvalidScope,
    /// RFC 8707 §2.2: a resource not granted, or no longer registered.
    InvalidTarget(NotTarget),
}

/// What a refresh request asks for beyond its grant: the same `scope` (RFC 6749 §6) and the
/// `resource`s to narrow the new token's audience to (RFC 8707 §2.2).
pub struct RefreshAsk<'a> {
    pub scope: Option<&'a str>,
    pub audience: Option<&'a Audience>,
}

/// `grant_type=refresh_token` (RFC 6749 §6) with rotation: both tokens are replaced, the old
/// access token stops at once, and presenting a rotated refresh token again revokes the grant
/// (RFC 9700 §4.14.2). Membership is re-checked as on every use. Locks in the order of the
/// module doc of `ops`: membership, grant, refresh token. The new token is for the grant's
/// resources, or those of them the request names.
pub fn refresh(
    conn: &mut DbConnection,
    app: &App,
    presented: &str,
    ask: &RefreshAsk,
    policy: &GrantPolicy,
    client_ip: Option<String>,
    now: PrimitiveDateTime,
) -> OpResult<Result<IssuedTokens, RefreshRefused>> {
    let hash = SecretHash::of(presented);
    let actor = Actor::App { client_id: app.client_id.clone(), client_ip };
    let refreshed = conn.write_transaction(|conn| -> OpResult<Result<IssuedTokens, RefreshRefused>> {
        let Some(token) = refresh_tokens::find_by_hash(conn, hash.as_str())? else {
            return Ok(Err(RefreshRefused::InvalidGrant));
        };
        let Some(grant) = grants::find_by_id(conn, token.grant_id)? else {
            return Ok(Err(RefreshRefused::InvalidGrant));
        };
        if grant.app_id != app.id {
            return Ok(Err(RefreshRefused::InvalidGrant));
        }
        if token.rotated_at.is_some() {
            revoke_in_tx(conn, &actor, grant.id, "refresh_token_reused")?;
            return Ok(Err(RefreshRefused::InvalidGrant));
        }
        if grant.revoked_at.is_some() || token.expires_at <= now {
            return Ok(Err(RefreshRefused::InvalidGrant));
        }
        // Scopes are "project" or "team" and a grant has exactly one, so the only narrowing
        // available is asking for the same scope again.
        if let Some(requested) = ask.scope
            && requested != grant.scope
        {
            return Ok(Err(RefreshRefused::InvalidScope));
        }
        let granted = Audience::from_stored(grant.resources.as_deref());
        let audience = match Audience::narrowed(granted.as_ref(), ask.audience) {
            Ok(audience) => audience,
            Err(widened) => return Ok(Err(RefreshRefused::InvalidTarget(widened.into()))),
        };
        let scope = Scope::parse(&grant.scope)?;
        if let Err(refused) = resources::check_targets(conn, audience.as_ref(), scope, grant.project_id)? {
            return Ok(Err(RefreshRefused::InvalidTarget(refused)));
        }
        let Some(token_info) = live_standing(conn, &grant)? else {
            return Ok(Err(RefreshRefused::InvalidGrant));
        };
        let access_token = mint_access_token(&token_info.0, token_info.1.as_deref());
        let ttl = policy.token_ttl(app);
        let expires_at = ttl.map(|ttl| now + Duration::seconds(ttl));
        // Only a live grant's token is replaced: a revocation that committed since the grant
        // was read leaves nothing to hand out.
        let stored_audience = audience.as_ref().map(Audience::to_stored);
        let hash = SecretHash::of(&access_token);
        if grants::replace_access_token(conn, grant.id, hash.as_str(), now, expires_at, stored_audience.as_deref())?
            != 1
        {
            return Ok(Err(RefreshRefused::InvalidGrant));
        }
        if !refresh_tokens::claim(conn, token.id, now)? {
            // Lost a race with another use of the same token: that is reuse too.
            revoke_in_tx(conn, &actor, grant.id, "refresh_token_reused")?;
            return Ok(Err(RefreshRefused::InvalidGrant));
        }
        let refresh_token = new_refresh_token(conn, grant.id, now, policy)?;
        audit::record(
            conn,
            &actor,
            Event {
                action: "grant.refresh",
                target_type: "grant",
                target_id: grant.id.to_string(),
                team_id: Some(grant.team_id),
                details: json!({}),
            },
        )?;
        Ok(Ok(IssuedTokens { access_token, refresh_token: Some(refresh_token), expires_in: ttl, scope }))
    })?;
    if let Ok(tokens) = &refreshed {
        tokens.count_issued();
    }
    Ok(refreshed)
}

/// The slugs a grant's tokens are minted with, if its user is still enabled and still holds
/// the membership the grant was issued under (and its project still exists).
fn live_standing(conn: &mut DbConnection, grant: &grants::Grant) -> OpResult<Option<(String, Option<String>)>> {
    let Some(member_id) = grant.member_id else {
        return Ok(None);
    };
    // The user is read after the membership lock: a disable that took it first is seen here.
    if !members::lock(conn, member_id)? {
        return Ok(None);
    }
    if users::find_by_id(conn, grant.user_id)?.is_none_or(|u| u.disabled_at.is_some()) {
        return Ok(None);
    }
    let Some(team) = teams::find_by_id(conn, grant.team_id)? else {
        return Ok(None);
    };
    let project_slug = match grant.project_id {
        Some(id) => match project_rows::find_by_id(conn, id)? {
            Some(project) => Some(project.slug),
            None => return Ok(None),
        },
        None => None,
    };
    Ok(Some((team.slug, project_slug)))
}
