//! Team settings (SPEC §6): `/teams/<slug>/settings/*`, one tab bar over deploy keys, custom
//! roles and (for admins) every grant on the team. Only members of the team see any of it;
//! everyone else gets the 404 page, as for a team that does not exist. What a member may do
//! on a page is decided by [`ops::access`] (SPEC §2), never here.

mod apps;
mod audit;
mod deploy_keys;
mod deployments;
mod members;
mod projects;
mod roles;

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;

use super::pages::{Account, ConfirmPage, Tab, TeamNav};
use super::session::SessionUser;
use super::{ForPage, PageError, render, see_other, signed_in, signed_in_form_with_lines};
use crate::authz::{Action, Resource};
use crate::db::DbConnection;
use crate::db::models::teams::Team;
use crate::domain::Slug;
use crate::http::params::Params;
use crate::http::{AppState, client_ip};
use crate::ops::access::{self, Standing};
use crate::ops::{self, Actor, OpError, OpResult, teams};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/teams/{slug}/settings").get(landing));
    apps::configure(cfg);
    audit::configure(cfg);
    deploy_keys::configure(cfg);
    deployments::configure(cfg);
    members::configure(cfg);
    projects::configure(cfg);
    roles::configure(cfg);
}

/// `/teams/<slug>/settings` lands on the first tab.
async fn landing(path: web::Path<String>) -> HttpResponse {
    let slug = url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
    see_other(&format!("/teams/{slug}/settings/{}", Section::DeployKeys.path()))
}

/// The tabs of the team settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Members,
    Projects,
    Apps,
    DeployKeys,
    Deployments,
    Roles,
    /// The team's grants (`ui::grants`), for its admins.
    Authorizations,
    /// The team's audit log, for those who may read it (`team:update`).
    Audit,
}

impl Section {
    fn path(self) -> &'static str {
        match self {
            Section::Members => "members",
            Section::Projects => "projects",
            Section::Apps => "apps",
            Section::DeployKeys => "deploy-keys",
            Section::Deployments => "deployments",
            Section::Roles => "roles",
            Section::Authorizations => "authorized-apps",
            Section::Audit => "audit",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Section::Members => "Members",
            Section::Projects => "Projects",
            Section::Apps => "OAuth apps",
            Section::DeployKeys => "Deploy keys",
            Section::Deployments => "Deployments",
            Section::Roles => "Roles",
            Section::Authorizations => "Authorizations",
            Section::Audit => "Audit log",
        }
    }
}

/// `/teams/<slug>/settings/<section>`.
pub fn section_url(team: &str, section: Section) -> String {
    format!("/teams/{team}/settings/{}", section.path())
}

/// A member looking at one tab of their team's settings: the team, their standing in it now,
/// and the tab bar.
pub struct TeamSettings {
    pub team: Team,
    pub standing: Standing,
    pub nav: TeamNav,
}

impl TeamSettings {
    /// `NotFound` for a team that does not exist and for one `user_id` is not a member of.
    pub fn load(conn: &mut DbConnection, user_id: i64, slug: &Slug, current: Section) -> OpResult<TeamSettings> {
        let not_found = OpError::no_such_team;
        let team = teams::require(conn, slug).map_err(|_| not_found())?;
        let standing = access::standing(conn, user_id, team.id)?.ok_or_else(not_found)?;
        let team_resource = Resource::Team { team_id: team.id };
        let mut sections = Vec::new();
        if standing.may(Action::MemberView, &team_resource) {
            sections.push(Section::Members);
        }
        sections.push(Section::Projects);
        if standing.may(Action::OauthAppView, &team_resource) {
            sections.push(Section::Apps);
        }
        sections.extend([Section::DeployKeys, Section::Deployments, Section::Roles]);
        if ops::grants::sees_team_grants(conn, team.id, user_id)? {
            sections.push(Section::Authorizations);
        }
        if standing.may(Action::TeamUpdate, &team_resource) {
            sections.push(Section::Audit);
        }
        let tabs = sections
            .into_iter()
            .map(|section| Tab {
                href: section_url(&team.slug, section),
                label: section.label(),
                current: section == current,
            })
            .collect();
        let nav = TeamNav { team_name: team.name.clone(), team_slug: team.slug.clone(), tabs };
        Ok(TeamSettings { team, standing, nav })
    }

    pub fn url(&self, section: Section) -> String {
        section_url(&self.team.slug, section)
    }

    /// The shared confirmation page (`templates/confirm.html`) of an irreversible step on one
    /// item of a tab: it posts to `<tab>/<item>/<step>`.
    pub fn confirm(self, account: Account, section: Section, confirm: Confirm) -> ConfirmPage {
        let base = self.url(section);
        ConfirmPage {
            heading: confirm.heading,
            paragraphs: vec![confirm.text],
            action: format!("{base}/{}/{}", confirm.item, confirm.step),
            button: confirm.button,
            cancel: match confirm.cancel_to_item {
                true => format!("{base}/{}", confirm.item),
                false => base,
            },
            nav: self.nav,
            account,
        }
    }
}

