//! Grants — one person's approval of an application (SPEC §2) — and the audit log:
//!
//! - `GET /v1/me/grants`: the caller's own grants (a session only: a token acting for its
//!   user does not list the user's grants elsewhere);
//! - `GET /v1/teams/{team}/grants`: the grants on a team the caller may view (`token:view`:
//!   admins all, project admins and custom roles theirs), each saying whether they may revoke it;
//! - `DELETE /v1/grants/{id}`: revokes one (`token:revoke`, or the caller's own); its token
//!   stops on the next request;
//! - `GET /v1/teams/{team}/audit`: the team's audit events, newest first, by time range and
//!   kind (`team:update`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::caller::actor;
use super::error::ErrorBody;
use super::input::{PAGE, Query, slug};
use super::{ApiError, no_store};
use crate::db::models::grants::GrantListing;
use crate::http::AppState;
use crate::ops::audit::{self, AuditEventOut, AuditFilter, AuditKind};
use crate::ops::grants::{self, TeamGrant};
use crate::ops::page::Page;
use crate::ops::{Actor, OpResult, rfc3339};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/me/grants").get(mine))
        .service(web::resource("/v1/teams/{team}/grants").get(on_team))
        .service(web::resource("/v1/grants/{id}").delete(revoke))
        .service(web::resource("/v1/teams/{team}/audit").get(audit_log));
}

/// A grant as lists show it.
#[derive(Serialize, ToSchema)]
pub(super) struct GrantOut {
    id: i64,
    /// `project` or `team`.
    scope: String,
    app_name: String,
    client_id: String,
    /// The device it was approved for, when its client named one (device flow).
    #[serde(skip_serializing_if = "Option::is_none")]
    device_name: Option<String>,
    /// Who approved it.
    user_email: String,
    team: String,
    /// Absent for a team grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    project: Option<String>,
    created_at: String,
    last_used_at: Option<String>,
    /// The resource servers (RFC 8707) its tokens are accepted by; absent when it names none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<String>,
    /// Whether the caller may revoke it.
    revocable: bool,
}

impl GrantOut {
    fn new(grant: GrantListing, revocable: bool) -> GrantOut {
        let resources = grant.resource_uris();
        GrantOut {
            id: grant.id,
            scope: grant.scope,
            app_name: grant.app_name,
            client_id: grant.client_id,
            device_name: grant.device_name,
            user_email: grant.user_email,
            team: grant.team_slug,
            project: grant.project_slug,
            created_at: rfc3339(grant.created_at),
            last_used_at: grant.last_used_at.map(rfc3339),
            resources,
            revocable,
        }
    }
}

#[utoipa::path(
    get,
    path = "/v1/me/grants",
    operation_id = "listMyGrants",
    tag = "grants",
    params(
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (default 50)"),
        ("cursor" = Option<String>, Query, description = "From the previous page's `next_cursor`"),
    ),
    responses(
        (status = 200, description = "The caller's live grants, by id", body = Page<GrantOut>),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a session", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(super) async fn mine(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let Actor::User { id: user_id, .. } = actor(&req, &state).await? else {
        return Err(ApiError::Forbidden("a person lists their own grants through their session".into()));
    };
    let page = Query::parse(&req, PAGE)?.page()?;
    let out = state
        .db_read(move |conn| -> OpResult<Page<GrantOut>> {
            let own = grants::list_for_user(conn, user_id)?.grants;
            Ok(Page::of(own.into_iter().map(|grant| GrantOut::new(grant, true)).collect(), &page, |g| g.id))
        })
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

#[utoipa::path(
    get,
    path = "/v1/teams/{team}/grants",
    operation_id = "listTeamGrants",
    tag = "grants",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (default 50)"),
        ("cursor" = Option<String>, Query, description = "From the previous page's `next_cursor`"),
    ),
    responses(
        (status = 200, description = "The grants on the team the caller may view, by id", body = Page<GrantOut>),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "A credential that does not manage teams", body = ErrorBody),
        (status = 404, description = "No such team, or nothing on it the caller may view", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn on_team(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let page = Query::parse(&req, PAGE)?.page()?;
    let team = slug(&path, "team")?;
    let out = state
        .db_read(move |conn| -> OpResult<Page<GrantOut>> {
            let listed = grants::list_for_team(conn, &actor, &team)?.grants;
            let rows = listed.into_iter().map(|TeamGrant { grant, revocable }| GrantOut::new(grant, revocable));
            Ok(Page::of(rows.collect(), &page, |g| g.id))
        })
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

#[derive(Serialize, ToSchema)]
pub(super) struct RevokedGrant {
    id: i64,
    revoked: bool,
}

#[utoipa::path(
    delete,
    path = "/v1/grants/{id}",
    operation_id = "revokeGrant",
    tag = "grants",
    params(("id" = i64, Path, description = "The grant's id")),
    responses(
        (status = 200, description = "Revoked: its tokens stop on the next request", body = RevokedGrant),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "A credential that does not manage teams, or a change without the CSRF header", body = ErrorBody),
        (status = 404, description = "No such live grant the caller may revoke", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let id: i64 = path.parse().map_err(|_| ApiError::NotFound("no such authorization".into()))?;
    state.db(move |conn| grants::revoke(conn, &actor, id)).await??;
    Ok(no_store(HttpResponse::Ok()).json(RevokedGrant { id, revoked: true }))
}

#[utoipa::path(
    get,
    path = "/v1/teams/{team}/audit",
    operation_id = "listAuditEvents",
    tag = "audit",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("since" = Option<String>, Query, description = "RFC 3339; events at or after it"),
        ("until" = Option<String>, Query, description = "RFC 3339; events before it"),
        ("kind" = Option<String>, Query, description = "An action (`member.remove`) or a family (`member.`)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (default 50)"),
        ("cursor" = Option<String>, Query, description = "From the previous page's `next_cursor`"),
    ),
    responses(
        (status = 200, description = "Events, newest first", body = Page<AuditEventOut>),
        (status = 400, description = "Bad limit, cursor, time or kind", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not read the audit log", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn audit_log(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let query = Query::parse(&req, &["since", "until", "kind", "limit", "cursor"])?;
    let bad = |invalid: crate::domain::Invalid| ApiError::BadRequest(invalid.0);
    let instant = |name| query.get(name)?.map(AuditFilter::instant).transpose().map_err(bad);
    let (since, until) = (instant("since")?, instant("until")?);
    let kind = query.get("kind")?.map(AuditKind::parse).transpose().map_err(bad)?;
    let filter = AuditFilter::new(since, until, kind).map_err(bad)?;
    let page = query.page()?;
    let team = slug(&path, "team")?;
    let out = state.db_read(move |conn| audit::list(conn, &actor, &team, &filter, page)).await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}
