//! Apps backed by a Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document,
//! SPEC §7): the cached row a fetched document becomes. Fetching is `oauth::client_metadata`'s.

use time::{Duration, PrimitiveDateTime};

use super::{OpError, OpResult};
use crate::db::DbConnection;
use crate::db::models::apps::{self, DocumentFields, NewApp, origin};
use crate::domain::{AppName, RedirectUri, RedirectUris};

/// A fetched and validated document (draft §4.1): its `client_id` is the URL it came from.
pub struct ClientDocument {
    pub client_id: String,
    pub name: AppName,
    pub redirect_uris: RedirectUris,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    /// How long the document may be used before it is fetched again (already clamped).
    pub lifetime: Duration,
}

/// Whether `client_id`'s document is cached and not yet expired at `now`.
pub fn is_fresh(conn: &mut DbConnection, client_id: &str, now: PrimitiveDateTime) -> OpResult<bool> {
    Ok(apps::find_by_client_id(conn, client_id)?.is_some_and(|app| {
        app.origin == origin::METADATA_DOCUMENT && app.metadata_expires_at.is_some_and(|expires| expires > now)
    }))
}

/// Stores `document` as its app: a new public, unverified app owned by no team, or the
/// cached one updated (name, URIs, redirect URIs, expiry) in one transaction. Codes issued
/// for a redirect URI the document no longer lists die with it.
pub fn store(conn: &mut DbConnection, document: &ClientDocument, now: PrimitiveDateTime) -> OpResult<()> {
    let uris: Vec<&str> = document.redirect_uris.iter().map(RedirectUri::as_str).collect();
    let fields = DocumentFields {
        name: document.name.as_str(),
        client_uri: document.client_uri.as_deref(),
        logo_uri: document.logo_uri.as_deref(),
        expires_at: now + document.lifetime,
    };
    conn.write_transaction(|conn| {
        match apps::find_by_client_id(conn, &document.client_id)? {
            Some(app) if app.origin == origin::METADATA_DOCUMENT => {
                apps::set_document(conn, app.id, &fields)?;
                apps::replace_redirect_uris(conn, app.id, &uris)?;
            }
            Some(_) => {
                return Err(OpError::Conflict(format!("{} is already another app's client id", document.client_id)));
            }
            None => {
                apps::create(
                    conn,
                    &NewApp {
                        metadata_expires_at: Some(fields.expires_at),
                        client_uri: fields.client_uri,
                        logo_uri: fields.logo_uri,
                        ..NewApp::unowned(&document.client_id, fields.name, origin::METADATA_DOCUMENT, now)
                    },
                    &uris,
                )?;
            }
        }
        Ok(())
    })
}
