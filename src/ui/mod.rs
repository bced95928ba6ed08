//! The pages people use (SPEC §6, §7): login, logout, the consent page, the device page, authorized
//! applications with revoke, and team settings (deploy keys, custom roles, team grants).
//! Server-rendered with askama; no JavaScript needed.

pub mod consent;
mod device;
pub mod error;
mod grants;
mod login;
mod logout;
pub mod pages;
pub mod session;
mod team_settings;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

pub use self::error::{ForPage, PageError};
pub use self::login::is_cross_site;
use self::session::SessionUser;
use crate::http::params::Params;
use crate::http::{AppState, body};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").get(home))
        .service(web::resource("/static/style.css").get(style))
        .service(web::resource("/static/consent.js").get(consent_script))
        .service(web::resource("/static/copy.js").get(copy_script));
    login::configure(cfg);
    device::configure(cfg);
    logout::configure(cfg);
    grants::configure(cfg);
    team_settings::configure(cfg);
}

/// The signed-in user; without one, the redirect to the login page that comes back here.
async fn signed_in(req: &HttpRequest, state: &AppState) -> Result<SessionUser, PageError> {
    session::current(req, state).await.map_err(PageError::db(req))?.ok_or_else(|| PageError::login(req))
}

/// A form posted by the signed-in user (a body of at most `limit` bytes), its CSRF token
/// checked before anything else is done with it; or the redirect to the login page.
async fn signed_in_form(
    req: &HttpRequest,
    state: &AppState,
    payload: web::Payload,
    limit: usize,
) -> Result<(SessionUser, Params), PageError> {
    signed_in_form_with_lines(req, state, payload, limit, &[]).await
}

/// [`signed_in_form`] for a form with textareas: the fields named in `multiline` may hold
/// line breaks and tabs (see `Params::parse_with_lines`).
async fn signed_in_form_with_lines(
    req: &HttpRequest,
    state: &AppState,
    payload: web::Payload,
    limit: usize,
    multiline: &[&str],
) -> Result<(SessionUser, Params), PageError> {
    let body = body::read(req, payload, limit)
        .await
        .map_err(|_| PageError::bad_request(req, "The form could not be read."))?;
    let params = Params::parse_with_lines(&body, multiline).map_err(PageError::malformed(req))?;
    let user = signed_in(req, state).await?;
    if !user.csrf_matches(params.get("csrf_token").ok().flatten()) {
        return Err(PageError::forbidden(req, "This form has expired. Go back, reload the page and try again."));
    }
    Ok((user, params))
}

/// Renders a page: HTML, never cached (pages carry CSRF tokens and personal data).
pub fn render(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")))
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .body(html),
        Err(error) => {
            tracing::error!(%error, "rendering a page failed");
            HttpResponse::InternalServerError().body("internal error")
        }
    }
}

/// 303 See Other: after a form post, the browser follows with a GET (RFC 9110 §15.4.4).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

async fn home() -> HttpResponse {
    see_other("/settings/authorized-apps")
}

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type)))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")))
        .body(body)
}

async fn style() -> HttpResponse {
    asset("text/css; charset=utf-8", include_str!("../../static/style.css"))
}

async fn consent_script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", include_str!("../../static/consent.js"))
}

async fn copy_script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", include_str!("../../static/copy.js"))
}
