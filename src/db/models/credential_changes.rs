//! The credential change log: written by triggers on both backends, read by the verification
//! cache (`crate::ops::verify`). Ids grow in commit order: on SQLite because it has one writer
//! at a time, on PostgreSQL because each change is numbered by a counter row that its
//! transaction keeps locked until it commits (migrations/*/…_credential_change*).

use diesel::dsl::max;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{credential_change_counter, credential_changes};

/// One committed change: the credential it affected, or `None` for "anything may have".
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = credential_changes)]
pub struct CredentialChange {
    pub id: i64,
    pub token_hash: Option<String>,
}

/// The newest committed change's id (0 before the first). On PostgreSQL, the counter: one
/// row, read in one statement whose snapshot sees every change numbered up to what it returns.
pub fn head(conn: &mut DbConnection) -> QueryResult<i64> {
    match conn {
        DbConnection::Sqlite(c) => credential_changes::table
            .select(max(credential_changes::id))
            .get_result::<Option<i64>>(c)
            .map(|id| id.unwrap_or(0)),
        DbConnection::Pg(c) => credential_change_counter::table.select(credential_change_counter::n).get_result(c),
    }
}

/// The changes after `id`, oldest first.
pub fn after(conn: &mut DbConnection, id: i64) -> QueryResult<Vec<CredentialChange>> {
    natively!(conn, |c| credential_changes::table
        .filter(credential_changes::id.gt(id))
        .order(credential_changes::id.asc())
        .select(CredentialChange::as_select())
        .load(c))
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    use super::*;
    use crate::db::fixture::{DEPLOY_KEY, Fixture, PROJECT_TOKEN};
    use crate::tokens::SecretHash;

    #[derive(QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        name: String,
    }

    fn columns(f: &mut Fixture, table: &str) -> Vec<String> {
        diesel::sql_query(format!("SELECT name FROM pragma_table_info('{table}')"))
            .load::<Column>(f.sqlite())
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect()
    }

    /// What running `sql` appended to the log.
    fn logged(f: &mut Fixture, sql: &str) -> Vec<Option<String>> {
        let before = head(&mut f.conn).unwrap();
        f.exec(sql);
        after(&mut f.conn, before).unwrap().into_iter().map(|c| c.token_hash).collect()
    }

    fn hash(credential: &str) -> Option<String> {
        Some(SecretHash::of(credential).into_string())
    }

    #[test]
    fn every_credential_column_but_last_used_and_device_name_is_logged_by_credential() {
        let mut f = Fixture::seeded();
        let (grant, key) = (hash(PROJECT_TOKEN), hash(DEPLOY_KEY));
        for column in columns(&mut f, "grants") {
            // Neither is part of any verification answer: "last used" and the device's name are
            // only listed.
            let unlogged = ["last_used_at", "device_name"].contains(&column.as_str());
            let expected = if unlogged { vec![] } else { vec![grant.clone(), key.clone()] };
            assert_eq!(logged(&mut f, &format!("UPDATE grants SET {column} = {column}")), expected, "grants.{column}");
        }
        for column in columns(&mut f, "deploy_keys") {
            let expected = if column == "last_used_at" { vec![] } else { vec![key.clone()] };
            assert_eq!(
                logged(&mut f, &format!("UPDATE deploy_keys SET {column} = {column}")),
                expected,
                "deploy_keys.{column}"
            );
        }
    }

    #[test]
    fn every_write_to_a_user_or_membership_names_their_grants() {
        let mut f = Fixture::seeded();
        let grant = hash(PROJECT_TOKEN);
        for table in ["users", "members", "member_custom_roles", "project_admins"] {
            for column in columns(&mut f, table) {
                let sql = format!("UPDATE {table} SET {column} = {column}");
                assert_eq!(logged(&mut f, &sql), vec![grant.clone()], "{table}.{column}");
            }
        }
        // Links whose existence alone changes an answer: adding one counts too.
        for (table, row) in [("project_admins", "(1, 1, '2026-01-01 00:00:00')"), ("member_custom_roles", "(1, 1)")] {
            assert_eq!(logged(&mut f, &format!("DELETE FROM {table}")), vec![grant.clone()], "{table}");
            assert_eq!(logged(&mut f, &format!("INSERT INTO {table} VALUES {row}")), vec![grant.clone()], "{table}");
        }
        // Another member's change names nothing of this one.
        f.exec(
            "INSERT INTO users VALUES (2, 'bo@example.com', 'Bo', 'x', NULL, '2026-01-01');
                INSERT INTO members VALUES (2, 1, 2, 'developer', '2026-01-01')",
        );
        assert_eq!(logged(&mut f, "UPDATE members SET role = 'admin' WHERE id = 2"), vec![]);
        assert_eq!(logged(&mut f, "DELETE FROM users WHERE id = 2"), vec![]);
    }

    #[test]
    fn every_write_to_what_many_credentials_share_is_logged_as_anything() {
        let mut f = Fixture::seeded();
        for table in ["teams", "custom_roles", "projects", "deployments", "oauth_apps"] {
            for column in columns(&mut f, table) {
                assert_eq!(logged(&mut f, &format!("UPDATE {table} SET {column} = {column}")), vec![None], "{table}");
            }
        }
        // Issuing a credential, or a user nothing refers to yet, changes no answer.
        assert_eq!(
            logged(&mut f, "INSERT INTO users VALUES (2, 'bo@example.com', 'Bo', 'x', NULL, '2026-01-01')"),
            vec![]
        );
        assert_eq!(
            logged(
                &mut f,
                "INSERT INTO grants VALUES (2, 1, 2, 1, NULL, NULL, 'team', 'other', '2026-01-01', NULL, '2026-01-01',
                                            NULL, NULL, NULL, NULL, NULL, NULL)"
            ),
            vec![]
        );
        // Nor do the tables no answer reads.
        assert_eq!(logged(&mut f, "UPDATE signing_keys SET retired_at = '2026-02-01'"), vec![]);
        assert_eq!(logged(&mut f, "INSERT INTO server_secrets VALUES ('x', 'y', '2026-01-01')"), vec![]);
    }

    #[test]
    fn deletes_are_logged_through_cascades() {
        let mut f = Fixture::seeded();
        let (grant, key) = (hash(PROJECT_TOKEN), hash(DEPLOY_KEY));
        let changes = logged(&mut f, "DELETE FROM grants WHERE id = 1");
        assert!(changes.contains(&grant) && changes.contains(&key), "{changes:?}");
        let mut f = Fixture::seeded();
        let changes = logged(&mut f, "DELETE FROM teams");
        assert!(changes.contains(&None) && changes.contains(&grant) && changes.contains(&key), "{changes:?}");
    }

    #[test]
    fn the_log_keeps_the_newest_ten_thousand_changes() {
        let mut f = Fixture::seeded();
        f.exec(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10050)
             INSERT INTO credential_changes (token_hash) SELECT 'h' || i FROM n",
        );
        let newest = head(&mut f.conn).unwrap();
        let kept = after(&mut f.conn, 0).unwrap();
        assert_eq!(kept.len(), 10_000);
        assert_eq!(kept.first().map(|c| c.id), Some(newest - 9_999));
    }
}
