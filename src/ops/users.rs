use serde::Serialize;
use serde_json::json;

use super::audit::{self, Actor, Event};
use super::{OpError, OpResult, conflict_as, rfc3339};
use crate::db::models::grants::Ending;
use crate::db::models::{grants, members, sessions, users};
use crate::db::{DbConnection, now};
use crate::domain::{DisplayName, Email, Password};
use crate::passwords;

#[derive(Debug, Serialize)]
pub struct UserOut {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub disabled: bool,
    pub created_at: String,
}

impl From<&users::User> for UserOut {
    fn from(user: &users::User) -> Self {
        UserOut {
            id: user.id,
            email: user.email.clone(),
            name: user.name.clone(),
            disabled: user.disabled_at.is_some(),
            created_at: rfc3339(user.created_at),
        }
    }
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    email: &Email,
    name: &DisplayName,
    password: &Password,
) -> OpResult<UserOut> {
    // Argon2 runs before the transaction: it is slow and needs no lock.
    let password_hash = passwords::hash(password)?;
    conn.write_transaction(|conn| {
        let user = users::create(
            conn,
            &users::NewUser {
                email: email.as_str(),
                name: name.as_str(),
                password_hash: &password_hash,
                created_at: now(),
            },
        )
        .map_err(conflict_as(format!("a user with email {email} already exists")))?;
        audit::record(
            conn,
            actor,
            Event {
                action: "user.create",
                target_type: "user",
                target_id: user.id.to_string(),
                team_id: None,
                details: json!({}),
            },
        )?;
        Ok(UserOut::from(&user))
    })
}

pub(crate) fn require_by_email(conn: &mut DbConnection, email: &Email) -> OpResult<users::User> {
    users::find_by_email(conn, email.as_str())?.ok_or_else(|| OpError::NotFound(format!("no user with email {email}")))
}

#[derive(Debug, Serialize)]
pub struct DisabledOut {
    #[serde(flatten)]
    pub user: UserOut,
    pub revoked_grants: usize,
}

/// Disables the account: it can no longer log in, its sessions end, and every grant it made
/// is revoked in the same transaction. After marking the user, it locks their memberships
/// (the lock order of `ops`): a grant being issued or refreshed under one of them commits
/// before the revocation runs, and is revoked with the others.
pub fn disable(conn: &mut DbConnection, actor: &Actor, email: &Email) -> OpResult<DisabledOut> {
    conn.write_transaction(|conn| {
        let user = require_by_email(conn, email)?;
        let now = now();
        users::disable(conn, user.id, now)?;
        members::lock_all_for_user(conn, user.id)?;
        super::grants::ending(conn, Ending::User(user.id))?;
        let revoked_grants = grants::revoke_for_user(conn, user.id, "user_disabled", now)?;
        sessions::delete_for_user(conn, user.id)?;
        audit::record(
            conn,
            actor,
            Event {
                action: "user.disable",
                target_type: "user",
                target_id: user.id.to_string(),
                team_id: None,
                details: json!({ "revoked_grants": revoked_grants }),
            },
        )?;
        let user = users::find_by_id(conn, user.id)?.ok_or_else(|| OpError::NotFound("user vanished".into()))?;
        Ok(DisabledOut { user: UserOut::from(&user), revoked_grants })
    })
}
