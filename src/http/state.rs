use std::sync::Arc;

use actix_web::web;

use super::usage::UsageTracker;
use crate::config::Settings;
use crate::db::{DbConnection, DbPool};

/// Shared by every handler (behind `web::Data`, so cloning is cheap).
pub struct AppState {
    pub pool: DbPool,
    pub settings: Settings,
    pub usage: Arc<UsageTracker>,
    /// Whether the pool talks to SQLite (see [`AppState::db_read`]).
    pub is_sqlite: bool,
}

/// The database could not be reached or the blocking pool is gone: a server fault.
#[derive(Debug, thiserror::Error)]
#[error("database unavailable: {0}")]
pub struct DbError(String);

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

    /// Runs a short read on the hot path. SQLite reads are a few microseconds of local work
    /// that never wait on writers (WAL), cheaper than the hop to the blocking pool, so they
    /// run inline; PostgreSQL reads involve the network and go to the blocking pool.
    pub async fn db_read<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConnection) -> T + Send + 'static,
        T: Send + 'static,
    {
        if self.is_sqlite {
            let mut conn = self.pool.get().map_err(|e| DbError(e.to_string()))?;
            return Ok(f(&mut conn));
        }
        self.db(f).await
    }
}

impl From<diesel::result::Error> for DbError {
    fn from(error: diesel::result::Error) -> Self {
        DbError(error.to_string())
    }
}
