//! `GET /v1/openapi.json`: the OpenAPI 3.1 description of `/v1`, generated from the handlers'
//! `#[utoipa::path]` annotations and the request and response types themselves, so that a
//! field added to a response appears in the document with it.

use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{check, deploy_keys, token_details};
use crate::authz::Action;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portcullis",
        description = "Decisions, credential details and deploy keys of the Portcullis authorization server. \
                       Errors are `{\"error\": {\"code\", \"message\"}}`."
    ),
    paths(
        check::check,
        token_details::token_details,
        deploy_keys::create,
        deploy_keys::list,
        deploy_keys::revoke,
    ),
    modifiers(&SecuritySchemes),
)]
struct ApiDoc;

/// The ways to authenticate: a credential as a bearer token (RFC 6750), backend credentials by
/// HTTP Basic (`/v1/check`), and the login session's cookie (the pages' own calls).
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        components.add_security_scheme("backend", SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)));
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("portcullis_session"))),
        );
    }
}

/// An action name (SPEC §2): a string enum of the whole vocabulary.
pub(super) fn action() -> Object {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(Action::ALL.iter().map(|a| a.as_str()))).build()
}

/// The document, rendered once.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| ApiDoc::openapi().to_json().expect("the OpenAPI document serializes"))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/openapi.json").get(openapi_json));
}

async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/json")))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")))
        .body(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_every_route() {
        let doc: serde_json::Value = serde_json::from_str(document()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
        for (path, method, operation) in [
            ("/v1/check", "post", "check"),
            ("/v1/token_details", "get", "getTokenDetails"),
            ("/v1/deploy_keys", "post", "createDeployKey"),
            ("/v1/deploy_keys", "get", "listDeployKeys"),
            ("/v1/deploy_keys/{id}", "delete", "revokeDeployKey"),
        ] {
            assert_eq!(doc["paths"][path][method]["operationId"], operation, "{method} {path}");
        }
        for scheme in ["bearer", "backend", "session"] {
            assert!(doc["components"]["securitySchemes"][scheme].is_object(), "{scheme}");
        }
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    }
}
