//! Revocation: by the app that holds a token (RFC 7009) and by a person from the pages; and
//! the one step every revocation takes.

use serde_json::json;

use super::{GrantPlace, judge_in, may};
use crate::authz::{Action, ProjectRef};
use crate::db::models::apps::App;
use crate::db::models::grants::Ending;
use crate::db::models::{grants, projects, refresh_tokens};
use crate::db::{DbConnection, after_commit};
use crate::ops::audit::{self, Actor, Event};
use crate::ops::{OpError, OpResult};
use crate::telemetry::metrics::{self, TokenKind};
use crate::tokens::{Credential, CredentialKind, SecretHash};

/// Revokes one grant and records it; a grant live until now is counted as revoked once the
/// transaction commits.
pub(super) fn revoke_in_tx(conn: &mut DbConnection, actor: &Actor, grant_id: i64, reason: &str) -> OpResult<()> {
    let Some(grant) = grants::find_by_id(conn, grant_id)? else {
        return Ok(());
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
    if revoked {
        let kind = TokenKind::access(grant.project_id.is_some());
        after_commit(move || metrics::revoked(kind, 1));
    }
    Ok(())
}

/// The live grants a bulk change (removal, disable, deletion) is about to end, counted as
/// revoked once its transaction commits; returns how many.
pub fn ending(conn: &mut DbConnection, which: Ending) -> OpResult<i64> {
    let (projects, teams) = grants::live_by_scope(conn, which)?;
    after_commit(move || {
        metrics::revoked(TokenKind::ProjectToken, projects);
        metrics::revoked(TokenKind::TeamToken, teams);
    });
    Ok((projects + teams) as i64)
}

/// RFC 7009: the app that holds `token` (an access or a refresh token) revokes it, which
/// revokes its grant. Unknown tokens and other apps' tokens change nothing.
pub fn revoke_token(conn: &mut DbConnection, app: &App, token: &str, client_ip: Option<String>) -> OpResult<()> {
    let actor = Actor::App { client_id: app.client_id.clone(), client_ip };
    conn.write_transaction(|conn| {
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
            None => Ok(()),
        }
    })
}

/// A person revokes a grant — from the pages, or through `/v1` with a session or an
/// application token acting for them: SPEC §2's `token:revoke` on the grant's project, only
/// the team's admins for a team-wide grant, and their own grant always (see [`super::may`]).
/// Anything else looks exactly like a grant that does not exist.
pub fn revoke(conn: &mut DbConnection, actor: &Actor, grant_id: i64) -> OpResult<()> {
    conn.write_transaction(|conn| {
        let not_found = || OpError::NotFound("no such authorization".into());
        let grant = grants::find_by_id(conn, grant_id)?.filter(|g| g.revoked_at.is_none()).ok_or_else(not_found)?;
        let project = match grant.project_id {
            Some(id) => {
                let project = projects::find_by_id(conn, id)?.ok_or_else(not_found)?;
                Some(ProjectRef { id: project.id, slug: project.slug })
            }
            None => None,
        };
        let place = GrantPlace { team_id: grant.team_id, project, user_id: grant.user_id };
        let judge = judge_in(conn, actor, grant.team_id)?;
        if !may(actor, judge.as_ref(), Action::TokenRevoke, &place) {
            return Err(not_found());
        }
        let reason = match actor.person() {
            Some(id) if id == grant.user_id => "revoked_by_user",
            Some(_) => "revoked_by_team_member",
            None => "revoked_by_operator",
        };
        revoke_in_tx(conn, actor, grant.id, reason)
    })
}
