//! `/teams/<slug>/settings/members` (SPEC §2, §6): the team's members (`member:view`), adding an
//! existing user (`member:invite`), changing a member's role — built-in or custom roles —
//! and their project-admin grants (`member:updateRole`), and removal behind a confirmation
//! page (`member:remove`), which revokes every grant the member made in the team. Each change
//! is the use case the CLI runs (`ops::members`), which also refuses escalation.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::{Section, TeamSettings};
use crate::authz::{Action, Resource};
use crate::db::DbConnection;
use crate::domain::{Email, MemberRole, RoleName, Slug, TeamRole};
use crate::http::params::Params;
use crate::http::{AppState, client_ip};
use crate::ops::members::{self, Membership};
use crate::ops::{Actor, OpError, OpResult, access, projects, roles};
use crate::ui::pages::{
    Account, Choice, ConfirmPage, FieldErrors, MemberEditPage, MemberForm, MemberRow, MembersPage, ProjectAdminRow,
};
use crate::ui::{ForPage, PageError, render, see_other, signed_in, signed_in_form};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/teams/{slug}/settings/members").get(show).post(add))
        .service(web::resource("/teams/{slug}/settings/members/{user_id}").get(edit))
        .service(web::resource("/teams/{slug}/settings/members/{user_id}/role").post(set_role))
        .service(web::resource("/teams/{slug}/settings/members/{user_id}/project-admin").post(set_project_admin))
        .service(web::resource("/teams/{slug}/settings/members/{user_id}/remove").get(confirm_remove).post(remove));
}

const BUILT_IN: [TeamRole; 2] = [TeamRole::Developer, TeamRole::Admin];

fn role_label(member: &Membership) -> String {
    match member.role {
        MemberRole::Custom => format!("custom: {}", member.custom_roles.join(", ")),
        role => role.as_str().to_owned(),
    }
}

fn row(member: &Membership, settings: &TeamSettings, user_id: i64) -> MemberRow {
    let team = Resource::Team { team_id: settings.team.id };
    MemberRow {
        user_id: member.user_id,
        email: member.email.clone(),
        name: member.name.clone(),
        role: role_label(member),
        project_admin: member.project_admin_of.clone(),
        is_you: member.user_id == user_id,
        editable: member.user_id != user_id && settings.standing.may(Action::MemberUpdateRole, &team),
        removable: settings.standing.may(Action::MemberRemove, &team),
    }
}

/// The members page with the add form as drafted.
fn page(
    conn: &mut DbConnection,
    settings: TeamSettings,
    account: Account,
    user_id: i64,
    draft: (&str, &str),
    errors: FieldErrors,
    notice: Option<String>,
) -> OpResult<MembersPage> {
    let team = Resource::Team { team_id: settings.team.id };
    access::require(conn, user_id, Action::MemberView, &team)?;
    let rows = members::list(conn, settings.team.id)?.iter().map(|m| row(m, &settings, user_id)).collect();
    let form = settings.standing.may(Action::MemberInvite, &team).then(|| MemberForm {
        email: draft.0.to_owned(),
        roles: BUILT_IN
            .iter()
            .map(|r| Choice { value: r.as_str().into(), label: r.as_str().into(), selected: r.as_str() == draft.1 })
            .collect(),
        errors,
    });
    Ok(MembersPage { account, base: settings.url(Section::Members), nav: settings.nav, notice, rows, form })
}

#[derive(serde::Deserialize)]
struct Notice {
    removed: Option<String>,
    updated: Option<String>,
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<Notice>,
) -> Result<HttpResponse, PageError> {
    let user = signed_in(&req, &state).await?;
    let slug = Slug::parse(&path).map_err(|_| PageError::not_found(&req))?;
    let (account, user_id) = (Account::from(&user), user.user.id);
    let notice = match (&query.removed, &query.updated) {
        (Some(_), _) => Some("Member removed. Every application they authorized in this team stopped working.".into()),
        (_, Some(_)) => Some("Member updated. Their tokens follow the change from the next request.".into()),
        _ => None,
    };
    let page = state
        .db(move |conn| {
            let settings = TeamSettings::load(conn, user_id, &slug, Section::Members)?;
            page(conn, settings, account, user_id, ("", TeamRole::Developer.as_str()), FieldErrors::default(), notice)
        })
        .await
        .for_page(&req)?;
    Ok(render(StatusCode::OK, &page))
}

