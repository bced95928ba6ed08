use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Where the data lives: `sqlite://<path>` (relative: `sqlite://portcullis.db`, absolute:
/// `sqlite:///var/lib/portcullis.db`) or `postgres://…` / `postgresql://…`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(path) = s.strip_prefix("sqlite://") {
            if path.is_empty() || path == ":memory:" {
                return Err("a SQLite database URL needs a file path, e.g. sqlite://portcullis.db".into());
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(s.to_owned()))
        } else {
            Err("database URL must start with sqlite://, postgres:// or postgresql://".into())
        }
    }
}

/// Shows the URL without any password, so it is safe to log: the user-info password and the
/// `password` / `sslpassword` query parameters that libpq also accepts are replaced by `***`;
/// a URL that does not parse shows only its scheme.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => match ::url::Url::parse(url) {
                Ok(parsed) => f.write_str(masked(parsed).as_str()),
                Err(_) => write!(f, "{}://(unparsable URL not shown)", url.split("://").next().unwrap_or("postgres")),
            },
        }
    }
}

/// The libpq environment variables that change what [`DatabaseUrl::libpq_url`] adds: a
/// parameter in the URL would override the operator's variable, so none is added for one set.
#[derive(Debug, Clone, Copy, Default)]
pub struct LibpqEnv {
    /// `PGSSLMODE`
    pub sslmode: bool,
    /// `PGCONNECT_TIMEOUT`
    pub connect_timeout: bool,
}

impl LibpqEnv {
    pub fn of_process() -> LibpqEnv {
        let set = |name| std::env::var_os(name).is_some();
        LibpqEnv { sslmode: set("PGSSLMODE"), connect_timeout: set("PGCONNECT_TIMEOUT") }
    }
}

/// Bounds on how long a connection may hang on a server that is gone without a word (a
/// failed-over primary's host, a dropped network path: no reset ever arrives). libpq's
/// defaults leave that to the kernel, about two minutes to connect and two hours to notice a
/// silent peer; meanwhile a request holding the connection, or the freshness barrier's reader,
/// would wait. With these a dead peer is noticed within about 25 s (10 s idle, then 3 probes
/// 5 s apart; 30 s for data never acknowledged) and the connection is opened again. A live
/// server answers keepalive probes however long its query runs, so slow queries are not cut.
/// libpq ignores all but `connect_timeout` on Unix-domain sockets. Each one stays as the URL
/// says when it names it.
const LIVENESS: [(&str, &str); 5] = [
    ("connect_timeout", "10"),
    ("keepalives_idle", "10"),
    ("keepalives_interval", "5"),
    ("keepalives_count", "3"),
    ("tcp_user_timeout", "30000"),
];

