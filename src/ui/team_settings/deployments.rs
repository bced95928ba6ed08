//! `/teams/<slug>/settings/deployments` (SPEC §2, §3, §6): the team's deployments the person may
//! see (`deployment:view`), and a form registering one in a project where they may
//! (`deployment:create`), which shows the deployment's admin key once — the only time it exists
//! outside the deployment.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::{Section, TeamRequest, TeamSettings, Visitor};
use crate::authz::{Action, ProjectRef, Resource};
use crate::db::DbConnection;
use crate::domain::{DeploymentName, DeploymentType, Slug};
use crate::ops::{OpResult, deployments, projects};
use crate::ui::pages::{
    Account, Choice, CredentialCreatedPage, DeploymentForm, DeploymentRow, DeploymentsPage, FieldErrors,
};
use crate::ui::{PageError, render};

const TYPES: [DeploymentType; 4] =
    [DeploymentType::Prod, DeploymentType::Dev, DeploymentType::Preview, DeploymentType::Custom];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/teams/{slug}/settings/deployments").get(show).post(create));
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
) -> OpResult<DeploymentsPage> {
    let TeamSettings { team, standing, nav } = settings;
    let rows = deployments::resources_in(conn, team.id)?
        .into_iter()
        .filter(|resource| standing.may(Action::DeploymentView, resource))
        .filter_map(|resource| match resource {
            Resource::Deployment { project, deployment, .. } => Some(DeploymentRow {
                name: deployment.name,
                deployment_type: deployment.deployment_type.as_str(),
                project: project.slug,
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
    Ok(DeploymentsPage { account, base: super::section_url(&team.slug, Section::Deployments), nav, rows, form })
}

async fn show(team: TeamRequest) -> Result<HttpResponse, PageError> {
    team.visit()
        .await?
        .show(Section::Deployments, |conn, settings, visitor| {
            page(conn, settings, visitor.account, &Draft::default(), FieldErrors::default())
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
        return Ok(Registered::Refused(Box::new(page(conn, settings, account, &draft, errors)?)));
    };
    let team = Slug::parse(&settings.team.slug)?;
    let created = match deployments::create(conn, &actor, &team, &project, deployment_type, name.as_ref()) {
        Ok(created) => created,
        Err(crate::ops::OpError::Conflict(message)) => {
            errors.add("name", message);
            return Ok(Registered::Refused(Box::new(page(conn, settings, account, &draft, errors)?)));
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