/// Adds an existing user; an unknown email, a member already in, or a role the person may not
/// hand out come back next to the fields.
async fn add(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (user, params): (_, Params) = signed_in_form(&req, &state, payload, 4 * 1024).await?;
    let slug = Slug::parse(&path).map_err(|_| PageError::not_found(&req))?;
    let (email, role) = (
        params.first("email").unwrap_or_default().trim().to_owned(),
        params.first("role").unwrap_or_default().to_owned(),
    );
    let (account, user_id) = (Account::from(&user), user.user.id);
    let actor = Actor::User { id: user_id, client_ip: client_ip(&req) };
    let refused = state
        .db(move |conn| -> OpResult<Option<MembersPage>> {
            let settings = TeamSettings::load(conn, user_id, &slug, Section::Members)?;
            access::require(conn, user_id, Action::MemberInvite, &Resource::Team { team_id: settings.team.id })?;
            let mut errors = FieldErrors::default();
            let parsed_email = Email::parse(&email).map_err(|e| errors.add("email", e.0)).ok();
            let parsed_role = TeamRole::parse(&role).map_err(|e| errors.add("role", e.0)).ok();
            if let (Some(parsed_email), Some(parsed_role)) = (parsed_email, parsed_role) {
                match members::add(conn, &actor, &slug, &parsed_email, parsed_role) {
                    Ok(_) => return Ok(None),
                    Err(OpError::NotFound(message) | OpError::Conflict(message)) => errors.add("email", message),
                    Err(OpError::Forbidden(message)) => errors.add("role", message),
                    Err(other) => return Err(other),
                }
            }
            page(conn, settings, account, user_id, (&email, &role), errors, None).map(Some)
        })
        .await
        .for_page(&req)?;
    Ok(match refused {
        None => see_other(&format!("{}?updated=1", super::section_url(path.as_str(), Section::Members))),
        Some(page) => render(StatusCode::UNPROCESSABLE_ENTITY, &page),
    })
}

/// The member `member_user_id` of the team, for someone who may see members.
fn member(
    conn: &mut DbConnection,
    user_id: i64,
    slug: &Slug,
    member_user_id: i64,
) -> OpResult<(TeamSettings, Membership)> {
    let settings = TeamSettings::load(conn, user_id, slug, Section::Members)?;
    access::require(conn, user_id, Action::MemberView, &Resource::Team { team_id: settings.team.id })?;
    let member = members::list(conn, settings.team.id)?
        .into_iter()
        .find(|m| m.user_id == member_user_id)
        .ok_or_else(|| OpError::NotFound("no such member".into()))?;
    Ok((settings, member))
}

fn edit_page(
    conn: &mut DbConnection,
    settings: TeamSettings,
    account: Account,
    user_id: i64,
    member: &Membership,
    errors: FieldErrors,
) -> OpResult<MemberEditPage> {
    let team = Resource::Team { team_id: settings.team.id };
    access::require(conn, user_id, Action::MemberUpdateRole, &team)?;
    if member.user_id == user_id {
        return Err(OpError::Forbidden("you may not change your own role".into()));
    }
    let projects = projects::list_in(conn, &settings.team)?;
    let mut roles_offered: Vec<Choice> = BUILT_IN
        .iter()
        .map(|r| Choice {
            value: r.as_str().into(),
            label: r.as_str().into(),
            selected: member.role.as_str() == r.as_str(),
        })
        .collect();
    let custom = roles::list(conn, &Slug::parse(&settings.team.slug)?)?;
    if !custom.is_empty() {
        roles_offered.push(Choice {
            value: MemberRole::Custom.as_str().into(),
            label: "custom roles (below)".into(),
            selected: member.role == MemberRole::Custom,
        });
    }
    let custom_roles = custom
        .into_iter()
        .map(|r| Choice { selected: member.custom_roles.contains(&r.name), label: r.name.clone(), value: r.name })
        .collect();
    let project_admin = projects
        .iter()
        .map(|p| ProjectAdminRow {
            slug: p.slug.clone(),
            name: p.name.clone(),
            on: member.project_admin_of.contains(&p.slug),
        })
        .collect();
    Ok(MemberEditPage {
        base: settings.url(Section::Members),
        member: row(member, &settings, user_id),
        nav: settings.nav,
        account,
        roles: roles_offered,
        custom_roles,
        project_admin,
        errors,
    })
}

async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, PageError> {
    let user = signed_in(&req, &state).await?;
    let (slug, member_user_id) = path.into_inner();
    let slug = Slug::parse(&slug).map_err(|_| PageError::not_found(&req))?;
    let (account, user_id) = (Account::from(&user), user.user.id);
    let page = state
        .db(move |conn| {
            let (settings, member) = member(conn, user_id, &slug, member_user_id)?;
            edit_page(conn, settings, account, user_id, &member, FieldErrors::default())
        })
        .await
        .for_page(&req)?;
    Ok(render(StatusCode::OK, &page))
}

