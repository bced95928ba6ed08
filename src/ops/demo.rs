//! Seeding the demo data of `portcullis serve --demo`: a user, team, project, deployment and
//! public OAuth app, each created only when missing, so seeding twice is harmless.

use super::{Actor, OpResult, apps, deployments, projects, teams, users};
use crate::db::DbConnection;
use crate::db::models;
use crate::domain::{AppName, DeploymentName, DeploymentType, DisplayName, Email, Password, RedirectUris, Slug};

pub const EMAIL: &str = "demo@example.com";
pub const PASSWORD: &str = "portcullis-demo";
pub const TEAM: &str = "demo";
pub const PROJECT: &str = "web";
const DEPLOYMENT: &str = "demo-web-dev";
const APP_NAME: &str = "Demo Integration";

/// Creates whatever of the demo data is missing; returns the demo app's `client_id`. The app
/// is re-created when its redirect URI is not `callback` (the server moved to another port).
pub fn seed(conn: &mut DbConnection, callback: &str) -> OpResult<String> {
    let actor = Actor::System;
    let email = Email::parse(EMAIL)?;
    let team = Slug::parse(TEAM)?;
    let project = Slug::parse(PROJECT)?;
    if models::users::find_by_email(conn, EMAIL)?.is_none() {
        users::create(conn, &actor, &email, &DisplayName::parse("Demo User")?, &Password::parse(PASSWORD)?)?;
    }
    if models::teams::find_by_slug(conn, TEAM)?.is_none() {
        teams::create(conn, &actor, &team, &DisplayName::parse("Demo Team")?, &email)?;
    }
    let team_row = teams::require(conn, &team)?;
    if models::projects::find(conn, team_row.id, PROJECT)?.is_none() {
        projects::create(conn, &actor, &team, &project, &DisplayName::parse("Web")?)?;
    }
    if models::deployments::find_by_name(conn, DEPLOYMENT)?.is_none() {
        let name = DeploymentName::parse(DEPLOYMENT)?;
        deployments::create(conn, &actor, &team, &project, DeploymentType::Dev, Some(&name))?;
    }
    match models::apps::find_by_team_and_name(conn, team_row.id, APP_NAME)? {
        Some(app) if models::apps::redirect_uris(conn, app.id)? == [callback] => Ok(app.client_id),
        stale => {
            if let Some(app) = stale {
                apps::delete(conn, &actor, &app.client_id)?;
            }
            let created = apps::create(
                conn,
                &actor,
                &apps::NewAppParams {
                    team: &team,
                    name: &AppName::parse(APP_NAME)?,
                    redirect_uris: &RedirectUris::parse(&[callback])?,
                    public: true,
                    token_ttl: None,
                },
            )?;
            Ok(created.client_id)
        }
    }
}
