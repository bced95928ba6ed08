//! Page templates (`templates/`). Values are HTML-escaped by askama.

use askama::Template;

use super::session::SessionUser;

/// The signed-in header — who, the teams whose settings they can open, logout — and the CSRF
/// token every form of a page carries.
pub struct Account {
    pub email: String,
    pub csrf_token: String,
    pub teams: Vec<TeamLink>,
}

/// A team in the header's team switcher: its settings.
pub struct TeamLink {
    pub name: String,
    pub href: String,
}

impl From<&SessionUser> for Account {
    fn from(session: &SessionUser) -> Self {
        let teams = session
            .teams
            .iter()
            .map(|team| TeamLink { name: team.name.clone(), href: format!("/teams/{}/settings", team.slug) })
            .collect();
        Account { email: session.user.email.clone(), csrf_token: session.csrf_token(), teams }
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

#[derive(Template)]
#[template(path = "device.html")]
pub struct DevicePage {
    pub account: Account,
    /// What the box holds: `verification_uri_complete`'s code, or what the user typed.
    pub user_code: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "device_done.html")]
pub struct DeviceDonePage {
    pub account: Account,
    pub app_name: String,
    pub approved: bool,
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
    /// Where the form posts: the browser flow's or the device flow's decision.
    pub action: &'static str,
    pub account: Account,
    pub app_name: String,
    /// The owning team's name and slug; `None` for an app no team owns.
    pub owner_team: Option<(String, String)>,
    /// A Client ID Metadata Document's host: who stands behind such an app (SPEC §7).
    pub owner_host: Option<String>,
    pub verified: bool,
    pub abilities: Vec<String>,
    pub project_scope: bool,
    pub teams: Vec<TeamChoice>,
    pub projects: Vec<ProjectOption>,
    pub hidden: Vec<(&'static str, String)>,
    pub ticket: String,
    pub new_project_name: String,
    pub new_project_slug: String,
    /// The browser flow: the origin the user is sent back to.
    pub redirect_target: Option<String>,
    /// The device flow: the code the device shows, for the user to compare (RFC 8628 §5.4).
    pub user_code: Option<String>,
    /// The resource servers (RFC 8707) the token will be accepted by, when the request names any.
    pub resources: Vec<String>,
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
    /// The resource servers (RFC 8707) its tokens are accepted by, when it names any.
    pub resources: Vec<String>,
    /// Whether the one looking may revoke it (SPEC §2 `token:revoke`).
    pub revocable: bool,
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
    /// The team settings tab bar, on a team's page.
    pub nav: Option<TeamNav>,
}

/// Messages shown next to the form fields they are about (`id="<field>-error"`, referenced by
/// the field's `aria-describedby`).
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push((field, message.into()));
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The tab bar of the team settings pages (`templates/team_nav.html`).
pub struct TeamNav {
    pub team_name: String,
    pub team_slug: String,
    pub tabs: Vec<Tab>,
}

pub struct Tab {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

/// An `<option>` or a checkbox.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The `<optgroup>` of one project in the deploy key target `<select>`.
pub struct TargetGroup {
    pub project: String,
    pub options: Vec<Choice>,
}

pub struct KeyRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub project: String,
    pub deployment: Option<String>,
    pub actions: Vec<String>,
    pub role: Option<String>,
    pub created_by: Option<String>,
    pub minted_by_app: Option<String>,
    pub created: String,
    pub last_used: Option<String>,
    pub expires: Option<String>,
    pub status: &'static str,
    /// The person may manage it (`deployKey:manage` where it acts) and it is still active.
    pub revocable: bool,
}

/// The create form of the deploy keys page, as drafted so far.
pub struct KeyForm {
    pub name: String,
    pub targets: Vec<TargetGroup>,
    pub actions: Vec<Choice>,
    pub roles: Vec<Choice>,
    pub expiries: Vec<Choice>,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "deploy_keys.html")]
pub struct DeployKeysPage {
    pub account: Account,
    pub nav: TeamNav,
    pub base: String,
    pub notice: Option<String>,
    pub keys: Vec<KeyRow>,
    /// Members who may see no project's keys see none (and are told so).
    pub hidden_keys: bool,
    /// `None` when the person may create a key nowhere.
    pub form: Option<KeyForm>,
}

pub struct DeploymentRow {
    pub name: String,
    pub deployment_type: &'static str,
    pub project: String,
    /// The person may delete it (`deployment:delete`).
    pub deletable: bool,
}

/// The form registering a deployment, for people who may in some project.
pub struct DeploymentForm {
    pub projects: Vec<Choice>,
    pub types: Vec<Choice>,
    pub name: String,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "deployments.html")]
pub struct DeploymentsPage {
    pub account: Account,
    pub nav: TeamNav,
    pub base: String,
    pub notice: Option<String>,
    pub rows: Vec<DeploymentRow>,
    /// `None` when the person may register a deployment nowhere.
    pub form: Option<DeploymentForm>,
}

/// The team's audit log (`ui::team_settings::audit`): the filter form as typed, its errors,
/// one page of events and the link to the older ones.
#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditLogPage {
    pub account: Account,
    pub nav: TeamNav,
    pub base: String,
    pub since: String,
    pub until: String,
    pub kind: String,
    pub errors: FieldErrors,
    pub rows: Vec<AuditRow>,
    /// The next page's URL (same filters, the cursor), when there are older events.
    pub older: Option<String>,
}

pub struct AuditRow {
    /// RFC 3339, UTC.
    pub time: String,
    pub actor: String,
    pub action: String,
    /// `<type> <id>`, e.g. `member 12`.
    pub target: String,
    pub client_ip: Option<String>,
}

