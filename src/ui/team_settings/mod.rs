//! Team settings (SPEC §6): `/teams/<slug>/settings/*`, one tab bar over deploy keys, custom
//! roles and (for admins) every grant on the team. Only members of the team see any of it;
//! everyone else gets the 404 page, as for a team that does not exist. What a member may do
//! on a page is decided by [`ops::access`] (SPEC §2), never here.

mod apps;
mod deploy_keys;
mod deployments;
mod members;
mod projects;
mod roles;

use actix_web::{HttpResponse, web};

use super::pages::{Tab, TeamNav};
use super::see_other;
use crate::authz::{Action, Resource};
use crate::db::DbConnection;
use crate::db::models::teams::Team;
use crate::domain::Slug;
use crate::ops::access::{self, Standing};
use crate::ops::{self, OpError, OpResult, teams};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/teams/{slug}/settings").get(landing));
    apps::configure(cfg);
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
        let not_found = || OpError::NotFound("no such team".into());
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
}
