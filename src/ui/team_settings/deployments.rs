//! `/teams/<slug>/settings/deployments` (SPEC §2, §3, §6): the team's deployments the person may
//! see (`deployment:view`), a form registering one in a project where they may
//! (`deployment:create`), which shows the deployment's admin key once — the only time it exists
//! outside the deployment — and deletion behind a confirmation page (`deployment:delete`),
//! which ends its admin key and deploy keys.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::{Confirm, Section, TeamRequest, TeamSettings, Visitor};
use crate::authz::{Action, ProjectRef, Resource};
use crate::db::DbConnection;
use crate::domain::{DeploymentName, DeploymentType, Slug};
use crate::ops::{OpError, OpResult, access, deployments, projects};
use crate::ui::pages::{
    Account, Choice, CredentialCreatedPage, DeploymentForm, DeploymentRow, DeploymentsPage, FieldErrors,
};
use crate::ui::{PageError, render, see_other};

const TYPES: [DeploymentType; 4] =
    [DeploymentType::Prod, DeploymentType::Dev, DeploymentType::Preview, DeploymentType::Custom];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/teams/{slug}/settings/deployments").get(show).post(create))
        .service(web::resource("/teams/{slug}/settings/deployments/{name}/delete").get(confirm_delete).post(delete));
}

/// The form as posted (or blank).
#[derive(Debug, Clone, Default)]
struct Draft {
    project: String,
    deployment_type: String,
    name: String,
}

/// The page, with the form as drafted.
fn page(
    conn: &mut DbConnection,
    settings: TeamSettings,
    account: Account,
    draft: &Draft,
    errors: FieldErrors,
    notice: Option<String>,
) -> OpResult<DeploymentsPage> {
    let TeamSettings { team, standing, nav } = settings;
    let rows = deployments::resources_in(conn, team.id)?
        .into_iter()
        .filter(|resource| standing.may(Action::DeploymentView, resource))
        .filter_map(|resource| match &resource {
            Resource::Deployment { project, deployment, .. } => Some(DeploymentRow {
                deletable: standing.may(Action::DeploymentDelete, &resource),
                name: deployment.name.clone(),
                deployment_type: deployment.deployment_type.as_str(),
                project: project.slug.clone(),
            }),
            _ => None,
        })
        .collect();
    let projects: Vec<Choice> = projects::list_in(conn, &team)?
        .into_iter()
        .filter(|p| {
            let project =
                Resource::Project { team_id: team.id, project: ProjectRef { id: p.id, slug: p.slug.clone() } };
            standing.may(Action::DeploymentCreate, &project)
        })
        .map(|p| Choice { selected: p.slug == draft.project, label: format!("{} ({})", p.name, p.slug), value: p.slug })
        .collect();
    let form = (!projects.is_empty()).then(|| DeploymentForm {
        projects,
        types: TYPES
            .iter()
            .map(|t| Choice {
                value: t.as_str().into(),
                label: t.as_str().into(),
                selected: t.as_str() == draft.deployment_type,
            })
            .collect(),
        name: draft.name.clone(),
        errors,
    });
    Ok(DeploymentsPage { account, base: super::section_url(&team.slug, Section::Deployments), nav, notice, rows, form })
}

#[derive(serde::Deserialize)]
struct Notice {
    deleted: Option<String>,
}

async fn show(team: TeamRequest, query: web::Query<Notice>) -> Result<HttpResponse, PageError> {
    let notice =
        query.deleted.as_ref().map(|_| "Deployment deleted. Its admin key and deploy keys stopped working.".to_owned());
    team.visit()
        .await?
        .show(Section::Deployments, move |conn, settings, visitor| {
            page(conn, settings, visitor.account, &Draft::default(), FieldErrors::default(), notice)
        })
        .await
}

enum Registered {
    Deployment(Box<CredentialCreatedPage>),
    Refused(Box<DeploymentsPage>),
}

