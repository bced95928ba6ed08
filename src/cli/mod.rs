//! The `portcullis` command line: `serve`, `migrate` and the operator commands of SPEC §5.

mod admin;

use clap::{Parser, Subcommand};

use crate::config::ServeArgs;
use crate::db::DatabaseUrl;
use crate::telemetry::LogFormat;

/// Portcullis — the authorization server of a teams → projects → deployments platform.
///
/// Every flag can also be set by the environment variable named in its help; flags win.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Where the data lives: sqlite://<path> (relative, e.g. sqlite://portcullis.db, or
    /// absolute, e.g. sqlite:///var/lib/portcullis.db) or postgres://user@host/db. Created and
    /// migrated on first use.
    #[arg(
        long,
        global = true,
        env = "PORTCULLIS_DATABASE_URL",
        default_value = "sqlite://portcullis.db",
        value_name = "URL"
    )]
    pub database_url: DatabaseUrl,

    /// Log format on stderr (log level: PORTCULLIS_LOG, e.g. "info" or "portcullis=debug").
    #[arg(long, global = true, env = "PORTCULLIS_LOG_FORMAT", default_value = "text", value_name = "FORMAT")]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    pub fn log_format(&self) -> LogFormat {
        self.log_format
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (creates and migrates the database on first start).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Operator commands. Each prints one JSON object on stdout, or a one-line error on stderr
    /// and exits non-zero. Safe to run while servers use the same database.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
}

/// A clap error as one line: what is wrong (a value our parsers refused, with their message; the
/// required flags missing), without the usage block that follows it.
pub fn one_line(error: &clap::Error) -> String {
    let text = error.to_string();
    let what: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .filter(|line| !line.is_empty())
        .collect();
    what.join(" ")
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => crate::startup::serve(&cli.database_url, args),
        Command::Migrate => {
            let (_, applied) = crate::db::pool::connect_and_migrate(&cli.database_url)?;
            println!("{}", serde_json::json!({ "database": cli.database_url.to_string(), "applied": applied }));
            Ok(())
        }
        Command::Admin(command) => admin::run(&cli.database_url, command),
    }
}
