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

impl DatabaseUrl {
    /// The PostgreSQL URL as handed to libpq. Unless the URL names an `sslmode` (or hosts in
    /// its query) or `PGSSLMODE` is set, a URL whose host is loopback gets `sslmode=disable`:
    /// libpq's default `prefer` would negotiate TLS with a local server that offers it, which
    /// protects nothing on loopback and cost about 10 % of introspection throughput
    /// (bench/README.md). Any other host keeps libpq's default.
    pub fn libpq_url(url: &str, sslmode_from_env: bool) -> std::borrow::Cow<'_, str> {
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
        let says_otherwise = parsed.query_pairs().any(|(name, _)| matches!(&*name, "sslmode" | "host" | "hostaddr"));
        if !loopback || says_otherwise || sslmode_from_env {
            return url.into();
        }
        parsed.query_pairs_mut().append_pair("sslmode", "disable");
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

    #[test]
    fn loopback_urls_skip_tls_unless_told_otherwise() {
        let libpq = |url, env| DatabaseUrl::libpq_url(url, env).into_owned();
        assert_eq!(libpq("postgres://u@127.0.0.1/db", false), "postgres://u@127.0.0.1/db?sslmode=disable");
        assert_eq!(
            libpq("postgres://u@localhost:5433/db?x=1", false),
            "postgres://u@localhost:5433/db?x=1&sslmode=disable"
        );
        assert_eq!(libpq("postgresql://[::1]/db", false), "postgresql://[::1]/db?sslmode=disable");
        for kept in [
            "postgres://u@127.0.0.1/db?sslmode=require",
            "postgres://u@localhost/db?host=/run/postgresql",
            "postgres://u@db.internal/db",
            "postgres://u@10.0.0.1/db",
            "postgres:///db",
        ] {
            assert_eq!(libpq(kept, false), kept);
        }
        assert_eq!(libpq("postgres://u@127.0.0.1/db", true), "postgres://u@127.0.0.1/db", "PGSSLMODE decides");
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
