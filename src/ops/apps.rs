use serde::Serialize;
use serde_json::json;

use super::audit::{self, Actor, Event};
use super::{OpError, OpResult, access};
use crate::authz::{Action, Resource};
use crate::db::models::apps::{self, origin};
use crate::db::models::grants::Ending;
use crate::db::{DbConnection, now};
use crate::domain::{AppName, RedirectUri, RedirectUris, Slug};
use crate::tokens::secret::generate_hex_id;
use crate::tokens::{SecretHash, generate_secret};

/// Who stands behind a client, as the consent page names them (SPEC §4, §7).
pub enum Owner {
    Team {
        slug: String,
        name: String,
    },
    /// A Client ID Metadata Document: the host serving it is all that is known.
    Document {
        host: String,
    },
    /// Registered by anyone at `/oauth/register` (RFC 7591).
    Registered,
}

/// An OAuth client as an authorization request meets it: the app, who owns it, and the
/// redirect URIs it registered.
pub struct Client {
    pub app: apps::App,
    pub owner: Owner,
    pub redirect_uris: Vec<RedirectUri>,
}

/// The client `client_id` names, if it is registered.
pub fn client(conn: &mut DbConnection, client_id: &str) -> OpResult<Option<Client>> {
    let Some((app, team)) = apps::find_with_team(conn, client_id)? else {
        return Ok(None);
    };
    let owner = match team {
        Some((slug, name)) => Owner::Team { slug, name },
        None if app.origin == origin::METADATA_DOCUMENT => Owner::Document {
            host: url::Url::parse(&app.client_id)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default(),
        },
        None => Owner::Registered,
    };
    let redirect_uris =
        apps::redirect_uris(conn, app.id)?.iter().filter_map(|uri| RedirectUri::parse(uri).ok()).collect();
    Ok(Some(Client { app, owner, redirect_uris }))
}

/// Expiring tokens must live between a minute and a year.
pub const TOKEN_TTL_RANGE: std::ops::RangeInclusive<i64> = 60..=31_536_000;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedAppOut {
    pub id: i64,
    pub client_id: String,
    /// Shown once; only its hash is stored. Absent for public clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub name: String,
    pub team: String,
    pub redirect_uris: Vec<String>,
    pub public: bool,
    pub verified: bool,
    pub token_ttl: Option<i64>,
}

pub struct NewAppParams<'a> {
    pub team: &'a Slug,
    pub name: &'a AppName,
    pub redirect_uris: &'a RedirectUris,
    pub public: bool,
    pub token_ttl: Option<i64>,
}

pub fn create(conn: &mut DbConnection, actor: &Actor, params: &NewAppParams) -> OpResult<CreatedAppOut> {
    if let Some(ttl) = params.token_ttl
        && !TOKEN_TTL_RANGE.contains(&ttl)
    {
        return Err(OpError::Invalid(format!(
            "token TTL must be {} to {} seconds",
            TOKEN_TTL_RANGE.start(),
            TOKEN_TTL_RANGE.end()
        )));
    }
    let client_id = generate_hex_id::<16>();
    let secret = (!params.public).then(generate_secret);
    let secret_hash = secret.as_deref().map(SecretHash::of);
    let uris: Vec<&str> = params.redirect_uris.iter().map(|u| u.as_str()).collect();
    conn.write_transaction(|conn| {
        let team = access::visible_team(conn, actor, params.team)?;
        access::authorize(conn, actor, Action::OauthAppManage, &Resource::Team { team_id: team.id })?;
        let app = apps::create(
            conn,
            &apps::NewApp {
                team_id: Some(team.id),
                client_id: &client_id,
                name: params.name.as_str(),
                client_type: if params.public { "public" } else { "confidential" },
                secret_hash: secret_hash.as_ref().map(SecretHash::as_str),
                token_ttl_seconds: params.token_ttl,
                created_at: now(),
                origin: origin::TEAM,
                metadata_expires_at: None,
                client_uri: None,
                logo_uri: None,
            },
            &uris,
        )?;
        audit::record(
            conn,
            actor,
            Event {
                action: "app.create",
                target_type: "oauth_app",
                target_id: app.client_id.clone(),
                team_id: Some(team.id),
                details: json!({ "name": app.name, "public": params.public, "redirect_uris": uris, "token_ttl": params.token_ttl }),
            },
        )?;
        Ok(CreatedAppOut {
            id: app.id,
            client_id: app.client_id,
            client_secret: secret.clone(),
            name: app.name,
            team: team.slug,
            redirect_uris: uris.iter().map(|u| (*u).to_owned()).collect(),
            public: params.public,
            verified: false,
            token_ttl: params.token_ttl,
        })
    })
}

