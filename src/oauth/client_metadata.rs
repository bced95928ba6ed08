//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, SPEC §7): a
//! `client_id` that is an `https` URL names a JSON document describing the client, fetched
//! here under SSRF rules and cached as an app row (`ops::client_documents`).
//!
//! The fetch happens before any database transaction, with no connection held: resolve the
//! host ourselves, refuse it unless every address is public (draft §6.5: "SSRF"), then connect
//! only to those vetted addresses (so a second DNS answer cannot move the request), follow no
//! redirect, stop after 5 seconds and after 64 KiB.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use reqwest::header::{self, HeaderMap};
use serde_json::{Map, Value};
use url::{Host, Url};

use super::error::OAuthError;
use crate::domain::{AppName, RedirectUris};
use crate::http::address_limit::AddressLimit;
use crate::http::params::Params;
use crate::http::{AppState, client_ip};
use crate::ops::OpError;
use crate::ops::client_documents::{self, ClientDocument};
use crate::telemetry::metrics::{self, FetchOutcome};
use crate::ui::PageError;

/// The whole fetch, DNS included (SPEC §7).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest document read (SPEC §7); the body is streamed and cut, whatever it announces.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
/// How long a document is used before it is fetched again: its `Cache-Control: max-age`
/// clamped to this range; 5 minutes without one, or with `no-store` / `no-cache` (SPEC §7).
pub const MIN_LIFETIME: u64 = 5 * 60;
pub const MAX_LIFETIME: u64 = 24 * 60 * 60;

/// Fetches of documents not (or no longer) cached, per requesting address per hour: each is an
/// outbound request made for whoever asked, and may add an app row.
pub fn fetch_limit(per_hour: u32) -> AddressLimit {
    AddressLimit::new(per_hour as usize, Duration::from_secs(3600))
}

/// Why a client's metadata document cannot be used. The text is shown to the user (at
/// `/oauth/authorize`) or sent as `error_description`; it never carries the document.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("the client_id URL is not a valid metadata document URL: {0}")]
    BadUrl(&'static str),
    #[error("the client_id URL's host could not be resolved")]
    Unresolvable,
    #[error("the client_id URL's host resolves to {0}, a non-public address")]
    PrivateAddress(IpAddr),
    #[error("plain http is allowed only to loopback addresses, and {0} is not one")]
    PlainHttp(IpAddr),
    #[error("the metadata document could not be fetched (connection failed)")]
    Unreachable,
    #[error("the metadata document took longer than {} seconds", FETCH_TIMEOUT.as_secs())]
    TimedOut,
    #[error("the metadata document URL redirects (HTTP {0}); redirects are not followed")]
    Redirected(u16),
    #[error("the metadata document URL answered HTTP {0}")]
    Status(u16),
    #[error("the metadata document is larger than {} KiB", MAX_DOCUMENT_BYTES / 1024)]
    TooLarge,
    #[error("the metadata document is invalid: {0}")]
    Invalid(String),
    /// The requester's address has caused [`fetch_limit`]'s fetches this hour.
    #[error("too many metadata documents fetched for this address: try again in {} seconds", .0.as_secs().max(1))]
    TooMany(Duration),
    /// Our own fault (the database), not the document's.
    #[error("the metadata document could not be checked: {0}")]
    Server(String),
}

/// What an address is to the fetcher.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum AddressClass {
    Public,
    /// Allowed only with `PORTCULLIS_CLIENT_METADATA_ALLOW_LOOPBACK=true`.
    Loopback,
    /// Private, link-local, multicast, unspecified, broadcast, documentation, CGNAT, reserved,
    /// unique-local: never fetched from.
    Forbidden,
}

/// Classifies an IPv4 address (RFC 6890 special-purpose registry, the ranges that matter).
fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    let forbidden = a == 0 // "this network", 0.0.0.0/8
        || ip.is_private() // 10/8, 172.16/12, 192.168/16
        || ip.is_link_local() // 169.254/16
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10 (RFC 6598)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0/24
        || ip.is_documentation() // 192.0.2/24, 198.51.100/24, 203.0.113/24
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
        || ip.is_multicast() // 224/4
        || a >= 240; // reserved 240/4 and broadcast 255.255.255.255
    if forbidden { AddressClass::Forbidden } else { AddressClass::Public }
}

