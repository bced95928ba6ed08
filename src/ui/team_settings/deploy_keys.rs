//! `/teams/<slug>/settings/deploy-keys` (SPEC §3, §6): the team's deploy keys that the person
//! may see (`deployKey:view` on the key's project), a form creating one where they may
//! (`deployKey:manage` on the target deployment, or on the project for a preview deploy key),
//! the new key shown once, and revocation behind a confirmation page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::{Section, TeamRequest, TeamSettings, Visitor};
use crate::authz::{Action, ProjectRef, Resource, ResourceKind};
use crate::db::DbConnection;
use crate::db::models::teams::Team;
use crate::domain::{DeploymentName, DisplayName, Invalid, RoleName, Slug};
use crate::http::params::Params;
use crate::ops::deploy_keys::{self, ExpiresIn, KeyActions, KeyOut, KeyTarget, NewKeyParams};
use crate::ops::{OpError, OpResult, access, deployments, projects, roles};
use crate::ui::pages::{
    Account, Choice, CredentialCreatedPage, DeployKeyRevokePage, DeployKeysPage, FieldErrors, KeyForm, KeyRow,
    TargetGroup,
};
use crate::ui::{PageError, render, see_other};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/teams/{slug}/settings/deploy-keys").get(show).post(create))
        .service(web::resource("/teams/{slug}/settings/deploy-keys/{id}/revoke").get(confirm_revoke).post(revoke));
}

/// The expiry `<select>`: label and seconds ahead (`None`: never). All are above SPEC §3's
/// 30-minute minimum.
const EXPIRIES: &[(&str, Option<i64>)] = &[
    ("Never", None),
    ("1 hour", Some(3_600)),
    ("1 day", Some(86_400)),
    ("7 days", Some(7 * 86_400)),
    ("30 days", Some(30 * 86_400)),
    ("90 days", Some(90 * 86_400)),
    ("1 year", Some(365 * 86_400)),
];

/// What the create form posted, as text: shown back as drafted when it is refused.
#[derive(Debug, Clone, Default)]
struct Draft {
    name: String,
    target: String,
    actions: Vec<String>,
    role: String,
    expires_in: String,
}

impl Draft {
    /// The blank form: SPEC §3's default actions ticked, no role, no expiry.
    fn blank() -> Draft {
        Draft {
            actions: Action::DEPLOY_KEY_DEFAULTS.iter().map(|a| a.as_str().to_owned()).collect(),
            ..Draft::default()
        }
    }

    fn posted(params: &Params) -> Draft {
        let field = |name| params.first(name).unwrap_or_default().to_owned();
        Draft {
            name: field("name"),
            target: field("target"),
            actions: params.pairs().filter(|(name, _)| *name == "action").map(|(_, v)| v.to_owned()).collect(),
            role: field("role"),
            expires_in: field("expires_in"),
        }
    }
}

/// One thing a key can be made for: a deployment of the team, or a project's preview
/// deployments (`preview:<team>:<project>`).
struct TargetChoice {
    /// The `<option>` value: `deployment:<name>` or `preview:<project-slug>`.
    value: String,
    label: String,
    project: String,
    target: KeyTarget,
    /// What `deployKey:manage` is judged on.
    resource: Resource,
}

/// Every target of the team, project by project: the preview deploy key first, then each
/// deployment.
fn targets(conn: &mut DbConnection, team: &Team) -> OpResult<Vec<TargetChoice>> {
    let team_slug = Slug::parse(&team.slug)?;
    let deployments = deployments::resources_in(conn, team.id)?;
    let mut choices = Vec::new();
    for project in projects::list_in(conn, team)? {
        choices.push(TargetChoice {
            value: format!("preview:{}", project.slug),
            label: format!("Preview deploy key for project {} (all its preview deployments)", project.slug),
            project: project.slug.clone(),
            target: KeyTarget::PreviewProject { team: team_slug.clone(), project: Slug::parse(&project.slug)? },
            resource: Resource::Project {
                team_id: team.id,
                project: ProjectRef { id: project.id, slug: project.slug.clone() },
            },
        });
        for resource in
            deployments.iter().filter(|r| matches!(r, Resource::Deployment { project: p, .. } if p.id == project.id))
        {
            let Resource::Deployment { deployment, .. } = resource else { continue };
            choices.push(TargetChoice {
                value: format!("deployment:{}", deployment.name),
                label: format!("{} ({})", deployment.name, deployment.deployment_type.as_str()),
                project: project.slug.clone(),
                target: KeyTarget::Deployment(DeploymentName::parse(&deployment.name)?),
                resource: resource.clone(),
            });
        }
    }
    Ok(choices)
}

