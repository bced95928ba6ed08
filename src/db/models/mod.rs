//! One module per table: row types (`X` read, `NewX` insert) and the queries on that table.
//! Nothing here decides policy; `crate::ops` composes these inside transactions.
//!
//! Lookups by a unique key use `get_result`, not `first`: `first` appends `LIMIT ?`, and SQLite
//! re-plans a statement whose LIMIT is a bound parameter on every execution, which defeats the
//! prepared-statement cache (it halved introspection throughput; see bench/README.md). `first`
//! is kept only where a real LIMIT matters (an existence check over many rows).

pub mod apps;
pub mod audit;
pub mod backends;
pub mod codes;
pub mod deploy_keys;
pub mod deployments;
pub mod grants;
pub mod login_failures;
pub mod members;
pub mod projects;
pub mod refresh_tokens;
pub mod roles;
pub mod sessions;
pub mod signing_keys;
pub mod teams;
pub mod users;
