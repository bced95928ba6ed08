//! Integration tests: each test starts the real `portcullis` binary on its own database and
//! drives it over HTTP and its CLI. With `TEST_DATABASE_URL=postgres://…/postgres` every test
//! gets a fresh PostgreSQL database instead of a SQLite file.

mod harness;
mod world;

mod audit;
mod authorize;
mod check;
mod cli;
mod clients;
mod consent;
mod demo;
mod deploy_keys;
mod device;
mod discovery;
mod hostile;
mod instances;
mod introspect;
mod lifecycle;
mod login;
mod logout;
mod manage;
mod metrics;
mod pages;
mod races;
mod refresh;
mod resources;
mod roles;
mod settings_keys;
mod settings_team;
mod shutdown;
mod token;
