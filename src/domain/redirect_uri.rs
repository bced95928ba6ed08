use std::fmt;

use url::Url;

use super::Invalid;

/// A registered redirect URI (SPEC §2): an absolute `http`/`https` URL with a host, without a
/// fragment or user info, at most 2000 bytes. The original string is kept: matching is byte for
/// byte (RFC 9700 §4.1.3), never after normalisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

const LOOPBACK_PREFIXES: [&str; 2] = ["http://127.0.0.1", "http://[::1]"];

/// `value` as an absolute `http`/`https` URL with a host, without a fragment or user info, at
/// most 2000 bytes and with no whitespace: what redirect URIs (RFC 6749 §3.1.2) and resource
/// indicators (RFC 8707 §2) share. `what` names it in the message.
pub(super) fn absolute_web_url(value: &str, what: &str) -> Result<Url, Invalid> {
    let invalid = |why: &str| Invalid(format!("invalid {what} {value:?}: {why}"));
    if value.len() > 2000 {
        return Err(invalid("longer than 2000 characters"));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("contains whitespace"));
    }
    let url = Url::parse(value).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    // WHATWG parsing turns `https:///cb` into `https://cb/`; the URI as written has no host.
    let authority = value.split_once("://").map(|(_, rest)| rest);
    if url.host_str().is_none_or(str::is_empty) || authority.is_none_or(|rest| rest.starts_with('/')) {
        return Err(invalid("a host is required"));
    }
    if value.contains('#') {
        return Err(invalid("a fragment is not allowed"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("user info is not allowed"));
    }
    Ok(url)
}

impl RedirectUri {
    pub fn parse(value: &str) -> Result<RedirectUri, Invalid> {
        absolute_web_url(value, "redirect URI")?;
        Ok(RedirectUri(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `requested` may be used where `self` is registered: byte-for-byte equality, or,
    /// for public clients only, the same loopback URI on any port (RFC 8252 §7.3).
    pub fn accepts(&self, requested: &str, public_client: bool) -> bool {
        if self.0 == requested {
            return true;
        }
        public_client
            && matches!(
                (without_loopback_port(&self.0), without_loopback_port(requested)),
                (Some(registered), Some(requested)) if registered == requested
            )
    }
}

/// `http://127.0.0.1:PORT/rest` → `http://127.0.0.1/rest` (likewise `[::1]`); `None` for anything
/// that is not a loopback IP literal with an optional numeric port.
fn without_loopback_port(uri: &str) -> Option<String> {
    LOOPBACK_PREFIXES.iter().find_map(|prefix| {
        let rest = uri.strip_prefix(prefix)?;
        let rest = match rest.strip_prefix(':') {
            Some(port_and_rest) => {
                let digits = port_and_rest.bytes().take_while(u8::is_ascii_digit).count();
                // A port is 0 to 65535: anything else is not a URL we could redirect to.
                port_and_rest[..digits].parse::<u16>().ok()?;
                &port_and_rest[digits..]
            }
            None => rest,
        };
        (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')).then(|| format!("{prefix}{rest}"))
    })
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An application's redirect URIs: 1 to 20, no duplicates (SPEC §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUris(Vec<RedirectUri>);

impl RedirectUris {
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Result<RedirectUris, Invalid> {
        RedirectUris::new(values.iter().map(|value| RedirectUri::parse(value.as_ref())).collect::<Result<_, _>>()?)
    }

    /// The list, checked as a whole: its length, and no URI twice.
    pub fn new(uris: Vec<RedirectUri>) -> Result<RedirectUris, Invalid> {
        if uris.is_empty() || uris.len() > 20 {
            return Err(Invalid::new("an application needs 1 to 20 redirect URIs"));
        }
        if let Some(twice) = uris.iter().enumerate().find_map(|(i, uri)| uris[..i].contains(uri).then_some(uri)) {
            return Err(Invalid(format!("redirect URI {twice} is listed twice")));
        }
        Ok(RedirectUris(uris))
    }

    pub fn iter(&self) -> impl Iterator<Item = &RedirectUri> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_absolute_http_urls_with_host() {
        for ok in [
            "https://client.example/cb",
            "http://client.example:8080/cb?x=1",
            "http://127.0.0.1/cb",
            "http://[::1]:9000/",
            "http://localhost:3000/callback",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_fragments_relative_hostless_and_other_schemes() {
        for bad in [
            "https://client.example/cb#frag",
            "https://client.example/cb#",
            "/cb",
            "client.example/cb",
            "https:///cb",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "custom.scheme:/cb",
            "https://user:pw@client.example/cb",
            "https://client.example/c b",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching_is_exact() {
        let uri = RedirectUri::parse("https://client.example/cb").unwrap();
        assert!(uri.accepts("https://client.example/cb", false));
        for near in [
            "https://client.example/cb/",
            "https://client.example/cb?x=1",
            "https://CLIENT.example/cb",
            "https://client.example:443/cb",
            "https://client.example/CB",
            "https://client.example/cb#x",
            "https://client.example.evil/cb",
            "https://client.example/cb/../cb",
            "http://client.example/cb",
        ] {
            assert!(!uri.accepts(near, true), "{near}");
        }
    }

    #[test]
    fn loopback_port_is_free_for_public_clients_only() {
        let uri = RedirectUri::parse("http://127.0.0.1/callback").unwrap();
        assert!(uri.accepts("http://127.0.0.1:53123/callback", true));
        assert!(!uri.accepts("http://127.0.0.1:53123/callback", false));
        assert!(!uri.accepts("http://127.0.0.1:53123/other", true));
        assert!(!uri.accepts("http://127.0.0.1:53123.evil.example/callback", true));
        assert!(!uri.accepts("http://127.0.0.1:/callback", true));
        for out_of_range in ["65536", "99999", "123456"] {
            let requested = format!("http://127.0.0.1:{out_of_range}/callback");
            assert!(!uri.accepts(&requested, true), "{requested}");
        }
        assert!(uri.accepts("http://127.0.0.1:65535/callback", true));
        assert!(!uri.accepts("https://127.0.0.1:53123/callback", true));
        let v6 = RedirectUri::parse("http://[::1]:8000/cb").unwrap();
        assert!(v6.accepts("http://[::1]:1234/cb", true));
        assert!(!v6.accepts("http://127.0.0.1:1234/cb", true));
        let localhost = RedirectUri::parse("http://localhost/cb").unwrap();
        assert!(!localhost.accepts("http://localhost:1234/cb", true));
    }

    #[test]
    fn lists_have_1_to_20_distinct_entries() {
        assert!(RedirectUris::parse::<&str>(&[]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("https://c.example/{i}")).collect();
        assert!(RedirectUris::parse(&many).is_err());
        assert!(RedirectUris::parse(&many[..20]).is_ok());
        assert!(RedirectUris::parse(&["https://c.example/a", "https://c.example/a"]).is_err());
    }
}
