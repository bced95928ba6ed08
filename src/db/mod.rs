//! Storage: one diesel `MultiConnection` over SQLite (embedded, the default) and PostgreSQL,
//! an r2d2 pool, embedded migrations, and the shared schema. SQL lives in [`models`].

/// Runs a diesel expression on the backend's own connection instead of through the
/// `MultiConnection` wrapper. The wrapper re-serialises a query's SQL (and re-walks its AST to
/// decide cacheability) on every execution; the native connections look their prepared
/// statements up by type. That cost a fifth of introspection's CPU, so the hot-path lookups use
/// this. The expression is written once and compiled for each backend.
macro_rules! natively {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Pg($c) => $body,
        }
    };
}

pub mod commit_watch;
#[cfg(test)]
pub mod fixture;
pub mod migrations;
pub mod models;
pub mod pool;
pub mod schema;
mod url;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;

pub use self::pool::{DbPool, PooledConn};
pub use self::url::DatabaseUrl;

/// A connection to whichever backend the database URL names.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(diesel::SqliteConnection),
    Pg(diesel::PgConnection),
}

impl DbConnection {
    /// Runs `f` in a transaction that holds the write lock from its first statement.
    ///
    /// SQLite's default deferred `BEGIN` upgrades to a write lock on the first write and fails
    /// with `SQLITE_BUSY` (without waiting) if another writer got in first since the read.
    /// `BEGIN IMMEDIATE` takes the lock up front, so the busy timeout applies and read-then-write
    /// transactions never fail spuriously. PostgreSQL gets a plain `BEGIN` (READ COMMITTED): it
    /// serialises nothing by itself, so a use case that reads and then writes on what it read
    /// takes row locks (in the order documented in `ops`) or relies on a conditional `UPDATE`
    /// and its affected-row count.
    pub fn write_transaction<T, E>(&mut self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        match self {
            DbConnection::Sqlite(conn) => AnsiTransactionManager::begin_transaction_sql(conn, "BEGIN IMMEDIATE")?,
            DbConnection::Pg(conn) => AnsiTransactionManager::begin_transaction(conn)?,
        }
        AFTER_COMMIT.with_borrow_mut(Vec::clear);
        let outcome = match f(self) {
            Ok(value) => <DbConnection as Connection>::TransactionManager::commit_transaction(self)
                .map(|()| value)
                .map_err(E::from),
            Err(error) => {
                // The caller's error is the one worth reporting; a failed rollback leaves the
                // connection marked broken and r2d2 discards it.
                let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(self);
                Err(error)
            }
        };
        let pending = AFTER_COMMIT.with_borrow_mut(std::mem::take);
        if outcome.is_ok() {
            pending.into_iter().for_each(|run| run());
        }
        outcome
    }
}

thread_local! {
    /// What the write transaction running on this thread does once it has committed.
    static AFTER_COMMIT: std::cell::RefCell<Vec<Box<dyn FnOnce()>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `run` once the [`DbConnection::write_transaction`] in progress on this thread has
/// committed, and never if it rolls back: for what must count only what really happened (the
/// metrics of credentials issued and revoked). Outside a write transaction it is dropped at the
/// start of the next one, so call it only inside one.
pub fn after_commit(run: impl FnOnce() + 'static) {
    AFTER_COMMIT.with_borrow_mut(|pending| pending.push(Box::new(run)));
}

/// Current time in UTC, as stored in every timestamp column.
pub fn now() -> time::PrimitiveDateTime {
    let now = time::OffsetDateTime::now_utc();
    time::PrimitiveDateTime::new(now.date(), now.time())
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;
    use crate::db::fixture::Fixture;

    #[test]
    fn after_commit_runs_once_committed_and_never_after_a_rollback() {
        let mut f = Fixture::seeded();
        let ran = Rc::new(Cell::new(0));
        let counter = ran.clone();
        let refused = f.conn.write_transaction(|_| {
            after_commit(move || counter.set(counter.get() + 1));
            Err::<(), _>(diesel::result::Error::RollbackTransaction)
        });
        assert!(refused.is_err());
        assert_eq!(ran.get(), 0, "a rolled-back transaction runs nothing");
        let counter = ran.clone();
        f.conn
            .write_transaction(|_| {
                after_commit(move || counter.set(counter.get() + 1));
                Ok::<_, diesel::result::Error>(())
            })
            .unwrap();
        assert_eq!(ran.get(), 1);
        f.conn.write_transaction(|_| Ok::<_, diesel::result::Error>(())).unwrap();
        assert_eq!(ran.get(), 1, "and only once");
    }
}
