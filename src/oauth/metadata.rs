//! Discovery: RFC 8414 authorization server metadata and the RFC 7517 JWK Set. The issuer
//! and every URL come from configuration, never from the request's `Host` header.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::error::OAuthError;
use crate::http::AppState;
use crate::ops;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/.well-known/oauth-authorization-server").get(metadata))
        .service(web::resource("/.well-known/jwks.json").get(jwks));
}

fn cached_json(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")))
        .json(body)
}

async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    let s = &state.settings;
    let mut metadata = json!({
        "issuer": s.issuer,
        "authorization_endpoint": s.url("/oauth/authorize"),
        "token_endpoint": s.url("/oauth/token"),
        "device_authorization_endpoint": s.url("/oauth/device_authorization"),
        "introspection_endpoint": s.url("/oauth/introspect"),
        "revocation_endpoint": s.url("/oauth/revoke"),
        "jwks_uri": s.url("/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", super::token::DEVICE_CODE_GRANT],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["project", "team"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "authorization_response_iss_parameter_supported": true,
        // draft-ietf-oauth-client-id-metadata-document §5.
        "client_id_metadata_document_supported": true,
    });
    if s.dynamic_registration {
        // RFC 8414 §2: advertised only when the endpoint exists.
        metadata["registration_endpoint"] = json!(s.url("/oauth/register"));
    }
    cached_json(metadata)
}

async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, OAuthError> {
    let keys = state.db(ops::signing::jwks).await?.map_err(OAuthError::server_error)?;
    Ok(cached_json(serde_json::to_value(keys).map_err(OAuthError::server_error)?))
}