/// Classifies an IPv6 address; IPv4 embedded in it (mapped, NAT64, 6to4) is classified as
/// that IPv4 address.
fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let segments = ip.segments();
    let embedded = |high: u16, low: u16| Ipv4Addr::new((high >> 8) as u8, high as u8, (low >> 8) as u8, low as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return classify_v4(embedded(segments[6], segments[7])); // NAT64 64:ff9b::/96
    }
    if segments[0] == 0x2002 {
        return classify_v4(embedded(segments[1], segments[2])); // 6to4 2002::/16
    }
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    let forbidden = ip.is_unspecified()
        || segments[..6] == [0; 6] // IPv4-compatible ::/96 (deprecated)
        || ip.is_multicast() // ff00::/8
        || (segments[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (segments[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (segments[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation 2001:db8::/32
        || (segments[0] == 0x2001 && segments[1] == 0) // Teredo 2001::/32
        || segments[..4] == [0x100, 0, 0, 0]; // discard-only 100::/64
    if forbidden { AddressClass::Forbidden } else { AddressClass::Public }
}

pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// Seconds a document may be used, from its `Cache-Control` (RFC 9111 §5.2.2): `max-age`
/// clamped to [`MIN_LIFETIME`, `MAX_LIFETIME`]; the minimum without one, or when the response
/// asks not to be stored or reused unchecked.
pub fn lifetime(cache_control: Option<&str>) -> u64 {
    let Some(value) = cache_control else {
        return MIN_LIFETIME;
    };
    let mut max_age = None;
    for directive in value.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if directive == "no-store" || directive == "no-cache" {
            return MIN_LIFETIME;
        }
        if let Some(seconds) = directive.strip_prefix("max-age=") {
            max_age = seconds.trim_matches('"').parse::<u64>().ok();
        }
    }
    max_age.unwrap_or(MIN_LIFETIME).clamp(MIN_LIFETIME, MAX_LIFETIME)
}

/// The document URL `client_id` is, if it is one: `https` (or `http` when loopback is allowed,
/// then only to loopback). Any other `client_id` is a registered app's and `None`. The URL must
/// be in normal form (no dot segments), without fragment or credentials, with a path (draft §3).
pub fn document_url(client_id: &str, allow_loopback: bool) -> Result<Option<Url>, Refusal> {
    let https = client_id.starts_with("https://");
    if !(https || allow_loopback && client_id.starts_with("http://")) {
        return Ok(None);
    }
    let url = Url::parse(client_id).map_err(|_| Refusal::BadUrl("it does not parse"))?;
    if url.as_str() != client_id {
        return Err(Refusal::BadUrl("it is not in normal form (dot segments, case or escaping)"));
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::BadUrl("it has a fragment or credentials"));
    }
    if url.path() == "/" {
        return Err(Refusal::BadUrl("it has no path"));
    }
    Ok(Some(url))
}

/// Every address the URL's host stands for, each vetted: all public, or all loopback when
/// allowed. Plain `http` needs loopback (SPEC §7).
async fn vetted_addresses(url: &Url, allow_loopback: bool) -> Result<Vec<SocketAddr>, Refusal> {
    let port = url.port_or_known_default().ok_or(Refusal::BadUrl("it has no port"))?;
    let addresses: Vec<SocketAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(Host::Domain(domain)) => {
            tokio::net::lookup_host((domain, port)).await.map_err(|_| Refusal::Unresolvable)?.collect()
        }
        None => return Err(Refusal::BadUrl("it has no host")),
    };
    if addresses.is_empty() {
        return Err(Refusal::Unresolvable);
    }
    for address in &addresses {
        match classify(address.ip()) {
            AddressClass::Public if url.scheme() != "https" => return Err(Refusal::PlainHttp(address.ip())),
            AddressClass::Public => {}
            AddressClass::Loopback if allow_loopback => {}
            AddressClass::Loopback | AddressClass::Forbidden => return Err(Refusal::PrivateAddress(address.ip())),
        }
    }
    Ok(addresses)
}

/// Fetches and validates the document at `url` (the `client_id`), within [`FETCH_TIMEOUT`].
pub async fn fetch(url: &Url, allow_loopback: bool) -> Result<ClientDocument, Refusal> {
    tokio::time::timeout(FETCH_TIMEOUT, fetch_unbounded(url, allow_loopback)).await.map_err(|_| Refusal::TimedOut)?
}

async fn fetch_unbounded(url: &Url, allow_loopback: bool) -> Result<ClientDocument, Refusal> {
    let addresses = vetted_addresses(url, allow_loopback).await?;
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(FETCH_TIMEOUT)
        .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")));
    if let Some(Host::Domain(domain)) = url.host() {
        builder = builder.resolve_to_addrs(domain, &addresses);
    }
    let client = builder.build().map_err(|e| Refusal::Server(e.to_string()))?;
    let mut response =
        client.get(url.as_str()).header(header::ACCEPT, "application/json").send().await.map_err(transport)?;
    let status = response.status();
    if status.is_redirection() {
        return Err(Refusal::Redirected(status.as_u16()));
    }
    if status != reqwest::StatusCode::OK {
        return Err(Refusal::Status(status.as_u16()));
    }
    let lifetime = lifetime_of(response.headers());
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(Refusal::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    parse_document(url, &body, lifetime)
}

/// A failed request or body read: reqwest's own deadline is the same [`FETCH_TIMEOUT`].
fn transport(error: reqwest::Error) -> Refusal {
    if error.is_timeout() { Refusal::TimedOut } else { Refusal::Unreachable }
}

fn lifetime_of(headers: &HeaderMap) -> u64 {
    lifetime(headers.get(header::CACHE_CONTROL).and_then(|value| value.to_str().ok()))
}

/// The document's client metadata (draft §4.1, RFC 7591 §2), held to the rules of registered
/// apps; a document for a confidential client is refused (draft §4.1: no shared secrets).
fn parse_document(url: &Url, body: &[u8], lifetime: u64) -> Result<ClientDocument, Refusal> {
    let invalid = |message: &str| Refusal::Invalid(message.to_owned());
    let value: Value = serde_json::from_slice(body).map_err(|_| invalid("it is not JSON"))?;
    let Value::Object(document) = value else {
        return Err(invalid("it is not a JSON object"));
    };
    if string(&document, "client_id").map_err(Refusal::Invalid)?.as_deref() != Some(url.as_str()) {
        return Err(invalid("its client_id is not exactly the URL it was fetched from"));
    }
    if document.contains_key("client_secret") {
        return Err(invalid("it carries a client_secret"));
    }
    if string(&document, "token_endpoint_auth_method").map_err(Refusal::Invalid)?.is_some_and(|method| method != "none")
    {
        return Err(invalid("token_endpoint_auth_method must be \"none\": such clients are public"));
    }
    let name =
        string(&document, "client_name").map_err(Refusal::Invalid)?.ok_or_else(|| invalid("client_name is missing"))?;
    let name = AppName::parse(&name).map_err(|e| Refusal::Invalid(format!("client_name: {}", e.0)))?;
    let uris = strings(&document, "redirect_uris")
        .map_err(Refusal::Invalid)?
        .ok_or_else(|| invalid("redirect_uris is missing"))?;
    let redirect_uris = RedirectUris::parse(&uris).map_err(|e| Refusal::Invalid(format!("redirect_uris: {}", e.0)))?;
    Ok(ClientDocument {
        client_id: url.as_str().to_owned(),
        name,
        redirect_uris,
        client_uri: web_url(&document, "client_uri").map_err(Refusal::Invalid)?,
        logo_uri: web_url(&document, "logo_uri").map_err(Refusal::Invalid)?,
        lifetime: time::Duration::seconds(lifetime as i64),
    })
}

/// Member `name` of client metadata (RFC 7591 §2): absent (or null) is `None`; anything but
/// a string is refused, with the words to say so.
pub(super) fn string(document: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match document.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(format!("{name} must be a string")),
    }
}

/// An optional `http(s)` URL member (`client_uri`, `logo_uri`; RFC 7591 §2).
pub(super) fn web_url(document: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    let Some(value) = string(document, name)? else {
        return Ok(None);
    };
    match Url::parse(&value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(Some(value)),
        _ => Err(format!("{name} must be an http(s) URL")),
    }
}

/// Member `name`, an array of strings; absent is `None`.
pub(super) fn strings(document: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, String> {
    let wrong = || format!("{name} must be an array of strings");
    match document.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(wrong),
        Some(_) => Err(wrong()),
    }
}

/// Makes sure that, when `client_id` is a metadata document URL, its app row is current: a
/// cached document still within its lifetime is used as is; otherwise the document is fetched
/// (no database connection held meanwhile) and stored. A document that cannot be fetched or is
/// invalid is refused even when an expired copy is cached: the copy is never served stale.
/// A fetch counts against `requester`'s address ([`fetch_limit`]); a cached document does not.
pub async fn resolve(state: &AppState, client_id: &str, requester: Option<&str>) -> Result<(), Refusal> {
    let allow_loopback = state.settings.client_metadata_allow_loopback;
    let Some(url) = document_url(client_id, allow_loopback)? else {
        return Ok(());
    };
    let server = |e: &dyn std::fmt::Display| Refusal::Server(e.to_string());
    let id = client_id.to_owned();
    let fresh = state
        .db(move |conn| client_documents::is_fresh(conn, &id, crate::db::now()))
        .await
        .map_err(|e| server(&e))?
        .map_err(|e| server(&e))?;
    if fresh {
        return Ok(());
    }
    if let Err(wait) = state.document_fetches.take(requester, Instant::now()) {
        metrics::document_fetch(FetchOutcome::Throttled);
        return Err(Refusal::TooMany(wait));
    }
    let document = match fetch(&url, allow_loopback).await {
        Ok(document) => Arc::new(document),
        Err(refusal) => {
            metrics::document_fetch(FetchOutcome::Refused);
            return Err(refusal);
        }
    };
    // Two first fetches of one document may race to insert it: the loser stores it again,
    // now as an update of the winner's row.
    for retry in [true, false] {
        let document = document.clone();
        match state.db(move |conn| client_documents::store(conn, &document, crate::db::now())).await {
            Ok(Err(OpError::Conflict(_))) if retry => continue,
            Ok(Ok(())) => {
                metrics::document_fetch(FetchOutcome::Stored);
                return Ok(());
            }
            Ok(Err(error)) => return Err(server(&error)),
            Err(error) => return Err(server(&error)),
        }
    }
    Err(Refusal::Server("the metadata document could not be stored".into()))
}

/// [`resolve`] for `/oauth/authorize`: an unusable document is an error page (4xx), never a
/// redirect, since the redirect URIs are the document's.
pub async fn resolve_for_page(req: &HttpRequest, state: &AppState, params: &Params) -> Result<(), PageError> {
    let Ok(Some(client_id)) = params.get("client_id") else {
        return Ok(());
    };
    match resolve(state, client_id, client_ip(req).as_deref()).await {
        Ok(()) => Ok(()),
        Err(Refusal::Server(cause)) => Err(PageError::server(req, cause)),
        Err(refusal @ Refusal::TooMany(wait)) => Err(PageError::too_many_requests(req, refusal.to_string(), wait)),
        Err(refusal) => Err(PageError::new(
            req,
            StatusCode::BAD_REQUEST,
            "This application cannot be used",
            format!("Its client_id names a metadata document that cannot be used: {refusal}."),
        )),
    }
}

/// [`resolve`] for the token and device authorization endpoints, given the `client_id` of a
/// client authenticating with `none`: an unusable document is `invalid_client` (RFC 6749 §5.2).
pub async fn resolve_for_endpoint(
    req: &HttpRequest,
    state: &AppState,
    public_id: Option<&str>,
) -> Result<(), OAuthError> {
    let Some(client_id) = public_id else {
        return Ok(());
    };
    match resolve(state, client_id, client_ip(req).as_deref()).await {
        Ok(()) => Ok(()),
        Err(Refusal::Server(cause)) => Err(OAuthError::server_error(cause)),
        Err(refusal @ Refusal::TooMany(wait)) => Err(OAuthError::too_many_requests(refusal.to_string(), wait)),
        Err(refusal) => Err(OAuthError::invalid_client(refusal.to_string(), false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for (address, class) in [
            ("93.184.216.34", AddressClass::Public),
            ("1.1.1.1", AddressClass::Public),
            ("2606:4700:4700::1111", AddressClass::Public),
            ("127.0.0.1", AddressClass::Loopback),
            ("127.8.9.10", AddressClass::Loopback),
            ("::1", AddressClass::Loopback),
            ("::ffff:127.0.0.1", AddressClass::Loopback),
            ("0.0.0.0", AddressClass::Forbidden),
            ("10.0.0.1", AddressClass::Forbidden),
            ("172.16.5.4", AddressClass::Forbidden),
            ("172.31.255.255", AddressClass::Forbidden),
            ("192.168.1.1", AddressClass::Forbidden),
            ("169.254.169.254", AddressClass::Forbidden),
            ("100.64.0.1", AddressClass::Forbidden),
            ("100.127.255.255", AddressClass::Forbidden),
            ("192.0.0.8", AddressClass::Forbidden),
            ("192.0.2.1", AddressClass::Forbidden),
            ("198.51.100.7", AddressClass::Forbidden),
            ("203.0.113.9", AddressClass::Forbidden),
            ("198.18.0.1", AddressClass::Forbidden),
            ("224.0.0.1", AddressClass::Forbidden),
            ("240.0.0.1", AddressClass::Forbidden),
            ("255.255.255.255", AddressClass::Forbidden),
            ("::", AddressClass::Forbidden),
            ("::ffff:10.0.0.1", AddressClass::Forbidden),
            ("::ffff:169.254.169.254", AddressClass::Forbidden),
            ("::10.0.0.1", AddressClass::Forbidden),
            ("64:ff9b::a00:1", AddressClass::Forbidden),
            ("2002:a00:1::", AddressClass::Forbidden),
            ("fc00::1", AddressClass::Forbidden),
            ("fd12:3456::1", AddressClass::Forbidden),
            ("fe80::1", AddressClass::Forbidden),
            ("fec0::1", AddressClass::Forbidden),
            ("ff02::1", AddressClass::Forbidden),
            ("2001:db8::1", AddressClass::Forbidden),
            ("2001::1", AddressClass::Forbidden),
            ("100::1", AddressClass::Forbidden),
        ] {
            assert_eq!(classify(address.parse().unwrap()), class, "{address}");
        }
        assert_eq!(classify("100.63.255.255".parse().unwrap()), AddressClass::Public);
        assert_eq!(classify("100.128.0.0".parse().unwrap()), AddressClass::Public);
        assert_eq!(classify("64:ff9b::5db8:d822".parse().unwrap()), AddressClass::Public, "NAT64 of a public v4");
    }

    #[test]
    fn cache_control_max_age_is_clamped_between_five_minutes_and_a_day() {
        for (header, seconds) in [
            (None, 300),
            (Some(""), 300),
            (Some("public"), 300),
            (Some("max-age=60"), 300),
            (Some("max-age=3600"), 3600),
            (Some("public, max-age=7200"), 7200),
            (Some("Max-Age=\"600\""), 600),
            (Some("max-age=999999999"), 86_400),
            (Some("max-age=nonsense"), 300),
            (Some("max-age=3600, no-cache"), 300),
            (Some("no-store, max-age=3600"), 300),
        ] {
            assert_eq!(lifetime(header), seconds, "{header:?}");
        }
    }

    #[test]
    fn document_urls_are_https_urls_in_normal_form_with_a_path() {
        assert!(document_url("0123abcd", false).unwrap().is_none());
        assert!(document_url("http://127.0.0.1:8000/client.json", false).unwrap().is_none());
        assert!(document_url("http://127.0.0.1:8000/client.json", true).unwrap().is_some());
        assert!(document_url("https://app.example/client.json", false).unwrap().is_some());
        for bad in [
            "https://app.example",
            "https://app.example/",
            "https://app.example/a/../client.json",
            "https://APP.example/client.json",
            "https://user:pw@app.example/client.json",
            "https://app.example/client.json#x",
            "https://",
        ] {
            assert!(document_url(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn documents_must_name_themselves_and_be_public_clients() {
        let url = Url::parse("https://app.example/client.json").unwrap();
        let good = br#"{"client_id":"https://app.example/client.json","client_name":"Agent","redirect_uris":["http://127.0.0.1/cb"]}"#;
        let document = parse_document(&url, good, 300).unwrap();
        assert_eq!(document.name.as_str(), "Agent");
        assert_eq!(document.lifetime, time::Duration::minutes(5));
        for bad in [
            &br#"[]"#[..],
            br#"not json"#,
            br#"{"client_id":"https://app.example/other.json","client_name":"Agent","redirect_uris":["http://127.0.0.1/cb"]}"#,
            br#"{"client_id":"https://app.example/client.json","redirect_uris":["http://127.0.0.1/cb"]}"#,
            br#"{"client_id":"https://app.example/client.json","client_name":"Agent","redirect_uris":[]}"#,
            br#"{"client_id":"https://app.example/client.json","client_name":"Agent","redirect_uris":["javascript:x"]}"#,
            br#"{"client_id":"https://app.example/client.json","client_name":"Agent","redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"client_secret_basic"}"#,
            br#"{"client_id":"https://app.example/client.json","client_name":"Agent","redirect_uris":["http://127.0.0.1/cb"],"client_secret":"s"}"#,
            br#"{"client_id":"https://app.example/client.json","client_name":"Agent","redirect_uris":["http://127.0.0.1/cb"],"logo_uri":"data:x"}"#,
        ] {
            assert!(parse_document(&url, bad, 300).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