/// Checks `deployment:create` on the chosen project before anything else about the form, then
/// registers the deployment, made by the person.
fn register(
    conn: &mut DbConnection,
    settings: TeamSettings,
    Visitor { account, user_id, actor, .. }: Visitor,
    draft: Draft,
) -> OpResult<Registered> {
    let mut errors = FieldErrors::default();
    let project = match projects::list_in(conn, &settings.team)?.into_iter().find(|p| p.slug == draft.project) {
        Some(p) => {
            let resource =
                Resource::Project { team_id: settings.team.id, project: ProjectRef { id: p.id, slug: p.slug.clone() } };
            crate::ops::access::require(conn, user_id, Action::DeploymentCreate, &resource)?;
            Some(Slug::parse(&p.slug)?)
        }
        None => {
            errors.add("project", "Choose one of this team's projects.");
            None
        }
    };
    let deployment_type = DeploymentType::parse(&draft.deployment_type).map_err(|e| errors.add("type", e.0)).ok();
    let name = match draft.name.trim() {
        "" => Some(None),
        name => DeploymentName::parse(name).map(Some).map_err(|e| errors.add("name", e.0)).ok(),
    };
    let (Some(project), Some(deployment_type), Some(name)) = (project, deployment_type, name) else {
        return Ok(Registered::Refused(Box::new(page(conn, settings, account, &draft, errors, None)?)));
    };
    let team = Slug::parse(&settings.team.slug)?;
    let created = match deployments::create(conn, &actor, &team, &project, deployment_type, name.as_ref()) {
        Ok(created) => created,
        Err(crate::ops::OpError::Conflict(message)) => {
            errors.add("name", message);
            return Ok(Registered::Refused(Box::new(page(conn, settings, account, &draft, errors, None)?)));
        }
        Err(other) => return Err(other),
    };
    Ok(Registered::Deployment(Box::new(CredentialCreatedPage {
        back: settings.url(Section::Deployments),
        back_label: "Back to deployments",
        nav: settings.nav,
        account,
        heading: format!("Deployment {} ({}) registered", created.name, created.deployment_type),
        label: "Admin key",
        secret: created.admin_key,
        facts: Vec::new(),
        env_var: Some("PORTCULLIS_ADMIN_KEY"),
    })))
}

async fn create(team: TeamRequest, payload: web::Payload) -> Result<HttpResponse, PageError> {
    let (visit, params) = team.form(payload, 4 * 1024, &[]).await?;
    let field = |name| params.first(name).unwrap_or_default().to_owned();
    let draft = Draft { project: field("project"), deployment_type: field("type"), name: field("name") };
    let registered = visit
        .run(Section::Deployments, move |conn, settings, visitor| register(conn, settings, visitor, draft))
        .await?;
    Ok(match registered {
        Registered::Deployment(page) => render(StatusCode::OK, &*page),
        Registered::Refused(page) => render(StatusCode::UNPROCESSABLE_ENTITY, &*page),
    })
}

/// `/teams/<slug>/settings/deployments/<name>/delete`.
#[derive(serde::Deserialize)]
struct DeploymentPath {
    name: String,
}

/// Deployment `name` of the team, for someone who may delete it; another team's deployment, or
/// one they may not see, does not exist here.
fn deletable(conn: &mut DbConnection, settings: &TeamSettings, user_id: i64, name: &str) -> OpResult<DeploymentName> {
    let not_found = || OpError::NotFound(format!("no deployment named {name}"));
    let resource = deployments::resources_in(conn, settings.team.id)?
        .into_iter()
        .find(|r| matches!(r, Resource::Deployment { deployment, .. } if deployment.name == name))
        .filter(|r| settings.standing.may(Action::DeploymentView, r))
        .ok_or_else(not_found)?;
    access::require(conn, user_id, Action::DeploymentDelete, &resource)?;
    Ok(DeploymentName::parse(name)?)
}

async fn confirm_delete(team: TeamRequest, path: web::Path<DeploymentPath>) -> Result<HttpResponse, PageError> {
    team.visit()
        .await?
        .show(Section::Deployments, move |conn, settings, visitor| {
            let name = deletable(conn, &settings, visitor.user_id, &path.name)?;
            let confirm = Confirm {
                heading: format!("Delete deployment {name}?"),
                text: format!(
                    "Deployment {name} is deleted with its admin key and its deploy keys, which stop working at \
                     once, on every server. This cannot be undone."
                ),
                item: name.as_str(),
                step: "delete",
                button: "Delete deployment",
                cancel_to_item: false,
            };
            Ok(settings.confirm(visitor.account, Section::Deployments, confirm))
        })
        .await
}

async fn delete(
    team: TeamRequest,
    path: web::Path<DeploymentPath>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let back = team
        .confirmed(payload)
        .await?
        .run(Section::Deployments, move |conn, settings, Visitor { user_id, actor, .. }| {
            let name = deletable(conn, &settings, user_id, &path.name)?;
            deployments::delete(conn, &actor, &name)?;
            Ok(format!("{}?deleted=1", settings.url(Section::Deployments)))
        })
        .await?;
    Ok(see_other(&back))
}
