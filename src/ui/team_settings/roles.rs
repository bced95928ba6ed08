//! `/teams/<slug>/settings/roles` (SPEC §2, §6): the team's custom roles and where each is
//! used, for every member; creating, editing and deleting them for those who may
//! (`customRole:manage`, team admins), with the statements validated as they are saved.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::{Section, TeamSettings};
use crate::authz::{Action, Resource};
use crate::db::DbConnection;
use crate::domain::{RoleName, Slug};
use crate::http::{AppState, client_ip};
use crate::ops::{Actor, OpError, OpResult, access, deploy_keys, roles};
use crate::ui::pages::{Account, FieldErrors, RoleDeletePage, RoleEditPage, RoleForm, RoleRow, RolesPage};
use crate::ui::{ForPage, PageError, render, see_other, signed_in, signed_in_form, signed_in_form_with_lines};

/// Statements may be long (up to 100 of them).
const FORM_LIMIT: usize = 64 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/teams/{slug}/settings/roles").get(show).post(create))
        .service(web::resource("/teams/{slug}/settings/roles/{name}").get(edit).post(update))
        .service(web::resource("/teams/{slug}/settings/roles/{name}/delete").get(confirm_delete).post(delete));
}

fn pretty(statements: &serde_json::Value) -> String {
    serde_json::to_string_pretty(statements).unwrap_or_default()
}

fn team_resource(settings: &TeamSettings) -> Resource {
    Resource::Team { team_id: settings.team.id }
}

/// The roles page; the create form (as drafted) only for those who may manage roles.
fn page(
    conn: &mut DbConnection,
    settings: TeamSettings,
    account: Account,
    draft: RoleForm,
    notice: Option<String>,
) -> OpResult<RolesPage> {
    let team = team_resource(&settings);
    let TeamSettings { team: row, standing, nav } = settings;
    let sees_members = standing.may(Action::MemberView, &team);
    let roles = roles::list(conn, &Slug::parse(&row.slug)?)?
        .into_iter()
        .map(|role| RoleRow {
            statements: pretty(&role.statements),
            member_count: role.members.len(),
            members: sees_members.then_some(role.members),
            key_count: role.deploy_keys.len(),
            name: role.name,
        })
        .collect();
    Ok(RolesPage {
        account,
        base: super::section_url(&row.slug, Section::Roles),
        nav,
        notice,
        roles,
        form: standing.may(Action::CustomRoleManage, &team).then_some(draft),
    })
}

fn blank() -> RoleForm {
    RoleForm { name: String::new(), statements: String::new(), errors: FieldErrors::default() }
}

/// The member's team settings, refused (`Forbidden`) unless they may manage roles.
fn manager(conn: &mut DbConnection, user_id: i64, slug: &Slug) -> OpResult<TeamSettings> {
    let settings = TeamSettings::load(conn, user_id, slug, Section::Roles)?;
    access::require(conn, user_id, Action::CustomRoleManage, &team_resource(&settings))?;
    Ok(settings)
}

#[derive(serde::Deserialize)]
struct Notice {
    done: Option<String>,
}

fn notice(query: &Notice) -> Option<String> {
    Some(
        match query.done.as_deref()? {
            "created" => "Role created.",
            "updated" => "Role updated. Every member and deploy key holding it follows the new statements now.",
            "deleted" => "Role deleted, and taken from every member and deploy key that held it.",
            _ => return None,
        }
        .to_owned(),
    )
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<Notice>,
) -> Result<HttpResponse, PageError> {
    let user = signed_in(&req, &state).await?;
    let slug = Slug::parse(&path).map_err(|_| PageError::not_found(&req))?;
    let account = Account::from(&user);
    let user_id = user.user.id;
    let notice = notice(&query);
    let page = state
        .db(move |conn| {
            let settings = TeamSettings::load(conn, user_id, &slug, Section::Roles)?;
            page(conn, settings, account, blank(), notice)
        })
        .await
        .for_page(&req)?;
    Ok(render(StatusCode::OK, &page))
}

