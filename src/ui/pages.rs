//! Page templates (`templates/`). Values are HTML-escaped by askama.

use askama::Template;

use super::session::SessionUser;

/// The signed-in header and the CSRF token every form of a page carries.
pub struct Account {
    pub email: String,
    pub csrf_token: String,
}

impl From<&SessionUser> for Account {
    fn from(session: &SessionUser) -> Self {
        Account { email: session.user.email.clone(), csrf_token: session.csrf_token() }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub request_id: &'a str,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub error: Option<&'a str>,
    pub email: &'a str,
    pub next: &'a str,
}

#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    /// The signed-in user, if any.
    pub account: Option<Account>,
}

pub struct TeamChoice {
    pub slug: String,
    pub name: String,
    pub href: String,
    pub selected: bool,
}

pub struct ProjectOption {
    pub slug: String,
    pub name: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage {
    pub account: Account,
    pub app_name: String,
    pub owner_team_name: String,
    pub owner_team_slug: String,
    pub verified: bool,
    pub abilities: Vec<String>,
    pub project_scope: bool,
    pub teams: Vec<TeamChoice>,
    pub projects: Vec<ProjectOption>,
    pub hidden: Vec<(&'static str, String)>,
    pub ticket: String,
    pub new_project_name: String,
    pub new_project_slug: String,
    pub redirect_target: String,
    pub error: Option<String>,
}

pub struct GrantRow {
    pub id: i64,
    pub app_name: String,
    pub user_email: String,
    pub team: String,
    pub project: Option<String>,
    pub created: String,
    pub last_used: Option<String>,
}

#[derive(Template)]
#[template(path = "grants.html")]
pub struct GrantsPage {
    pub account: Account,
    pub heading: String,
    pub intro: String,
    pub notice: Option<String>,
    pub grants: Vec<GrantRow>,
    pub show_user: bool,
    pub revoke_base: String,
    pub links: Vec<(String, String)>,
}