/// An app as its team's settings show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppOut {
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub public: bool,
    pub verified: bool,
    pub token_ttl: Option<i64>,
    /// Distinct teams holding a live grant: what the unverified-app limit counts (SPEC §2).
    pub teams_using: i64,
    pub created_at: String,
}

fn out(conn: &mut DbConnection, app: apps::App) -> OpResult<AppOut> {
    Ok(AppOut {
        id: app.id,
        redirect_uris: apps::redirect_uris(conn, app.id)?,
        teams_using: apps::teams_using(conn, app.id)?,
        public: app.is_public(),
        verified: app.verified_at.is_some(),
        token_ttl: app.token_ttl_seconds,
        created_at: super::rfc3339(app.created_at),
        client_id: app.client_id,
        name: app.name,
    })
}

/// The apps `team_id` owns, oldest first.
pub fn list_in(conn: &mut DbConnection, team_id: i64) -> OpResult<Vec<AppOut>> {
    apps::list_for_team(conn, team_id)?.into_iter().map(|app| out(conn, app)).collect()
}

/// App `client_id` as [`AppOut`].
pub fn show(conn: &mut DbConnection, client_id: &str) -> OpResult<AppOut> {
    let app = require(conn, client_id)?;
    out(conn, app)
}

/// App `client_id` of the team `team`, for an actor who may view the team's apps; an app of
/// another team does not exist here.
pub fn show_in(conn: &mut DbConnection, actor: &Actor, team: &Slug, client_id: &str) -> OpResult<AppOut> {
    let team = access::team(conn, actor, team, Action::OauthAppView)?;
    let app = require(conn, client_id)?;
    if app.team_id != Some(team.id) {
        return Err(OpError::NotFound(format!("no OAuth app with client id {client_id} in team {}", team.slug)));
    }
    out(conn, app)
}

/// Renames the app and/or replaces its redirect URIs (SPEC §2 validation by the domain types).
/// A verified app's name is frozen: people approved an app by that name. Codes issued for a
/// URI that is no longer registered die with it.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    client_id: &str,
    name: Option<&AppName>,
    redirect_uris: Option<&RedirectUris>,
) -> OpResult<AppOut> {
    conn.write_transaction(|conn| {
        let app = require_manageable(conn, actor, client_id)?;
        if let Some(name) = name
            && name.as_str() != app.name
        {
            if app.verified_at.is_some() {
                return Err(OpError::Conflict("a verified app's name cannot change".into()));
            }
            apps::set_name(conn, app.id, name.as_str())?;
        }
        let uris: Option<Vec<&str>> = redirect_uris.map(|uris| uris.iter().map(RedirectUri::as_str).collect());
        if let Some(uris) = &uris {
            apps::replace_redirect_uris(conn, app.id, uris)?;
        }
        audit::record(
            conn,
            actor,
            Event {
                action: "app.update",
                target_type: "oauth_app",
                target_id: app.client_id.clone(),
                team_id: app.team_id,
                details: json!({ "name": name.map(AppName::as_str), "redirect_uris": uris }),
            },
        )?;
        show(conn, client_id)
    })
}

/// App `client_id`, for an actor who may manage its team's apps (`oauthApp:manage`); an app
/// no team owns only an operator manages.
fn require_manageable(conn: &mut DbConnection, actor: &Actor, client_id: &str) -> OpResult<apps::App> {
    let app = require(conn, client_id)?;
    match app.team_id {
        Some(team_id) => access::authorize(conn, actor, Action::OauthAppManage, &Resource::Team { team_id })?,
        None if matches!(actor, Actor::Cli | Actor::System) => {}
        None => return Err(OpError::Forbidden("an app owned by no team is managed by an operator".into())),
    }
    Ok(app)
}

fn require(conn: &mut DbConnection, client_id: &str) -> OpResult<apps::App> {
    apps::find_by_client_id(conn, client_id)?
        .ok_or_else(|| OpError::NotFound(format!("no OAuth app with client id {client_id}")))
}

#[derive(Debug, Serialize)]
pub struct VerifiedOut {
    pub client_id: String,
    pub verified: bool,
}

