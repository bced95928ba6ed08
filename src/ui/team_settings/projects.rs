//! `/teams/<slug>/settings/projects` (SPEC §2, §6): the team's projects (`project:view`),
//! creating one (`project:create`), renaming (`project:update`), and deletion behind a
//! confirmation page (`project:delete`), which ends every credential scoped to the project.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::{Section, TeamSettings};
use crate::authz::{Action, ProjectRef, Resource};
use crate::db::DbConnection;
use crate::db::models::projects::Project;
use crate::domain::{DisplayName, Slug};
use crate::http::params::Params;
use crate::http::{AppState, client_ip};
use crate::ops::{Actor, OpError, OpResult, access, projects, rfc3339};
use crate::ui::pages::{Account, ConfirmPage, FieldErrors, ProjectEditPage, ProjectForm, ProjectRow, ProjectsPage};
use crate::ui::{ForPage, PageError, render, see_other, signed_in, signed_in_form};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/teams/{slug}/settings/projects").get(show).post(create))
        .service(web::resource("/teams/{slug}/settings/projects/{project}").get(edit).post(update))
        .service(web::resource("/teams/{slug}/settings/projects/{project}/delete").get(confirm_delete).post(delete));
}

fn resource(team_id: i64, project: &Project) -> Resource {
    Resource::Project { team_id, project: ProjectRef { id: project.id, slug: project.slug.clone() } }
}

/// The form as posted: name and slug.
#[derive(Debug, Clone, Default)]
struct Draft {
    name: String,
    slug: String,
}

impl Draft {
    fn posted(params: &Params) -> Draft {
        let field = |name| params.first(name).unwrap_or_default().trim().to_owned();
        Draft { name: field("name"), slug: field("slug") }
    }

    /// The parsed form, or the reasons next to the fields.
    fn parse(&self, errors: &mut FieldErrors) -> Option<(DisplayName, Slug)> {
        let name = DisplayName::parse(&self.name).map_err(|e| errors.add("name", e.0)).ok();
        let slug = Slug::parse(&self.slug).map_err(|e| errors.add("slug", e.0)).ok();
        name.zip(slug)
    }

    fn form(&self, errors: FieldErrors) -> ProjectForm {
        ProjectForm { name: self.name.clone(), slug: self.slug.clone(), errors }
    }
}

fn page(
    conn: &mut DbConnection,
    settings: TeamSettings,
    account: Account,
    draft: &Draft,
    errors: FieldErrors,
    notice: Option<String>,
) -> OpResult<ProjectsPage> {
    let team_id = settings.team.id;
    let rows = projects::list_in(conn, &settings.team)?
        .into_iter()
        .filter(|p| settings.standing.may(Action::ProjectView, &resource(team_id, p)))
        .map(|p| ProjectRow {
            editable: settings.standing.may(Action::ProjectUpdate, &resource(team_id, &p)),
            deletable: settings.standing.may(Action::ProjectDelete, &resource(team_id, &p)),
            created: rfc3339(p.created_at),
            slug: p.slug,
            name: p.name,
        })
        .collect();
    let form = settings.standing.may(Action::ProjectCreate, &Resource::Team { team_id }).then(|| draft.form(errors));
    Ok(ProjectsPage { account, base: settings.url(Section::Projects), nav: settings.nav, notice, rows, form })
}

#[derive(serde::Deserialize)]
struct Notice {
    deleted: Option<String>,
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
    let notice = query.deleted.as_ref().map(|_| "Project deleted, with every credential scoped to it.".to_owned());
    let page = state
        .db(move |conn| {
            let settings = TeamSettings::load(conn, user_id, &slug, Section::Projects)?;
            page(conn, settings, account, &Draft::default(), FieldErrors::default(), notice)
        })
        .await
        .for_page(&req)?;
    Ok(render(StatusCode::OK, &page))
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (user, params): (_, Params) = signed_in_form(&req, &state, payload, 4 * 1024).await?;
    let slug = Slug::parse(&path).map_err(|_| PageError::not_found(&req))?;
    let draft = Draft::posted(&params);
    let (account, user_id) = (Account::from(&user), user.user.id);
    let actor = Actor::User { id: user_id, client_ip: client_ip(&req) };
    let refused = state
        .db(move |conn| -> OpResult<Option<ProjectsPage>> {
            let settings = TeamSettings::load(conn, user_id, &slug, Section::Projects)?;
            access::require(conn, user_id, Action::ProjectCreate, &Resource::Team { team_id: settings.team.id })?;
            let mut errors = FieldErrors::default();
            if let Some((name, project)) = draft.parse(&mut errors) {
                match projects::create(conn, &actor, &slug, &project, &name) {
                    Ok(_) => return Ok(None),
                    Err(OpError::Conflict(message)) => errors.add("slug", message),
                    Err(other) => return Err(other),
                }
            }
            page(conn, settings, account, &draft, errors, None).map(Some)
        })
        .await
        .for_page(&req)?;
    Ok(match refused {
        None => see_other(&super::section_url(path.as_str(), Section::Projects)),
        Some(page) => render(StatusCode::UNPROCESSABLE_ENTITY, &page),
    })
}