/// A form's result: where to go next, or the page again with the reason (and its status).
enum Saved<P> {
    Done(String),
    Refused(StatusCode, Box<P>),
}

fn respond<P: askama::Template>(saved: Saved<P>) -> HttpResponse {
    match saved {
        Saved::Done(location) => see_other(&location),
        Saved::Refused(status, page) => render(status, &*page),
    }
}

/// The posted statements' problem goes next to the textarea; a taken name next to the name.
fn field_of(error: OpError, errors: &mut FieldErrors) -> OpResult<()> {
    match error {
        OpError::Invalid(message) => errors.add("statements", message),
        OpError::Conflict(message) => errors.add("name", message),
        other => return Err(other),
    }
    Ok(())
}

fn create_role(
    conn: &mut DbConnection,
    actor: &Actor,
    account: Account,
    user_id: i64,
    slug: &Slug,
    mut form: RoleForm,
) -> OpResult<Saved<RolesPage>> {
    let settings = manager(conn, user_id, slug)?;
    match RoleName::parse(form.name.trim()) {
        Ok(name) => match roles::create(conn, actor, slug, &name, &form.statements) {
            Ok(_) => return Ok(Saved::Done(format!("{}?done=created", settings.url(Section::Roles)))),
            Err(error) => field_of(error, &mut form.errors)?,
        },
        Err(invalid) => {
            form.errors.add("name", invalid.0);
            if let Err(invalid) = roles::validated_statements(&form.statements) {
                form.errors.add("statements", invalid.0);
            }
        }
    }
    Ok(Saved::Refused(StatusCode::UNPROCESSABLE_ENTITY, Box::new(page(conn, settings, account, form, None)?)))
}

fn posted(params: &crate::http::params::Params, name: &str) -> RoleForm {
    RoleForm {
        name: name.to_owned(),
        statements: params.first("statements").unwrap_or_default().to_owned(),
        errors: FieldErrors::default(),
    }
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (user, params) = signed_in_form_with_lines(&req, &state, payload, FORM_LIMIT, &["statements"]).await?;
    let slug = Slug::parse(&path).map_err(|_| PageError::not_found(&req))?;
    let form = posted(&params, params.first("name").unwrap_or_default());
    let account = Account::from(&user);
    let user_id = user.user.id;
    let actor = Actor::User { id: user_id, client_ip: client_ip(&req) };
    let saved = state.db(move |conn| create_role(conn, &actor, account, user_id, &slug, form)).await.for_page(&req)?;
    Ok(respond(saved))
}

/// `/teams/<slug>/settings/roles/<name>[/delete]`: an unparsable name names nothing.
fn role_path(req: &HttpRequest, path: (String, String)) -> Result<(Slug, RoleName), PageError> {
    let slug = Slug::parse(&path.0).map_err(|_| PageError::not_found(req))?;
    let name = RoleName::parse(&path.1).map_err(|_| PageError::not_found(req))?;
    Ok((slug, name))
}

async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let user = signed_in(&req, &state).await?;
    let (slug, name) = role_path(&req, path.into_inner())?;
    let account = Account::from(&user);
    let user_id = user.user.id;
    let page = state
        .db(move |conn| -> OpResult<_> {
            let settings = manager(conn, user_id, &slug)?;
            let role = roles::show(conn, &slug, &name)?;
            Ok(RoleEditPage {
                base: settings.url(Section::Roles),
                nav: settings.nav,
                account,
                form: RoleForm {
                    name: role.name,
                    statements: pretty(&role.statements),
                    errors: FieldErrors::default(),
                },
            })
        })
        .await
        .for_page(&req)?;
    Ok(render(StatusCode::OK, &page))
}