fn row(key: KeyOut, revocable: bool) -> KeyRow {
    KeyRow {
        id: key.id,
        name: key.name,
        prefix: key.prefix,
        project: key.project,
        deployment: key.deployment,
        actions: key.actions,
        role: key.role,
        created_by: key.created_by,
        minted_by_app: key.minted_by_app,
        created: key.created_at,
        last_used: key.last_used_at,
        expires: key.expires_at,
        status: key.status,
        revocable,
    }
}

fn project_of(key: &KeyOut) -> Resource {
    Resource::Project { team_id: key.team_id, project: ProjectRef { id: key.project_id, slug: key.project.clone() } }
}

/// The deploy keys page with the form as drafted.
fn page(
    conn: &mut DbConnection,
    settings: TeamSettings,
    account: Account,
    choices: Vec<TargetChoice>,
    draft: &Draft,
    errors: FieldErrors,
    notice: Option<String>,
) -> OpResult<DeployKeysPage> {
    let TeamSettings { team, standing, nav } = settings;
    let mut keys = Vec::new();
    let mut hidden_keys = false;
    for key in deploy_keys::list(conn, &Slug::parse(&team.slug)?, None)? {
        if !standing.may(Action::DeployKeyView, &project_of(&key)) {
            hidden_keys = true;
            continue;
        }
        let revocable =
            key.is_active() && standing.may(Action::DeployKeyManage, &access::resource(conn, &key.acts_on()?)?);
        keys.push(row(key, revocable));
    }
    let mut targets: Vec<TargetGroup> = Vec::new();
    for choice in choices.into_iter().filter(|c| standing.may(Action::DeployKeyManage, &c.resource)) {
        let option = Choice { selected: choice.value == draft.target, value: choice.value, label: choice.label };
        match targets.last_mut() {
            Some(group) if group.project == choice.project => group.options.push(option),
            _ => targets.push(TargetGroup { project: choice.project, options: vec![option] }),
        }
    }
    let form = if targets.is_empty() {
        None
    } else {
        let actions = Action::of_kind(ResourceKind::Deployment)
            .map(|a| Choice {
                value: a.as_str().to_owned(),
                label: a.as_str().to_owned(),
                selected: draft.actions.iter().any(|d| d == a.as_str()),
            })
            .collect();
        let mut role_choices =
            vec![Choice { value: String::new(), label: "None".into(), selected: draft.role.is_empty() }];
        role_choices.extend(roles::list(conn, &Slug::parse(&team.slug)?)?.into_iter().map(|r| Choice {
            selected: r.name == draft.role,
            label: r.name.clone(),
            value: r.name,
        }));
        let expiries = EXPIRIES
            .iter()
            .map(|(label, seconds)| {
                let value = seconds.map(|s| s.to_string()).unwrap_or_default();
                Choice { selected: value == draft.expires_in, value, label: (*label).to_owned() }
            })
            .collect();
        Some(KeyForm { name: draft.name.clone(), targets, actions, roles: role_choices, expiries, errors })
    };
    Ok(DeployKeysPage {
        account,
        base: super::section_url(&team.slug, Section::DeployKeys),
        nav,
        notice,
        keys,
        hidden_keys,
        form,
    })
}

#[derive(serde::Deserialize)]
struct Notice {
    revoked: Option<String>,
}

async fn show(team: TeamRequest, query: web::Query<Notice>) -> Result<HttpResponse, PageError> {
    let notice =
        query.revoked.as_ref().map(|_| "Deploy key revoked. It stopped working immediately, everywhere.".to_owned());
    team.visit()
        .await?
        .show(Section::DeployKeys, move |conn, settings, visitor| {
            let choices = targets(conn, &settings.team)?;
            page(conn, settings, visitor.account, choices, &Draft::blank(), FieldErrors::default(), notice)
        })
        .await
}

/// The result of a create form.
enum Created {
    Key(Box<CredentialCreatedPage>),
    /// The form again, with the reasons next to the fields.
    Refused(Box<DeployKeysPage>),
}

/// The form's actions: every one must be a known deployment action (none ticked: SPEC §3's
/// defaults).
fn key_actions(names: &[String]) -> Result<KeyActions, Invalid> {
    let actions = names.iter().map(|n| n.parse::<Action>().map_err(Invalid)).collect::<Result<Vec<_>, _>>()?;
    KeyActions::new(Some(&actions))
}

fn expires_in(value: &str) -> Result<Option<ExpiresIn>, Invalid> {
    if value.is_empty() {
        return Ok(None);
    }
    let seconds = value.parse::<i64>().map_err(|_| Invalid::new("Choose an expiry from the list."))?;
    ExpiresIn::seconds(seconds).map(Some)
}

