//! `portcullis admin …` (SPEC §5): thin wrappers that parse flags into domain types, call one
//! use case, and print its result as one JSON object.

use clap::{Args, Subcommand};
use serde::Serialize;
use time::PrimitiveDateTime;

use serde_json::json;

use crate::authz::Action;
use crate::db::{DatabaseUrl, DbConnection};
use crate::domain::{
    AppName, DeploymentName, DeploymentType, DisplayName, Email, Password, RedirectUri, RedirectUris, ResourceUri,
    RoleName, Slug, TeamRole,
};
use crate::ops::audit::{AuditFilter, AuditKind};
use crate::ops::deploy_keys::{ExpiresIn, KeyActions, KeyTarget, NewKeyParams};
use crate::ops::page::PageRequest;
use crate::ops::{self, Actor, OpError};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Users: create, disable.
    #[command(subcommand)]
    User(UserCommand),
    /// Teams: create, update.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Team membership and roles.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Projects: create, update, delete.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Deployments: create (prints the admin key once), delete.
    #[command(subcommand)]
    Deployment(DeploymentCommand),
    /// OAuth applications.
    #[command(subcommand)]
    App(AppCommand),
    /// Backend credentials for platform services (introspection, /v1/check).
    #[command(subcommand)]
    Backend(BackendCommand),
    /// Resource servers tokens may be bound to (RFC 8707 resource indicators).
    #[command(subcommand)]
    Resource(ResourceCommand),
    /// A team's custom roles (SPEC §2 statements).
    #[command(subcommand)]
    Role(RoleCommand),
    /// Deploy keys for CI: create (prints the key once), list, revoke.
    #[command(subcommand)]
    DeployKey(DeployKeyCommand),
    /// A team's audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create {
        #[arg(long, value_parser = Email::parse)]
        email: Email,
        #[arg(long, value_parser = DisplayName::parse)]
        name: DisplayName,
        /// At least 8 characters.
        #[arg(long, value_parser = Password::parse)]
        password: Password,
    },
    /// Disable a user: no more logins, sessions end, every grant they made is revoked.
    Disable {
        #[arg(long, value_parser = Email::parse)]
        email: Email,
    },
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Create a team with an owner (an admin member).
    Create {
        #[arg(long, value_parser = Slug::parse)]
        slug: Slug,
        #[arg(long, value_parser = DisplayName::parse)]
        name: DisplayName,
        /// Email of an existing user.
        #[arg(long, value_parser = Email::parse)]
        owner: Email,
    },
    /// Change a team's slug or name (existing tokens keep working).
    Update {
        #[arg(long, value_parser = Slug::parse)]
        slug: Slug,
        #[command(flatten)]
        rename: Rename,
    },
}

/// The new slug and name of `team update` and `project update` (either may be left out).
#[derive(Debug, Args)]
pub struct Rename {
    #[arg(long, value_parser = Slug::parse)]
    new_slug: Option<Slug>,
    #[arg(long, value_parser = DisplayName::parse)]
    name: Option<DisplayName>,
}

