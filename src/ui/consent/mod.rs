//! The consent page (SPEC §4, §6): what it says an approval lets the application do, and the
//! page built for one authorization request, one user and what they chose so far.

pub mod ticket;

use url::Url;

use super::pages::{Account, ConsentPage, ProjectOption, TeamChoice};
use super::session::SessionUser;
use crate::db::DbConnection;
use crate::domain::{MemberRole, Scope};
use crate::ops::apps::Client;
use crate::ops::{OpResult, projects, teams};

/// The authorization request the page is about, already validated.
pub struct ConsentRequest<'a> {
    pub client: &'a Client,
    pub scope: Scope,
    pub redirect_uri: &'a str,
    /// The protocol parameters, as the form carries them back in hidden inputs.
    pub fields: &'a [(&'static str, String)],
    /// The consent ticket binding the decision to this page ([`ticket`]).
    pub ticket: String,
}

/// What the user asked for on a consent page that is shown again (with an error).
#[derive(Default)]
pub struct Draft {
    pub team: Option<String>,
    pub project: Option<String>,
    pub new_project_name: String,
    pub new_project_slug: String,
    pub error: Option<String>,
}

/// Plain-language description of what a token of `scope` can do for someone with `role`.
fn abilities(scope: Scope, team_name: &str, role: Option<MemberRole>) -> Vec<String> {
    let mut list = match scope {
        Scope::Project => vec![
            format!(
                "Work on one project of {team_name} that you choose below: see and update it and create deployments in it."
            ),
            "Deploy, run functions, read logs and data, and manage builds on that project's deployments.".to_owned(),
            "See and revoke the authorizations you made on that project.".to_owned(),
        ],
        Scope::Team => vec![
            format!("Work across {team_name}: every project and deployment in it, and new projects."),
            "Deploy, run functions, read logs and data, and manage builds on the team's deployments.".to_owned(),
            "See the team's members and applications, if your role can.".to_owned(),
        ],
    };
    list.push(match role {
        Some(MemberRole::Admin) => format!("Your role in {team_name} is admin, so that includes environment variables and production."),
        Some(MemberRole::Developer) => format!("Your role in {team_name} is developer: on production deployments it can only view, never deploy or read environment variables."),
        Some(MemberRole::Custom) => format!("Your custom roles in {team_name} decide exactly which of these it can do."),
        None => "You are not a member of this team.".to_owned(),
    });
    list.push("It can never invite or remove members, change roles, or manage OAuth applications.".to_owned());
    list
}

/// The query string of a GET authorization request for the same request with `team` chosen.
fn query_with_team(fields: &[(&'static str, String)], team: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        query.append_pair(name, value);
    }
    query.append_pair("team", team).finish()
}

/// Builds the consent page for `user`, with `draft` choices (the selected team defaults to
/// the drafted one when the user belongs to it, else their first team).
pub fn page(
    conn: &mut DbConnection,
    request: &ConsentRequest,
    user: &SessionUser,
    draft: Draft,
) -> OpResult<ConsentPage> {
    let memberships = teams::memberships(conn, user.user.id)?;
    let selected = draft
        .team
        .as_deref()
        .and_then(|slug| memberships.iter().find(|(t, _)| t.slug == slug))
        .or_else(|| memberships.first());
    let projects = match (selected, request.scope) {
        (Some((team, _)), Scope::Project) => projects::list_in(conn, team)?,
        _ => Vec::new(),
    };
    let selected_slug = selected.map(|(t, _)| t.slug.clone());
    let team_name = selected.map_or(String::new(), |(t, _)| t.name.clone());
    let role = selected.map(|(_, role)| *role);
    let client = request.client;
    Ok(ConsentPage {
        account: Account::from(user),
        app_name: client.app.name.clone(),
        owner_team_name: client.owner_name.clone(),
        owner_team_slug: client.owner_slug.clone(),
        verified: client.app.verified_at.is_some(),
        abilities: abilities(request.scope, &team_name, role),
        project_scope: request.scope == Scope::Project,
        teams: memberships
            .iter()
            .map(|(team, _)| TeamChoice {
                slug: team.slug.clone(),
                name: team.name.clone(),
                href: format!("/oauth/authorize?{}", query_with_team(request.fields, &team.slug)),
                selected: Some(&team.slug) == selected_slug.as_ref(),
            })
            .collect(),
        projects: projects
            .into_iter()
            .map(|p| ProjectOption {
                selected: draft.project.as_deref() == Some(p.slug.as_str()),
                slug: p.slug,
                name: p.name,
            })
            .collect(),
        hidden: request.fields.to_vec(),
        ticket: request.ticket.clone(),
        new_project_name: draft.new_project_name,
        new_project_slug: draft.new_project_slug,
        redirect_target: Url::parse(request.redirect_uri)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| request.redirect_uri.to_owned()),
        error: draft.error,
    })
}