/// The role form: `role` is `admin`, `developer` or `custom` (then the `custom_role` boxes
/// ticked are the member's roles).
async fn set_role(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (user, params): (_, Params) = signed_in_form(&req, &state, payload, 8 * 1024).await?;
    let (slug_text, member_user_id) = path.into_inner();
    let slug = Slug::parse(&slug_text).map_err(|_| PageError::not_found(&req))?;
    let role = params.first("role").unwrap_or_default().to_owned();
    let custom: Vec<String> = params.pairs().filter(|(k, _)| *k == "custom_role").map(|(_, v)| v.to_owned()).collect();
    let (account, user_id) = (Account::from(&user), user.user.id);
    let actor = Actor::User { id: user_id, client_ip: client_ip(&req) };
    let refused = state
        .db(move |conn| -> OpResult<Option<MemberEditPage>> {
            let (settings, member) = member(conn, user_id, &slug, member_user_id)?;
            if member.user_id == user_id {
                return Err(OpError::Forbidden("you may not change your own role".into()));
            }
            let email = Email::parse(&member.email)?;
            let outcome = if role == MemberRole::Custom.as_str() {
                match custom.iter().map(|n| RoleName::parse(n)).collect::<Result<Vec<_>, _>>() {
                    Ok(names) => members::set_custom_roles(conn, &actor, &slug, &email, &names).map(drop),
                    Err(invalid) => Err(OpError::Invalid(invalid.0)),
                }
            } else {
                match TeamRole::parse(&role) {
                    Ok(role) => members::set_role(conn, &actor, &slug, &email, role).map(drop),
                    Err(invalid) => Err(OpError::Invalid(invalid.0)),
                }
            };
            let mut errors = FieldErrors::default();
            match outcome {
                Ok(()) => return Ok(None),
                Err(OpError::Invalid(message) | OpError::Forbidden(message) | OpError::Conflict(message)) => {
                    errors.add("role", message)
                }
                Err(other) => return Err(other),
            }
            edit_page(conn, settings, account, user_id, &member, errors).map(Some)
        })
        .await
        .for_page(&req)?;
    Ok(match refused {
        None => see_other(&format!("{}?updated=1", super::section_url(&slug_text, Section::Members))),
        Some(page) => render(StatusCode::UNPROCESSABLE_ENTITY, &page),
    })
}

/// One project's project-admin flag: `project` and `on` (`true`/`false`).
async fn set_project_admin(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (user, params): (_, Params) = signed_in_form(&req, &state, payload, 4 * 1024).await?;
    let (slug_text, member_user_id) = path.into_inner();
    let slug = Slug::parse(&slug_text).map_err(|_| PageError::not_found(&req))?;
    let project =
        Slug::parse(params.first("project").unwrap_or_default()).map_err(|e| PageError::bad_request(&req, e.0))?;
    let on = match params.first("on") {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(PageError::bad_request(&req, "The form could not be read.")),
    };
    let user_id = user.user.id;
    let actor = Actor::User { id: user_id, client_ip: client_ip(&req) };
    state
        .db(move |conn| -> OpResult<()> {
            let (_, member) = member(conn, user_id, &slug, member_user_id)?;
            if member.user_id == user_id {
                return Err(OpError::Forbidden("you may not change your own project-admin grants".into()));
            }
            members::set_project_admin(conn, &actor, &slug, &project, &Email::parse(&member.email)?, on).map(drop)
        })
        .await
        .for_page(&req)?;
    Ok(see_other(&format!("{}/{member_user_id}", super::section_url(&slug_text, Section::Members))))
}

async fn confirm_remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, PageError> {
    let user = signed_in(&req, &state).await?;
    let (slug, member_user_id) = path.into_inner();
    let slug = Slug::parse(&slug).map_err(|_| PageError::not_found(&req))?;
    let (account, user_id) = (Account::from(&user), user.user.id);
    let page = state
        .db(move |conn| -> OpResult<ConfirmPage> {
            let (settings, member) = member(conn, user_id, &slug, member_user_id)?;
            access::require(conn, user_id, Action::MemberRemove, &Resource::Team { team_id: settings.team.id })?;
            let base = settings.url(Section::Members);
            Ok(ConfirmPage {
                heading: format!("Remove {} from {}?", member.email, settings.team.name),
                paragraphs: vec![
                    "They lose access to the team at once, and every application they authorized in it stops \
                     working on its next request, on every server. Adding them back does not revive those tokens."
                        .into(),
                ],
                action: format!("{base}/{member_user_id}/remove"),
                button: "Remove member",
                cancel: base,
                nav: settings.nav,
                account,
            })
        })
        .await
        .for_page(&req)?;
    Ok(render(StatusCode::OK, &page))
}

async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (user, _) = signed_in_form(&req, &state, payload, 4 * 1024).await?;
    let (slug_text, member_user_id) = path.into_inner();
    let slug = Slug::parse(&slug_text).map_err(|_| PageError::not_found(&req))?;
    let user_id = user.user.id;
    let actor = Actor::User { id: user_id, client_ip: client_ip(&req) };
    state
        .db(move |conn| -> OpResult<()> {
            let (settings, member) = member(conn, user_id, &slug, member_user_id)?;
            access::require(conn, user_id, Action::MemberRemove, &Resource::Team { team_id: settings.team.id })?;
            members::remove(conn, &actor, &slug, &Email::parse(&member.email)?).map(drop)
        })
        .await
        .for_page(&req)?;
    Ok(see_other(&format!("{}?removed=1", super::section_url(&slug_text, Section::Members))))
}
