use std::time::Duration;

use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};

use super::url::LibpqEnv;
use super::{DatabaseUrl, DbConnection};

pub type DbPool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// Opens connections for the backend the URL names (never guessing by trial, as the derived
/// `MultiConnection::establish` would) and prepares each SQLite connection for concurrent use.
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
}

/// Per-connection SQLite settings: WAL so readers never wait for the writer (and the CLI can
/// write while a server runs), a busy timeout so writers queue instead of failing, enforced
/// foreign keys, and `synchronous=NORMAL`, which is durable across application crashes in WAL.
/// Reads go through a memory map (no `pread` per page) and a 16 MiB page cache, so that token
/// lookups spread over a large table stay in memory (bench/README.md).
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL;
PRAGMA busy_timeout = 10000;
PRAGMA foreign_keys = ON;
PRAGMA synchronous = NORMAL;
PRAGMA mmap_size = 1073741824;
PRAGMA cache_size = -16384;";

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_str().ok_or_else(|| {
                    r2d2::Error::ConnectionError(ConnectionError::InvalidConnectionUrl(
                        "the SQLite path is not valid UTF-8".into(),
                    ))
                })?;
                let mut conn = SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS).map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                let url = DatabaseUrl::libpq_url(url, LibpqEnv::of_process());
                PgConnection::establish(&url).map(DbConnection::Pg).map_err(r2d2::Error::ConnectionError)
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        // A connection left inside a transaction (e.g. by a failed rollback) must not be reused.
        <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

/// Opens one connection, prepared like the pool's.
pub fn open(url: &DatabaseUrl) -> Result<DbConnection, r2d2::Error> {
    Manager { url: url.clone() }.connect()
}

/// Builds the pool. `size` bounds concurrent connections (PostgreSQL's `max_connections` is
/// shared by every instance).
pub fn build(url: &DatabaseUrl, size: u32) -> Result<DbPool, r2d2::PoolError> {
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        // Validation on checkout costs a round trip per request; broken connections are
        // detected by `has_broken` and by the query failing instead.
        .test_on_check_out(false)
        .build(Manager { url: url.clone() })
}

/// One connection with the schema up to date: what operator commands use.
pub fn connect_and_migrate(url: &DatabaseUrl) -> anyhow::Result<(DbConnection, Vec<String>)> {
    if let DatabaseUrl::Sqlite(path) = url
        && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)?;
    }
    let manager = Manager { url: url.clone() };
    let mut conn = manager.connect().map_err(|e| anyhow::anyhow!("cannot open database {url}: {e}"))?;
    let applied = super::migrations::run(&mut conn)?;
    Ok((conn, applied))
}
