//! The consent page (SPEC §4, §6): what it says an approval lets the application do, and the
//! page built for one authorization request, one user and what they chose so far.

pub mod ticket;

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use url::Url;

use self::ticket::{Field, TicketError, TicketKey};
use super::PageError;
use super::pages::{Account, ConsentPage, ProjectOption, TeamChoice};
use super::session::SessionUser;
use crate::db::DbConnection;
use crate::domain::{Audience, DisplayName, MemberRole, Scope, Slug};
use crate::http::params::Params;
use crate::ops::apps::{Client, Owner};
use crate::ops::grants::ProjectChoice;
use crate::ops::{OpError, OpResult, projects, teams};

/// The RFC 8707 parameter that may repeat in a request the consent page carries.
pub const RESOURCE: &str = "resource";

/// The authorization request the page is about, already validated.
pub struct ConsentRequest<'a> {
    pub client: &'a Client,
    pub scope: Scope,
    /// The resource servers the token will be bound to, if the request named any.
    pub resources: Option<&'a Audience>,
    pub via: Via<'a>,
    /// The protocol parameters, as the form carries them back in hidden inputs.
    pub fields: &'a [(&'static str, String)],
    /// The consent ticket binding the decision to this page ([`ticket`]).
    pub ticket: String,
}

/// How the token reaches the application: which flow the page is part of.
pub enum Via<'a> {
    /// The browser goes back to this redirect URI (RFC 6749 §4.1).
    Redirect(&'a str),
    /// A device that shows this user code polls for it (RFC 8628).
    Device { user_code: String },
}

impl Via<'_> {
    /// Where the consent form posts, and where a team switch reloads the page (a GET with the
    /// same fields and `team`).
    fn paths(&self) -> (&'static str, &'static str) {
        match self {
            Via::Redirect(_) => ("/oauth/authorize", "/oauth/authorize"),
            Via::Device { .. } => ("/device/consent", "/device/consent"),
        }
    }
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
    let (action, reload) = request.via.paths();
    let (redirect_target, user_code) = match &request.via {
        Via::Redirect(uri) => (
            Some(Url::parse(uri).map(|u| u.origin().ascii_serialization()).unwrap_or_else(|_| (*uri).to_owned())),
            None,
        ),
        Via::Device { user_code } => (None, Some(user_code.clone())),
    };
    Ok(ConsentPage {
        action,
        account: Account::from(user),
        app_name: client.app.name.clone(),
        owner_team: match &client.owner {
            Owner::Team { slug, name } => Some((name.clone(), slug.clone())),
            Owner::Document { .. } | Owner::Registered => None,
        },
        owner_host: match &client.owner {
            Owner::Document { host } => Some(host.clone()),
            Owner::Team { .. } | Owner::Registered => None,
        },
        verified: client.app.verified_at.is_some(),
        abilities: abilities(request.scope, &team_name, role),
        project_scope: request.scope == Scope::Project,
        teams: memberships
            .iter()
            .map(|(team, _)| TeamChoice {
                slug: team.slug.clone(),
                name: team.name.clone(),
                href: format!("{reload}?{}", query_with_team(request.fields, &team.slug)),
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
        redirect_target,
        user_code,
        resources: Audience::listed(request.resources),
        error: draft.error,
    })
}

/// Now, in Unix seconds, as consent tickets count time.
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The consent ticket's fields for a page carrying the hidden `fields`: each of `names` with
/// its value, the values of [`RESOURCE`] joined by spaces (a resource URI has none).
pub fn bound_fields<'a>(names: &[&'a str], fields: &[(&str, String)]) -> Vec<(&'a str, Option<String>)> {
    names
        .iter()
        .map(|name| {
            let values: Vec<&str> = fields.iter().filter(|(field, _)| field == name).map(|(_, v)| v.as_str()).collect();
            (*name, (!values.is_empty()).then(|| values.join(" ")))
        })
        .collect()
}

