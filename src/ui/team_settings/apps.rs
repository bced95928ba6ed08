//! `/teams/<slug>/settings/apps` (SPEC §2, §6): the team's OAuth applications
//! (`oauthApp:view`) and, for those who may manage them (`oauthApp:manage`), registering one
//! (the client secret shown once), editing its name and redirect URIs, regenerating the secret
//! (the old one dead at once; the new one shown once) and deletion (every grant ends), both
//! behind a confirmation page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::{Confirm, Saved, Section, TeamRequest, TeamSettings, Visitor};
use crate::authz::{Action, Resource};
use crate::db::DbConnection;
use crate::domain::{AppName, RedirectUris};
use crate::http::params::Params;
use crate::ops::apps::{self, AppOut, NewAppParams};
use crate::ops::{OpError, OpResult, access};
use crate::ui::pages::{Account, AppEditPage, AppForm, AppRow, AppsPage, CredentialCreatedPage, FieldErrors};
use crate::ui::{PageError, render, see_other};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/teams/{slug}/settings/apps").get(show).post(register))
        .service(web::resource("/teams/{slug}/settings/apps/{client_id}").get(edit).post(update))
        .service(web::resource("/teams/{slug}/settings/apps/{client_id}/secret").get(confirm_secret).post(regenerate))
        .service(web::resource("/teams/{slug}/settings/apps/{client_id}/delete").get(confirm_delete).post(delete));
}

/// Forms of this page are small, but 20 redirect URIs of 2 KiB each must fit.
const FORM_LIMIT: usize = 64 * 1024;

/// The form as posted (or blank): redirect URIs one per line.
#[derive(Debug, Clone, Default)]
struct Draft {
    name: String,
    redirect_uris: String,
    public: bool,
    token_ttl: String,
}

impl Draft {
    fn posted(params: &Params) -> Draft {
        let field = |name| params.first(name).unwrap_or_default().trim().to_owned();
        Draft {
            name: field("name"),
            redirect_uris: params.first("redirect_uris").unwrap_or_default().to_owned(),
            public: params.first("public").is_some(),
            token_ttl: field("token_ttl"),
        }
    }

    fn of(app: &AppOut) -> Draft {
        Draft { name: app.name.clone(), redirect_uris: app.redirect_uris.join("\n"), ..Draft::default() }
    }

    fn name(&self, errors: &mut FieldErrors) -> Option<AppName> {
        AppName::parse(&self.name).map_err(|e| errors.add("name", e.0)).ok()
    }

    fn redirect_uris(&self, errors: &mut FieldErrors) -> Option<RedirectUris> {
        let lines: Vec<&str> = self.redirect_uris.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        RedirectUris::parse(&lines).map_err(|e| errors.add("redirect_uris", e.0)).ok()
    }

    fn token_ttl(&self, errors: &mut FieldErrors) -> Option<Option<i64>> {
        if self.token_ttl.is_empty() {
            return Some(None);
        }
        match self.token_ttl.parse::<i64>() {
            Ok(ttl) if apps::TOKEN_TTL_RANGE.contains(&ttl) => Some(Some(ttl)),
            _ => {
                let (low, high) = (apps::TOKEN_TTL_RANGE.start(), apps::TOKEN_TTL_RANGE.end());
                errors.add("token_ttl", format!("Give a number of seconds from {low} to {high}, or leave it empty."));
                None
            }
        }
    }

    fn form(&self, errors: FieldErrors) -> AppForm {
        AppForm {
            name: self.name.clone(),
            redirect_uris: self.redirect_uris.clone(),
            public: self.public,
            token_ttl: self.token_ttl.clone(),
            errors,
        }
    }
}

fn row(app: AppOut, limit: i64, manageable: bool) -> AppRow {
    AppRow {
        teams_used: (!app.verified).then(|| format!("{} of {limit} teams", app.teams_using)),
        client_id: app.client_id,
        name: app.name,
        redirect_uris: app.redirect_uris,
        kind: if app.public { "public (PKCE)" } else { "confidential" },
        public: app.public,
        verified: app.verified,
        manageable,
    }
}

fn page(
    conn: &mut DbConnection,
    limit: i64,
    settings: TeamSettings,
    account: Account,
    user_id: i64,
    form: AppForm,
    notice: Option<String>,
) -> OpResult<AppsPage> {
    let team = Resource::Team { team_id: settings.team.id };
    access::require(conn, user_id, Action::OauthAppView, &team)?;
    let manage = settings.standing.may(Action::OauthAppManage, &team);
    let rows = apps::list_in(conn, settings.team.id)?.into_iter().map(|app| row(app, limit, manage)).collect();
    Ok(AppsPage {
        account,
        base: settings.url(Section::Apps),
        nav: settings.nav,
        notice,
        rows,
        form: manage.then_some(form),
    })
}

