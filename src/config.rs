//! Server settings: flags of `portcullis serve`, each backed by a `PORTCULLIS_*` variable.

use std::net::SocketAddr;

use clap::Args;
use time::Duration;
use url::Url;

use crate::ops::grants::GrantPolicy;

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is logged and printed).
    #[arg(long, env = "PORTCULLIS_BIND", default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub bind: SocketAddr,

    /// Serve `/metrics` (Prometheus text format, no authentication) on this address instead of
    /// on `--bind`, which then answers 404 for it: keeps it off a public listener. Port 0
    /// picks a free port (printed).
    #[arg(long, env = "PORTCULLIS_METRICS_BIND", value_name = "ADDR")]
    pub metrics_bind: Option<SocketAddr>,

    /// Public base URL: the OAuth issuer (RFC 8414) and the origin of every link we print.
    /// Never taken from the Host header. Default: http://<bound address>.
    #[arg(long, env = "PORTCULLIS_ISSUER", value_name = "URL")]
    pub issuer: Option<Url>,

    /// Seed a demo user, team, project, deployment and OAuth app (idempotent) and print how
    /// to try the flow in a browser.
    #[arg(long)]
    pub demo: bool,

    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "PORTCULLIS_WORKERS", value_name = "N")]
    pub workers: Option<usize>,

    /// Database connections per instance (default: 4 per worker, at least 8).
    #[arg(long, env = "PORTCULLIS_DB_POOL_SIZE", value_name = "N")]
    pub db_pool_size: Option<u32>,

    /// Live credentials whose verification answers each instance keeps in memory (SQLite only;
    /// 0 turns it off). Answers are dropped the moment the database records a change that
    /// touches them, so a cached answer is never stale (see README, "Verification cache").
    /// At most 10,000,000 (≈ 5 GiB): the cache's table is sized for it at start.
    #[arg(long, env = "PORTCULLIS_VERIFY_CACHE_ENTRIES", default_value_t = 100_000, value_name = "N",
          value_parser = clap::value_parser!(u32).range(0..=10_000_000))]
    pub verify_cache_entries: u32,

    /// Lifetime of authorization codes.
    #[arg(long, env = "PORTCULLIS_CODE_TTL_SECONDS", default_value_t = 600, value_name = "SECONDS",
          value_parser = clap::value_parser!(i64).range(1..=3600))]
    pub code_ttl_seconds: i64,

    /// Lifetime of refresh tokens (apps with expiring tokens only).
    #[arg(long, env = "PORTCULLIS_REFRESH_TOKEN_TTL_SECONDS", default_value_t = 2_592_000, value_name = "SECONDS",
          value_parser = clap::value_parser!(i64).range(60..=31_536_000))]
    pub refresh_token_ttl_seconds: i64,

    /// Lifetime of a public client's access tokens, which always expire and refresh (SPEC §7),
    /// unless the app sets its own lifetime.
    #[arg(long, env = "PORTCULLIS_PUBLIC_CLIENT_TOKEN_TTL_SECONDS", default_value_t = 3600, value_name = "SECONDS",
          value_parser = clap::value_parser!(i64).range(60..=31_536_000))]
    pub public_client_token_ttl_seconds: i64,

    /// How long a device authorization request waits for the user (RFC 8628 `expires_in`).
    #[arg(long, env = "PORTCULLIS_DEVICE_CODE_TTL_SECONDS", default_value_t = 600, value_name = "SECONDS",
          value_parser = clap::value_parser!(i64).range(60..=3600))]
    pub device_code_ttl_seconds: i64,

    /// How many distinct teams may authorize an unverified OAuth application.
    #[arg(long, env = "PORTCULLIS_UNVERIFIED_APP_TEAM_LIMIT", default_value_t = 100, value_name = "N",
          value_parser = clap::value_parser!(i64).range(0..))]
    pub unverified_app_team_limit: i64,

    /// Lifetime of a login session.
    #[arg(long, env = "PORTCULLIS_SESSION_TTL_SECONDS", default_value_t = 43_200, value_name = "SECONDS",
          value_parser = clap::value_parser!(i64).range(60..=2_592_000))]
    pub session_ttl_seconds: i64,

    /// Let Client ID Metadata Documents be fetched from loopback addresses, and then over
    /// plain `http` too (development and tests only; SPEC §7).
    #[arg(long, env = "PORTCULLIS_CLIENT_METADATA_ALLOW_LOOPBACK", default_value_t = false, value_name = "BOOL",
          action = clap::ArgAction::Set)]
    pub client_metadata_allow_loopback: bool,

    /// Client ID Metadata Documents fetched per client address per hour, by each instance
    /// (documents still cached do not count): bounds the outbound requests and app rows one
    /// address can cause.
    #[arg(long, env = "PORTCULLIS_CLIENT_METADATA_FETCHES_PER_HOUR", default_value_t = 30, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub client_metadata_fetches_per_hour: u32,

    /// Dynamic client registration (RFC 7591) at `POST /oauth/register`: `open` to anyone, or
    /// `off` (the route does not exist).
    #[arg(long, env = "PORTCULLIS_DYNAMIC_REGISTRATION", default_value = "off", value_name = "MODE",
          value_parser = ["open", "off"])]
    pub dynamic_registration: String,
}

/// Validated settings the running server reads.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The issuer without a trailing slash, e.g. `https://auth.example.com`.
    pub issuer: String,
    /// Whether cookies are `Secure` (the issuer is https).
    pub secure_cookies: bool,
    pub policy: GrantPolicy,
    pub session_ttl: Duration,
    /// Client ID Metadata Documents may come from loopback (and then over `http`).
    pub client_metadata_allow_loopback: bool,
    /// `POST /oauth/register` exists (RFC 7591).
    pub dynamic_registration: bool,
}

impl Settings {
    /// Resolves the issuer against the address actually bound (which differs from the flag
    /// when it asked for port 0).
    pub fn new(args: &ServeArgs, bound: SocketAddr) -> anyhow::Result<Settings> {
        let issuer = match &args.issuer {
            Some(url) => url.clone(),
            None => Url::parse(&format!("http://{bound}"))?,
        };
        if !matches!(issuer.scheme(), "http" | "https")
            || issuer.host().is_none()
            || issuer.query().is_some()
            || issuer.fragment().is_some()
        {
            anyhow::bail!("PORTCULLIS_ISSUER must be an http(s) URL without query or fragment, got {issuer}");
        }
        Ok(Settings {
            issuer: issuer.as_str().trim_end_matches('/').to_owned(),
            secure_cookies: issuer.scheme() == "https",
            policy: GrantPolicy {
                code_ttl: Duration::seconds(args.code_ttl_seconds),
                refresh_ttl: Duration::seconds(args.refresh_token_ttl_seconds),
                unverified_app_team_limit: args.unverified_app_team_limit,
                public_token_ttl_seconds: args.public_client_token_ttl_seconds,
                device_code_ttl: Duration::seconds(args.device_code_ttl_seconds),
            },
            session_ttl: Duration::seconds(args.session_ttl_seconds),
            client_metadata_allow_loopback: args.client_metadata_allow_loopback,
            dynamic_registration: args.dynamic_registration == "open",
        })
    }

    /// An absolute URL under the issuer.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}
