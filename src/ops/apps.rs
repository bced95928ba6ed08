use serde::Serialize;
use serde_json::json;

use super::audit::{self, Actor, Event};
use super::{OpError, OpResult, teams};
use crate::db::models::{apps, grants};
use crate::db::{DbConnection, now};
use crate::domain::{AppName, RedirectUri, RedirectUris, Slug};
use crate::tokens::secret::generate_hex_id;
use crate::tokens::{SecretHash, generate_secret};

/// An OAuth client as an authorization request meets it: the app, its owning team, and the
/// redirect URIs it registered.
pub struct Client {
    pub app: apps::App,
    pub owner_slug: String,
    pub owner_name: String,
    pub redirect_uris: Vec<RedirectUri>,
}

/// The client `client_id` names, if it is registered.
pub fn client(conn: &mut DbConnection, client_id: &str) -> OpResult<Option<Client>> {
    let Some((app, owner_slug, owner_name)) = apps::find_with_team(conn, client_id)? else {
        return Ok(None);
    };
    let redirect_uris =
        apps::redirect_uris(conn, app.id)?.iter().filter_map(|uri| RedirectUri::parse(uri).ok()).collect();
    Ok(Some(Client { app, owner_slug, owner_name, redirect_uris }))
}

/// Expiring tokens must live between a minute and a year.
pub const TOKEN_TTL_RANGE: std::ops::RangeInclusive<i64> = 60..=31_536_000;

#[derive(Debug, Serialize)]
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
        let team = teams::require(conn, params.team)?;
        let app = apps::create(
            conn,
            &apps::NewApp {
                team_id: team.id,
                client_id: &client_id,
                name: params.name.as_str(),
                client_type: if params.public { "public" } else { "confidential" },
                secret_hash: secret_hash.as_ref().map(SecretHash::as_str),
                token_ttl_seconds: params.token_ttl,
                created_at: now(),
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
        let app = require(conn, client_id)?;
        apps::set_verified(conn, app.id, now())?;
        audit::record(
            conn,
            actor,
            Event {
                action: "app.verify",
                target_type: "oauth_app",
                target_id: app.client_id.clone(),
                team_id: Some(app.team_id),
                details: json!({}),
            },
        )?;
        Ok(VerifiedOut { client_id: app.client_id, verified: true })
    })
}

#[derive(Debug, Serialize)]
pub struct SecretOut {
    pub client_id: String,
    pub client_secret: String,
}

/// Replaces the client secret; the old one stops working with this commit.
pub fn regenerate_secret(conn: &mut DbConnection, actor: &Actor, client_id: &str) -> OpResult<SecretOut> {
    let secret = generate_secret();
    conn.write_transaction(|conn| {
        let app = require(conn, client_id)?;
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
                team_id: Some(app.team_id),
                details: json!({}),
            },
        )?;
        Ok(SecretOut { client_id: app.client_id, client_secret: secret.clone() })
    })
}

#[derive(Debug, Serialize)]
pub struct DeletedAppOut {
    pub client_id: String,
    pub deleted: bool,
    pub revoked_grants: i64,
}

/// Deletes the app with all its grants, tokens and codes (cascade), in one transaction.
pub fn delete(conn: &mut DbConnection, actor: &Actor, client_id: &str) -> OpResult<DeletedAppOut> {
    conn.write_transaction(|conn| {
        let app = require(conn, client_id)?;
        let revoked_grants = grants::count_live_for_app(conn, app.id)?;
        apps::delete(conn, app.id)?;
        audit::record(
            conn,
            actor,
            Event {
                action: "app.delete",
                target_type: "oauth_app",
                target_id: app.client_id.clone(),
                team_id: Some(app.team_id),
                details: json!({ "name": app.name, "revoked_grants": revoked_grants }),
            },
        )?;
        Ok(DeletedAppOut { client_id: app.client_id, deleted: true, revoked_grants })
    })
}