/// SPEC §4: the decision stands only for the very request the page showed. The posted
/// protocol fields `names` (each at most once) must be those the session's consent ticket
/// covers.
pub fn check_ticket(
    req: &HttpRequest,
    tickets: &TicketKey,
    user: &SessionUser,
    params: &Params,
    names: &[&str],
) -> Result<(), PageError> {
    let posted: Option<Vec<(&str, Option<String>)>> = names
        .iter()
        .map(|name| match *name {
            RESOURCE => {
                let values: Vec<&str> = params.all(name).collect();
                Some((*name, (!values.is_empty()).then(|| values.join(" "))))
            }
            _ => params.get(name).ok().map(|value| (*name, value.map(str::to_owned))),
        })
        .collect();
    let ticket = params.get("consent_ticket").ok().flatten();
    let outcome = match posted {
        Some(posted) => {
            let posted: Vec<Field> = posted.iter().map(|(name, value)| (*name, value.as_deref())).collect();
            tickets.check(ticket, &user.session_hash(), &posted, unix_now())
        }
        None => Err(TicketError::Mismatch),
    };
    match outcome {
        Ok(()) => Ok(()),
        Err(TicketError::Expired) => Err(PageError::new(
            req,
            StatusCode::BAD_REQUEST,
            "This consent page has expired",
            "Nothing was sent to the application. Start again from the application.",
        )),
        Err(TicketError::Malformed | TicketError::Mismatch) => Err(PageError::new(
            req,
            StatusCode::BAD_REQUEST,
            "This consent form does not match the page you were shown",
            "The form was changed after it was shown, or was not shown to this session, so nothing was sent to any application. Start again from the application.",
        )),
    }
}

/// The user's choices on the consent form, parsed. `Err` is a message to show on the form.
pub fn choice<'a>(
    params: &Params,
    scope: Scope,
    slugs: &'a mut (Option<Slug>, Option<Slug>, Option<DisplayName>),
) -> Result<(&'a Slug, ProjectChoice<'a>), String> {
    let field =
        |name: &str| params.get(name).map_err(|r| format!("the form repeats {}", r.0)).map(|v| v.map(str::trim));
    let team = field("team")?.ok_or("Choose a team.")?;
    slugs.0 = Some(Slug::parse(team).map_err(|_| "Choose one of your teams.".to_owned())?);
    if scope == Scope::Project {
        match field("new_project_slug")? {
            Some(new_slug) => {
                let slug = Slug::parse(new_slug).map_err(|e| e.0)?;
                let name = field("new_project_name")?.unwrap_or(slug.as_str());
                slugs.2 = Some(DisplayName::parse(name).map_err(|e| e.0)?);
                slugs.1 = Some(slug);
            }
            None => {
                let project = field("project")?.ok_or("Choose a project, or create a new one.")?;
                slugs.1 = Some(Slug::parse(project).map_err(|_| "Choose one of the team's projects.".to_owned())?);
            }
        }
    }
    let (team, project, name) = (&slugs.0, &slugs.1, &slugs.2);
    let team = team.as_ref().ok_or("Choose a team.")?;
    let project = match (scope, project, name) {
        (Scope::Team, _, _) => ProjectChoice::None,
        (Scope::Project, Some(slug), Some(name)) => ProjectChoice::New { slug, name },
        (Scope::Project, Some(slug), None) => ProjectChoice::Existing(slug),
        (Scope::Project, None, _) => return Err("Choose a project, or create a new one.".into()),
    };
    Ok((team, project))
}

/// The status of a consent page shown again after the server refused the approval.
pub fn refusal_status(error: &OpError) -> StatusCode {
    match error {
        OpError::Forbidden(_) => StatusCode::FORBIDDEN,
        OpError::Conflict(_) => StatusCode::CONFLICT,
        OpError::Invalid(_) | OpError::NotFound(_) => StatusCode::UNPROCESSABLE_ENTITY,
        OpError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
