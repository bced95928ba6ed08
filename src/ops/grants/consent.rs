//! Consent: the user's approval on the consent page becomes an authorization code.

use serde_json::json;

use super::{GrantPolicy, check_unverified_limit, refuse};
use crate::authz::{Action, ProjectRef, Resource, decide};
use crate::db::DbConnection;
use crate::db::models::apps::App;
use crate::db::models::{codes, projects as project_rows, teams};
use crate::domain::{Audience, DisplayName, Scope, Slug};
use crate::ops::audit::{self, Actor, Event};
use crate::ops::{OpError, OpResult, projects};
use crate::ops::{access, resources};
use crate::telemetry::metrics::{self, TokenKind};
use crate::tokens::{SecretHash, generate_secret};

/// The project an approval grants, for project scope.
pub enum ProjectChoice<'a> {
    None,
    Existing(&'a Slug),
    New { slug: &'a Slug, name: &'a DisplayName },
}

/// A user's approval on the consent page, already validated against the authorization request.
pub struct Approval<'a> {
    pub app: &'a App,
    pub user_id: i64,
    pub team: &'a Slug,
    pub project: ProjectChoice<'a>,
    pub scope: Scope,
    pub redirect_uri: &'a str,
    pub code_challenge: Option<&'a str>,
    /// RFC 8707 resources the request asked for.
    pub resources: Option<&'a Audience>,
}

/// What the user chose on a consent page, for an app.
pub(super) struct Choice<'a> {
    pub app: &'a App,
    pub user_id: i64,
    pub team: &'a Slug,
    pub project: &'a ProjectChoice<'a>,
}

/// Checks, on the server and in the caller's transaction, that the user belongs to the team
/// and may grant `scope` there: see the project, or create the new one (which this does), and
/// refuses early when the unverified-app team limit is already reached (redemption enforces
/// it, under the app's lock). Returns the team and, for project scope, the project.
pub(super) fn resolve(
    conn: &mut DbConnection,
    actor: &Actor,
    choice: &Choice,
    scope: Scope,
    policy: &GrantPolicy,
) -> OpResult<(teams::Team, Option<project_rows::Project>)> {
    let team =
        teams::find_by_slug(conn, choice.team.as_str())?.ok_or_else(|| refuse("you are not a member of that team"))?;
    let subject =
        access::member(conn, choice.user_id, team.id)?.ok_or_else(|| refuse("you are not a member of that team"))?;
    check_unverified_limit(conn, choice.app, team.id, policy)?;
    let project = match (choice.project, scope) {
        (ProjectChoice::None, Scope::Team) => {
            if !decide(&subject, Action::TeamView, &Resource::Team { team_id: team.id }, None).allowed {
                return Err(refuse("your role in this team cannot grant team-wide access"));
            }
            None
        }
        (ProjectChoice::Existing(slug), Scope::Project) => {
            let project = project_rows::find(conn, team.id, slug.as_str())?
                .ok_or_else(|| OpError::Invalid(format!("no project {slug} in team {}", team.slug)))?;
            let resource = Resource::Project {
                team_id: team.id,
                project: ProjectRef { id: project.id, slug: project.slug.clone() },
            };
            if !decide(&subject, Action::ProjectView, &resource, None).allowed {
                return Err(refuse("your role in this team does not include that project"));
            }
            Some(project)
        }
        (ProjectChoice::New { slug, name }, Scope::Project) => {
            if !decide(&subject, Action::ProjectCreate, &Resource::Team { team_id: team.id }, None).allowed {
                return Err(refuse("your role in this team cannot create projects"));
            }
            Some(projects::create_in_tx(conn, actor, &team, slug, name)?)
        }
        (_, Scope::Project) => return Err(OpError::Invalid("choose a project or create one".into())),
        (_, Scope::Team) => return Err(OpError::Invalid("a team-wide grant has no project".into())),
    };
    Ok((team, project))
}

/// Records the user's approval and returns a fresh authorization code, after [`resolve`].
/// Creating a new project and issuing the code are one transaction.
pub fn approve(conn: &mut DbConnection, actor: &Actor, approval: &Approval, policy: &GrantPolicy) -> OpResult<String> {
    let code = generate_secret();
    let code_hash = SecretHash::of(&code);
    conn.write_transaction(|conn| {
        let now = crate::db::now();
        let choice =
            Choice { app: approval.app, user_id: approval.user_id, team: approval.team, project: &approval.project };
        let (team, project) = resolve(conn, actor, &choice, approval.scope, policy)?;
        resources::check_targets(conn, approval.resources, approval.scope, project.as_ref().map(|p| p.id))??;
        let resources = approval.resources.map(Audience::to_stored);
        codes::create(
            conn,
            &codes::NewCode {
                code_hash: code_hash.as_str(),
                app_id: approval.app.id,
                user_id: approval.user_id,
                team_id: team.id,
                project_id: project.as_ref().map(|p| p.id),
                scope: approval.scope.as_str(),
                redirect_uri: approval.redirect_uri,
                code_challenge: approval.code_challenge,
                created_at: now,
                expires_at: now + policy.code_ttl,
                resources: resources.as_deref(),
            },
        )?;
        audit::record(
            conn,
            actor,
            Event {
                action: "consent.approve",
                target_type: "oauth_app",
                target_id: approval.app.client_id.clone(),
                team_id: Some(team.id),
                details: json!({ "scope": approval.scope.as_str(), "project_id": project.as_ref().map(|p| p.id) }),
            },
        )?;
        Ok(code.clone())
    })
    .inspect(|_| metrics::issued(TokenKind::AuthorizationCode, 1))
}
