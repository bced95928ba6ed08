//! `/teams/<slug>/settings/projects` (SPEC §2, §6): the team's projects (`project:view`),
//! creating one (`project:create`), renaming (`project:update`), and deletion behind a
//! confirmation page (`project:delete`), which ends every credential scoped to the project.

use actix_web::{HttpResponse, web};

use super::{Confirm, Saved, Section, TeamRequest, TeamSettings, Visitor};
use crate::authz::{Action, ProjectRef, Resource};
use crate::db::DbConnection;
use crate::db::models::projects::Project;
use crate::domain::{DisplayName, Slug};
use crate::http::params::Params;
use crate::ops::{OpError, OpResult, access, projects, rfc3339};
use crate::ui::pages::{Account, FieldErrors, ProjectEditPage, ProjectForm, ProjectRow, ProjectsPage};
use crate::ui::{PageError, see_other};

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

async fn show(team: TeamRequest, query: web::Query<Notice>) -> Result<HttpResponse, PageError> {
    let notice = query.deleted.as_ref().map(|_| "Project deleted, with every credential scoped to it.".to_owned());
    team.visit()
        .await?
        .show(Section::Projects, move |conn, settings, visitor| {
            page(conn, settings, visitor.account, &Draft::default(), FieldErrors::default(), notice)
        })
        .await
}

async fn create(team: TeamRequest, payload: web::Payload) -> Result<HttpResponse, PageError> {
    let (visit, params) = team.form(payload, 4 * 1024, &[]).await?;
    let draft = Draft::posted(&params);
    let saved = visit
        .run(Section::Projects, move |conn, settings, Visitor { account, user_id, actor, slug }| {
            access::require(conn, user_id, Action::ProjectCreate, &Resource::Team { team_id: settings.team.id })?;
            let mut errors = FieldErrors::default();
            if let Some((name, project)) = draft.parse(&mut errors) {
                match projects::create(conn, &actor, &slug, &project, &name) {
                    Ok(_) => return Ok(Saved::Done(settings.url(Section::Projects))),
                    Err(OpError::Conflict(message)) => errors.add("slug", message),
                    Err(other) => return Err(other),
                }
            }
            page(conn, settings, account, &draft, errors, None).map(Saved::refused)
        })
        .await?;
    Ok(saved.respond())
}

/// `/teams/<slug>/settings/projects/<project>[/delete]`.
#[derive(serde::Deserialize)]
struct ProjectPath {
    project: String,
}

/// Project `project` of the team, for someone who may `action` on it.
fn project(
    conn: &mut DbConnection,
    settings: &TeamSettings,
    user_id: i64,
    project: &str,
    action: Action,
) -> OpResult<Project> {
    let found = projects::list_in(conn, &settings.team)?
        .into_iter()
        .find(|p| p.slug == project)
        .ok_or_else(|| OpError::NotFound("no such project".into()))?;
    access::require(conn, user_id, action, &resource(settings.team.id, &found))?;
    Ok(found)
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

async fn edit(team: TeamRequest, path: web::Path<ProjectPath>) -> Result<HttpResponse, PageError> {
    let slug = path.into_inner().project;
    team.visit()
        .await?
        .show(Section::Projects, move |conn, settings, visitor| {
            let found = project(conn, &settings, visitor.user_id, &slug, Action::ProjectUpdate)?;
            let draft = Draft { name: found.name.clone(), slug: found.slug.clone() };
            Ok(edit_page(settings, visitor.account, &found, &draft, FieldErrors::default()))
        })
        .await
}

/// Renames a project (name, slug or both); tokens keep working.
async fn update(
    team: TeamRequest,
    path: web::Path<ProjectPath>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (visit, params) = team.form(payload, 4 * 1024, &[]).await?;
    let slug = path.into_inner().project;
    let draft = Draft::posted(&params);
    let saved = visit
        .run(Section::Projects, move |conn, settings, Visitor { account, user_id, actor, slug: team }| {
            let found = project(conn, &settings, user_id, &slug, Action::ProjectUpdate)?;
            let mut errors = FieldErrors::default();
            if let Some((name, new_slug)) = draft.parse(&mut errors) {
                let current = Slug::parse(&found.slug)?;
                match projects::update(conn, &actor, &team, &current, Some(&new_slug), Some(&name)) {
                    Ok(_) => return Ok(Saved::Done(settings.url(Section::Projects))),
                    Err(OpError::Conflict(message)) => errors.add("slug", message),
                    Err(other) => return Err(other),
                }
            }
            Ok(Saved::refused(edit_page(settings, account, &found, &draft, errors)))
        })
        .await?;
    Ok(saved.respond())
}

async fn confirm_delete(team: TeamRequest, path: web::Path<ProjectPath>) -> Result<HttpResponse, PageError> {
    let slug = path.into_inner().project;
    team.visit()
        .await?
        .show(Section::Projects, move |conn, settings, visitor| {
            let found = project(conn, &settings, visitor.user_id, &slug, Action::ProjectDelete)?;
            let confirm = Confirm {
                heading: format!("Delete project {}?", found.name),
                text: format!(
                    "Project {} is deleted with its deployments, their admin keys, its deploy keys and every \
                     application's access to it, at once and on every server. This cannot be undone.",
                    found.slug
                ),
                item: &found.slug,
                step: "delete",
                button: "Delete project",
                cancel_to_item: false,
            };
            Ok(settings.confirm(visitor.account, Section::Projects, confirm))
        })
        .await
}

async fn delete(
    team: TeamRequest,
    path: web::Path<ProjectPath>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let slug = path.into_inner().project;
    let back = team
        .confirmed(payload)
        .await?
        .run(Section::Projects, move |conn, settings, Visitor { user_id, actor, slug: team, .. }| {
            let found = project(conn, &settings, user_id, &slug, Action::ProjectDelete)?;
            projects::delete(conn, &actor, &team, &Slug::parse(&found.slug)?)?;
            Ok(format!("{}?deleted=1", settings.url(Section::Projects)))
        })
        .await?;
    Ok(see_other(&back))
}
