//! The life of a grant: consent → authorization code → tokens → refresh → revocation.
//! (RFC 6749 §4.1 and §6, RFC 7009, and SPEC §4's token endpoint rules.) One file per use
//! case; what several of them share is here.

mod code;
mod consent;
mod list;
mod refresh;
mod revoke;
#[cfg(test)]
mod tests;

use time::{Duration, PrimitiveDateTime};

pub use self::code::{Redeemed, find_code, redeem_code};
pub use self::consent::{Approval, ProjectChoice, approve};
pub use self::list::{TeamGrants, UserGrants, list_for_team_admin, list_for_user, sees_team_grants};
pub use self::refresh::{RefreshRefused, refresh};
pub use self::revoke::{revoke_as_user, revoke_token};
use super::{OpError, OpResult};
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