/// Project `project` of the team, for someone who may `action` on it.
fn project(
    conn: &mut DbConnection,
    user_id: i64,
    team: &Slug,
    project: &str,
    action: Action,
) -> OpResult<(TeamSettings, Project)> {
    let settings = TeamSettings::load(conn, user_id, team, Section::Projects)?;
    let found = projects::list_in(conn, &settings.team)?
        .into_iter()
        .find(|p| p.slug == project)
        .ok_or_else(|| OpError::NotFound("no such project".into()))?;
    access::require(conn, user_id, action, &resource(settings.team.id, &found))?;
    Ok((settings, found))
}

fn edit_page(
    settings: TeamSettings,
    account: Account,
    project: &Project,
    draft: &Draft,
    errors: FieldErrors,
) -> ProjectEditPage {
    ProjectEditPage {
        base: settings.url(Section::Projects),
        nav: settings.nav,
        account,
        project: project.slug.clone(),
        form: draft.form(errors),
    }
}

async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let user = signed_in(&req, &state).await?;
    let (team, slug) = path.into_inner();
    let team = Slug::parse(&team).map_err(|_| PageError::not_found(&req))?;
    let (account, user_id) = (Account::from(&user), user.user.id);
    let page = state
        .db(move |conn| -> OpResult<_> {
            let (settings, found) = project(conn, user_id, &team, &slug, Action::ProjectUpdate)?;
            let draft = Draft { name: found.name.clone(), slug: found.slug.clone() };
            Ok(edit_page(settings, account, &found, &draft, FieldErrors::default()))
        })
        .await
        .for_page(&req)?;
    Ok(render(StatusCode::OK, &page))
}

/// Renames a project (name, slug or both); tokens keep working.
async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (user, params): (_, Params) = signed_in_form(&req, &state, payload, 4 * 1024).await?;
    let (team_text, slug) = path.into_inner();
    let team = Slug::parse(&team_text).map_err(|_| PageError::not_found(&req))?;
    let draft = Draft::posted(&params);
    let (account, user_id) = (Account::from(&user), user.user.id);
    let actor = Actor::User { id: user_id, client_ip: client_ip(&req) };
    let refused = state
        .db(move |conn| -> OpResult<Option<ProjectEditPage>> {
            let (settings, found) = project(conn, user_id, &team, &slug, Action::ProjectUpdate)?;
            let mut errors = FieldErrors::default();
            if let Some((name, new_slug)) = draft.parse(&mut errors) {
                let current = Slug::parse(&found.slug)?;
                match projects::update(conn, &actor, &team, &current, Some(&new_slug), Some(&name)) {
                    Ok(_) => return Ok(None),
                    Err(OpError::Conflict(message)) => errors.add("slug", message),
                    Err(other) => return Err(other),
                }
            }
            Ok(Some(edit_page(settings, account, &found, &draft, errors)))
        })
        .await
        .for_page(&req)?;
    Ok(match refused {
        None => see_other(&super::section_url(&team_text, Section::Projects)),
        Some(page) => render(StatusCode::UNPROCESSABLE_ENTITY, &page),
    })
}

async fn confirm_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let user = signed_in(&req, &state).await?;
    let (team, slug) = path.into_inner();
    let team = Slug::parse(&team).map_err(|_| PageError::not_found(&req))?;
    let (account, user_id) = (Account::from(&user), user.user.id);
    let page = state
        .db(move |conn| -> OpResult<ConfirmPage> {
            let (settings, found) = project(conn, user_id, &team, &slug, Action::ProjectDelete)?;
            let base = settings.url(Section::Projects);
            Ok(ConfirmPage {
                heading: format!("Delete project {}?", found.name),
                paragraphs: vec![format!(
                    "Project {} is deleted with its deployments, their admin keys, its deploy keys and every \
                     application's access to it, at once and on every server. This cannot be undone.",
                    found.slug
                )],
                action: format!("{base}/{}/delete", found.slug),
                button: "Delete project",
                cancel: base,
                nav: settings.nav,
                account,
            })
        })
        .await
        .for_page(&req)?;
    Ok(render(StatusCode::OK, &page))
}

async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (user, _) = signed_in_form(&req, &state, payload, 4 * 1024).await?;
    let (team_text, slug) = path.into_inner();
    let team = Slug::parse(&team_text).map_err(|_| PageError::not_found(&req))?;
    let user_id = user.user.id;
    let actor = Actor::User { id: user_id, client_ip: client_ip(&req) };
    state
        .db(move |conn| -> OpResult<()> {
            let (_, found) = project(conn, user_id, &team, &slug, Action::ProjectDelete)?;
            projects::delete(conn, &actor, &team, &Slug::parse(&found.slug)?).map(drop)
        })
        .await
        .for_page(&req)?;
    Ok(see_other(&format!("{}?deleted=1", super::section_url(&team_text, Section::Projects))))
}
