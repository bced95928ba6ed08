//! A team's projects and their deployments:
//!
//! - `GET`/`POST /v1/teams/{team}/projects` (`project:view` per project / `project:create`);
//! - `GET`/`PATCH`/`DELETE /v1/teams/{team}/projects/{project}` (`project:view`,
//!   `project:update`, `project:delete`; deletion ends every credential scoped to it);
//! - `GET`/`POST /v1/teams/{team}/projects/{project}/deployments` (`deployment:view` per
//!   deployment / `deployment:create`; the new deployment's admin key is shown once);
//! - `DELETE /v1/deployments/{name}` (`deployment:delete`; its admin key and deploy keys end
//!   with it).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::caller::actor;
use super::error::ErrorBody;
use super::input::{self, PAGE, Query, slug};
use super::{ApiError, no_store};
use crate::authz::Action;
use crate::domain::{DeploymentName, DeploymentType, DisplayName, Slug};
use crate::http::AppState;
use crate::ops::deployments::{self, CreatedDeploymentOut, DeletedDeploymentOut, DeploymentOut};
use crate::ops::page::Page;
use crate::ops::projects::{self, DeletedProjectOut, ProjectOut};
use crate::ops::{OpError, OpResult, access};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/teams/{team}/projects").get(list).post(create))
        .service(web::resource("/v1/teams/{team}/projects/{project}").get(show).patch(update).delete(delete))
        .service(
            web::resource("/v1/teams/{team}/projects/{project}/deployments")
                .get(list_deployments)
                .post(create_deployment),
        )
        .service(web::resource("/v1/deployments/{name}").delete(delete_deployment));
}

#[utoipa::path(
    get,
    path = "/v1/teams/{team}/projects",
    operation_id = "listProjects",
    tag = "projects",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (default 50)"),
        ("cursor" = Option<String>, Query, description = "From the previous page's `next_cursor`"),
    ),
    responses(
        (status = 200, description = "The projects the caller may view, by id", body = Page<ProjectOut>),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "A credential that does not manage teams", body = ErrorBody),
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
        .db_read(move |conn| -> OpResult<Page<ProjectOut>> {
            let team = access::visible_team(conn, &actor, &team)?;
            let mut visible = Vec::new();
            for project in projects::list_in(conn, &team)? {
                let at = projects::resource(&team, &project);
                if access::authorize(conn, &actor, Action::ProjectView, &at).is_ok() {
                    visible.push(projects::out(&team, &project));
                }
            }
            Ok(Page::of(visible, &page, |p| p.id))
        })
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

/// A project to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewProject {
    slug: String,
    /// Defaults to the slug.
    name: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/teams/{team}/projects",
    operation_id = "createProject",
    tag = "projects",
    params(("team" = String, Path, description = "The team's slug")),
    request_body = NewProject,
    responses(
        (status = 201, description = "Created", body = ProjectOut),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not create projects", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
        (status = 409, description = "The slug is taken in the team", body = ErrorBody),
        (status = 422, description = "Invalid slug or name", body = ErrorBody),
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
    let new: NewProject = input::json(&req, payload).await?;
    let project = Slug::parse(&new.slug).map_err(OpError::from)?;
    let name = DisplayName::parse(new.name.as_deref().unwrap_or(&new.slug)).map_err(OpError::from)?;
    let out = state.db(move |conn| projects::create(conn, &actor, &team, &project, &name)).await??;
    Ok(no_store(HttpResponse::Created()).json(out))
}