/// Checks the person may manage keys on the chosen target (`Forbidden` otherwise) before
/// anything else about the form, then validates it and creates the key, made by them.
fn create_key(
    conn: &mut DbConnection,
    settings: TeamSettings,
    Visitor { account, user_id, actor, slug }: Visitor,
    draft: Draft,
) -> OpResult<Created> {
    let choices = targets(conn, &settings.team)?;
    let mut errors = FieldErrors::default();
    let target = match choices.iter().position(|c| c.value == draft.target) {
        Some(index) => {
            access::require(conn, user_id, Action::DeployKeyManage, &choices[index].resource)?;
            Some(choices[index].target.clone())
        }
        None => {
            errors.add("target", "Choose one of this team's deployments, or a project's preview deploy key.");
            None
        }
    };
    let name = DisplayName::parse(&draft.name).map_err(|e| errors.add("name", e.0)).ok();
    let actions = key_actions(&draft.actions).map_err(|e| errors.add("actions", e.0)).ok();
    let role = match draft.role.as_str() {
        "" => Some(None),
        name => match RoleName::parse(name) {
            Ok(role) => match roles::show(conn, &slug, &role) {
                Ok(_) => Some(Some(role)),
                Err(OpError::NotFound(_)) => {
                    errors.add("role", format!("This team has no role named {role}."));
                    None
                }
                Err(other) => return Err(other),
            },
            Err(e) => {
                errors.add("role", e.0);
                None
            }
        },
    };
    let expires = expires_in(&draft.expires_in).map_err(|e| errors.add("expires_in", e.0)).ok();
    let (Some(target), Some(name), Some(actions), Some(role), Some(expires_in)) =
        (target, name, actions, role, expires)
    else {
        return Ok(Created::Refused(Box::new(page(conn, settings, account, choices, &draft, errors, None)?)));
    };
    let created = deploy_keys::create_as_member(
        conn,
        &actor,
        user_id,
        &NewKeyParams { target, name, actions, role, expires_in },
    )?;
    Ok(Created::Key(Box::new(CredentialCreatedPage {
        back: settings.url(Section::DeployKeys),
        back_label: "Back to deploy keys",
        nav: settings.nav,
        account,
        heading: format!("Deploy key “{}” created", created.listing.name),
        label: "Deploy key",
        secret: created.key,
        facts: Vec::new(),
        env_var: Some("PORTCULLIS_DEPLOY_KEY"),
    })))
}

async fn create(team: TeamRequest, payload: web::Payload) -> Result<HttpResponse, PageError> {
    let (visit, params) = team.form(payload, 16 * 1024, &[]).await?;
    let draft = Draft::posted(&params);
    let created = visit
        .run(Section::DeployKeys, move |conn, settings, visitor| create_key(conn, settings, visitor, draft))
        .await?;
    Ok(match created {
        Created::Key(page) => render(StatusCode::OK, &*page),
        Created::Refused(page) => render(StatusCode::UNPROCESSABLE_ENTITY, &*page),
    })
}

/// `/teams/<slug>/settings/deploy-keys/<id>/revoke`.
#[derive(serde::Deserialize)]
struct KeyPath {
    id: i64,
}

/// Key `id` of the team, for someone who may manage it (`deployKey:manage` where it acts):
/// `NotFound` for another team's key or one they may not even see, `Forbidden` otherwise.
fn manageable(conn: &mut DbConnection, settings: &TeamSettings, user_id: i64, id: i64) -> OpResult<KeyOut> {
    let key = deploy_keys::show(conn, id)?;
    if key.team_id != settings.team.id || !settings.standing.may(Action::DeployKeyView, &project_of(&key)) {
        return Err(OpError::NotFound(format!("no deploy key with id {id}")));
    }
    let acts_on = access::resource(conn, &key.acts_on()?)?;
    access::require(conn, user_id, Action::DeployKeyManage, &acts_on)?;
    Ok(key)
}

async fn confirm_revoke(team: TeamRequest, path: web::Path<KeyPath>) -> Result<HttpResponse, PageError> {
    let id = path.id;
    team.visit()
        .await?
        .show(Section::DeployKeys, move |conn, settings, visitor| {
            let key = manageable(conn, &settings, visitor.user_id, id)?;
            let revocable = key.is_active();
            Ok(DeployKeyRevokePage {
                base: settings.url(Section::DeployKeys),
                nav: settings.nav,
                account: visitor.account,
                key: row(key, revocable),
            })
        })
        .await
}

async fn revoke(team: TeamRequest, path: web::Path<KeyPath>, payload: web::Payload) -> Result<HttpResponse, PageError> {
    let id = path.id;
    let back = team
        .confirmed(payload)
        .await?
        .run(Section::DeployKeys, move |conn, settings, Visitor { user_id, actor, .. }| {
            let key = manageable(conn, &settings, user_id, id)?;
            deploy_keys::revoke(conn, &actor, key.id)?;
            Ok(format!("{}?revoked=1", settings.url(Section::DeployKeys)))
        })
        .await?;
    Ok(see_other(&back))
}
