//! Redeeming an authorization code (RFC 6749 §4.1.3): found and checked first, then spent
//! and turned into a grant in one transaction.

use time::PrimitiveDateTime;

use super::issue::{Approved, Issue, issue_in_tx};
use super::revoke::revoke_in_tx;
use super::{GrantPolicy, IssuedTokens};
use crate::db::DbConnection;
use crate::db::models::apps::App;
use crate::db::models::codes;
use crate::domain::Audience;
use crate::ops::OpResult;
use crate::ops::audit::Actor;
use crate::ops::resources::NotTarget;
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
    /// The token request named resources the user did not approve (or that are gone); the
    /// code is not spent.
    Untargeted(NotTarget),
}

/// Spends `code` (RFC 6749 §4.1.2: single use; a reuse revokes what the first use issued)
/// and, in the same transaction, issues its grant: re-checks the user, the membership and
/// the limits at this moment, creates the grant with its one access token (and a refresh
/// token for apps with expiring tokens), and links it to the code. Exactly one of any number
/// of concurrent redemptions issues; the others are replays. The token's audience is the
/// code's resources, narrowed to those `requested` (RFC 8707 §2.2).
pub fn redeem_code(
    conn: &mut DbConnection,
    app: &App,
    code: &codes::Code,
    requested: Option<&Audience>,
    policy: &GrantPolicy,
    client_ip: Option<String>,
    now: PrimitiveDateTime,
) -> OpResult<Redeemed> {
    let actor = Actor::App { client_id: app.client_id.clone(), client_ip };
    let resources = Audience::from_stored(code.resources.as_deref());
    let approved = Approved {
        app,
        user_id: code.user_id,
        team_id: code.team_id,
        project_id: code.project_id,
        scope: &code.scope,
        device_name: None,
        resources: resources.as_ref(),
        requested,
    };
    let redeemed = conn.write_transaction(|conn| -> OpResult<Redeemed> {
        let claim = |conn: &mut DbConnection| Ok(codes::claim(conn, code.id, now)?);
        match issue_in_tx(conn, &approved, policy, &actor, now, claim)? {
            Issue::Issued { tokens, grant_id } => {
                codes::link_grant(conn, code.id, grant_id)?;
                Ok(Redeemed::Issued(tokens))
            }
            Issue::Refused => Ok(Redeemed::Refused),
            Issue::Untargeted(refused) => Ok(Redeemed::Untargeted(refused)),
            Issue::Lost => {
                if let Some(grant_id) = codes::mark_replayed(conn, code.id, now)? {
                    revoke_in_tx(conn, &Actor::System, grant_id, "code_replayed")?;
                }
                Ok(Redeemed::Replayed)
            }
        }
    })?;
    if let Redeemed::Issued(tokens) = &redeemed {
        tokens.count_issued();
    }
    Ok(redeemed)
}
