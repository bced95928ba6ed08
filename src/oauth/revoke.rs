//! Token revocation (RFC 7009): the app holding an access or refresh token revokes it, which
//! revokes its grant. Unknown tokens and other apps' tokens: 200, nothing changes (§2.2).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use super::client_auth;
use super::error::OAuthError;
use super::request::{TokenRequest, token_request};
use crate::http::{AppState, client_ip};
use crate::ops::grants;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/oauth/revoke").post(revoke));
}

async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let TokenRequest { presented, token } = token_request(&req, payload).await?;
    let ip = client_ip(&req);
    state
        .db(move |conn| -> Result<(), OAuthError> {
            let app = client_auth::authenticate_app(conn, &presented, true)?;
            grants::revoke_token(conn, &app, &token, ip).map_err(OAuthError::server_error)
        })
        .await??;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store"))).finish())
}
