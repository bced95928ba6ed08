//! `/teams/<slug>/settings/roles` (SPEC §2, §6): the team's custom roles and where each is
//! used, for every member; creating, editing and deleting them for those who may
//! (`customRole:manage`, team admins), with the statements validated as they are saved.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::{Saved, Section, TeamRequest, TeamSettings, Visitor};
use crate::authz::{Action, Resource};
use crate::db::DbConnection;
use crate::domain::{RoleName, Slug};
use crate::ops::{OpError, OpResult, access, deploy_keys, roles};
use crate::ui::PageError;
use crate::ui::pages::{Account, FieldErrors, RoleDeletePage, RoleEditPage, RoleForm, RoleRow, RolesPage};

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

/// Refused (`Forbidden`) unless the member may manage roles.
fn manager(conn: &mut DbConnection, settings: &TeamSettings, user_id: i64) -> OpResult<()> {
    access::require(conn, user_id, Action::CustomRoleManage, &team_resource(settings))
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

async fn show(team: TeamRequest, query: web::Query<Notice>) -> Result<HttpResponse, PageError> {
    let notice = notice(&query);
    team.visit()
        .await?
        .show(Section::Roles, move |conn, settings, visitor| page(conn, settings, visitor.account, blank(), notice))
        .await
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
    settings: TeamSettings,
    Visitor { account, user_id, actor, slug }: Visitor,
    mut form: RoleForm,
) -> OpResult<Saved<RolesPage>> {
    manager(conn, &settings, user_id)?;
    match RoleName::parse(form.name.trim()) {
        Ok(name) => match roles::create(conn, &actor, &slug, &name, &form.statements) {
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
    Ok(Saved::refused(page(conn, settings, account, form, None)?))
}

fn posted(params: &crate::http::params::Params, name: &str) -> RoleForm {
    RoleForm {
        name: name.to_owned(),
        statements: params.first("statements").unwrap_or_default().to_owned(),
        errors: FieldErrors::default(),
    }
}

async fn create(team: TeamRequest, payload: web::Payload) -> Result<HttpResponse, PageError> {
    let (visit, params) = team.form(payload, FORM_LIMIT, &["statements"]).await?;
    let form = posted(&params, params.first("name").unwrap_or_default());
    let saved =
        visit.run(Section::Roles, move |conn, settings, visitor| create_role(conn, settings, visitor, form)).await?;
    Ok(saved.respond())
}

/// `/teams/<slug>/settings/roles/<name>[/delete]`: an unparsable name names nothing.
#[derive(serde::Deserialize)]
struct RolePath {
    name: String,
}

impl RolePath {
    fn parse(&self) -> Result<RoleName, OpError> {
        RoleName::parse(&self.name).map_err(|_| OpError::NotFound("no such role".into()))
    }
}

async fn edit(team: TeamRequest, path: web::Path<RolePath>) -> Result<HttpResponse, PageError> {
    team.visit()
        .await?
        .show(Section::Roles, move |conn, settings, visitor| {
            let name = path.parse()?;
            manager(conn, &settings, visitor.user_id)?;
            let role = roles::show(conn, &visitor.slug, &name)?;
            Ok(RoleEditPage {
                base: settings.url(Section::Roles),
                nav: settings.nav,
                account: visitor.account,
                form: RoleForm {
                    name: role.name,
                    statements: pretty(&role.statements),
                    errors: FieldErrors::default(),
                },
            })
        })
        .await
}

fn update_role(
    conn: &mut DbConnection,
    settings: TeamSettings,
    Visitor { account, user_id, actor, slug }: Visitor,
    name: &RoleName,
    mut form: RoleForm,
) -> OpResult<Saved<RoleEditPage>> {
    manager(conn, &settings, user_id)?;
    match roles::update(conn, &actor, &slug, name, &form.statements) {
        Ok(_) => Ok(Saved::Done(format!("{}?done=updated", settings.url(Section::Roles)))),
        Err(error) => {
            field_of(error, &mut form.errors)?;
            Ok(Saved::refused(RoleEditPage { base: settings.url(Section::Roles), nav: settings.nav, account, form }))
        }
    }
}

async fn update(
    team: TeamRequest,
    path: web::Path<RolePath>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (visit, params) = team.form(payload, FORM_LIMIT, &["statements"]).await?;
    let form = posted(&params, &path.name);
    let saved = visit
        .run(Section::Roles, move |conn, settings, visitor| update_role(conn, settings, visitor, &path.parse()?, form))
        .await?;
    Ok(saved.respond())
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

async fn confirm_delete(team: TeamRequest, path: web::Path<RolePath>) -> Result<HttpResponse, PageError> {
    team.visit()
        .await?
        .show(Section::Roles, move |conn, settings, visitor| {
            let name = path.parse()?;
            manager(conn, &settings, visitor.user_id)?;
            delete_page(conn, settings, visitor.account, &visitor.slug, &name, None)
        })
        .await
}

/// Deletes the role; `force` (the confirmation listed holders) takes it from them too. A role
/// that came into use after a confirmation without holders is not deleted: the page is shown
/// again with them.
fn delete_role(
    conn: &mut DbConnection,
    settings: TeamSettings,
    Visitor { account, user_id, actor, slug }: Visitor,
    name: &RoleName,
    force: bool,
) -> OpResult<Saved<RoleDeletePage>> {
    manager(conn, &settings, user_id)?;
    match roles::delete(conn, &actor, &slug, name, force) {
        Ok(_) => Ok(Saved::Done(format!("{}?done=deleted", settings.url(Section::Roles)))),
        Err(OpError::Conflict(_)) => {
            let error = Some("The role is now in use. Check whom it will be taken from and confirm again.".into());
            let page = delete_page(conn, settings, account, &slug, name, error)?;
            Ok(Saved::Refused(StatusCode::CONFLICT, Box::new(page)))
        }
        Err(other) => Err(other),
    }
}

async fn delete(
    team: TeamRequest,
    path: web::Path<RolePath>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (visit, params) = team.form(payload, 4 * 1024, &[]).await?;
    let force = params.first("force") == Some("1");
    let saved = visit
        .run(Section::Roles, move |conn, settings, visitor| delete_role(conn, settings, visitor, &path.parse()?, force))
        .await?;
    Ok(saved.respond())
}