fn update_role(
    conn: &mut DbConnection,
    actor: &Actor,
    account: Account,
    user_id: i64,
    (slug, name): (Slug, RoleName),
    mut form: RoleForm,
) -> OpResult<Saved<RoleEditPage>> {
    let settings = manager(conn, user_id, &slug)?;
    match roles::update(conn, actor, &slug, &name, &form.statements) {
        Ok(_) => Ok(Saved::Done(format!("{}?done=updated", settings.url(Section::Roles)))),
        Err(error) => {
            field_of(error, &mut form.errors)?;
            let page = RoleEditPage { base: settings.url(Section::Roles), nav: settings.nav, account, form };
            Ok(Saved::Refused(StatusCode::UNPROCESSABLE_ENTITY, Box::new(page)))
        }
    }
}

async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (user, params) = signed_in_form_with_lines(&req, &state, payload, FORM_LIMIT, &["statements"]).await?;
    let role = role_path(&req, path.into_inner())?;
    let form = posted(&params, role.1.as_str());
    let account = Account::from(&user);
    let user_id = user.user.id;
    let actor = Actor::User { id: user_id, client_ip: client_ip(&req) };
    let saved = state.db(move |conn| update_role(conn, &actor, account, user_id, role, form)).await.for_page(&req)?;
    Ok(respond(saved))
}

/// The confirmation page: whom deleting the role takes it from.
fn delete_page(
    conn: &mut DbConnection,
    settings: TeamSettings,
    account: Account,
    slug: &Slug,
    name: &RoleName,
    error: Option<String>,
) -> OpResult<RoleDeletePage> {
    let role = roles::show(conn, slug, name)?;
    let keys = deploy_keys::list(conn, slug, None)?
        .into_iter()
        .filter(|key| role.deploy_keys.contains(&key.id))
        .map(|key| format!("{} ({})", key.name, key.prefix))
        .collect();
    Ok(RoleDeletePage {
        base: settings.url(Section::Roles),
        nav: settings.nav,
        account,
        name: role.name,
        members: role.members,
        keys,
        error,
    })
}

async fn confirm_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let user = signed_in(&req, &state).await?;
    let (slug, name) = role_path(&req, path.into_inner())?;
    let account = Account::from(&user);
    let user_id = user.user.id;
    let page = state
        .db(move |conn| {
            let settings = manager(conn, user_id, &slug)?;
            delete_page(conn, settings, account, &slug, &name, None)
        })
        .await
        .for_page(&req)?;
    Ok(render(StatusCode::OK, &page))
}

/// Deletes the role; `force` (the confirmation listed holders) takes it from them too. A role
/// that came into use after a confirmation without holders is not deleted: the page is shown
/// again with them.
fn delete_role(
    conn: &mut DbConnection,
    actor: &Actor,
    account: Account,
    user_id: i64,
    (slug, name): (Slug, RoleName),
    force: bool,
) -> OpResult<Saved<RoleDeletePage>> {
    let settings = manager(conn, user_id, &slug)?;
    match roles::delete(conn, actor, &slug, &name, force) {
        Ok(_) => Ok(Saved::Done(format!("{}?done=deleted", settings.url(Section::Roles)))),
        Err(OpError::Conflict(_)) => {
            let error = Some("The role is now in use. Check whom it will be taken from and confirm again.".into());
            let page = delete_page(conn, settings, account, &slug, &name, error)?;
            Ok(Saved::Refused(StatusCode::CONFLICT, Box::new(page)))
        }
        Err(other) => Err(other),
    }
}

async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (user, params) = signed_in_form(&req, &state, payload, 4 * 1024).await?;
    let role = role_path(&req, path.into_inner())?;
    let force = params.first("force") == Some("1");
    let account = Account::from(&user);
    let user_id = user.user.id;
    let actor = Actor::User { id: user_id, client_ip: client_ip(&req) };
    let saved = state.db(move |conn| delete_role(conn, &actor, account, user_id, role, force)).await.for_page(&req)?;
    Ok(respond(saved))
}
