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
