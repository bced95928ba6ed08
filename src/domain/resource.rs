use std::fmt;

use url::Host;

use super::Invalid;
use super::redirect_uri::absolute_web_url;

/// A resource server's URI as RFC 8707 §2 names it: absolute, without a fragment, `https` (or
/// `http` on a loopback host, for development), at most 2000 bytes. Kept as written: a
/// registration and a request match byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceUri(String);

impl ResourceUri {
    pub fn parse(value: &str) -> Result<ResourceUri, Invalid> {
        let url = absolute_web_url(value, "resource")?;
        let loopback = match url.host() {
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        if url.scheme() == "http" && !loopback {
            return Err(Invalid(format!("invalid resource {value:?}: http is allowed only on a loopback host")));
        }
        Ok(ResourceUri(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The resource servers a token is bound to (RFC 8707): one or more, each once, in a canonical
/// order. Stored space-separated (a URI holds no space).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience(Vec<ResourceUri>);

/// A token request named a resource that was not granted (RFC 8707 §2.2: `invalid_target`).
#[derive(Debug, PartialEq, Eq)]
pub struct Widened(pub ResourceUri);

impl Audience {
    /// The audience of the `resource` parameters `values` (`None` when there are none).
    pub fn parse_all<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Option<Audience>, Invalid> {
        let mut uris = values.into_iter().map(ResourceUri::parse).collect::<Result<Vec<_>, _>>()?;
        uris.sort();
        uris.dedup();
        Ok((!uris.is_empty()).then_some(Audience(uris)))
    }

    /// Reads a stored column (written by [`Audience::to_stored`]); `None` stays `None`.
    pub fn from_stored(stored: Option<&str>) -> Option<Audience> {
        Audience::parse_all(stored?.split(' ')).ok().flatten()
    }

    pub fn to_stored(&self) -> String {
        self.0.iter().map(ResourceUri::as_str).collect::<Vec<_>>().join(" ")
    }

    pub fn uris(&self) -> &[ResourceUri] {
        &self.0
    }

    /// The URIs of an audience that may be absent, as text to show (none when absent).
    pub fn listed(audience: Option<&Audience>) -> Vec<String> {
        audience.into_iter().flat_map(Audience::uris).map(ToString::to_string).collect()
    }

    pub fn contains(&self, uri: &str) -> bool {
        self.0.iter().any(|u| u.as_str() == uri)
    }

    /// The audience of a token issued for `granted` when the token request names `requested`:
    /// everything granted when it names nothing, else what it names, which must all have been
    /// granted — a token request may narrow the audience, never widen it (RFC 8707 §2.2).
    pub fn narrowed(granted: Option<&Audience>, requested: Option<&Audience>) -> Result<Option<Audience>, Widened> {
        let Some(requested) = requested else {
            return Ok(granted.cloned());
        };
        match requested.0.iter().find(|uri| !granted.is_some_and(|g| g.0.contains(uri))) {
            Some(extra) => Err(Widened(extra.clone())),
            None => Ok(Some(requested.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_https_or_loopback_http_without_fragment() {
        for good in [
            "https://mcp.example.com",
            "https://api.example.com/v1?x=1",
            "http://127.0.0.1:8080/mcp",
            "http://localhost/",
            "http://[::1]:9/",
        ] {
            assert!(ResourceUri::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "http://mcp.example.com",
            "https://mcp.example.com/#frag",
            "mcp.example.com",
            "/relative",
            "https:///nohost",
            "https://user@example.com",
            "ftp://example.com",
            "https://exa mple.com",
            "",
        ] {
            assert!(ResourceUri::parse(bad).is_err(), "{bad}");
        }
    }

    fn audience(uris: &[&str]) -> Audience {
        Audience::parse_all(uris.iter().copied()).unwrap().unwrap()
    }

    #[test]
    fn audiences_are_canonical_and_round_trip() {
        let a = audience(&["https://b.example", "https://a.example", "https://b.example"]);
        assert_eq!(a.to_stored(), "https://a.example https://b.example");
        assert_eq!(Audience::from_stored(Some(&a.to_stored())), Some(a));
        assert_eq!(Audience::from_stored(None), None);
        assert_eq!(Audience::parse_all([]), Ok(None));
    }

    #[test]
    fn a_token_request_narrows_but_never_widens() {
        let granted = audience(&["https://a.example", "https://b.example"]);
        let only_a = audience(&["https://a.example"]);
        assert_eq!(Audience::narrowed(Some(&granted), None), Ok(Some(granted.clone())));
        assert_eq!(Audience::narrowed(Some(&granted), Some(&only_a)), Ok(Some(only_a.clone())));
        assert_eq!(Audience::narrowed(None, None), Ok(None));
        let other = audience(&["https://a.example", "https://c.example"]);
        assert_eq!(
            Audience::narrowed(Some(&granted), Some(&other)),
            Err(Widened(ResourceUri::parse("https://c.example").unwrap()))
        );
        // A grant bound to nothing cannot be bound afterwards: that would be another approval.
        assert!(Audience::narrowed(None, Some(&only_a)).is_err());
    }
}
