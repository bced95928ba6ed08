//! The pages people use (SPEC §6): login, logout, the consent page, authorized
//! applications with revoke, team grants. Server-rendered with askama; no JavaScript needed.

pub mod consent;
pub mod error;
mod grants;
mod login;
mod logout;
pub mod pages;
pub mod session;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use askama::Template;

pub use self::error::PageError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").get(home))
        .service(web::resource("/static/style.css").get(style))
        .service(web::resource("/static/consent.js").get(consent_script));
    login::configure(cfg);
    logout::configure(cfg);
    grants::configure(cfg);
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
