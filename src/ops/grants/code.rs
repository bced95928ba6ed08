//! Redeeming an authorization code (RFC 6749 §4.1.3): found and checked first, then spent
//! and turned into a grant in one transaction.

use serde_json::json;
use time::{Duration, PrimitiveDateTime};

use super::revoke::revoke_in_tx;
use super::{GrantPolicy, IssuedTokens, check_unverified_limit, mint_access_token, new_refresh_token};
use crate::db::DbConnection;
use crate::db::models::apps::{self, App};
use crate::db::models::{codes, grants, members, projects as project_rows, teams, users};
use crate::domain::Scope;
use crate::ops::OpResult;
use crate::ops::audit::{self, Actor, Event};
use crate::tokens::SecretHash;

/// The live (unexpired) authorization code `code`, redeemed or not. Reads only: the caller
/// checks the client, the redirect URI and the PKCE verifier against it before
/// [`redeem_code`] spends it, so a presentation that fails those checks changes nothing.
pub fn find_code(conn: &mut DbConnection, code: &str, now: PrimitiveDateTime) -> OpResult<Option<codes::Code>> {
    let hash = SecretHash::of(code);
    Ok(codes::find_by_hash(conn, hash.as_str())?.filter(|row| row.expires_at > now))
}

/// What redeeming a checked authorization code did.
#[derive(Debug)]
pub enum Redeemed {
    Issued(IssuedTokens),
    /// The code is spent, but the user can no longer grant this access.
    Refused,
    /// Already redeemed: the grant issued from the first redemption has been revoked.
    Replayed,
}

/// Spends `code` (RFC 6749 §4.1.2: single use; a reuse revokes what the first use issued)
/// and, in the same transaction, issues its grant: re-checks the user, the membership and
/// the limits at this moment, creates the grant with its one access token (and a refresh
/// token for apps with expiring tokens), and links it to the code. Exactly one of any number
/// of concurrent redemptions issues; the others are replays.
pub fn redeem_code(
    conn: &mut DbConnection,
    app: &App,
    code: &codes::Code,
    policy: &GrantPolicy,
    client_ip: Option<String>,
    now: PrimitiveDateTime,
) -> OpResult<Redeemed> {
    let redeemed = conn.write_transaction(|conn| -> OpResult<Redeemed> {
        // Locks in the order of the module doc of `ops`: membership, app, project, code, grant.
        let member = match members::find(conn, code.team_id, code.user_id)? {
            Some(member) if members::lock(conn, member.id)? => Some(member),
            _ => None,
        };
        if app.verified_at.is_none() {
            apps::lock(conn, app.id)?;
        }
        if let Some(project_id) = code.project_id {
            project_rows::lock_against_deletion(conn, project_id)?;
        }
        if !codes::claim(conn, code.id, now)? {
            if let Some(grant_id) = codes::mark_replayed(conn, code.id, now)? {
                revoke_in_tx(conn, &Actor::System, grant_id, "code_replayed")?;
            }
            return Ok(Redeemed::Replayed);
        }
        // Read after the membership lock: a disable that took it first is seen here.
        let user = users::find_by_id(conn, code.user_id)?;
        let team = teams::find_by_id(conn, code.team_id)?;
        let (Some(user), Some(team), Some(member)) = (user, team, member) else {
            return Ok(Redeemed::Refused);
        };
        if user.disabled_at.is_some() || check_unverified_limit(conn, app, team.id, policy).is_err() {
            return Ok(Redeemed::Refused);
        }
        let project = match code.project_id {
            Some(id) => match project_rows::find_by_id(conn, id)? {
                Some(project) => Some(project),
                None => return Ok(Redeemed::Refused),
            },
            None => None,
        };
        let scope = Scope::parse(&code.scope)?;
        let access_token = mint_access_token(&team.slug, project.as_ref().map(|p| p.slug.as_str()));
        let access_hash = SecretHash::of(&access_token);
        let ttl = app.token_ttl_seconds.map(Duration::seconds);
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
                access_token_expires_at: ttl.map(|ttl| now + ttl),
                created_at: now,
            },
        )?;
        let refresh_token = match ttl {
            Some(_) => Some(new_refresh_token(conn, grant.id, now, policy)?),
            None => None,
        };
        codes::link_grant(conn, code.id, grant.id)?;
        let actor = Actor::App { client_id: app.client_id.clone(), client_ip };
        audit::record(
            conn,
            &actor,
            Event {
                action: "grant.issue",
                target_type: "grant",
                target_id: grant.id.to_string(),
                team_id: Some(team.id),
                details: json!({ "user_id": user.id, "scope": scope.as_str(), "project_id": grant.project_id }),
            },
        )?;
        Ok(Redeemed::Issued(IssuedTokens { access_token, refresh_token, expires_in: app.token_ttl_seconds, scope }))
    })?;
    if let Redeemed::Issued(tokens) = &redeemed {
        tokens.count_issued();
    }
    Ok(redeemed)
}
