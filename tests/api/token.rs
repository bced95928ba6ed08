//! The token endpoint (SPEC §4 "Token endpoint rules"). Negative tests are named after the
//! attack they stop.

use std::sync::{Arc, Barrier};

use serde_json::Value;

use crate::harness::{http, pkce};
use crate::world::{App, Grant, Scene, World};

/// Token requests for a scene.
trait Post {
    fn post(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> reqwest::blocking::Response;
    fn secret(&self) -> &str;
}

impl Post for Scene {
    fn post(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> reqwest::blocking::Response {
        let request = http().post(self.world.url("/oauth/token")).form(form);
        match basic {
            Some((id, secret)) => request.basic_auth(id, Some(secret)),
            None => request,
        }
        .send()
        .unwrap()
    }

    fn secret(&self) -> &str {
        self.app.secret.as_deref().unwrap()
    }
}

fn error_of(response: reqwest::blocking::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let challenge =
        response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let body: Value = response.json().unwrap();
    assert!(body["error_description"].is_string(), "{body}");
    (status, challenge, body)
}

#[test]
fn client_secret_basic_issues_a_project_token() {
    let s = Scene::new();
    let (code, verifier) = s.code();
    let response = s.post(
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &s.app.redirect_uri),
            ("code_verifier", &verifier),
        ],
        Some((&s.app.client_id, s.secret())),
    );
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let body: Value = response.json().unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["scope"], "project");
    assert!(
        body.get("expires_in").is_none() && body.get("refresh_token").is_none(),
        "tokens do not expire by default: {body}"
    );
    let token = body["access_token"].as_str().unwrap();
    let (prefix, secret) = token.split_once('|').unwrap();
    assert_eq!(prefix, format!("project:{}:{}", s.team, s.project));
    assert!(
        secret.len() >= 32 && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
        "URL-safe: {token}"
    );
}

#[test]
fn client_secret_post_and_basic_with_a_matching_body_client_id_work() {
    let s = Scene::new();
    let (code, verifier) = s.code();
    let response = s.post(
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &s.app.redirect_uri),
            ("code_verifier", &verifier),
            ("client_id", &s.app.client_id),
            ("client_secret", s.secret()),
        ],
        None,
    );
    assert_eq!(response.status(), 200);
    let (code, verifier) = s.code();
    let response = s.post(
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &s.app.redirect_uri),
            ("code_verifier", &verifier),
            ("client_id", &s.app.client_id),
        ],
        Some((&s.app.client_id, s.secret())),
    );
    assert_eq!(response.status(), 200);
}

#[test]
fn basic_credentials_are_form_url_decoded() {
    let s = Scene::new();
    let (code, verifier) = s.code();
    // RFC 6749 §2.3.1: id and secret are form-encoded before Basic; unreserved characters
    // may be encoded too, and must decode to the same values.
    let encoded_id: String = s.app.client_id.chars().map(|c| format!("%{:02X}", c as u32)).collect();
    let response = s.post(
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &s.app.redirect_uri),
            ("code_verifier", &verifier),
        ],
        Some((&encoded_id, s.secret())),
    );
    assert_eq!(response.status(), 200);
}

#[test]
fn public_clients_authenticate_with_none_and_pkce() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.public_app(&team);
    let tokens = world.tokens(&email, &app, Grant::Project { team: &team, project: &project });
    assert!(tokens["access_token"].as_str().unwrap().starts_with("project:"));
}

#[test]
fn bad_client_credentials_are_401_invalid_client() {
    let s = Scene::new();
    let (code, verifier) = s.code();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", s.app.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, challenge, body) = error_of(s.post(&form, Some((&s.app.client_id, "wrong-secret"))));
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    assert!(challenge.starts_with("Basic"), "WWW-Authenticate: Basic when Basic was used");
    let (status, _, body) = error_of(s.post(&form, Some(("no-such-client", "x"))));
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    let mut with_id = form.to_vec();
    with_id.push(("client_id", &s.app.client_id));
    let (status, _, body) = error_of(s.post(&with_id, None));
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "a confidential client must authenticate"
    );
    let mut posted = form.to_vec();
    posted.extend([("client_id", s.app.client_id.as_str()), ("client_secret", "wrong")]);
    let (status, _, body) = error_of(s.post(&posted, None));
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    // Two authentication methods at once, or Basic for one client and a body id of another.
    let mut both = form.to_vec();
    both.extend([("client_id", s.app.client_id.as_str()), ("client_secret", s.secret())]);
    let (status, _, body) = error_of(s.post(&both, Some((&s.app.client_id, s.secret()))));
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    let mut other_id = form.to_vec();
    other_id.push(("client_id", "someone-else"));
    let (status, _, _) = error_of(s.post(&other_id, Some((&s.app.client_id, s.secret()))));
    assert_eq!(status, 400);
}

#[test]
fn code_injection_a_code_issued_to_one_client_is_useless_to_another() {
    let s = Scene::new();
    let other = s.world.app(&s.team);
    let (code, verifier) = s.code();
    let response = s.post(
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &s.app.redirect_uri),
            ("code_verifier", &verifier),
        ],
        Some((&other.client_id, other.secret.as_deref().unwrap())),
    );
    let (status, _, body) = error_of(response);
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
}

