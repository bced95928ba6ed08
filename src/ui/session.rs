//! Login sessions: a random id in an `HttpOnly`, `SameSite=Lax` cookie (`Secure` and
//! `__Host-`-prefixed when the issuer is https), stored server-side as its SHA-256 so a
//! database reader cannot hijack sessions. CSRF tokens are derived from the session id.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::db::models::sessions::{self, NewSession};
use crate::db::models::teams::{self, Team};
use crate::db::models::users::User;
use crate::db::now;
use crate::http::{AppState, DbError};
use crate::tokens::{SecretHash, generate_secret};

fn cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-portcullis_session" } else { "portcullis_session" }
}

/// A signed-in person, with the teams they belong to now (for the header's team switcher).
#[derive(Clone)]
pub struct SessionUser {
    pub user: User,
    pub teams: Vec<Team>,
    secret: String,
}

impl SessionUser {
    /// The CSRF token of this session: bound to it, useless without it, and revealing
    /// nothing about it (a one-way function of the id).
    pub fn csrf_token(&self) -> String {
        csrf_token_for(&self.secret)
    }

    /// The session as the database stores it (its SHA-256): names it without revealing it.
    pub fn session_hash(&self) -> String {
        SecretHash::of(&self.secret).into_string()
    }

    pub fn csrf_matches(&self, presented: Option<&str>) -> bool {
        presented.is_some_and(|presented| presented.as_bytes().ct_eq(self.csrf_token().as_bytes()).into())
    }
}

fn csrf_token_for(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("portcullis csrf\0{secret}").as_bytes()))
}

fn session_secret(req: &HttpRequest, state: &AppState) -> Option<String> {
    req.cookie(cookie_name(state.settings.secure_cookies)).map(|c| c.value().to_owned())
}

/// The signed-in user, if the request carries a live session.
pub async fn current(req: &HttpRequest, state: &AppState) -> Result<Option<SessionUser>, DbError> {
    let Some(secret) = session_secret(req, state) else {
        return Ok(None);
    };
    if secret.len() != 43 {
        return Ok(None);
    }
    let hash = SecretHash::of(&secret).into_string();
    let found = state
        .db(move |conn| {
            let Some(user) = sessions::find_live_user(conn, &hash, now())? else {
                return Ok(None);
            };
            let teams = teams::list_for_user(conn, user.id)?.into_iter().map(|(team, _)| team).collect();
            diesel::QueryResult::Ok(Some((user, teams)))
        })
        .await?;
    match found {
        Ok(Some((user, teams))) => Ok(Some(SessionUser { user, teams, secret })),
        Ok(None) => Ok(None),
        Err(error) => Err(DbError::from(error)),
    }
}

/// Starts a new session for `user_id` (always a new id: no session fixation), ending the
/// one the request carried, if any. Returns the cookie to set.
pub async fn start(req: &HttpRequest, state: &AppState, user_id: i64) -> Result<Cookie<'static>, DbError> {
    let previous = session_secret(req, state).map(|s| SecretHash::of(&s).into_string());
    let secret = generate_secret();
    let hash = SecretHash::of(&secret).into_string();
    let ttl = state.settings.session_ttl;
    state
        .db(move |conn| {
            conn.write_transaction(|conn| {
                if let Some(previous) = &previous {
                    sessions::delete_by_hash(conn, previous)?;
                }
                let now = now();
                sessions::create(
                    conn,
                    &NewSession { session_hash: &hash, user_id, created_at: now, expires_at: now + ttl },
                )
            })
        })
        .await?
        .map_err(DbError::from)?;
    Ok(cookie(state, secret, CookieDuration::seconds(ttl.whole_seconds())))
}

/// Ends the request's session; returns the cookie that clears it in the browser.
pub async fn end(req: &HttpRequest, state: &AppState) -> Result<Cookie<'static>, DbError> {
    if let Some(secret) = session_secret(req, state) {
        let hash = SecretHash::of(&secret).into_string();
        state.db(move |conn| sessions::delete_by_hash(conn, &hash)).await?.map_err(DbError::from)?;
    }
    Ok(cookie(state, String::new(), CookieDuration::ZERO))
}

fn cookie(state: &AppState, value: String, max_age: CookieDuration) -> Cookie<'static> {
    let secure = state.settings.secure_cookies;
    Cookie::build(cookie_name(secure), value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(max_age)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_are_per_session_and_do_not_reveal_it() {
        let a = csrf_token_for("session-a");
        assert_ne!(a, csrf_token_for("session-b"));
        assert!(!a.contains("session-a"));
        assert_eq!(a, csrf_token_for("session-a"));
    }
}