impl DatabaseUrl {
    /// The PostgreSQL URL as handed to libpq:
    /// - the [`LIVENESS`] bounds, each unless the URL (or, for `connect_timeout`, the
    ///   environment) sets it;
    /// - `sslmode=disable` when the host is loopback and neither the URL (`sslmode`, or hosts
    ///   in its query) nor `PGSSLMODE` says otherwise: libpq's default `prefer` would negotiate
    ///   TLS with a local server that offers it, which protects nothing on loopback and cost
    ///   about 10 % of introspection throughput (bench/README.md). Any other host keeps libpq's
    ///   default.
    ///
    /// A URL the `url` crate cannot parse goes to libpq as it is.
    pub fn libpq_url(url: &str, env: LibpqEnv) -> std::borrow::Cow<'_, str> {
        let Ok(mut parsed) = ::url::Url::parse(url) else {
            return url.into();
        };
        let loopback = match parsed.host() {
            // A `postgres:` URL's host is opaque to the url crate: an address arrives as text.
            Some(::url::Host::Domain(name)) => {
                name.eq_ignore_ascii_case("localhost")
                    || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
            }
            Some(::url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(::url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        let named: Vec<String> = parsed.query_pairs().map(|(name, _)| name.into_owned()).collect();
        let names = |candidates: &[&str]| named.iter().any(|name| candidates.contains(&name.as_str()));
        let mut added = Vec::new();
        for (name, value) in LIVENESS {
            let from_env = name == "connect_timeout" && env.connect_timeout;
            if !names(&[name]) && !from_env {
                added.push((name, value));
            }
        }
        if loopback && !names(&["sslmode", "host", "hostaddr"]) && !env.sslmode {
            added.push(("sslmode", "disable"));
        }
        if added.is_empty() {
            return url.into();
        }
        parsed.query_pairs_mut().extend_pairs(added);
        String::from(parsed).into()
    }
}

/// Query parameters of a libpq connection URI that carry a secret.
const SECRET_PARAMETERS: [&str; 2] = ["password", "sslpassword"];

fn masked(mut url: ::url::Url) -> ::url::Url {
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    if pairs.iter().any(|(name, _)| SECRET_PARAMETERS.contains(&name.as_str())) {
        url.query_pairs_mut().clear().extend_pairs(pairs.iter().map(|(name, value)| {
            (name.as_str(), if SECRET_PARAMETERS.contains(&name.as_str()) { "***" } else { value.as_str() })
        }));
    }
    url
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_relative_and_absolute_sqlite_paths() {
        assert_eq!("sqlite://portcullis.db".parse(), Ok(DatabaseUrl::Sqlite(PathBuf::from("portcullis.db"))));
        assert_eq!(
            "sqlite:///var/lib/portcullis.db".parse(),
            Ok(DatabaseUrl::Sqlite(PathBuf::from("/var/lib/portcullis.db")))
        );
    }

    #[test]
    fn accepts_both_postgres_schemes_and_rejects_others() {
        assert!(matches!("postgres://h/db".parse(), Ok(DatabaseUrl::Postgres(_))));
        assert!(matches!("postgresql://h/db".parse(), Ok(DatabaseUrl::Postgres(_))));
        assert!("mysql://h/db".parse::<DatabaseUrl>().is_err());
        assert!("portcullis.db".parse::<DatabaseUrl>().is_err());
        assert!("sqlite://".parse::<DatabaseUrl>().is_err());
    }

    const BOUNDS: &str =
        "connect_timeout=10&keepalives_idle=10&keepalives_interval=5&keepalives_count=3&tcp_user_timeout=30000";

    fn libpq(url: &str, env: LibpqEnv) -> String {
        DatabaseUrl::libpq_url(url, env).into_owned()
    }

    #[test]
    fn loopback_urls_skip_tls_unless_told_otherwise() {
        let none = LibpqEnv::default();
        assert_eq!(
            libpq("postgres://u@127.0.0.1/db", none),
            format!("postgres://u@127.0.0.1/db?{BOUNDS}&sslmode=disable")
        );
        assert_eq!(
            libpq("postgres://u@localhost:5433/db?x=1", none),
            format!("postgres://u@localhost:5433/db?x=1&{BOUNDS}&sslmode=disable")
        );
        assert_eq!(libpq("postgresql://[::1]/db", none), format!("postgresql://[::1]/db?{BOUNDS}&sslmode=disable"));
        for kept in [
            "postgres://u@127.0.0.1/db?sslmode=require",
            "postgres://u@localhost/db?host=/run/postgresql",
            "postgres://u@db.internal/db",
            "postgres://u@10.0.0.1/db",
            "postgres:///db",
        ] {
            let separator = if kept.contains('?') { '&' } else { '?' };
            assert_eq!(libpq(kept, none), format!("{kept}{separator}{BOUNDS}"));
        }
        let pgsslmode = LibpqEnv { sslmode: true, ..none };
        assert_eq!(libpq("postgres://u@127.0.0.1/db", pgsslmode), format!("postgres://u@127.0.0.1/db?{BOUNDS}"));
    }

    #[test]
    fn a_vanished_server_is_noticed_unless_the_url_or_environment_says_otherwise() {
        let none = LibpqEnv::default();
        let mine = "postgres://u@db.internal/db?keepalives_idle=60&connect_timeout=3&tcp_user_timeout=0";
        assert_eq!(libpq(mine, none), format!("{mine}&keepalives_interval=5&keepalives_count=3"));
        let pgconnect_timeout = LibpqEnv { connect_timeout: true, ..none };
        assert_eq!(
            libpq("postgres://u@db.internal/db", pgconnect_timeout),
            "postgres://u@db.internal/db?keepalives_idle=10&keepalives_interval=5&keepalives_count=3&tcp_user_timeout=30000"
        );
        let everything = format!("postgres://u@127.0.0.1/db?{BOUNDS}&sslmode=verify-full");
        assert_eq!(libpq(&everything, none), everything, "nothing to add: the URL is handed over untouched");
        assert_eq!(libpq("postgres://u@[bad/db", none), "postgres://u@[bad/db");
    }

    #[test]
    fn display_hides_the_password() {
        let url: DatabaseUrl = "postgres://app:hunter2@db.internal/portcullis".parse().unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db.internal/portcullis");
        let url: DatabaseUrl =
            "postgresql://app@db/p?sslmode=require&password=hunter2&sslpassword=s3cret".parse().unwrap();
        assert_eq!(url.to_string(), "postgresql://app@db/p?sslmode=require&password=***&sslpassword=***");
        assert!(!format!("{url:?}").contains("hunter2"));
        let unparsable: DatabaseUrl = "postgres://app:hunter2@[bad/p".parse().unwrap();
        assert_eq!(unparsable.to_string(), "postgres://(unparsable URL not shown)");
    }
}