/// What a confirmation page asks ([`TeamSettings::confirm`]).
pub struct Confirm<'a> {
    pub heading: String,
    /// What happens, and that it cannot be undone.
    pub text: String,
    /// The item's path segment under the tab (a member's id, a project slug, …).
    pub item: &'a str,
    /// The step's path segment after it (`delete`, `remove`, …).
    pub step: &'a str,
    pub button: &'static str,
    /// Cancel returns to the item's own page instead of the tab.
    pub cancel_to_item: bool,
}

/// A request to a team-settings path (`/teams/{slug}/settings/...`), before anyone is asked
/// who is making it. Extracting it reads nothing; [`TeamRequest::visit`] (a page) and
/// [`TeamRequest::form`] (a form post) then decide, in the order every tab follows: the
/// form's body and its CSRF token, the signed-in user (or the way to the login page), then
/// the slug (one that cannot be a slug names nothing: 404).
pub struct TeamRequest {
    req: HttpRequest,
    state: web::Data<AppState>,
}

impl FromRequest for TeamRequest {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        ready(
            state
                .map(|state| TeamRequest { req: req.clone(), state })
                .ok_or_else(|| actix_web::error::ErrorInternalServerError("the application state is missing")),
        )
    }
}

impl TeamRequest {
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A page: the signed-in user on the team the path names.
    pub async fn visit(self) -> Result<TeamVisit, PageError> {
        let user = signed_in(&self.req, &self.state).await?;
        self.visited_by(&user)
    }

    /// A form post of at most `limit` bytes, its CSRF token checked before anything else;
    /// the fields named in `multiline` may hold line breaks (textareas).
    pub async fn form(
        self,
        payload: web::Payload,
        limit: usize,
        multiline: &[&str],
    ) -> Result<(TeamVisit, Params), PageError> {
        let (user, params) = signed_in_form_with_lines(&self.req, &self.state, payload, limit, multiline).await?;
        Ok((self.visited_by(&user)?, params))
    }

    /// The post of a confirmation page (nothing in it but the CSRF token).
    pub async fn confirmed(self, payload: web::Payload) -> Result<TeamVisit, PageError> {
        Ok(self.form(payload, 4 * 1024, &[]).await?.0)
    }

    fn visited_by(self, user: &SessionUser) -> Result<TeamVisit, PageError> {
        let slug = Slug::parse(self.req.match_info().get("slug").unwrap_or_default())
            .map_err(|_| PageError::not_found(&self.req))?;
        let visitor = Visitor {
            account: Account::from(user),
            user_id: user.user.id,
            actor: Actor::User { id: user.user.id, client_ip: client_ip(&self.req) },
            slug,
        };
        Ok(TeamVisit { req: self.req, state: self.state, visitor })
    }
}

/// Who is looking at a team's settings, as the database work of a page needs them: for the
/// header ([`Account`]), for decisions (`user_id`), as the author of changes (`actor`), and
/// the team the path names (`slug`; not yet known to exist, nor the visitor to be in it).
pub struct Visitor {
    pub account: Account,
    pub user_id: i64,
    pub actor: Actor,
    pub slug: Slug,
}

/// A signed-in user on a team-settings path ([`TeamRequest`]).
pub struct TeamVisit {
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
}

impl TeamVisit {
    /// The 400 page, for a form that cannot be read.
    pub fn bad_request(&self, message: impl Into<String>) -> PageError {
        PageError::bad_request(&self.req, message)
    }

    /// Runs a page's database work on the team's settings as the visitor sees them on the
    /// `section` tab: a team that does not exist, or one they are not a member of, is the 404
    /// page; what the work refuses is judged by [`PageError::op`].
    pub async fn run<T, F>(self, section: Section, work: F) -> Result<T, PageError>
    where
        F: FnOnce(&mut DbConnection, TeamSettings, Visitor) -> OpResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let TeamVisit { req, state, visitor } = self;
        state
            .db(move |conn| {
                let settings = TeamSettings::load(conn, visitor.user_id, &visitor.slug, section)?;
                work(conn, settings, visitor)
            })
            .await
            .for_page(&req)
    }

    /// [`TeamVisit::run`] for a page shown as it is (200).
    pub async fn show<P, F>(self, section: Section, work: F) -> Result<HttpResponse, PageError>
    where
        F: FnOnce(&mut DbConnection, TeamSettings, Visitor) -> OpResult<P> + Send + 'static,
        P: Template + Send + 'static,
    {
        let page = self.run(section, work).await?;
        Ok(render(StatusCode::OK, &page))
    }
}

/// A form's result: where to go next (303), or the page again with the reasons next to the
/// fields (and its status: 422, or 409 when the world changed under the form).
pub enum Saved<P> {
    Done(String),
    Refused(StatusCode, Box<P>),
}

impl<P: Template> Saved<P> {
    /// The form refused for what was posted: 422.
    pub fn refused(page: P) -> Saved<P> {
        Saved::Refused(StatusCode::UNPROCESSABLE_ENTITY, Box::new(page))
    }

    pub fn respond(self) -> HttpResponse {
        match self {
            Saved::Done(location) => see_other(&location),
            Saved::Refused(status, page) => render(status, &*page),
        }
    }
}
