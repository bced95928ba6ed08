//! `/teams/<slug>/settings/members` (SPEC §2, §6): the team's members (`member:view`), adding an
//! existing user (`member:invite`), changing a member's role — built-in or custom roles —
//! and their project-admin grants (`member:updateRole`), and removal behind a confirmation
//! page (`member:remove`), which revokes every grant the member made in the team. Each change
//! is the use case the CLI runs (`ops::members`), which also refuses escalation.

use actix_web::{HttpResponse, web};

use super::{Confirm, Saved, Section, TeamRequest, TeamSettings, Visitor};
use crate::authz::{Action, Resource};
use crate::db::DbConnection;
use crate::domain::{Email, MemberRole, RoleName, Slug, TeamRole};
use crate::ops::members::{self, Membership};
use crate::ops::{OpError, OpResult, access, projects, roles};
use crate::ui::pages::{
    Account, Choice, FieldErrors, MemberEditPage, MemberForm, MemberRow, MembersPage, ProjectAdminRow,
};
use crate::ui::{PageError, see_other};

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

async fn show(team: TeamRequest, query: web::Query<Notice>) -> Result<HttpResponse, PageError> {
    let notice = match (&query.removed, &query.updated) {
        (Some(_), _) => Some("Member removed. Every application they authorized in this team stopped working.".into()),
        (_, Some(_)) => Some("Member updated. Their tokens follow the change from the next request.".into()),
        _ => None,
    };
    team.visit()
        .await?
        .show(Section::Members, move |conn, settings, visitor| {
            let draft = ("", TeamRole::Developer.as_str());
            page(conn, settings, visitor.account, visitor.user_id, draft, FieldErrors::default(), notice)
        })
        .await
}

/// Adds an existing user; an unknown email, a member already in, or a role the person may not
/// hand out come back next to the fields.
async fn add(team: TeamRequest, payload: web::Payload) -> Result<HttpResponse, PageError> {
    let (visit, params) = team.form(payload, 4 * 1024, &[]).await?;
    let (email, role) = (
        params.first("email").unwrap_or_default().trim().to_owned(),
        params.first("role").unwrap_or_default().to_owned(),
    );
    let saved = visit
        .run(Section::Members, move |conn, settings, Visitor { account, user_id, actor, slug }| {
            access::require(conn, user_id, Action::MemberInvite, &Resource::Team { team_id: settings.team.id })?;
            let mut errors = FieldErrors::default();
            let parsed_email = Email::parse(&email).map_err(|e| errors.add("email", e.0)).ok();
            let parsed_role = TeamRole::parse(&role).map_err(|e| errors.add("role", e.0)).ok();
            if let (Some(parsed_email), Some(parsed_role)) = (parsed_email, parsed_role) {
                match members::add(conn, &actor, &slug, &parsed_email, parsed_role) {
                    Ok(_) => return Ok(Saved::Done(format!("{}?updated=1", settings.url(Section::Members)))),
                    Err(OpError::NotFound(message) | OpError::Conflict(message)) => errors.add("email", message),
                    Err(OpError::Forbidden(message)) => errors.add("role", message),
                    Err(other) => return Err(other),
                }
            }
            page(conn, settings, account, user_id, (&email, &role), errors, None).map(Saved::refused)
        })
        .await?;
    Ok(saved.respond())
}

