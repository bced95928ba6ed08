//! `GET /v1/openapi.json`: the OpenAPI 3.1 description of `/v1`, generated from the handlers'
//! `#[utoipa::path]` annotations and the request and response types themselves, so that a
//! field added to a response appears in the document with it.

use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{apps, check, deploy_keys, grants, members, projects, roles, teams, token_details};
use crate::authz::Action;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portcullis",
        description = "Decisions, credential details and team management of the Portcullis authorization server. \
                       Errors are `{\"error\": {\"code\", \"message\", \"details\"?}}`. Lists are pages \
                       `{\"items\", \"next_cursor\"}`. A session changes things only with its CSRF token \
                       (`GET /v1/me`) in `X-CSRF-Token`."
    ),
    paths(
        check::check,
        token_details::token_details,
        deploy_keys::create,
        deploy_keys::list,
        deploy_keys::revoke,
        teams::me,
        teams::show,
        teams::update,
        members::list,
        members::add,
        members::change,
        members::remove,
        members::grant_project_admin,
        members::revoke_project_admin,
        projects::list,
        projects::create,
        projects::show,
        projects::update,
        projects::delete,
        projects::list_deployments,
        projects::create_deployment,
        projects::delete_deployment,
        apps::list,
        apps::create,
        apps::show,
        apps::update,
        apps::regenerate_secret,
        apps::delete,
        roles::list,
        roles::create,
        roles::show,
        roles::replace,
        roles::delete,
        grants::mine,
        grants::on_team,
        grants::revoke,
        grants::audit_log,
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
            ("/v1/me", "get", "getMe"),
            ("/v1/teams/{team}", "get", "getTeam"),
            ("/v1/teams/{team}", "patch", "updateTeam"),
            ("/v1/teams/{team}/members", "get", "listMembers"),
            ("/v1/teams/{team}/members", "post", "addMember"),
            ("/v1/teams/{team}/members/{user_id}", "patch", "changeMemberRole"),
            ("/v1/teams/{team}/members/{user_id}", "delete", "removeMember"),
            ("/v1/teams/{team}/members/{user_id}/project_admin/{project}", "put", "grantProjectAdmin"),
            ("/v1/teams/{team}/members/{user_id}/project_admin/{project}", "delete", "revokeProjectAdmin"),
            ("/v1/teams/{team}/projects", "get", "listProjects"),
            ("/v1/teams/{team}/projects", "post", "createProject"),
            ("/v1/teams/{team}/projects/{project}", "get", "getProject"),
            ("/v1/teams/{team}/projects/{project}", "patch", "updateProject"),
            ("/v1/teams/{team}/projects/{project}", "delete", "deleteProject"),
            ("/v1/teams/{team}/projects/{project}/deployments", "get", "listDeployments"),
            ("/v1/teams/{team}/projects/{project}/deployments", "post", "createDeployment"),
            ("/v1/deployments/{name}", "delete", "deleteDeployment"),
            ("/v1/me/grants", "get", "listMyGrants"),
            ("/v1/teams/{team}/grants", "get", "listTeamGrants"),
            ("/v1/grants/{id}", "delete", "revokeGrant"),
            ("/v1/teams/{team}/audit", "get", "listAuditEvents"),
            ("/v1/teams/{team}/apps", "get", "listApps"),
            ("/v1/teams/{team}/apps", "post", "createApp"),
            ("/v1/teams/{team}/apps/{client_id}", "get", "getApp"),
            ("/v1/teams/{team}/apps/{client_id}", "patch", "updateApp"),
            ("/v1/teams/{team}/apps/{client_id}", "delete", "deleteApp"),
            ("/v1/teams/{team}/apps/{client_id}/secret", "post", "regenerateAppSecret"),
            ("/v1/teams/{team}/roles", "get", "listRoles"),
            ("/v1/teams/{team}/roles", "post", "createRole"),
            ("/v1/teams/{team}/roles/{name}", "get", "getRole"),
            ("/v1/teams/{team}/roles/{name}", "put", "replaceRole"),
            ("/v1/teams/{team}/roles/{name}", "delete", "deleteRole"),
        ] {
            assert_eq!(doc["paths"][path][method]["operationId"], operation, "{method} {path}");
        }
        for scheme in ["bearer", "backend", "session"] {
            assert!(doc["components"]["securitySchemes"][scheme].is_object(), "{scheme}");
        }
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    }
}