#[derive(serde::Deserialize)]
struct Notice {
    deleted: Option<String>,
    saved: Option<String>,
}

async fn show(team: TeamRequest, query: web::Query<Notice>) -> Result<HttpResponse, PageError> {
    let notice = match (&query.deleted, &query.saved) {
        (Some(_), _) => Some("Application deleted. Every grant it held ended at once.".to_owned()),
        (_, Some(_)) => Some("Application saved.".to_owned()),
        _ => None,
    };
    let limit = team.state().settings.policy.unverified_app_team_limit;
    team.visit()
        .await?
        .show(Section::Apps, move |conn, settings, visitor| {
            let form = Draft::default().form(FieldErrors::default());
            page(conn, limit, settings, visitor.account, visitor.user_id, form, notice)
        })
        .await
}

/// The page showing a client secret once (after registration or regeneration).
fn secret_page(
    settings: TeamSettings,
    account: Account,
    heading: String,
    client_id: String,
    secret: String,
) -> CredentialCreatedPage {
    CredentialCreatedPage {
        back: settings.url(Section::Apps),
        back_label: "Back to OAuth applications",
        nav: settings.nav,
        account,
        heading,
        label: "Client secret",
        secret,
        facts: vec![("Client ID", client_id)],
        env_var: None,
    }
}

enum Registered {
    Confidential(Box<CredentialCreatedPage>),
    /// A public client has no secret: its page is the app's own.
    Public(String),
    Refused(Box<AppsPage>),
}

async fn register(team: TeamRequest, payload: web::Payload) -> Result<HttpResponse, PageError> {
    let limit = team.state().settings.policy.unverified_app_team_limit;
    let (visit, params) = team.form(payload, FORM_LIMIT, &["redirect_uris"]).await?;
    let draft = Draft::posted(&params);
    let registered = visit
        .run(Section::Apps, move |conn, settings, Visitor { account, user_id, actor, slug }| {
            access::require(conn, user_id, Action::OauthAppManage, &Resource::Team { team_id: settings.team.id })?;
            let mut errors = FieldErrors::default();
            let (name, uris, ttl) =
                (draft.name(&mut errors), draft.redirect_uris(&mut errors), draft.token_ttl(&mut errors));
            let (Some(name), Some(uris), Some(token_ttl)) = (name, uris, ttl) else {
                let page = page(conn, limit, settings, account, user_id, draft.form(errors), None)?;
                return Ok(Registered::Refused(Box::new(page)));
            };
            let params =
                NewAppParams { team: &slug, name: &name, redirect_uris: &uris, public: draft.public, token_ttl };
            let created = apps::create(conn, &actor, &params)?;
            Ok(match created.client_secret {
                Some(secret) => {
                    let heading = format!("Application “{}” registered", created.name);
                    Registered::Confidential(Box::new(secret_page(
                        settings,
                        account,
                        heading,
                        created.client_id,
                        secret,
                    )))
                }
                None => Registered::Public(format!("{}/{}", settings.url(Section::Apps), created.client_id)),
            })
        })
        .await?;
    Ok(match registered {
        Registered::Confidential(page) => render(StatusCode::OK, &*page),
        Registered::Public(location) => see_other(&location),
        Registered::Refused(page) => render(StatusCode::UNPROCESSABLE_ENTITY, &*page),
    })
}

/// `/teams/<slug>/settings/apps/<client_id>[/…]`.
#[derive(serde::Deserialize)]
struct AppPath {
    client_id: String,
}

/// App `client_id` of the team, for someone who may `action` on its apps; another team's app
/// does not exist here.
fn app(
    conn: &mut DbConnection,
    settings: &TeamSettings,
    user_id: i64,
    client_id: &str,
    action: Action,
) -> OpResult<AppOut> {
    access::require(conn, user_id, action, &Resource::Team { team_id: settings.team.id })?;
    apps::list_in(conn, settings.team.id)?
        .into_iter()
        .find(|a| a.client_id == client_id)
        .ok_or_else(|| OpError::NotFound("no such application".into()))
}

fn edit_page(
    limit: i64,
    settings: TeamSettings,
    account: Account,
    app: AppOut,
    draft: &Draft,
    errors: FieldErrors,
) -> AppEditPage {
    AppEditPage {
        base: settings.url(Section::Apps),
        nav: settings.nav,
        account,
        app: row(app, limit, true),
        form: draft.form(errors),
    }
}

async fn edit(team: TeamRequest, path: web::Path<AppPath>) -> Result<HttpResponse, PageError> {
    let client_id = path.into_inner().client_id;
    let limit = team.state().settings.policy.unverified_app_team_limit;
    team.visit()
        .await?
        .show(Section::Apps, move |conn, settings, visitor| {
            let app = app(conn, &settings, visitor.user_id, &client_id, Action::OauthAppManage)?;
            let draft = Draft::of(&app);
            Ok(edit_page(limit, settings, visitor.account, app, &draft, FieldErrors::default()))
        })
        .await
}

