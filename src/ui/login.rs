//! `/login` (SPEC §6): Argon2id verification (timing-safe for unknown accounts),
//! a fresh session id on login, throttling per account and per client address, and a return
//! only ever to a same-origin path.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use time::Duration;
use url::Url;

use super::pages::LoginPage;
use super::{PageError, render, see_other, session};
use crate::db::models::login_failures::{self, Attempt, FailureKind};
use crate::db::models::users;
use crate::db::now;
use crate::http::params::Params;
use crate::http::{AppState, body, client_ip, set_retry_after};
use crate::passwords;
use crate::telemetry::metrics;

/// Failed logins allowed per account and per address within [`WINDOW`] (SPEC §6).
const MAX_FAILURES: i64 = 10;
const WINDOW: Duration = Duration::minutes(15);
const DEFAULT_NEXT: &str = "/settings/authorized-apps";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/login").get(show).post(submit));
}

/// Where to go after login: only a path on this server. Anything else (absolute URLs,
/// scheme-relative `//host`, backslash tricks, control characters) falls back to the default.
pub fn safe_next(issuer: &str, next: Option<&str>) -> String {
    let Some(next) = next else {
        return DEFAULT_NEXT.to_owned();
    };
    let looks_local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 4096
        && !next.chars().any(|c| c.is_control() || c == '\\');
    let same_origin = Url::parse(issuer)
        .and_then(|base| base.join(next).map(|joined| (base, joined)))
        .is_ok_and(|(base, joined)| joined.origin() == base.origin());
    if looks_local && same_origin { next.to_owned() } else { DEFAULT_NEXT.to_owned() }
}

#[derive(serde::Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    let next = safe_next(&state.settings.issuer, query.next.as_deref());
    if session::current(&req, &state).await.map_err(PageError::db(&req))?.is_some() {
        return Ok(see_other(&next));
    }
    Ok(render(StatusCode::OK, &LoginPage { error: None, email: "", next: &next }))
}

/// Login CSRF defence without a pre-session token: browsers label form posts. `Sec-Fetch-Site`
/// decides when present (`same-origin` and `none` — typed or bookmarked — pass). Otherwise the
/// `Origin` must be ours if sent. Note that our `Referrer-Policy: no-referrer` makes browsers
/// send `Origin: null` even on same-origin posts, so `Origin` alone cannot be relied on.
pub fn is_cross_site(req: &HttpRequest, issuer: &str) -> bool {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    match header(header::ORIGIN.as_str()) {
        None => false,
        Some(origin) => {
            Url::parse(issuer).map(|issuer| issuer.origin().ascii_serialization() != origin).unwrap_or(true)
        }
    }
}

enum Outcome {
    Throttled { retry_after: i64 },
    Failed,
    Succeeded { user_id: i64 },
}

/// One login attempt, throttled atomically: a transaction takes an attempt slot (counted as
/// a failure) and reads the account; the connection goes back to the pool before Argon2 runs
/// on the blocking pool (a login flood must not starve the token endpoints of connections);
/// a success then clears the account's failures.
async fn attempt(state: &AppState, email: String, ip: String, password: String) -> anyhow::Result<Outcome> {
    let now = now();
    let (slot, account) = state
        .db(move |conn| {
            conn.write_transaction(|conn| -> anyhow::Result<_> {
                let slot =
                    login_failures::reserve(conn, FailureKind::Login, &email, &ip, now - WINDOW, now, MAX_FAILURES)?;
                let account = match slot {
                    Attempt::Reserved => users::find_by_email(conn, &email)?,
                    Attempt::Throttled { .. } => None,
                };
                Ok((slot, account.map(|user| (user, email))))
            })
        })
        .await??;
    if let Attempt::Throttled { oldest } = slot {
        metrics::login_throttled();
        return Ok(Outcome::Throttled { retry_after: (oldest + WINDOW - now).whole_seconds().max(1) });
    }
    let stored = account.as_ref().map(|(user, _)| user.password_hash.clone());
    let verified = web::block(move || passwords::verify(stored.as_deref(), &password)).await?;
    match account {
        Some((user, email)) if verified && user.disabled_at.is_none() => {
            state.db(move |conn| login_failures::clear_for_email(conn, &email)).await??;
            Ok(Outcome::Succeeded { user_id: user.id })
        }
        // The reserved slot stays: it is this failure.
        _ => {
            metrics::login_failed();
            Ok(Outcome::Failed)
        }
    }
}

async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    if is_cross_site(&req, &state.settings.issuer) {
        return Err(PageError::forbidden(&req, "Cross-site login attempts are refused."));
    }
    let body = body::read(&req, payload, 8 * 1024)
        .await
        .map_err(|_| PageError::bad_request(&req, "The form could not be read."))?;
    let params = Params::parse(&body).map_err(PageError::malformed(&req))?;
    let field = |name| params.get(name).ok().flatten().unwrap_or_default().to_owned();
    let (email_input, password) = (field("email"), field("password"));
    let next = safe_next(&state.settings.issuer, params.get("next").ok().flatten());
    let email = crate::domain::Email::parse(&email_input).map(|email| email.as_str().to_owned()).unwrap_or_default();
    let ip = client_ip(&req).unwrap_or_default();

    let outcome = attempt(&state, email, ip, password).await.map_err(|e| PageError::server(&req, e))?;

    match outcome {
        Outcome::Throttled { retry_after } => {
            let mut response = render(
                StatusCode::TOO_MANY_REQUESTS,
                &LoginPage {
                    error: Some("Too many failed attempts. Wait a while and try again."),
                    email: &email_input,
                    next: &next,
                },
            );
            set_retry_after(&mut response, retry_after.unsigned_abs());
            Ok(response)
        }
        Outcome::Failed => Ok(render(
            StatusCode::UNAUTHORIZED,
            &LoginPage { error: Some("Incorrect email or password."), email: &email_input, next: &next },
        )),
        Outcome::Succeeded { user_id } => {
            let cookie = session::start(&req, &state, user_id).await.map_err(PageError::db(&req))?;
            let mut response = see_other(&next);
            set_cookie(&mut response, &cookie);
            Ok(response)
        }
    }
}

fn set_cookie(response: &mut HttpResponse, cookie: &Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_origin() {
        let issuer = "https://auth.example.com";
        assert_eq!(safe_next(issuer, Some("/oauth/authorize?client_id=x&a=b")), "/oauth/authorize?client_id=x&a=b");
        for evil in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/ok\r\nSet-Cookie: x=y",
            "",
        ] {
            assert_eq!(safe_next(issuer, Some(evil)), DEFAULT_NEXT, "{evil:?}");
        }
        assert_eq!(safe_next(issuer, None), DEFAULT_NEXT);
    }
}