/// Marks the app verified, lifting the unverified-app team limit.
pub fn verify(conn: &mut DbConnection, actor: &Actor, client_id: &str) -> OpResult<VerifiedOut> {
    conn.write_transaction(|conn| {
        if !matches!(actor, Actor::Cli | Actor::System) {
            return Err(OpError::Forbidden("apps are verified by an operator".into()));
        }
        let app = require(conn, client_id)?;
        apps::set_verified(conn, app.id, now())?;
        audit::record(
            conn,
            actor,
            Event {
                action: "app.verify",
                target_type: "oauth_app",
                target_id: app.client_id.clone(),
                team_id: app.team_id,
                details: json!({}),
            },
        )?;
        Ok(VerifiedOut { client_id: app.client_id, verified: true })
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SecretOut {
    pub client_id: String,
    pub client_secret: String,
}

/// Replaces the client secret; the old one stops working with this commit.
pub fn regenerate_secret(conn: &mut DbConnection, actor: &Actor, client_id: &str) -> OpResult<SecretOut> {
    let secret = generate_secret();
    conn.write_transaction(|conn| {
        let app = require_manageable(conn, actor, client_id)?;
        if app.is_public() {
            return Err(OpError::Invalid(format!("{client_id} is a public client: it has no secret")));
        }
        apps::set_secret_hash(conn, app.id, SecretHash::of(&secret).as_str())?;
        audit::record(
            conn,
            actor,
            Event {
                action: "app.regenerate_secret",
                target_type: "oauth_app",
                target_id: app.client_id.clone(),
                team_id: app.team_id,
                details: json!({}),
            },
        )?;
        Ok(SecretOut { client_id: app.client_id, client_secret: secret.clone() })
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeletedAppOut {
    pub client_id: String,
    pub deleted: bool,
    pub revoked_grants: i64,
}

/// Deletes the app with all its grants, tokens and codes (cascade), in one transaction.
pub fn delete(conn: &mut DbConnection, actor: &Actor, client_id: &str) -> OpResult<DeletedAppOut> {
    conn.write_transaction(|conn| {
        let app = require_manageable(conn, actor, client_id)?;
        let revoked_grants = super::grants::ending(conn, Ending::App(app.id))?;
        apps::delete(conn, app.id)?;
        audit::record(
            conn,
            actor,
            Event {
                action: "app.delete",
                target_type: "oauth_app",
                target_id: app.client_id.clone(),
                team_id: app.team_id,
                details: json!({ "name": app.name, "revoked_grants": revoked_grants }),
            },
        )?;
        Ok(DeletedAppOut { client_id: app.client_id, deleted: true, revoked_grants })
    })
}

/// A client registering itself (RFC 7591 §2), validated: always public.
pub struct Registration<'a> {
    pub name: &'a AppName,
    pub redirect_uris: &'a RedirectUris,
    pub client_uri: Option<&'a str>,
    pub logo_uri: Option<&'a str>,
}

/// Registers a public, unverified app owned by no team (origin `dynamic`), audited as
/// `app.registered` by `actor` (anonymous, with its address). RFC 7591 §3.
pub fn register(conn: &mut DbConnection, actor: &Actor, registration: &Registration) -> OpResult<apps::App> {
    let client_id = generate_hex_id::<16>();
    let uris: Vec<&str> = registration.redirect_uris.iter().map(RedirectUri::as_str).collect();
    conn.write_transaction(|conn| {
        let app = apps::create(
            conn,
            &apps::NewApp {
                client_uri: registration.client_uri,
                logo_uri: registration.logo_uri,
                ..apps::NewApp::unowned(&client_id, registration.name.as_str(), origin::DYNAMIC, now())
            },
            &uris,
        )?;
        audit::record(
            conn,
            actor,
            Event {
                action: "app.registered",
                target_type: "oauth_app",
                target_id: app.client_id.clone(),
                team_id: None,
                details: json!({ "name": app.name, "redirect_uris": uris }),
            },
        )?;
        Ok(app)
    })
}

/// An app no team owns, as `portcullis admin app list` shows it.
#[derive(Debug, Serialize)]
pub struct UnownedAppOut {
    pub id: i64,
    pub client_id: String,
    pub name: String,
    /// `dynamic` (RFC 7591) or `metadata_document`.
    pub origin: String,
    pub created_at: String,
    /// Live grants: what deleting the app ends.
    pub grants: i64,
}

/// The apps no team owns, oldest first: only the dynamically registered ones when `dynamic`.
pub fn list_unowned(conn: &mut DbConnection, dynamic: bool) -> OpResult<Vec<UnownedAppOut>> {
    apps::list_unowned(conn, dynamic.then_some(origin::DYNAMIC))?
        .into_iter()
        .map(|app| {
            Ok(UnownedAppOut {
                grants: apps::live_grants(conn, app.id)?,
                id: app.id,
                created_at: super::rfc3339(app.created_at),
                client_id: app.client_id,
                name: app.name,
                origin: app.origin,
            })
        })
        .collect()
}
