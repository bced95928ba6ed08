//! Portcullis: the authorization server of a teams → projects → deployments platform.
//! See README.md for the tour; ARCHITECTURE.md for the layering these modules follow.

pub mod api;
pub mod authz;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod http;
pub mod oauth;
pub mod ops;
pub mod passwords;
pub mod startup;
pub mod telemetry;
pub mod tokens;
pub mod ui;
