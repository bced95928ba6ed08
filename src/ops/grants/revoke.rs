//! Revocation: by the app that holds a token (RFC 7009) and by a person from the pages; and
//! the one step every revocation takes.

use serde_json::json;

use crate::db::DbConnection;
use crate::db::models::apps::App;
use crate::db::models::{grants, members, refresh_tokens};
use crate::domain::MemberRole;
use crate::ops::audit::{self, Actor, Event};
use crate::ops::{OpError, OpResult};
use crate::telemetry::metrics::{self, TokenKind};
use crate::tokens::{Credential, CredentialKind, SecretHash};

/// Revokes one grant and records it; returns the kind of its access token if it was live
/// until now.
pub(super) fn revoke_in_tx(
    conn: &mut DbConnection,
    actor: &Actor,
    grant_id: i64,
    reason: &str,
) -> OpResult<Option<TokenKind>> {
    let Some(grant) = grants::find_by_id(conn, grant_id)? else {
        return Ok(None);
    };
    let revoked = grants::revoke(conn, grant_id, reason, crate::db::now())?;
    if revoked {
        audit::record(
            conn,
            actor,
            Event {
                action: "grant.revoke",
                target_type: "grant",
                target_id: grant_id.to_string(),
                team_id: Some(grant.team_id),
                details: json!({ "reason": reason, "user_id": grant.user_id }),
            },
        )?;
    }
    Ok(revoked.then(|| TokenKind::access(grant.project_id.is_some())))
}

/// Runs a revocation use case in one transaction and, once it committed, counts what it ended.
fn revoking(
    conn: &mut DbConnection,
    revoke: impl FnOnce(&mut DbConnection) -> OpResult<Option<TokenKind>>,
) -> OpResult<()> {
    if let Some(kind) = conn.write_transaction(revoke)? {
        metrics::revoked(kind, 1);
    }
    Ok(())
}

/// RFC 7009: the app that holds `token` (an access or a refresh token) revokes it, which
/// revokes its grant. Unknown tokens and other apps' tokens change nothing.
pub fn revoke_token(conn: &mut DbConnection, app: &App, token: &str, client_ip: Option<String>) -> OpResult<()> {
    let actor = Actor::App { client_id: app.client_id.clone(), client_ip };
    revoking(conn, |conn| {
        let grant = match Credential::parse(token) {
            Some(credential @ Credential { kind: CredentialKind::AppToken(_), .. }) => {
                grants::find_by_access_hash(conn, credential.hash().as_str())?
            }
            Some(_) => None,
            None => match refresh_tokens::find_by_hash(conn, SecretHash::of(token).as_str())? {
                Some(refresh) => grants::find_by_id(conn, refresh.grant_id)?,
                None => None,
            },
        };
        match grant.filter(|g| g.app_id == app.id) {
            Some(grant) => revoke_in_tx(conn, &actor, grant.id, "revoked_by_app"),
            None => Ok(None),
        }
    })
}

/// A person revokes a grant from the pages: their own, or any on a team they administer.
/// Anything else looks exactly like a grant that does not exist.
pub fn revoke_as_user(conn: &mut DbConnection, actor: &Actor, user_id: i64, grant_id: i64) -> OpResult<()> {
    revoking(conn, |conn| {
        let grant = grants::find_by_id(conn, grant_id)?.filter(|g| g.revoked_at.is_none());
        let Some(grant) = grant else {
            return Err(OpError::NotFound("no such authorization".into()));
        };
        let allowed = grant.user_id == user_id
            || members::find(conn, grant.team_id, user_id)?
                .is_some_and(|m| MemberRole::from_stored(&m.role) == MemberRole::Admin);
        if !allowed {
            return Err(OpError::NotFound("no such authorization".into()));
        }
        let reason = if grant.user_id == user_id { "revoked_by_user" } else { "revoked_by_team_admin" };
        revoke_in_tx(conn, actor, grant.id, reason)
    })
}
