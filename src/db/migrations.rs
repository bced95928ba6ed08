//! Embedded migrations, one set per backend with the same folder names.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use diesel::{QueryableByName, RunQueryDsl, sql_query};

use super::DbConnection;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A row of `PRAGMA foreign_key_check` (only the table is read).
#[derive(QueryableByName)]
struct ForeignKeyViolation {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table: String,
}

/// Applies every pending migration; returns the versions applied (empty when up to date).
/// Safe to run concurrently from several processes: on SQLite the migration runs under the
/// write lock; on PostgreSQL a session advisory lock serialises instances starting together.
pub fn run(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    use diesel::connection::SimpleConnection;

    let applied = match conn {
        // Under the write lock, so a second process starting on the same new file waits and
        // then finds nothing pending. diesel nests each migration's own transaction inside.
        // Foreign keys are off for the run (a table rebuild needs them off, and the PRAGMA is
        // a no-op inside a transaction: https://sqlite.org/foreignkeys.html §2) and the result
        // is checked before the commit.
        DbConnection::Sqlite(c) => {
            c.batch_execute("PRAGMA foreign_keys = OFF")?;
            let result = c.immediate_transaction(|c| {
                let versions: Vec<String> = c
                    .run_pending_migrations(SQLITE)
                    .map(|versions| versions.iter().map(ToString::to_string).collect())
                    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
                let dangling: Vec<ForeignKeyViolation> = sql_query("PRAGMA foreign_key_check").load(c)?;
                if let Some(first) = dangling.first() {
                    anyhow::bail!(
                        "migration left {} dangling reference(s), first in table {}",
                        dangling.len(),
                        first.table
                    );
                }
                Ok(versions)
            });
            c.batch_execute("PRAGMA foreign_keys = ON")?;
            result?
        }
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

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;

    use super::*;
    use crate::db::{DatabaseUrl, pool};

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        revoked_reason: Option<String>,
    }

    /// `2026-12-02-000002_revoke_detached_grants`: grants left live by the old removal and
    /// disable races (membership gone, user disabled) are marked revoked; live ones are kept.
    #[test]
    fn grants_detached_by_the_old_races_are_marked_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let url: DatabaseUrl = format!("sqlite://{}", dir.path().join("m.db").display()).parse().unwrap();
        let DbConnection::Sqlite(mut conn) = pool::open(&url).unwrap() else { unreachable!() };
        for migration in conn.pending_migrations(SQLITE).unwrap() {
            if migration.name().version().to_string() == "20261202000002" {
                break;
            }
            conn.run_migration(&migration).unwrap();
        }
        conn.batch_execute(
            "INSERT INTO users VALUES (1, 'ada@example.com', 'Ada', 'x', NULL, '2026-01-01 00:00:00'),
                                      (2, 'bob@example.com', 'Bob', 'x', '2026-01-02 00:00:00', '2026-01-01 00:00:00');
             INSERT INTO teams VALUES (1, 'acme', 'Acme', '2026-01-01 00:00:00');
             INSERT INTO members VALUES (1, 1, 1, 'developer', '2026-01-01 00:00:00'),
                                        (2, 1, 2, 'developer', '2026-01-01 00:00:00');
             INSERT INTO oauth_apps VALUES (1, 1, 'client-1', 'App', 'public', NULL, NULL, NULL, '2026-01-01 00:00:00');
             INSERT INTO grants VALUES
               (1, 1, 1, 1, NULL, 1, 'team', 'live', '2026-01-01 00:00:00', NULL, '2026-01-01 00:00:00', NULL, NULL, NULL),
               (2, 1, 1, 1, NULL, NULL, 'team', 'member-gone', '2026-01-01 00:00:00', NULL, '2026-01-01 00:00:00', NULL, NULL, NULL),
               (3, 1, 2, 1, NULL, 2, 'team', 'user-disabled', '2026-01-01 00:00:00', NULL, '2026-01-01 00:00:00', NULL, NULL, NULL),
               (4, 1, 1, 1, NULL, NULL, 'team', 'revoked', '2026-01-01 00:00:00', NULL, '2026-01-01 00:00:00', NULL,
                '2026-01-03 00:00:00', 'revoked_by_user');",
        )
        .unwrap();
        let mut conn = DbConnection::Sqlite(conn);
        assert_eq!(run(&mut conn).unwrap().first().map(String::as_str), Some("20261202000002"), "the data migration");
        let DbConnection::Sqlite(conn) = &mut conn else { unreachable!() };
        let rows: Vec<Row> = sql_query("SELECT id, revoked_reason FROM grants ORDER BY id").load(conn).unwrap();
        let reasons: Vec<(i64, Option<&str>)> = rows.iter().map(|r| (r.id, r.revoked_reason.as_deref())).collect();
        assert_eq!(
            reasons,
            [(1, None), (2, Some("member_removed")), (3, Some("user_disabled")), (4, Some("revoked_by_user"))]
        );
    }

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    fn count(conn: &mut diesel::SqliteConnection, sql: &str) -> i64 {
        sql_query(sql).get_result::<Count>(conn).unwrap().n
    }

    /// `2026-12-06-000001_unowned_clients` rebuilds `oauth_apps` on SQLite: the rows that hang
    /// off an app survive it (no cascade fired), foreign keys are on again afterwards, the
    /// change-log triggers exist again, and a team's app is `origin = 'team'`.
    #[test]
    fn the_oauth_apps_rebuild_keeps_what_hangs_off_apps_and_the_triggers() {
        let dir = tempfile::tempdir().unwrap();
        let url: DatabaseUrl = format!("sqlite://{}", dir.path().join("m.db").display()).parse().unwrap();
        let DbConnection::Sqlite(mut conn) = pool::open(&url).unwrap() else { unreachable!() };
        for migration in conn.pending_migrations(SQLITE).unwrap() {
            if migration.name().version().to_string() == "20261206000001" {
                break;
            }
            conn.run_migration(&migration).unwrap();
        }
        conn.batch_execute(
            "INSERT INTO users VALUES (1, 'ada@example.com', 'Ada', 'x', NULL, '2026-01-01 00:00:00');
             INSERT INTO teams VALUES (1, 'acme', 'Acme', '2026-01-01 00:00:00');
             INSERT INTO members VALUES (1, 1, 1, 'developer', '2026-01-01 00:00:00');
             INSERT INTO oauth_apps VALUES (1, 1, 'client-1', 'App', 'public', NULL, NULL, NULL, '2026-01-01 00:00:00');
             INSERT INTO oauth_app_redirect_uris VALUES (1, 0, 'https://app.example/cb');
             INSERT INTO grants VALUES (1, 1, 1, 1, NULL, 1, 'team', 'live', '2026-01-01 00:00:00', NULL,
                                        '2026-01-01 00:00:00', NULL, NULL, NULL, NULL, NULL, NULL);",
        )
        .unwrap();
        let mut conn = DbConnection::Sqlite(conn);
        assert_eq!(run(&mut conn).unwrap(), ["20261206000001"]);
        {
            // Down, as the diesel CLI runs it on SQLite (foreign keys off), keeps the team's apps
            // and what hangs off them; then up again.
            let DbConnection::Sqlite(conn) = &mut conn else { unreachable!() };
            conn.batch_execute("PRAGMA foreign_keys = OFF").unwrap();
            conn.revert_last_migration(SQLITE).unwrap();
            assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM grants"), 1);
            conn.batch_execute("PRAGMA foreign_keys = ON").unwrap();
        }
        assert_eq!(run(&mut conn).unwrap(), ["20261206000001"]);
        let DbConnection::Sqlite(conn) = &mut conn else { unreachable!() };
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM grants"), 1);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM oauth_app_redirect_uris"), 1);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM oauth_apps WHERE origin = 'team' AND team_id = 1"), 1);
        assert_eq!(count(conn, "SELECT foreign_keys AS n FROM pragma_foreign_keys"), 1, "foreign keys on again");
        let logged = count(conn, "SELECT COUNT(*) AS n FROM credential_changes");
        conn.batch_execute("UPDATE oauth_apps SET name = 'Renamed'").unwrap();
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM credential_changes"), logged + 1, "the update trigger");
        conn.batch_execute("DELETE FROM grants").unwrap();
        let logged = count(conn, "SELECT COUNT(*) AS n FROM credential_changes");
        conn.batch_execute("DELETE FROM oauth_apps").unwrap();
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM credential_changes"), logged + 1, "the delete trigger");
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM oauth_app_redirect_uris"), 0, "deleting an app cascades");
        let unowned_team_app = conn.batch_execute(
            "INSERT INTO oauth_apps (team_id, client_id, name, client_type, created_at, origin)
             VALUES (NULL, 'c2', 'App', 'public', '2026-01-01 00:00:00', 'team')",
        );
        assert!(unowned_team_app.is_err(), "exactly the team's apps have a team");
    }
}