#[derive(Debug, Args)]
pub struct MemberRef {
    /// Team slug.
    #[arg(long, value_parser = Slug::parse)]
    team: Slug,
    /// The member's email.
    #[arg(long, value_parser = Email::parse)]
    email: Email,
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// List a team's members with their roles and project-admin grants.
    List {
        /// Team slug.
        #[arg(long, value_parser = Slug::parse)]
        team: Slug,
    },
    /// Add a user to a team.
    Add {
        #[command(flatten)]
        member: MemberRef,
        /// admin or developer.
        #[arg(long, value_parser = TeamRole::parse)]
        role: TeamRole,
    },
    /// Change a member's role (takes effect on their tokens' next use).
    SetRole {
        #[command(flatten)]
        member: MemberRef,
        /// admin or developer.
        #[arg(long, value_parser = TeamRole::parse)]
        role: TeamRole,
    },
    /// Remove a member; every grant they made in the team is revoked for good.
    Remove {
        #[command(flatten)]
        member: MemberRef,
    },
    /// Give a member exactly these custom roles, in place of a built-in role.
    SetCustomRoles {
        #[command(flatten)]
        member: MemberRef,
        /// A role of the team; repeat for several (their allows add up).
        #[arg(long = "role", required = true, value_parser = RoleName::parse)]
        roles: Vec<RoleName>,
    },
    /// Make a member project admin of one project (or stop, with --off).
    SetProjectAdmin {
        #[command(flatten)]
        member: MemberRef,
        /// Project slug.
        #[arg(long, value_parser = Slug::parse)]
        project: Slug,
        #[arg(long)]
        off: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project in a team.
    Create {
        #[arg(long, value_parser = Slug::parse)]
        team: Slug,
        #[arg(long, value_parser = Slug::parse)]
        slug: Slug,
        #[arg(long, value_parser = DisplayName::parse)]
        name: DisplayName,
    },
    /// Change a project's slug or name (existing tokens keep working).
    Update {
        #[arg(long, value_parser = Slug::parse)]
        team: Slug,
        #[arg(long, value_parser = Slug::parse)]
        slug: Slug,
        #[command(flatten)]
        rename: Rename,
    },
    /// Delete a project and every credential scoped to it.
    Delete {
        #[arg(long, value_parser = Slug::parse)]
        team: Slug,
        #[arg(long, value_parser = Slug::parse)]
        slug: Slug,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeploymentCommand {
    /// Register a deployment; prints its name and its admin key (shown once).
    Create {
        #[arg(long, value_parser = Slug::parse)]
        team: Slug,
        #[arg(long, value_parser = Slug::parse)]
        project: Slug,
        /// prod, dev, preview or custom.
        #[arg(long = "type", value_parser = DeploymentType::parse)]
        deployment_type: DeploymentType,
        /// Globally unique name; generated (e.g. happy-otter-123) when omitted.
        #[arg(long, value_parser = DeploymentName::parse)]
        name: Option<DeploymentName>,
    },
    /// Delete a deployment and every credential scoped to it: its admin key and deploy keys.
    Delete {
        #[arg(value_parser = DeploymentName::parse)]
        name: DeploymentName,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// A team's audit events, newest first: {"items": [...], "next_cursor": "..." | null}.
    List {
        #[arg(long, value_parser = Slug::parse)]
        team: Slug,
        /// Only events at or after this RFC 3339 time (e.g. 2026-12-01T09:30:00Z).
        #[arg(long, value_parser = AuditFilter::instant)]
        since: Option<PrimitiveDateTime>,
        /// Only events before this RFC 3339 time.
        #[arg(long, value_parser = AuditFilter::instant)]
        until: Option<PrimitiveDateTime>,
        /// One action (member.remove) or a family (member. or member).
        #[arg(long, value_parser = AuditKind::parse)]
        kind: Option<AuditKind>,
        /// Events per page, 1 to 100 (default 50).
        #[arg(long)]
        limit: Option<i64>,
        /// The next_cursor of the previous page.
        #[arg(long)]
        cursor: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Register an OAuth application; prints client_id and (unless --public) client_secret.
    Create {
        /// Owning team's slug.
        #[arg(long, value_parser = Slug::parse)]
        team: Slug,
        /// 3 to 128 characters.
        #[arg(long, value_parser = AppName::parse)]
        name: AppName,
        /// Absolute http(s) URL without fragment; repeat for up to 20.
        #[arg(long = "redirect-uri", required = true, value_parser = RedirectUri::parse)]
        redirect_uris: Vec<RedirectUri>,
        /// A public client (PKCE, no secret).
        #[arg(long)]
        public: bool,
        /// Issue expiring access tokens (this many seconds) with rotating refresh tokens.
        #[arg(long, value_name = "SECONDS")]
        token_ttl: Option<i64>,
    },
    /// Rename an application (not once verified) and/or replace its redirect URIs; codes issued
    /// for a URI that is removed stop working.
    Update {
        #[arg(long)]
        client_id: String,
        #[arg(long, value_parser = AppName::parse)]
        name: Option<AppName>,
        /// The whole new list: repeat for up to 20.
        #[arg(long = "redirect-uri", value_parser = RedirectUri::parse)]
        redirect_uris: Vec<RedirectUri>,
    },
    /// Mark an application verified (lifts the unverified-app team limit).
    Verify {
        #[arg(long)]
        client_id: String,
    },
    /// Replace the client secret; the old one stops working immediately.
    RegenerateSecret {
        #[arg(long)]
        client_id: String,
    },
    /// Delete an application and all its grants.
    Delete {
        #[arg(long)]
        client_id: String,
    },
    /// List the applications no team owns: registered at /oauth/register (RFC 7591) and
    /// cached Client ID Metadata Documents.
    List {
        /// Only the dynamically registered ones.
        #[arg(long)]
        dynamic: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum BackendCommand {
    /// Create a backend credential; prints client_id and client_secret (shown once).
    Create {
        #[arg(long, value_parser = DisplayName::parse)]
        name: DisplayName,
    },
}

#[derive(Debug, Subcommand)]
pub enum ResourceCommand {
    /// Register a resource server; a token request's `resource` must name a registered one.
    Create {
        /// Its URI, exactly as clients will send it (https; http only on loopback).
        #[arg(long, value_parser = ResourceUri::parse)]
        uri: ResourceUri,
        /// Only project tokens of this deployment's project may be bound to it.
        #[arg(long, value_parser = DeploymentName::parse)]
        deployment: Option<DeploymentName>,
    },
    /// List the registered resource servers.
    List,
    /// Unregister a resource server: no new token can be bound to it.
    Delete {
        /// Its URI, as registered.
        uri: String,
    },
}

#[derive(Debug, Args)]
pub struct RoleRef {
    /// Team slug.
    #[arg(long, value_parser = Slug::parse)]
    team: Slug,
    /// Role name: 1-64 characters A-Z a-z 0-9 - _.
    #[arg(long, value_parser = RoleName::parse)]
    name: RoleName,
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Create a custom role from a JSON array of statements
    /// ({"effect": "allow"|"deny", "actions": [..]|"*", "resource": "team"|"project:SEL"|"project:SEL:deployment:SEL"}).
    Create {
        #[command(flatten)]
        role: RoleRef,
        #[arg(long)]
        statements: String,
    },
    /// List a team's roles, with the members and deploy keys holding each.
    List {
        #[arg(long, value_parser = Slug::parse)]
        team: Slug,
    },
    /// Replace a role's statements; holders follow on their next request.
    Update {
        #[command(flatten)]
        role: RoleRef,
        #[arg(long)]
        statements: String,
    },
    /// Delete a role. One in use needs --force, which takes it from its members and keys.
    Delete {
        #[command(flatten)]
        role: RoleRef,
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeployKeyCommand {
    /// Create a deploy key for a deployment (--deployment D), or a project's preview deploy key
    /// (--team S --project P --preview); prints "key" (shown once) and "id".
    Create {
        /// The deployment the key acts on; its type gives the key's prefix.
        #[arg(long, value_parser = DeploymentName::parse, required_unless_present = "preview",
              conflicts_with_all = ["team", "project", "preview"])]
        deployment: Option<DeploymentName>,
        /// Team slug (with --project and --preview).
        #[arg(long, value_parser = Slug::parse, requires_all = ["project", "preview"])]
        team: Option<Slug>,
        /// Project slug (with --team and --preview).
        #[arg(long, value_parser = Slug::parse, requires_all = ["team", "preview"])]
        project: Option<Slug>,
        /// A preview deploy key for the project: creates its preview deployments and acts on them.
        #[arg(long, requires_all = ["team", "project"])]
        preview: bool,
        /// What the key is for, e.g. "GitHub Actions" (1-100 characters).
        #[arg(long, value_parser = DisplayName::parse)]
        name: DisplayName,
        /// A deployment action the key may take; repeat. Default: deployment:view
        /// deployment:deploy builds:view builds:create builds:export builds:import env:write
        /// logs:view run releases:promote (the last only with a release id).
        #[arg(long = "action", value_name = "ACTION", value_parser = parse_action)]
        actions: Vec<Action>,
        /// A custom role of the team whose project and deployment statements extend the key.
        #[arg(long, value_parser = RoleName::parse)]
        role: Option<RoleName>,
        /// Expire this many seconds from now (at least 1800).
        #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, value_parser = ExpiresIn::parse)]
        expires_in: Option<ExpiresIn>,
        /// Email of the team member recorded as the key's creator.
        #[arg(long, value_name = "EMAIL", value_parser = Email::parse)]
        created_by: Option<Email>,
    },
    /// List a team's deploy keys (or one project's), newest first; never their secrets.
    List {
        #[arg(long, value_parser = Slug::parse)]
        team: Slug,
        #[arg(long, value_parser = Slug::parse)]
        project: Option<Slug>,
    },
    /// Revoke a deploy key: it stops on its next use.
    Revoke {
        #[arg(long)]
        id: i64,
    },
}

fn parse_action(value: &str) -> Result<Action, String> {
    value.parse()
}

fn print(value: impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(&value)?);
    Ok(())
}

pub fn run(url: &DatabaseUrl, command: AdminCommand) -> anyhow::Result<()> {
    let (mut conn, _) = crate::db::pool::connect_and_migrate(url)?;
    execute(&mut conn, command).map_err(|error| match error {
        OpError::Internal(cause) => cause,
        other => anyhow::anyhow!(other),
    })
}

fn execute(conn: &mut DbConnection, command: AdminCommand) -> Result<(), OpError> {
    let actor = Actor::Cli;
    let printed = match command {
        AdminCommand::User(UserCommand::Create { email, name, password }) => {
            print(ops::users::create(conn, &actor, &email, &name, &password)?)
        }
        AdminCommand::User(UserCommand::Disable { email }) => print(ops::users::disable(conn, &actor, &email)?),
        AdminCommand::Team(TeamCommand::Create { slug, name, owner }) => {
            print(ops::teams::create(conn, &actor, &slug, &name, &owner)?)
        }
        AdminCommand::Team(TeamCommand::Update { slug, rename }) => {
            print(ops::teams::update(conn, &actor, &slug, rename.new_slug.as_ref(), rename.name.as_ref())?)
        }
        AdminCommand::Member(MemberCommand::Add { member, role }) => {
            print(ops::members::add(conn, &actor, &member.team, &member.email, role)?)
        }
        AdminCommand::Member(MemberCommand::SetRole { member, role }) => {
            print(ops::members::set_role(conn, &actor, &member.team, &member.email, role)?)
        }
        AdminCommand::Member(MemberCommand::List { team }) => print(ops::members::list_in(conn, &team)?),
        AdminCommand::Member(MemberCommand::Remove { member }) => {
            print(ops::members::remove(conn, &actor, &member.team, &member.email)?)
        }
        AdminCommand::Member(MemberCommand::SetProjectAdmin { member, project, off }) => {
            print(ops::members::set_project_admin(conn, &actor, &member.team, &project, &member.email, !off)?)
        }
        AdminCommand::Project(ProjectCommand::Create { team, slug, name }) => {
            print(ops::projects::create(conn, &actor, &team, &slug, &name)?)
        }
        AdminCommand::Project(ProjectCommand::Update { team, slug, rename }) => {
            print(ops::projects::update(conn, &actor, &team, &slug, rename.new_slug.as_ref(), rename.name.as_ref())?)
        }
        AdminCommand::Project(ProjectCommand::Delete { team, slug }) => {
            print(ops::projects::delete(conn, &actor, &team, &slug)?)
        }
        AdminCommand::Deployment(DeploymentCommand::Create { team, project, deployment_type, name }) => {
            print(ops::deployments::create(conn, &actor, &team, &project, deployment_type, name.as_ref())?)
        }
        AdminCommand::Deployment(DeploymentCommand::Delete { name }) => {
            print(ops::deployments::delete(conn, &actor, &name)?)
        }
        AdminCommand::App(AppCommand::Create { team, name, redirect_uris, public, token_ttl }) => {
            print(ops::apps::create(
                conn,
                &actor,
                &ops::apps::NewAppParams {
                    team: &team,
                    name: &name,
                    redirect_uris: &RedirectUris::new(redirect_uris)?,
                    public,
                    token_ttl,
                },
            )?)
        }
        AdminCommand::App(AppCommand::Update { client_id, name, redirect_uris }) => {
            let uris = (!redirect_uris.is_empty()).then(|| RedirectUris::new(redirect_uris)).transpose()?;
            print(ops::apps::update(conn, &actor, &client_id, name.as_ref(), uris.as_ref())?)
        }
        AdminCommand::App(AppCommand::Verify { client_id }) => print(ops::apps::verify(conn, &actor, &client_id)?),
        AdminCommand::App(AppCommand::RegenerateSecret { client_id }) => {
            print(ops::apps::regenerate_secret(conn, &actor, &client_id)?)
        }
        AdminCommand::App(AppCommand::Delete { client_id }) => print(ops::apps::delete(conn, &actor, &client_id)?),
        AdminCommand::App(AppCommand::List { dynamic }) => {
            print(json!({ "apps": ops::apps::list_unowned(conn, dynamic)? }))
        }
        AdminCommand::Backend(BackendCommand::Create { name }) => print(ops::backends::create(conn, &actor, &name)?),
        AdminCommand::Resource(ResourceCommand::Create { uri, deployment }) => {
            print(ops::resources::create(conn, &actor, &uri, deployment.as_ref())?)
        }
        AdminCommand::Resource(ResourceCommand::List) => {
            print(json!({ "resource_servers": ops::resources::list(conn)? }))
        }
        AdminCommand::Resource(ResourceCommand::Delete { uri }) => print(ops::resources::delete(conn, &actor, &uri)?),
        AdminCommand::Member(MemberCommand::SetCustomRoles { member, roles }) => {
            print(ops::members::set_custom_roles(conn, &actor, &member.team, &member.email, &roles)?)
        }
        AdminCommand::Role(RoleCommand::Create { role, statements }) => {
            print(ops::roles::create(conn, &actor, &role.team, &role.name, &statements)?)
        }
        AdminCommand::Role(RoleCommand::List { team }) => print(json!({ "roles": ops::roles::list(conn, &team)? })),
        AdminCommand::Role(RoleCommand::Update { role, statements }) => {
            print(ops::roles::update(conn, &actor, &role.team, &role.name, &statements)?)
        }
        AdminCommand::Role(RoleCommand::Delete { role, force }) => {
            print(ops::roles::delete(conn, &actor, &role.team, &role.name, force)?)
        }
        AdminCommand::DeployKey(DeployKeyCommand::Create {
            deployment,
            team,
            project,
            preview: _,
            name,
            actions,
            role,
            expires_in,
            created_by,
        }) => {
            let target = match (deployment, team, project) {
                (Some(deployment), _, _) => KeyTarget::Deployment(deployment),
                (None, Some(team), Some(project)) => KeyTarget::PreviewProject { team, project },
                _ => return Err(OpError::Invalid("give --deployment D, or --team S --project P --preview".into())),
            };
            let params = NewKeyParams { target, name, actions: KeyActions::new(Some(&actions))?, role, expires_in };
            print(ops::deploy_keys::create(conn, &actor, &params, created_by.as_ref())?)
        }
        AdminCommand::DeployKey(DeployKeyCommand::List { team, project }) => {
            print(json!({ "deploy_keys": ops::deploy_keys::list(conn, &team, project.as_ref())? }))
        }
        AdminCommand::DeployKey(DeployKeyCommand::Revoke { id }) => print(ops::deploy_keys::revoke(conn, &actor, id)?),
        AdminCommand::Audit(AuditCommand::List { team, since, until, kind, limit, cursor }) => {
            let filter = AuditFilter::new(since, until, kind)?;
            let page = PageRequest::parse(limit, cursor.as_deref())?;
            print(ops::audit::list(conn, &actor, &team, &filter, page)?)
        }
    };
    printed.map_err(OpError::Internal)
}
