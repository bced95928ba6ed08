//! Unit-test fixture: a migrated SQLite file holding one row in every table a credential's
//! answer depends on, written in plain SQL so that tests see exactly what the triggers see.

use diesel::connection::SimpleConnection;

use super::{DatabaseUrl, DbConnection};
use crate::tokens::SecretHash;

/// The live project token of the fixture's grant (the hash of it is what is stored).
pub const PROJECT_TOKEN: &str = "project:acme:web|fixture-secret";
/// The fixture's deploy key, bound to that grant.
pub const DEPLOY_KEY: &str = "prod:acme-web-prod|fixture-key";

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub url: DatabaseUrl,
    pub conn: DbConnection,
}

impl Fixture {
    pub fn seeded() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let url: DatabaseUrl = format!("sqlite://{}", dir.path().join("fixture.db").display()).parse().expect("url");
        let (mut conn, _) = super::pool::connect_and_migrate(&url).expect("migrate");
        let (grant, key) = (SecretHash::of(PROJECT_TOKEN), SecretHash::of(DEPLOY_KEY));
        conn.batch_execute(&format!(
            "INSERT INTO users VALUES (1, 'ada@example.com', 'Ada', 'x', NULL, '2026-01-01 00:00:00');
             INSERT INTO teams VALUES (1, 'acme', 'Acme', '2026-01-01 00:00:00');
             INSERT INTO members VALUES (1, 1, 1, 'developer', '2026-01-01 00:00:00');
             INSERT INTO custom_roles VALUES (1, 1, 'auditor', '[]', '2026-01-01 00:00:00');
             INSERT INTO member_custom_roles VALUES (1, 1);
             INSERT INTO projects VALUES (1, 1, 'web', 'Web', '2026-01-01 00:00:00');
             INSERT INTO project_admins VALUES (1, 1, '2026-01-01 00:00:00');
             INSERT INTO signing_keys VALUES (1, 'k1', 'EdDSA', 'private', 'public', '2026-01-01 00:00:00', NULL);
             INSERT INTO deployments VALUES (1, 1, 'acme-web-prod', 'prod', 'admin-key-hash', 1, '2026-01-01 00:00:00');
             INSERT INTO oauth_apps (id, team_id, client_id, name, client_type, secret_hash, token_ttl_seconds,
                                     verified_at, created_at) VALUES (1, 1, 'client-1', 'App', 'confidential', 'secret-hash', NULL, NULL,
                                            '2026-01-01 00:00:00');
             INSERT INTO grants VALUES (1, 1, 1, 1, 1, 1, 'project', '{grant}', '2026-01-01 00:00:00', NULL,
                                        '2026-01-01 00:00:00', NULL, NULL, NULL, NULL, NULL, NULL);
             INSERT INTO deploy_keys VALUES (1, '{key}', 'prod:acme-web-prod', 'ci', 1, 1, 'deployment:view', NULL, 1, 1,
                                             NULL, '2026-01-01 00:00:00', NULL, NULL);",
            grant = grant.as_str(),
            key = key.as_str(),
        ))
        .expect("seed");
        Fixture { _dir: dir, url, conn }
    }

    pub fn sqlite(&mut self) -> &mut diesel::SqliteConnection {
        match &mut self.conn {
            DbConnection::Sqlite(conn) => conn,
            DbConnection::Pg(_) => unreachable!("the fixture is SQLite"),
        }
    }

    pub fn exec(&mut self, sql: &str) {
        self.conn.batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}
