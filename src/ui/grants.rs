//! "Authorized applications": the grants a person made (`/settings/authorized-apps`) and, for
//! those who oversee them (SPEC §2 `token:view`: team admins, project admins, custom roles),
//! the grants on their team (`/teams/<slug>/settings/authorized-apps`), each with a
//! CSRF-protected Revoke (where `token:revoke` allows) that takes effect at once.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::pages::{Account, GrantRow, GrantsPage};
use super::team_settings::{Section, TeamRequest};
use super::{PageError, render, see_other, signed_in, signed_in_form};
use crate::db::models::grants::GrantListing;
use crate::domain::Slug;
use crate::http::{AppState, client_ip};
use crate::ops::grants::{TeamGrant, TeamGrants};
use crate::ops::{self, Actor, OpError, rfc3339};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/settings/authorized-apps").get(mine))
        .service(web::resource("/settings/authorized-apps/{grant_id}/revoke").post(revoke_mine))
        .service(web::resource("/teams/{slug}/settings/authorized-apps").get(team_grants))
        .service(web::resource("/teams/{slug}/settings/authorized-apps/{grant_id}/revoke").post(revoke_on_team));
}

/// The rows of a listing, each with whether it shows a Revoke.
fn rows(listings: impl IntoIterator<Item = (GrantListing, bool)>) -> Vec<GrantRow> {
    listings
        .into_iter()
        .map(|(g, revocable)| GrantRow {
            resources: g.resource_uris(),
            id: g.id,
            app_name: match g.device_name {
                Some(device) => format!("{} on {device}", g.app_name),
                None => g.app_name,
            },
            user_email: g.user_email,
            team: g.team_name,
            project: g.project_name,
            created: rfc3339(g.created_at),
            last_used: g.last_used_at.map(rfc3339),
            revocable,
        })
        .collect()
}

#[derive(serde::Deserialize)]
struct Notice {
    revoked: Option<String>,
}

fn notice(query: &Notice) -> Option<String> {
    query.revoked.as_ref().map(|_| "Access revoked. The application's tokens stopped working immediately.".to_owned())
}

async fn mine(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Notice>,
) -> Result<HttpResponse, PageError> {
    let user = signed_in(&req, &state).await?;
    let user_id = user.user.id;
    let mine = state
        .db(move |conn| ops::grants::list_for_user(conn, user_id))
        .await
        .map_err(PageError::db(&req))?
        .map_err(|e| PageError::server(&req, e))?;
    let links = mine
        .oversees
        .into_iter()
        .map(|t| {
            (format!("/teams/{}/settings/authorized-apps", t.slug), format!("All authorizations on team {}", t.name))
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &GrantsPage {
            account: Account::from(&user),
            heading: "Authorized applications".into(),
            intro: "Applications you have allowed to act on your behalf. Revoking one ends its access at once.".into(),
            notice: notice(&query),
            grants: rows(mine.grants.into_iter().map(|grant| (grant, true))),
            show_user: false,
            revoke_base: "/settings/authorized-apps".into(),
            links,
            nav: None,
        },
    ))
}

async fn team_grants(team: TeamRequest, query: web::Query<Notice>) -> Result<HttpResponse, PageError> {
    let notice = notice(&query);
    // Nothing to oversee and no such team look the same.
    team.visit()
        .await?
        .show(Section::Authorizations, move |conn, settings, visitor| {
            let TeamGrants { team, grants } = ops::grants::list_for_team(conn, &visitor.actor, &visitor.slug)?;
            Ok(GrantsPage {
                account: visitor.account,
                heading: format!("Authorizations on {}", team.name),
                intro: "Applications that members of this team have authorized, as far as your role covers them. Revoking one ends its access at once.".into(),
                notice,
                grants: rows(grants.into_iter().map(|TeamGrant { grant, revocable }| (grant, revocable))),
                show_user: true,
                revoke_base: format!("/teams/{}/settings/authorized-apps", team.slug),
                links: vec![("/settings/authorized-apps".into(), "Your own authorized applications".into())],
                nav: Some(settings.nav),
            })
        })
        .await
}

/// Revokes after checking the session and the form's CSRF token; `back` is where to return.
async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
    grant_id: i64,
    back: String,
) -> Result<HttpResponse, PageError> {
    let (user, _) = signed_in_form(&req, &state, payload, 4 * 1024).await?;
    let actor = Actor::User { id: user.user.id, client_ip: client_ip(&req) };
    let result =
        state.db(move |conn| ops::grants::revoke(conn, &actor, grant_id)).await.map_err(PageError::db(&req))?;
    match result {
        Ok(()) => Ok(see_other(&format!("{back}?revoked=1"))),
        Err(OpError::NotFound(_)) => Err(PageError::not_found(&req)),
        Err(other) => Err(PageError::server(&req, other)),
    }
}

async fn revoke_mine(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    revoke(req, state, payload, path.into_inner(), "/settings/authorized-apps".into()).await
}

async fn revoke_on_team(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (slug, grant_id) = path.into_inner();
    let slug = Slug::parse(&slug).map_err(|_| PageError::not_found(&req))?;
    revoke(req, state, payload, grant_id, format!("/teams/{slug}/settings/authorized-apps")).await
}
