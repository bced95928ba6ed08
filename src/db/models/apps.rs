use diesel::dsl::count;
use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::{authorization_codes, grants, oauth_app_redirect_uris, oauth_apps, teams};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = oauth_apps)]
pub struct App {
    pub id: i64,
    /// `None` exactly for the apps no team owns (`origin` other than [`origin::TEAM`]).
    pub team_id: Option<i64>,
    pub client_id: String,
    pub name: String,
    pub client_type: String,
    pub secret_hash: Option<String>,
    pub token_ttl_seconds: Option<i64>,
    pub verified_at: Option<PrimitiveDateTime>,
    pub created_at: PrimitiveDateTime,
    pub origin: String,
    pub metadata_expires_at: Option<PrimitiveDateTime>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
}

/// Where an app comes from (`oauth_apps.origin`).
pub mod origin {
    /// Created by a team member; owned by that team.
    pub const TEAM: &str = "team";
    /// Registered by anyone at `/oauth/register` (RFC 7591).
    pub const DYNAMIC: &str = "dynamic";
    /// A Client ID Metadata Document, cached (draft-ietf-oauth-client-id-metadata-document).
    pub const METADATA_DOCUMENT: &str = "metadata_document";
}

impl App {
    pub fn is_public(&self) -> bool {
        self.client_type == "public"
    }
}

#[derive(Insertable)]
#[diesel(table_name = oauth_apps)]
pub struct NewApp<'a> {
    pub team_id: Option<i64>,
    pub client_id: &'a str,
    pub name: &'a str,
    pub client_type: &'a str,
    pub secret_hash: Option<&'a str>,
    pub token_ttl_seconds: Option<i64>,
    pub created_at: PrimitiveDateTime,
    pub origin: &'a str,
    pub metadata_expires_at: Option<PrimitiveDateTime>,
    pub client_uri: Option<&'a str>,
    pub logo_uri: Option<&'a str>,
}

impl<'a> NewApp<'a> {
    /// A public app no team owns (SPEC §7: registered, or a metadata document), unverified.
    pub fn unowned(client_id: &'a str, name: &'a str, origin: &'a str, created_at: PrimitiveDateTime) -> Self {
        NewApp {
            team_id: None,
            client_id,
            name,
            client_type: "public",
            secret_hash: None,
            token_ttl_seconds: None,
            created_at,
            origin,
            metadata_expires_at: None,
            client_uri: None,
            logo_uri: None,
        }
    }
}

pub fn create(conn: &mut DbConnection, new: &NewApp, redirect_uris: &[&str]) -> QueryResult<App> {
    diesel::insert_into(oauth_apps::table).values(new).execute(conn)?;
    let app = find_by_client_id(conn, new.client_id)?.ok_or(diesel::result::Error::NotFound)?;
    insert_redirect_uris(conn, app.id, redirect_uris)?;
    Ok(app)
}

pub fn find_by_id(conn: &mut DbConnection, id: i64) -> QueryResult<Option<App>> {
    oauth_apps::table.find(id).select(App::as_select()).get_result(conn).optional()
}

pub fn find_by_client_id(conn: &mut DbConnection, client_id: &str) -> QueryResult<Option<App>> {
    oauth_apps::table.filter(oauth_apps::client_id.eq(client_id)).select(App::as_select()).get_result(conn).optional()
}

/// The slug and name of an app's team.
pub type OwningTeam = (String, String);

/// The app and the team that owns it (`None` for an unowned app).
pub fn find_with_team(conn: &mut DbConnection, client_id: &str) -> QueryResult<Option<(App, Option<OwningTeam>)>> {
    oauth_apps::table
        .left_join(teams::table)
        .filter(oauth_apps::client_id.eq(client_id))
        .select((App::as_select(), (teams::slug, teams::name).nullable()))
        .get_result(conn)
        .optional()
}

/// The apps no team owns (only those of `origin`, when given), oldest first.
pub fn list_unowned(conn: &mut DbConnection, origin: Option<&str>) -> QueryResult<Vec<App>> {
    let mut query = oauth_apps::table.filter(oauth_apps::team_id.is_null()).into_boxed();
    if let Some(origin) = origin {
        query = query.filter(oauth_apps::origin.eq(origin.to_owned()));
    }
    query.order(oauth_apps::id.asc()).select(App::as_select()).load(conn)
}

/// How many live (unrevoked) grants the app holds.
pub fn live_grants(conn: &mut DbConnection, app_id: i64) -> QueryResult<i64> {
    grants::table.filter(grants::app_id.eq(app_id)).filter(grants::revoked_at.is_null()).count().get_result(conn)
}

/// What a metadata document says about its app, and until when that holds.
pub struct DocumentFields<'a> {
    pub name: &'a str,
    pub client_uri: Option<&'a str>,
    pub logo_uri: Option<&'a str>,
    pub expires_at: PrimitiveDateTime,
}

/// Refreshes a metadata document's app from a newly fetched document (its redirect URIs are
/// [`replace_redirect_uris`]' job).
pub fn set_document(conn: &mut DbConnection, id: i64, fields: &DocumentFields) -> QueryResult<usize> {
    diesel::update(oauth_apps::table.find(id))
        .set((
            oauth_apps::name.eq(fields.name),
            oauth_apps::client_uri.eq(fields.client_uri),
            oauth_apps::logo_uri.eq(fields.logo_uri),
            oauth_apps::metadata_expires_at.eq(fields.expires_at),
        ))
        .execute(conn)
}