/// The member `member_user_id` of the team, for someone who may see members.
fn member(conn: &mut DbConnection, settings: &TeamSettings, user_id: i64, member_user_id: i64) -> OpResult<Membership> {
    access::require(conn, user_id, Action::MemberView, &Resource::Team { team_id: settings.team.id })?;
    members::list(conn, settings.team.id)?
        .into_iter()
        .find(|m| m.user_id == member_user_id)
        .ok_or_else(|| OpError::NotFound("no such member".into()))
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

/// `/teams/<slug>/settings/members/<user_id>[/…]`.
#[derive(serde::Deserialize)]
struct MemberPath {
    user_id: i64,
}

async fn edit(team: TeamRequest, path: web::Path<MemberPath>) -> Result<HttpResponse, PageError> {
    let member_user_id = path.user_id;
    team.visit()
        .await?
        .show(Section::Members, move |conn, settings, visitor| {
            let member = member(conn, &settings, visitor.user_id, member_user_id)?;
            edit_page(conn, settings, visitor.account, visitor.user_id, &member, FieldErrors::default())
        })
        .await
}

/// The role form: `role` is `admin`, `developer` or `custom` (then the `custom_role` boxes
/// ticked are the member's roles).
async fn set_role(
    team: TeamRequest,
    path: web::Path<MemberPath>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (visit, params) = team.form(payload, 8 * 1024, &[]).await?;
    let member_user_id = path.user_id;
    let role = params.first("role").unwrap_or_default().to_owned();
    let custom: Vec<String> = params.pairs().filter(|(k, _)| *k == "custom_role").map(|(_, v)| v.to_owned()).collect();
    let saved = visit
        .run(Section::Members, move |conn, settings, Visitor { account, user_id, actor, slug }| {
            let member = member(conn, &settings, user_id, member_user_id)?;
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
                Ok(()) => return Ok(Saved::Done(format!("{}?updated=1", settings.url(Section::Members)))),
                Err(OpError::Invalid(message) | OpError::Forbidden(message) | OpError::Conflict(message)) => {
                    errors.add("role", message)
                }
                Err(other) => return Err(other),
            }
            edit_page(conn, settings, account, user_id, &member, errors).map(Saved::refused)
        })
        .await?;
    Ok(saved.respond())
}

/// One project's project-admin flag: `project` and `on` (`true`/`false`).
async fn set_project_admin(
    team: TeamRequest,
    path: web::Path<MemberPath>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (visit, params) = team.form(payload, 4 * 1024, &[]).await?;
    let member_user_id = path.user_id;
    let project = Slug::parse(params.first("project").unwrap_or_default()).map_err(|e| visit.bad_request(e.0))?;
    let on = match params.first("on") {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(visit.bad_request("The form could not be read.")),
    };
    let back = visit
        .run(Section::Members, move |conn, settings, Visitor { user_id, actor, slug, .. }| {
            let member = member(conn, &settings, user_id, member_user_id)?;
            if member.user_id == user_id {
                return Err(OpError::Forbidden("you may not change your own project-admin grants".into()));
            }
            members::set_project_admin(conn, &actor, &slug, &project, &Email::parse(&member.email)?, on)?;
            Ok(format!("{}/{member_user_id}", settings.url(Section::Members)))
        })
        .await?;
    Ok(see_other(&back))
}

async fn confirm_remove(team: TeamRequest, path: web::Path<MemberPath>) -> Result<HttpResponse, PageError> {
    let member_user_id = path.user_id;
    team.visit()
        .await?
        .show(Section::Members, move |conn, settings, visitor| {
            let member = member(conn, &settings, visitor.user_id, member_user_id)?;
            access::require(
                conn,
                visitor.user_id,
                Action::MemberRemove,
                &Resource::Team { team_id: settings.team.id },
            )?;
            let confirm = Confirm {
                heading: format!("Remove {} from {}?", member.email, settings.team.name),
                text: "They lose access to the team at once, and every application they authorized in it stops \
                       working on its next request, on every server. Adding them back does not revive those tokens."
                    .into(),
                item: &member_user_id.to_string(),
                step: "remove",
                button: "Remove member",
                cancel_to_item: false,
            };
            Ok(settings.confirm(visitor.account, Section::Members, confirm))
        })
        .await
}

async fn remove(
    team: TeamRequest,
    path: web::Path<MemberPath>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let member_user_id = path.user_id;
    let back = team
        .confirmed(payload)
        .await?
        .run(Section::Members, move |conn, settings, Visitor { user_id, actor, slug, .. }| {
            let member = member(conn, &settings, user_id, member_user_id)?;
            access::require(conn, user_id, Action::MemberRemove, &Resource::Team { team_id: settings.team.id })?;
            members::remove(conn, &actor, &slug, &Email::parse(&member.email)?)?;
            Ok(format!("{}?removed=1", settings.url(Section::Members)))
        })
        .await?;
    Ok(see_other(&back))
}
