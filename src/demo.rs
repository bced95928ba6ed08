//! `portcullis serve --demo`: a demo user, team, project, deployment and OAuth app (created
//! once, reused after), a callback page that shows the code, and instructions on stdout.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::db::DbConnection;
use crate::db::models::{apps, deployments, projects, teams, users};
use crate::domain::{AppName, DeploymentName, DeploymentType, DisplayName, Email, Password, RedirectUris, Slug};
use crate::ops::{self, Actor};

const EMAIL: &str = "demo@example.com";
const PASSWORD: &str = "portcullis-demo";
const TEAM: &str = "demo";
const PROJECT: &str = "web";
const DEPLOYMENT: &str = "demo-web-dev";
const APP_NAME: &str = "Demo Integration";
/// A fixed PKCE verifier, so the printed URL and token command match (demo only!).
const VERIFIER: &str = "demo-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";

fn challenge() -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()))
}

fn parse<T>(value: Result<T, crate::domain::Invalid>) -> anyhow::Result<T> {
    value.map_err(|e| anyhow::anyhow!(e))
}

/// Creates whatever of the demo data is missing and prints how to try the flow.
pub fn seed(conn: &mut DbConnection, settings: &Settings) -> anyhow::Result<()> {
    let actor = Actor::System;
    let email = parse(Email::parse(EMAIL))?;
    let team = parse(Slug::parse(TEAM))?;
    let project = parse(Slug::parse(PROJECT))?;
    if users::find_by_email(conn, EMAIL)?.is_none() {
        ops::users::create(
            conn,
            &actor,
            &email,
            &parse(DisplayName::parse("Demo User"))?,
            &parse(Password::parse(PASSWORD))?,
        )?;
    }
    let team_row = match teams::find_by_slug(conn, TEAM)? {
        Some(team) => team,
        None => {
            ops::teams::create(conn, &actor, &team, &parse(DisplayName::parse("Demo Team"))?, &email)?;
            teams::find_by_slug(conn, TEAM)?.ok_or_else(|| anyhow::anyhow!("demo team vanished"))?
        }
    };
    if projects::find(conn, team_row.id, PROJECT)?.is_none() {
        ops::projects::create(conn, &actor, &team, &project, &parse(DisplayName::parse("Web"))?)?;
    }
    if deployments::find_by_name(conn, DEPLOYMENT)?.is_none() {
        let name = parse(DeploymentName::parse(DEPLOYMENT))?;
        ops::deployments::create(conn, &actor, &team, &project, DeploymentType::Dev, Some(&name))?;
    }
    let callback = settings.url("/demo/callback");
    let existing = apps::find_by_team_and_name(conn, team_row.id, APP_NAME)?;
    let client_id = match existing {
        Some(app) if apps::redirect_uris(conn, app.id)? == [callback.clone()] => app.client_id,
        stale => {
            if let Some(app) = stale {
                ops::apps::delete(conn, &actor, &app.client_id)?;
            }
            let created = ops::apps::create(
                conn,
                &actor,
                &ops::apps::NewAppParams {
                    team: &team,
                    name: &parse(AppName::parse(APP_NAME))?,
                    redirect_uris: &parse(RedirectUris::parse(&[callback.as_str()]))?,
                    public: true,
                    token_ttl: None,
                },
            )?;
            created.client_id
        }
    };
    let mut authorize = url::form_urlencoded::Serializer::new(String::new());
    authorize
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", &callback)
        .append_pair("scope", "project")
        .append_pair("state", "demo")
        .append_pair("code_challenge", &challenge())
        .append_pair("code_challenge_method", "S256");
    println!(
        "\nDemo data is ready.\n  1. Open {}/oauth/authorize?{}\n  2. Log in as {EMAIL} with password {PASSWORD}\n  3. Pick team \"{TEAM}\" and project \"{PROJECT}\", approve; the callback page shows the code and the command that exchanges it.\n",
        settings.issuer,
        authorize.finish()
    );
    DEMO_CLIENT_ID.set(client_id).ok();
    DEMO_TOKEN_ENDPOINT.set(settings.url("/oauth/token")).ok();
    DEMO_CALLBACK.set(callback).ok();
    Ok(())
}

static DEMO_CLIENT_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
static DEMO_TOKEN_ENDPOINT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
static DEMO_CALLBACK: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/demo/callback").get(callback));
}

#[derive(Template)]
#[template(path = "demo_callback.html")]
struct CallbackPage {
    code: Option<String>,
    error: Option<String>,
    command: String,
}

#[derive(serde::Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    error: Option<String>,
}

async fn callback(query: web::Query<CallbackQuery>) -> HttpResponse {
    let get = |cell: &std::sync::OnceLock<String>| cell.get().cloned().unwrap_or_default();
    let code = query.code.clone();
    let command = format!(
        "curl -s {} -d grant_type=authorization_code -d client_id={} -d redirect_uri={} -d code_verifier={VERIFIER} -d code={}",
        get(&DEMO_TOKEN_ENDPOINT),
        get(&DEMO_CLIENT_ID),
        get(&DEMO_CALLBACK),
        code.as_deref().unwrap_or("CODE"),
    );
    crate::ui::render(StatusCode::OK, &CallbackPage { code, error: query.error.clone(), command })
}