/// The apps `team_id` owns, oldest first.
pub fn list_for_team(conn: &mut DbConnection, team_id: i64) -> QueryResult<Vec<App>> {
    oauth_apps::table
        .filter(oauth_apps::team_id.eq(team_id))
        .order(oauth_apps::id.asc())
        .select(App::as_select())
        .load(conn)
}

pub fn set_name(conn: &mut DbConnection, id: i64, name: &str) -> QueryResult<usize> {
    diesel::update(oauth_apps::table.find(id)).set(oauth_apps::name.eq(name)).execute(conn)
}

/// Replaces the app's redirect URIs, and deletes its unredeemed authorization codes issued for
/// a URI no longer registered: a code is redeemable only with the URI it was issued for, and
/// that URI is no longer the app's.
pub fn replace_redirect_uris(conn: &mut DbConnection, id: i64, uris: &[&str]) -> QueryResult<()> {
    diesel::delete(oauth_app_redirect_uris::table.filter(oauth_app_redirect_uris::app_id.eq(id))).execute(conn)?;
    insert_redirect_uris(conn, id, uris)?;
    diesel::delete(
        authorization_codes::table
            .filter(authorization_codes::app_id.eq(id))
            .filter(authorization_codes::redeemed_at.is_null())
            .filter(authorization_codes::redirect_uri.ne_all(uris)),
    )
    .execute(conn)?;
    Ok(())
}

fn insert_redirect_uris(conn: &mut DbConnection, app_id: i64, uris: &[&str]) -> QueryResult<()> {
    // One statement per URI: the multi-backend connection has no batch insert (SQLite's
    // dialect differs), and there are at most 20.
    for (uri, position) in uris.iter().zip(0..) {
        diesel::insert_into(oauth_app_redirect_uris::table)
            .values((
                oauth_app_redirect_uris::app_id.eq(app_id),
                oauth_app_redirect_uris::position.eq(position),
                oauth_app_redirect_uris::uri.eq(*uri),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn redirect_uris(conn: &mut DbConnection, app_id: i64) -> QueryResult<Vec<String>> {
    oauth_app_redirect_uris::table
        .filter(oauth_app_redirect_uris::app_id.eq(app_id))
        .order(oauth_app_redirect_uris::position.asc())
        .select(oauth_app_redirect_uris::uri)
        .load(conn)
}

pub fn set_verified(conn: &mut DbConnection, id: i64, now: PrimitiveDateTime) -> QueryResult<usize> {
    diesel::update(oauth_apps::table.find(id).filter(oauth_apps::verified_at.is_null()))
        .set(oauth_apps::verified_at.eq(now))
        .execute(conn)
}

pub fn set_secret_hash(conn: &mut DbConnection, id: i64, hash: &str) -> QueryResult<usize> {
    diesel::update(oauth_apps::table.find(id)).set(oauth_apps::secret_hash.eq(hash)).execute(conn)
}

/// Deletes the app; its grants, tokens and codes go with it (cascade).
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(oauth_apps::table.find(id)).execute(conn)
}

/// Locks the app row for the rest of the transaction (`FOR UPDATE` on PostgreSQL; SQLite's
/// write transaction already holds the database write lock): issuances for an unverified app
/// take it before counting its teams, so the count and the insert that relies on it are one
/// step.
pub fn lock(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    if let DbConnection::Pg(c) = conn {
        oauth_apps::table.find(id).select(oauth_apps::id).for_update().get_result::<i64>(c).optional()?;
    }
    Ok(())
}

/// How many distinct teams hold a live grant for the app, and whether `team_id` is one of
/// them (the unverified-app limit counts teams, SPEC §2).
/// How many distinct teams hold a live grant for the app.
pub fn teams_using(conn: &mut DbConnection, app_id: i64) -> QueryResult<i64> {
    grants::table
        .filter(grants::app_id.eq(app_id))
        .filter(grants::revoked_at.is_null())
        .select(count(grants::team_id).aggregate_distinct())
        .get_result(conn)
}

pub fn authorized_teams(conn: &mut DbConnection, app_id: i64, team_id: i64) -> QueryResult<(i64, bool)> {
    let live = grants::table.filter(grants::app_id.eq(app_id)).filter(grants::revoked_at.is_null());
    let count: i64 = live.select(count(grants::team_id).aggregate_distinct()).get_result(conn)?;
    let includes: Option<i64> = live.filter(grants::team_id.eq(team_id)).select(grants::id).first(conn).optional()?;
    Ok((count, includes.is_some()))
}

pub fn find_by_team_and_name(conn: &mut DbConnection, team_id: i64, name: &str) -> QueryResult<Option<App>> {
    oauth_apps::table
        .filter(oauth_apps::team_id.eq(team_id).and(oauth_apps::name.eq(name)))
        .order(oauth_apps::id.asc())
        .select(App::as_select())
        .get_result(conn)
        .optional()
}