async fn update(team: TeamRequest, path: web::Path<AppPath>, payload: web::Payload) -> Result<HttpResponse, PageError> {
    let client_id = path.into_inner().client_id;
    let limit = team.state().settings.policy.unverified_app_team_limit;
    let (visit, params) = team.form(payload, FORM_LIMIT, &["redirect_uris"]).await?;
    let draft = Draft::posted(&params);
    let saved = visit
        .run(Section::Apps, move |conn, settings, Visitor { account, user_id, actor, .. }| {
            let app = app(conn, &settings, user_id, &client_id, Action::OauthAppManage)?;
            let mut errors = FieldErrors::default();
            if let (Some(name), Some(uris)) = (draft.name(&mut errors), draft.redirect_uris(&mut errors)) {
                match apps::update(conn, &actor, &client_id, Some(&name), Some(&uris)) {
                    Ok(_) => return Ok(Saved::Done(format!("{}?saved=1", settings.url(Section::Apps)))),
                    Err(OpError::Conflict(message)) => errors.add("name", message),
                    Err(other) => return Err(other),
                }
            }
            Ok(Saved::refused(edit_page(limit, settings, account, app, &draft, errors)))
        })
        .await?;
    Ok(saved.respond())
}

/// The confirmation of an irreversible step on an app; Cancel returns to the app's page.
fn confirm<'a>(app: &'a AppOut, step: &'a str, heading: String, text: String, button: &'static str) -> Confirm<'a> {
    Confirm { heading, text, item: &app.client_id, step, button, cancel_to_item: true }
}

async fn confirm_secret(team: TeamRequest, path: web::Path<AppPath>) -> Result<HttpResponse, PageError> {
    let client_id = path.into_inner().client_id;
    team.visit()
        .await?
        .show(Section::Apps, move |conn, settings, visitor| {
            let app = app(conn, &settings, visitor.user_id, &client_id, Action::OauthAppManage)?;
            if app.public {
                return Err(OpError::Invalid(format!("{} is a public client: it has no secret", app.name)));
            }
            let heading = format!("Regenerate the client secret of “{}”?", app.name);
            let text = "The current secret stops working at once, on every server: the application cannot \
                        exchange codes or refresh tokens until it is configured with the new one, shown once on \
                        the next page. Tokens already issued keep working."
                .to_owned();
            Ok(settings.confirm(
                visitor.account,
                Section::Apps,
                confirm(&app, "secret", heading, text, "Regenerate secret"),
            ))
        })
        .await
}

async fn regenerate(
    team: TeamRequest,
    path: web::Path<AppPath>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let client_id = path.into_inner().client_id;
    team.confirmed(payload)
        .await?
        .show(Section::Apps, move |conn, settings, Visitor { account, user_id, actor, .. }| {
            let app = app(conn, &settings, user_id, &client_id, Action::OauthAppManage)?;
            let regenerated = apps::regenerate_secret(conn, &actor, &client_id)?;
            let heading = format!("New client secret for “{}”", app.name);
            Ok(secret_page(settings, account, heading, regenerated.client_id, regenerated.client_secret))
        })
        .await
}

async fn confirm_delete(team: TeamRequest, path: web::Path<AppPath>) -> Result<HttpResponse, PageError> {
    let client_id = path.into_inner().client_id;
    team.visit()
        .await?
        .show(Section::Apps, move |conn, settings, visitor| {
            let app = app(conn, &settings, visitor.user_id, &client_id, Action::OauthAppManage)?;
            let heading = format!("Delete application “{}”?", app.name);
            let text = format!(
                "Every grant the application holds ends at once, on every server, for every team that \
                 authorized it ({} now), and its client id stops working. This cannot be undone.",
                app.teams_using
            );
            Ok(settings.confirm(
                visitor.account,
                Section::Apps,
                confirm(&app, "delete", heading, text, "Delete application"),
            ))
        })
        .await
}

async fn delete(team: TeamRequest, path: web::Path<AppPath>, payload: web::Payload) -> Result<HttpResponse, PageError> {
    let client_id = path.into_inner().client_id;
    let back = team
        .confirmed(payload)
        .await?
        .run(Section::Apps, move |conn, settings, Visitor { user_id, actor, .. }| {
            app(conn, &settings, user_id, &client_id, Action::OauthAppManage)?;
            apps::delete(conn, &actor, &client_id)?;
            Ok(format!("{}?deleted=1", settings.url(Section::Apps)))
        })
        .await?;
    Ok(see_other(&back))
}
