use std::cell::RefCell;
use std::sync::Arc;

use actix_web::web;
use diesel::Connection;
use diesel::connection::TransactionManager;

use super::address_limit::AddressLimit;
use super::usage::UsageTracker;
use crate::config::Settings;
use crate::db::{DatabaseUrl, DbConnection, DbPool};
use crate::oauth::client_auth::BackendCache;
use crate::ops::verify::Verifier;
use crate::ui::consent::ticket::TicketKey;

/// Shared by every handler (behind `web::Data`, so cloning is cheap).
pub struct AppState {
    pub pool: DbPool,
    pub database: DatabaseUrl,
    pub settings: Settings,
    pub usage: Arc<UsageTracker>,
    pub backends: Arc<BackendCache>,
    pub verifier: Arc<Verifier>,
    /// Binds consent decisions to the page shown; the same key on every instance.
    pub consent_tickets: TicketKey,
    /// Dynamic client registrations per address (RFC 7591; this instance's count).
    pub registrations: Arc<AddressLimit>,
    /// Client ID Metadata Document fetches per address (this instance's count).
    pub document_fetches: Arc<AddressLimit>,
}

/// The database could not be reached or the blocking pool is gone: a server fault.
#[derive(Debug, thiserror::Error)]
#[error("database unavailable: {0}")]
pub struct DbError(String);

thread_local! {
    /// Each worker thread's own SQLite connection for hot-path reads (see [`AppState::db_read`]).
    static SQLITE_READER: RefCell<Option<(DatabaseUrl, DbConnection)>> = const { RefCell::new(None) };
}

impl AppState {
    /// Runs `f` with a pooled connection on actix's blocking thread pool.
    pub async fn db<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConnection) -> T + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get().map_err(|e| DbError(e.to_string()))?;
            Ok(f(&mut conn))
        })
        .await
        .map_err(|e| DbError(e.to_string()))?
    }

    /// Runs a short read on the hot path (introspection, bearer authentication, decisions).
    ///
    /// SQLite reads are a few microseconds of local work that never wait for writers (WAL):
    /// cheaper than the hop to the blocking pool, so they run inline, on a connection that the
    /// worker thread keeps for itself (no pool lock per request). PostgreSQL reads involve the
    /// network and go to the blocking pool.
    pub async fn db_read<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConnection) -> T + Send + 'static,
        T: Send + 'static,
    {
        if !matches!(self.database, DatabaseUrl::Sqlite(_)) {
            return self.db(f).await;
        }
        SQLITE_READER.with(|slot| {
            let mut slot = slot.borrow_mut();
            let conn = match &mut *slot {
                Some((url, conn)) if *url == self.database => conn,
                _ => {
                    let conn = crate::db::pool::open(&self.database).map_err(|e| DbError(e.to_string()))?;
                    &mut slot.insert((self.database.clone(), conn)).1
                }
            };
            let result = f(conn);
            if <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn) {
                *slot = None;
            }
            Ok(result)
        })
    }
}

impl From<diesel::result::Error> for DbError {
    fn from(error: diesel::result::Error) -> Self {
        DbError(error.to_string())
    }
}
