//! Embedded migrations, one set per backend with the same folder names.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DbConnection;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Applies every pending migration; returns the versions applied (empty when up to date).
/// Safe to run concurrently from several processes: on SQLite the migration runs under the
/// write lock; on PostgreSQL a session advisory lock serialises instances starting together.
pub fn run(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    use diesel::connection::SimpleConnection;

    let applied = match conn {
        // Under the write lock, so a second process starting on the same new file waits and
        // then finds nothing pending. diesel nests each migration's own transaction inside.
        DbConnection::Sqlite(c) => c.immediate_transaction(|c| {
            c.run_pending_migrations(SQLITE)
                .map(|versions| versions.iter().map(ToString::to_string).collect())
                .map_err(|e| anyhow::anyhow!("migration failed: {e}"))
        })?,
        DbConnection::Pg(c) => {
            // Arbitrary constant identifying "portcullis migrations" among advisory locks.
            c.batch_execute("SELECT pg_advisory_lock(7402291)")?;
            let result = c
                .run_pending_migrations(POSTGRES)
                .map(|versions| versions.iter().map(ToString::to_string).collect::<Vec<_>>());
            c.batch_execute("SELECT pg_advisory_unlock(7402291)")?;
            result.map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
        }
    };
    Ok(applied)
}