#[utoipa::path(
    get,
    path = "/v1/teams/{team}/projects/{project}",
    operation_id = "getProject",
    tag = "projects",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("project" = String, Path, description = "The project's slug"),
    ),
    responses(
        (status = 200, description = "The project", body = ProjectOut),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not view it", body = ErrorBody),
        (status = 404, description = "No such team or project", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let (team, project) = path.into_inner();
    let (team, project) = (slug(&team, "team")?, slug(&project, "project")?);
    let out = state
        .db_read(move |conn| -> OpResult<ProjectOut> {
            let team = access::visible_team(conn, &actor, &team)?;
            let project = projects::require_in(conn, &team, &project)?;
            access::authorize(conn, &actor, Action::ProjectView, &projects::resource(&team, &project))?;
            Ok(projects::out(&team, &project))
        })
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

/// Changes to a project; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ProjectChange {
    /// A new slug. Tokens keep working: their prefixes record the slug at issue time.
    slug: Option<String>,
    name: Option<String>,
}

#[utoipa::path(
    patch,
    path = "/v1/teams/{team}/projects/{project}",
    operation_id = "updateProject",
    tag = "projects",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("project" = String, Path, description = "The project's slug"),
    ),
    request_body = ProjectChange,
    responses(
        (status = 200, description = "The project as it is now", body = ProjectOut),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not update it", body = ErrorBody),
        (status = 404, description = "No such team or project", body = ErrorBody),
        (status = 409, description = "The slug is taken in the team", body = ErrorBody),
        (status = 422, description = "Invalid slug or name", body = ErrorBody),
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
    let (team, project) = path.into_inner();
    let (team, project) = (slug(&team, "team")?, slug(&project, "project")?);
    let change: ProjectChange = input::json(&req, payload).await?;
    let new_slug = change.slug.as_deref().map(Slug::parse).transpose().map_err(OpError::from)?;
    let name = change.name.as_deref().map(DisplayName::parse).transpose().map_err(OpError::from)?;
    let out = state
        .db(move |conn| projects::update(conn, &actor, &team, &project, new_slug.as_ref(), name.as_ref()))
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

#[utoipa::path(
    delete,
    path = "/v1/teams/{team}/projects/{project}",
    operation_id = "deleteProject",
    tag = "projects",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("project" = String, Path, description = "The project's slug"),
    ),
    responses(
        (status = 200, description = "Deleted, with every credential scoped to it", body = DeletedProjectOut),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not delete it", body = ErrorBody),
        (status = 404, description = "No such team or project", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let (team, project) = path.into_inner();
    let (team, project) = (slug(&team, "team")?, slug(&project, "project")?);
    let out = state.db(move |conn| projects::delete(conn, &actor, &team, &project)).await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

#[utoipa::path(
    get,
    path = "/v1/teams/{team}/projects/{project}/deployments",
    operation_id = "listDeployments",
    tag = "deployments",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("project" = String, Path, description = "The project's slug"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (default 50)"),
        ("cursor" = Option<String>, Query, description = "From the previous page's `next_cursor`"),
    ),
    responses(
        (status = 200, description = "The deployments the caller may view, by id", body = Page<DeploymentOut>),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not view the project", body = ErrorBody),
        (status = 404, description = "No such team or project", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn list_deployments(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let page = Query::parse(&req, PAGE)?.page()?;
    let (team, project) = path.into_inner();
    let (team, project) = (slug(&team, "team")?, slug(&project, "project")?);
    let out = state
        .db_read(move |conn| -> OpResult<Page<DeploymentOut>> {
            let team = access::visible_team(conn, &actor, &team)?;
            let project = projects::require_in(conn, &team, &project)?;
            access::authorize(conn, &actor, Action::ProjectView, &projects::resource(&team, &project))?;
            let visible = deployments::visible_in_project(conn, &actor, team.id, project.id)?;
            Ok(Page::of(visible, &page, |d| d.id))
        })
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

/// A deployment to register.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewDeployment {
    /// `prod`, `dev`, `preview` or `custom`.
    #[serde(rename = "type")]
    deployment_type: String,
    /// Globally unique; a fresh `adjective-animal-NNN` name when absent.
    name: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/teams/{team}/projects/{project}/deployments",
    operation_id = "createDeployment",
    tag = "deployments",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("project" = String, Path, description = "The project's slug"),
    ),
    request_body = NewDeployment,
    responses(
        (status = 201, description = "Created; its admin key is shown once", body = CreatedDeploymentOut),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not create deployments here", body = ErrorBody),
        (status = 404, description = "No such team or project", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "Invalid type or name", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn create_deployment(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let (team, project) = path.into_inner();
    let (team, project) = (slug(&team, "team")?, slug(&project, "project")?);
    let new: NewDeployment = input::json(&req, payload).await?;
    let deployment_type = DeploymentType::parse(&new.deployment_type).map_err(OpError::from)?;
    let name = new.name.as_deref().map(DeploymentName::parse).transpose().map_err(OpError::from)?;
    let out = state
        .db(move |conn| deployments::create(conn, &actor, &team, &project, deployment_type, name.as_ref()))
        .await??;
    Ok(no_store(HttpResponse::Created()).json(out))
}

#[utoipa::path(
    delete,
    path = "/v1/deployments/{name}",
    operation_id = "deleteDeployment",
    tag = "deployments",
    params(("name" = String, Path, description = "The deployment's name")),
    responses(
        (status = 200, description = "Deleted; its admin key and deploy keys no longer work", body = DeletedDeploymentOut),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not delete it", body = ErrorBody),
        (status = 404, description = "No such deployment (or not the caller's)", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn delete_deployment(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let name = DeploymentName::parse(&path).map_err(|_| ApiError::NotFound("no such deployment".into()))?;
    let out = state.db(move |conn| deployments::delete(conn, &actor, &name)).await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}
