//! One module per table: row types (`X` read, `NewX` insert) and the queries on that table.
//! Nothing here decides policy; `crate::ops` composes these inside transactions.
//!
//! Lookups by a unique key use `get_result`, not `first`: `first` appends `LIMIT ?`, and SQLite
//! re-plans a statement whose LIMIT is a bound parameter on every execution, which defeats the
//! prepared-statement cache (it halved introspection throughput; see bench/README.md). `first`
//! is kept only where a real LIMIT matters (an existence check over many rows).

/// Defines `set_last_used` for a credential table (`grants`, `deploy_keys`): marks the rows
/// `ids` used at `at`, skipping those already marked since `unless_since` (rewriting a row costs
/// a new row version on PostgreSQL; "last used" needs no finer precision).
macro_rules! set_last_used {
    ($table:ident) => {
        /// Marks the rows `ids` used at `at` unless already marked since `unless_since`.
        pub fn set_last_used(
            conn: &mut DbConnection,
            ids: &[i64],
            at: PrimitiveDateTime,
            unless_since: PrimitiveDateTime,
        ) -> QueryResult<usize> {
            diesel::update(
                $table::table
                    .filter($table::id.eq_any(ids))
                    .filter($table::last_used_at.is_null().or($table::last_used_at.lt(unless_since))),
            )
            .set($table::last_used_at.eq(at))
            .execute(conn)
        }
    };
}

pub mod apps;
pub mod audit;
pub mod backends;
pub mod codes;
pub mod credential_changes;
pub mod deploy_keys;
pub mod deployments;
pub mod device_codes;
pub mod grants;
pub mod login_failures;
pub mod members;
pub mod projects;
pub mod refresh_tokens;
pub mod resource_servers;
pub mod roles;
pub mod server_secrets;
pub mod sessions;
pub mod signing_keys;
pub mod teams;
pub mod users;
