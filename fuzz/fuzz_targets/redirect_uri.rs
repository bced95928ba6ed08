//! `RedirectUri::parse` and `RedirectUri::accepts` (src/domain/redirect_uri.rs) on arbitrary
//! text. Input: `registered` and `requested`, separated by the first newline. Properties:
//! - an accepted URI is kept byte for byte, is an absolute http(s) URL with a host, and has
//!   no fragment, no user info, no whitespace or control character, at most 2000 bytes;
//! - a confidential client's URI accepts exactly itself;
//! - whatever a public client's URI accepts (the loopback port rule of RFC 8252 §7.3) is a
//!   valid redirect URI itself, to the same loopback host: we will redirect there.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::domain::RedirectUri;
use url::Url;

fn check_valid(uri: &RedirectUri, text: &str) {
    assert_eq!(uri.as_str(), text, "kept byte for byte");
    assert!(text.len() <= 2000);
    assert!(!text.contains('#'), "no fragment");
    assert!(!text.chars().any(|c| c.is_whitespace() || c.is_control()));
    let url = Url::parse(text).expect("an accepted redirect URI is a URL");
    assert!(matches!(url.scheme(), "http" | "https"), "scheme {}", url.scheme());
    assert!(url.host_str().is_some_and(|host| !host.is_empty()), "a host");
    assert!(url.fragment().is_none());
    assert!(url.username().is_empty() && url.password().is_none(), "no user info");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (registered, requested) = text.split_once('\n').unwrap_or((text, text));
    let Ok(uri) = RedirectUri::parse(registered) else {
        return;
    };
    check_valid(&uri, registered);
    assert!(uri.accepts(registered, false) && uri.accepts(registered, true), "accepts itself");
    assert_eq!(uri.accepts(requested, false), requested == registered, "confidential: exact match only");
    if uri.accepts(requested, true) && requested != registered {
        let other = RedirectUri::parse(requested)
            .unwrap_or_else(|e| panic!("{registered:?} accepts {requested:?}, which is not a redirect URI: {e}"));
        check_valid(&other, requested);
        let host = |text: &str| Url::parse(text).ok().and_then(|url| url.host_str().map(str::to_owned));
        assert_eq!(host(requested), host(registered), "same loopback host");
        assert!(matches!(host(registered).as_deref(), Some("127.0.0.1" | "[::1]")), "only loopback ports vary");
    }
});