#[test]
fn redirect_uri_must_equal_the_authorization_requests() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.app_with_uris(&team, &["https://a.example/one", "https://a.example/two"], &[]);
    let (code, verifier) = world.code_for(&email, &app, Grant::Project { team: &team, project: &project });
    let post = |form: &[(&str, &str)]| {
        http()
            .post(world.url("/oauth/token"))
            .basic_auth(&app.client_id, app.secret.as_deref())
            .form(form)
            .send()
            .unwrap()
    };
    let (status, _, body) =
        error_of(post(&[("grant_type", "authorization_code"), ("code", &code), ("code_verifier", &verifier)]));
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "missing redirect_uri");
    let (status, _, body) = error_of(post(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", "https://a.example/two"),
        ("code_verifier", &verifier),
    ]));
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "another registered URI is still wrong");
}

#[test]
fn pkce_a_wrong_or_missing_verifier_is_invalid_grant() {
    let s = Scene::new();
    for verifier in [Some("x".repeat(43)), Some("short".to_owned()), None] {
        let (code, _) = s.code();
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", s.app.redirect_uri.as_str()),
        ];
        if let Some(v) = &verifier {
            form.push(("code_verifier", v));
        }
        let (status, _, body) = error_of(s.post(&form, Some((&s.app.client_id, s.secret()))));
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{verifier:?}");
    }
}

#[test]
fn pkce_downgrade_a_verifier_for_a_code_issued_without_a_challenge_is_refused() {
    let s = Scene::new();
    let browser = s.world.login(&s.email);
    let query: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", s.app.client_id.as_str()),
        ("redirect_uri", s.app.redirect_uri.as_str()),
        ("state", "x"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let response =
        s.world.consent(&browser, &query, &[("team", &s.team), ("project", &s.project), ("decision", "approve")]);
    let code = crate::harness::param(&crate::harness::location(&response), "code").unwrap();
    let (verifier, _) = pkce();
    let (status, _, body) = error_of(s.post(
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &s.app.redirect_uri),
            ("code_verifier", &verifier),
        ],
        Some((&s.app.client_id, s.secret())),
    ));
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
}

#[test]
fn code_replay_fails_and_revokes_the_tokens_of_the_first_redemption() {
    let s = Scene::new();
    let backend = s.world.backend();
    let (code, verifier) = s.code();
    let first = s.world.exchange(&s.app, &code, &verifier);
    assert_eq!(first.status(), 200);
    let token = first.json::<Value>().unwrap()["access_token"].as_str().unwrap().to_owned();
    assert!(s.world.is_active(&backend, &token));
    let (status, _, body) = error_of(s.world.exchange(&s.app, &code, &verifier));
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    assert!(!s.world.is_active(&backend, &token), "the replay revoked the first token");
}

/// Item 11: a code presented by another client must change nothing; it used to be spent and,
/// once redeemed, to revoke the real client's grant.
#[test]
fn code_injection_another_clients_replay_does_not_revoke_the_real_grant() {
    let s = Scene::new();
    let backend = s.world.backend();
    let other = s.world.app(&s.team);
    let (code, verifier) = s.code();
    let stolen = s.world.exchange(&App { redirect_uri: s.app.redirect_uri.clone(), ..other.clone() }, &code, &verifier);
    assert_eq!(error_of(stolen).2["error"], "invalid_grant", "before the real redemption");
    let first = s.world.exchange(&s.app, &code, &verifier);
    assert_eq!(first.status(), 200, "another client's attempt did not spend the code");
    let token = first.json::<Value>().unwrap()["access_token"].as_str().unwrap().to_owned();
    let replayed = s.world.exchange(&App { redirect_uri: s.app.redirect_uri.clone(), ..other }, &code, &verifier);
    assert_eq!(error_of(replayed).2["error"], "invalid_grant");
    assert!(s.world.is_active(&backend, &token), "another client's replay revoked nothing");
}

/// Item 11: a wrong verifier is `invalid_grant` without consuming the code, any number of
/// times (burning it after N would hand whoever saw the code a way to cancel the user's
/// authorization); the right verifier afterwards still works.
#[test]
fn pkce_a_wrong_verifier_does_not_burn_the_code() {
    let s = Scene::new();
    let (code, verifier) = s.code();
    for _ in 0..12 {
        let (wrong, _) = pkce();
        assert_eq!(error_of(s.world.exchange(&s.app, &code, &wrong)).2["error"], "invalid_grant");
    }
    assert_eq!(s.world.exchange(&s.app, &code, &verifier).status(), 200);
}

