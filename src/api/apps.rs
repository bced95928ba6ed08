//! A team's OAuth applications (SPEC §2):
//!
//! - `GET`/`POST /v1/teams/{team}/apps` (`oauthApp:view` / `oauthApp:manage`): register with
//!   SPEC §2 validation; the secret is shown once;
//! - `GET`/`PATCH`/`DELETE /v1/teams/{team}/apps/{client_id}`: show (with the teams using an
//!   unverified app, out of the limit), edit the name (frozen once verified) and redirect URIs,
//!   delete (ends all its grants);
//! - `POST /v1/teams/{team}/apps/{client_id}/secret`: a new secret; the old one is dead at once.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::caller::actor;
use super::error::ErrorBody;
use super::input::{self, PAGE, Query, segment, slug};
use super::{ApiError, no_store};
use crate::authz::Action;
use crate::domain::{AppName, RedirectUris};
use crate::http::AppState;
use crate::ops::apps::{self, AppOut, CreatedAppOut, DeletedAppOut, NewAppParams, SecretOut};
use crate::ops::page::Page;
use crate::ops::{OpError, OpResult, access};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/teams/{team}/apps").get(list).post(create))
        .service(web::resource("/v1/teams/{team}/apps/{client_id}").get(show).patch(update).delete(delete))
        .service(web::resource("/v1/teams/{team}/apps/{client_id}/secret").post(regenerate_secret));
}

#[utoipa::path(
    get,
    path = "/v1/teams/{team}/apps",
    operation_id = "listApps",
    tag = "apps",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (default 50)"),
        ("cursor" = Option<String>, Query, description = "From the previous page's `next_cursor`"),
    ),
    responses(
        (status = 200, description = "The team's apps, by id", body = Page<AppOut>),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not view apps", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let page = Query::parse(&req, PAGE)?.page()?;
    let team = slug(&path, "team")?;
    let out = state
        .db_read(move |conn| -> OpResult<Page<AppOut>> {
            let team = access::team(conn, &actor, &team, Action::OauthAppView)?;
            Ok(Page::of(apps::list_in(conn, team.id)?, &page, |app| app.id))
        })
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

/// An app to register (SPEC §2).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewApp {
    /// 3–128 characters.
    name: String,
    /// 1–20 absolute http(s) URLs with a host and no fragment; loopback allowed.
    redirect_uris: Vec<String>,
    /// A public client (PKCE, no secret).
    #[serde(default)]
    public: bool,
    /// Seconds an access token lives, 60 to 31,536,000; tokens never expire when absent.
    token_ttl: Option<i64>,
}

#[utoipa::path(
    post,
    path = "/v1/teams/{team}/apps",
    operation_id = "createApp",
    tag = "apps",
    params(("team" = String, Path, description = "The team's slug")),
    request_body = NewApp,
    responses(
        (status = 201, description = "Registered; the secret is shown once", body = CreatedAppOut),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not manage apps", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
        (status = 422, description = "Invalid name, redirect URIs or token TTL", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let team = slug(&path, "team")?;
    let new: NewApp = input::json(&req, payload).await?;
    let name = AppName::parse(&new.name).map_err(OpError::from)?;
    let redirect_uris = RedirectUris::parse(&new.redirect_uris).map_err(OpError::from)?;
    let out = state
        .db(move |conn| {
            let params = NewAppParams {
                team: &team,
                name: &name,
                redirect_uris: &redirect_uris,
                public: new.public,
                token_ttl: new.token_ttl,
            };
            apps::create(conn, &actor, &params)
        })
        .await??;
    Ok(no_store(HttpResponse::Created()).json(out))
}

#[utoipa::path(
    get,
    path = "/v1/teams/{team}/apps/{client_id}",
    operation_id = "getApp",
    tag = "apps",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("client_id" = String, Path, description = "The app's client id"),
    ),
    responses(
        (status = 200, description = "The app", body = AppOut),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not view apps", body = ErrorBody),
        (status = 404, description = "No such team, or no such app in it", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let (team, client_id) = path.into_inner();
    let (team, client_id) = (slug(&team, "team")?, segment(&client_id, "OAuth app")?.to_owned());
    let out = state.db_read(move |conn| apps::show_in(conn, &actor, &team, &client_id)).await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

/// Changes to an app; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AppChange {
    /// Frozen once the app is verified.
    name: Option<String>,
    /// The whole new list; codes issued for a URI left out die with it.
    redirect_uris: Option<Vec<String>>,
}

#[utoipa::path(
    patch,
    path = "/v1/teams/{team}/apps/{client_id}",
    operation_id = "updateApp",
    tag = "apps",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("client_id" = String, Path, description = "The app's client id"),
    ),
    request_body = AppChange,
    responses(
        (status = 200, description = "The app as it is now", body = AppOut),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not manage apps", body = ErrorBody),
        (status = 404, description = "No such team, or no such app in it", body = ErrorBody),
        (status = 409, description = "A verified app's name cannot change", body = ErrorBody),
        (status = 422, description = "Invalid name or redirect URIs", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let (team, client_id) = path.into_inner();
    let (team, client_id) = (slug(&team, "team")?, segment(&client_id, "OAuth app")?.to_owned());
    let change: AppChange = input::json(&req, payload).await?;
    let name = change.name.as_deref().map(AppName::parse).transpose().map_err(OpError::from)?;
    let uris = change.redirect_uris.as_deref().map(RedirectUris::parse).transpose().map_err(OpError::from)?;
    let out = state
        .db(move |conn| {
            apps::show_in(conn, &actor, &team, &client_id)?;
            apps::update(conn, &actor, &client_id, name.as_ref(), uris.as_ref())
        })
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

#[utoipa::path(
    post,
    path = "/v1/teams/{team}/apps/{client_id}/secret",
    operation_id = "regenerateAppSecret",
    tag = "apps",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("client_id" = String, Path, description = "The app's client id"),
    ),
    responses(
        (status = 200, description = "The new secret, shown once; the old one no longer works", body = SecretOut),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not manage apps", body = ErrorBody),
        (status = 404, description = "No such team, or no such app in it", body = ErrorBody),
        (status = 422, description = "A public client has no secret", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn regenerate_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let (team, client_id) = path.into_inner();
    let (team, client_id) = (slug(&team, "team")?, segment(&client_id, "OAuth app")?.to_owned());
    let out = state
        .db(move |conn| {
            apps::show_in(conn, &actor, &team, &client_id)?;
            apps::regenerate_secret(conn, &actor, &client_id)
        })
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

#[utoipa::path(
    delete,
    path = "/v1/teams/{team}/apps/{client_id}",
    operation_id = "deleteApp",
    tag = "apps",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("client_id" = String, Path, description = "The app's client id"),
    ),
    responses(
        (status = 200, description = "Deleted, with all its grants", body = DeletedAppOut),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not manage apps", body = ErrorBody),
        (status = 404, description = "No such team, or no such app in it", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let (team, client_id) = path.into_inner();
    let (team, client_id) = (slug(&team, "team")?, segment(&client_id, "OAuth app")?.to_owned());
    let out = state
        .db(move |conn| {
            apps::show_in(conn, &actor, &team, &client_id)?;
            apps::delete(conn, &actor, &client_id)
        })
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}