/// A new credential, shown this once (a deploy key, a deployment's admin key).
#[derive(Template)]
#[template(path = "credential_created.html")]
pub struct CredentialCreatedPage {
    pub account: Account,
    pub nav: TeamNav,
    pub heading: String,
    /// What it is, e.g. "Deploy key".
    pub label: &'static str,
    pub secret: String,
    /// What else to note beside it, e.g. the client id: label and value.
    pub facts: Vec<(&'static str, String)>,
    /// The CI variable to paste it into, e.g. `PORTCULLIS_DEPLOY_KEY`.
    pub env_var: Option<&'static str>,
    pub back: String,
    pub back_label: &'static str,
}

#[derive(Template)]
#[template(path = "deploy_key_revoke.html")]
pub struct DeployKeyRevokePage {
    pub account: Account,
    pub nav: TeamNav,
    pub base: String,
    pub key: KeyRow,
}

pub struct RoleRow {
    pub name: String,
    /// The statements, pretty-printed JSON.
    pub statements: String,
    /// The holders' emails, for those who may see members (`member:view`).
    pub members: Option<Vec<String>>,
    pub member_count: usize,
    pub key_count: usize,
}

/// The name and statements of a role being created or edited.
pub struct RoleForm {
    pub name: String,
    pub statements: String,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "roles.html")]
pub struct RolesPage {
    pub account: Account,
    pub nav: TeamNav,
    pub base: String,
    pub notice: Option<String>,
    pub roles: Vec<RoleRow>,
    /// The create form, for those who may manage roles (`customRole:manage`).
    pub form: Option<RoleForm>,
}

#[derive(Template)]
#[template(path = "role_edit.html")]
pub struct RoleEditPage {
    pub account: Account,
    pub nav: TeamNav,
    pub base: String,
    pub form: RoleForm,
}

#[derive(Template)]
#[template(path = "role_delete.html")]
pub struct RoleDeletePage {
    pub account: Account,
    pub nav: TeamNav,
    pub base: String,
    pub name: String,
    pub members: Vec<String>,
    /// The deploy keys carrying it: name and prefix.
    pub keys: Vec<String>,
    pub error: Option<String>,
}

/// A yes-or-no page before something that cannot be undone: a CSRF-protected `POST` to
/// `action`, or back to `cancel`.
#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub account: Account,
    pub nav: TeamNav,
    pub heading: String,
    pub paragraphs: Vec<String>,
    pub action: String,
    pub button: &'static str,
    pub cancel: String,
}

pub struct MemberRow {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    /// `admin`, `developer`, or `custom: <names>`.
    pub role: String,
    /// Slugs of the projects they are project admin of.
    pub project_admin: Vec<String>,
    pub is_you: bool,
    /// The person may change their role (`member:updateRole`; never their own).
    pub editable: bool,
    pub removable: bool,
}

/// Adding an existing user to the team.
pub struct MemberForm {
    pub email: String,
    pub roles: Vec<Choice>,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "members.html")]
pub struct MembersPage {
    pub account: Account,
    pub nav: TeamNav,
    pub base: String,
    pub notice: Option<String>,
    pub rows: Vec<MemberRow>,
    /// For those who may add members (`member:invite`).
    pub form: Option<MemberForm>,
}

pub struct ProjectAdminRow {
    pub slug: String,
    pub name: String,
    pub on: bool,
}

#[derive(Template)]
#[template(path = "member_edit.html")]
pub struct MemberEditPage {
    pub account: Account,
    pub nav: TeamNav,
    pub base: String,
    pub member: MemberRow,
    /// `admin`, `developer`, and `custom` when the team has custom roles.
    pub roles: Vec<Choice>,
    pub custom_roles: Vec<Choice>,
    pub project_admin: Vec<ProjectAdminRow>,
    pub errors: FieldErrors,
}

pub struct ProjectRow {
    pub slug: String,
    pub name: String,
    pub created: String,
    pub editable: bool,
    pub deletable: bool,
}

/// A project's name and slug, being created or renamed.
pub struct ProjectForm {
    pub name: String,
    pub slug: String,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "projects.html")]
pub struct ProjectsPage {
    pub account: Account,
    pub nav: TeamNav,
    pub base: String,
    pub notice: Option<String>,
    pub rows: Vec<ProjectRow>,
    /// For those who may create projects (`project:create`).
    pub form: Option<ProjectForm>,
}

#[derive(Template)]
#[template(path = "project_edit.html")]
pub struct ProjectEditPage {
    pub account: Account,
    pub nav: TeamNav,
    pub base: String,
    /// The slug it has now.
    pub project: String,
    pub form: ProjectForm,
}

pub struct AppRow {
    pub client_id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    /// `confidential` or `public (PKCE)`.
    pub kind: &'static str,
    /// A public client has no secret to regenerate.
    pub public: bool,
    pub verified: bool,
    /// For an unverified app: the teams using it out of the limit.
    pub teams_used: Option<String>,
    pub manageable: bool,
}

/// Registering an app, or editing one (then `public` and `token_ttl` are not offered).
pub struct AppForm {
    pub name: String,
    /// One per line.
    pub redirect_uris: String,
    pub public: bool,
    pub token_ttl: String,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "apps.html")]
pub struct AppsPage {
    pub account: Account,
    pub nav: TeamNav,
    pub base: String,
    pub notice: Option<String>,
    pub rows: Vec<AppRow>,
    /// For those who may manage apps (`oauthApp:manage`).
    pub form: Option<AppForm>,
}

#[derive(Template)]
#[template(path = "app_edit.html")]
pub struct AppEditPage {
    pub account: Account,
    pub nav: TeamNav,
    pub base: String,
    pub app: AppRow,
    pub form: AppForm,
}