/// Item 11: a replay without the verifier is refused and revokes nothing: only a presentation
/// that passes every check of the legitimate one counts as a replay.
#[test]
fn code_replay_without_the_verifier_revokes_nothing() {
    let s = Scene::new();
    let backend = s.world.backend();
    let (code, verifier) = s.code();
    let first = s.world.exchange(&s.app, &code, &verifier);
    let token = first.json::<Value>().unwrap()["access_token"].as_str().unwrap().to_owned();
    let (wrong, _) = pkce();
    assert_eq!(error_of(s.world.exchange(&s.app, &code, &wrong)).2["error"], "invalid_grant");
    assert!(s.world.is_active(&backend, &token));
}

#[test]
fn race_twenty_concurrent_redemptions_yield_exactly_one_token() {
    let s = Scene::new();
    let (code, verifier) = s.code();
    let barrier = Arc::new(Barrier::new(20));
    let url = s.world.url("/oauth/token");
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let (barrier, url, code, verifier, app) =
                (barrier.clone(), url.clone(), code.clone(), verifier.clone(), s.app.clone());
            std::thread::spawn(move || {
                let client = http();
                barrier.wait();
                client
                    .post(&url)
                    .basic_auth(&app.client_id, app.secret.as_deref())
                    .form(&[
                        ("grant_type", "authorization_code"),
                        ("code", &code),
                        ("redirect_uri", &app.redirect_uri),
                        ("code_verifier", &verifier),
                    ])
                    .send()
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 19, "{statuses:?}");
}

#[test]
fn malformed_requests_get_rfc_errors_never_500() {
    let s = Scene::new();
    let auth = Some((s.app.client_id.as_str(), s.secret()));
    let expect = |response: reqwest::blocking::Response, status: u16, error: &str| {
        let (got, _, body) = error_of(response);
        assert_eq!((got, body["error"].as_str()), (status, Some(error)), "{body}");
    };
    expect(s.post(&[("code", "x")], auth), 400, "invalid_request");
    expect(s.post(&[("grant_type", "password"), ("username", "a")], auth), 400, "unsupported_grant_type");
    expect(s.post(&[("grant_type", "client_credentials")], auth), 400, "unsupported_grant_type");
    expect(
        s.post(&[("grant_type", "authorization_code"), ("grant_type", "authorization_code"), ("code", "x")], auth),
        400,
        "invalid_request",
    );
    expect(
        s.post(
            &[
                ("grant_type", "authorization_code"),
                ("code", "a"),
                ("code", "b"),
                ("redirect_uri", &s.app.redirect_uri),
            ],
            auth,
        ),
        400,
        "invalid_request",
    );
    expect(
        s.post(&[("grant_type", "authorization_code"), ("redirect_uri", &s.app.redirect_uri)], auth),
        400,
        "invalid_request",
    );
    expect(
        s.post(
            &[("grant_type", "authorization_code"), ("code", "garbage"), ("redirect_uri", &s.app.redirect_uri)],
            auth,
        ),
        400,
        "invalid_grant",
    );
    // Not a form body.
    let json = http()
        .post(s.world.url("/oauth/token"))
        .basic_auth(&s.app.client_id, Some(s.secret()))
        .json(&serde_json::json!({"grant_type": "authorization_code"}))
        .send()
        .unwrap();
    expect(json, 400, "invalid_request");
    // Oversized body.
    let huge = "a".repeat(64 * 1024);
    let big = http()
        .post(s.world.url("/oauth/token"))
        .form(&[("grant_type", "authorization_code"), ("code", huge.as_str())])
        .send()
        .unwrap();
    expect(big, 413, "invalid_request");
    // A body declared far over the limit is refused at once, without waiting for it to arrive.
    let head = declared_only(&s.world, "/oauth/token", 10_000_000_000);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(head.contains("\"error\":\"invalid_request\""), "{head}");
    // Garbage bytes.
    let garbage = http()
        .post(s.world.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![0xff, 0xfe, b'=', 0x00])
        .send()
        .unwrap();
    assert!(garbage.status().is_client_error());
    // Malformed Basic header.
    let malformed = http()
        .post(s.world.url("/oauth/token"))
        .header("authorization", "Basic !!!")
        .form(&[("grant_type", "authorization_code")])
        .send()
        .unwrap();
    expect(malformed, 401, "invalid_client");
}

#[test]
fn apps_with_a_token_ttl_get_expires_in_and_a_refresh_token() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.expiring_app(&team);
    let tokens = world.tokens(&email, &app, Grant::Project { team: &team, project: &project });
    assert_eq!(tokens["expires_in"], 3600);
    assert!(tokens["refresh_token"].as_str().is_some_and(|t| t.len() >= 43));
    assert_eq!(tokens["token_type"], "bearer");
}

#[test]
fn regenerating_the_secret_invalidates_the_old_one_immediately() {
    let s = Scene::new();
    s.world.cli(&["admin", "app", "regenerate-secret", "--client-id", &s.app.client_id]);
    let (code, verifier) = s.code();
    let (status, _, body) = error_of(s.world.exchange(&s.app, &code, &verifier));
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
}

/// Sends only the head of a form POST whose `Content-Length` is `length`, and returns what the
/// server answers within a few seconds (nothing of the body is ever sent).
fn declared_only(world: &World, path: &str, length: u64) -> String {
    use std::io::{Read, Write};
    let address = world.server.base.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}
