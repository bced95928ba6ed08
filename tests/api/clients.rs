//! Unowned clients (SPEC §7): Client ID Metadata Documents served by a server inside the test
//! (loopback allowed by configuration), hostile documents refused, the document cache, and
//! RFC 7591 dynamic registration on and off.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use reqwest::blocking::Response;
use serde_json::{Value, json};

use crate::harness::{browser, http, pkce, unescape};
use crate::metrics;
use crate::world::{App, Grant, World};

const LOOPBACK: (&str, &str) = ("PORTCULLIS_CLIENT_METADATA_ALLOW_LOOPBACK", "true");
const REDIRECT_URI: &str = "https://agent.example/callback";

/// What the document server answers on a path.
#[derive(Clone)]
enum Reply {
    Json {
        body: String,
        cache_control: Option<&'static str>,
    },
    Redirect,
    /// Sends the headers, then nothing for longer than the fetch may take.
    Stall,
}

/// A one-thread-per-connection HTTP/1.0 server on loopback, counting requests per path.
/// Its threads end with the test process; each connection is answered once and closed.
struct DocumentServer {
    address: SocketAddr,
    replies: Arc<Mutex<HashMap<String, Reply>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl DocumentServer {
    fn start() -> DocumentServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server =
            DocumentServer { address: listener.local_addr().unwrap(), replies: Arc::default(), hits: Arc::default() };
        let (replies, hits) = (server.replies.clone(), server.hits.clone());
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (replies, hits) = (replies.clone(), hits.clone());
                thread::spawn(move || answer(stream, &replies, &hits));
            }
        });
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn set(&self, path: &str, reply: Reply) {
        self.replies.lock().unwrap().insert(path.to_owned(), reply);
    }

    /// Serves a valid document for `path` naming itself, with `extra` members merged in.
    fn document(&self, path: &str, extra: Value, cache_control: Option<&'static str>) -> App {
        let client_id = self.url(path);
        let mut document = json!({
            "client_id": client_id,
            "client_name": "Agent Host",
            "redirect_uris": [REDIRECT_URI],
            "client_uri": "https://agent.example/",
        });
        for (key, value) in extra.as_object().unwrap() {
            document[key] = value.clone();
        }
        self.set(path, Reply::Json { body: document.to_string(), cache_control });
        App { client_id, secret: None, redirect_uri: REDIRECT_URI.to_owned() }
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

fn answer(mut stream: TcpStream, replies: &Mutex<HashMap<String, Reply>>, hits: &Mutex<HashMap<String, usize>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = Vec::new();
    let mut buffer = [0; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
    *hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let reply = replies.lock().unwrap().get(&path).cloned();
    let _ = match reply {
        Some(Reply::Json { body, cache_control }) => {
            let cache = cache_control.map(|value| format!("Cache-Control: {value}\r\n")).unwrap_or_default();
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{cache}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        }
        Some(Reply::Redirect) => stream.write_all(
            b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere.json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ),
        Some(Reply::Stall) => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{");
            thread::sleep(Duration::from_secs(7));
            Ok(())
        }
        None => stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    };
}

/// The authorization request for `app` (team scope, PKCE) from a browser that is not logged in.
fn authorize(world: &World, app: &App) -> Response {
    authorize_as(world, &browser(), app)
}

/// A refusal page: 4xx, no redirect, and the reason in its text.
fn refused_page(response: Response, reason: &str) {
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none(), "never redirected");
    let page = unescape(&response.text().unwrap());
    assert!(page.contains(reason), "{reason:?} not in {page}");
}

/// `invalid_client` (401) from the token endpoint for `app`.
fn token_refused(world: &World, app: &App) -> Value {
    let response = world.exchange(app, "any-code", "any-verifier");
    assert_eq!(response.status(), 401);
    let body: Value = response.json().unwrap();
    assert_eq!(body["error"], "invalid_client");
    body
}

#[test]
fn a_metadata_document_client_gets_consent_and_tokens_and_is_fetched_once_within_its_max_age() {
    let documents = DocumentServer::start();
    let world = World::with_env(&[LOOPBACK]);
    let owner = world.user();
    let team = world.team(&owner);
    let app = documents.document("/agent/client.json", json!({}), Some("max-age=600"));

    let browser = world.login(&owner);
    let page = authorize_as(&world, &browser, &app);
    assert_eq!(page.status(), 200);
    let page = unescape(&page.text().unwrap());
    assert!(page.contains("Agent Host"));
    assert!(page.contains(r#"id="owner-host">127.0.0.1</strong>"#), "the host is the owner line: {page}");
    assert!(page.contains("Unverified"));

    let tokens = world.tokens(&owner, &app, Grant::Team { team: &team });
    assert!(tokens["access_token"].as_str().is_some());
    assert!(tokens["refresh_token"].as_str().is_some(), "a public client's tokens refresh");
    let backend = world.backend();
    assert!(world.is_active(&backend, tokens["access_token"].as_str().unwrap()));
    assert_eq!(
        documents.hits("/agent/client.json"),
        1,
        "cached for its max-age: pages, consent and token used the row"
    );

    let device = http()
        .post(world.url("/oauth/device_authorization"))
        .form(&[("client_id", app.client_id.as_str())])
        .send()
        .unwrap();
    assert_eq!(device.status(), 200, "the device flow takes the same client");
    assert!(device.json::<Value>().unwrap()["user_code"].as_str().is_some());
    assert_eq!(documents.hits("/agent/client.json"), 1);

    // Without PKCE the public client is refused like any other.
    let query: Vec<(String, String)> = world
        .authorize_query(&app, "team", "x")
        .into_iter()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .collect();
    let response = browser.get(world.url("/oauth/authorize")).query(&query).send().unwrap();
    assert_eq!(response.status(), 303);
    assert!(crate::harness::location(&response).contains("error=invalid_request"));

    // Expired: fetched again and updated; a failing re-fetch refuses instead of serving the copy.
    let expire = || {
        use portcullis::db::schema::oauth_apps::dsl::*;
        let changed = diesel::update(oauth_apps.filter(client_id.eq(&app.client_id)))
            .set(metadata_expires_at.eq(time::macros::datetime!(2000-01-01 0:00)))
            .execute(&mut world.conn());
        assert_eq!(changed.unwrap(), 1);
    };
    expire();
    documents.document("/agent/client.json", json!({ "client_name": "Agent Host Two" }), None);
    let page = unescape(&authorize_as(&world, &browser, &app).text().unwrap());
    assert!(page.contains("Agent Host Two"), "the new name after a re-fetch");
    assert_eq!(documents.hits("/agent/client.json"), 2);
    expire();
    documents.set("/agent/client.json", Reply::Redirect);
    refused_page(authorize_as(&world, &browser, &app), "redirects");
    assert_eq!(
        token_refused(&world, &app)["error_description"],
        "the metadata document URL redirects (HTTP 302); redirects are not followed"
    );
}

#[test]
fn an_address_gets_a_bounded_number_of_document_fetches_and_cached_documents_do_not_count() {
    let documents = DocumentServer::start();
    let world = World::with_env(&[LOOPBACK, ("PORTCULLIS_CLIENT_METADATA_FETCHES_PER_HOUR", "2")]);
    let owner = world.user();
    let browser = world.login(&owner);
    let first = documents.document("/first.json", json!({}), Some("max-age=600"));
    let second = documents.document("/second.json", json!({}), Some("max-age=600"));
    let third = documents.document("/third.json", json!({}), Some("max-age=600"));

    assert_eq!(authorize_as(&world, &browser, &first).status(), 200);
    assert_eq!(authorize_as(&world, &browser, &first).status(), 200, "cached: no fetch");
    assert_eq!(authorize_as(&world, &browser, &second).status(), 200);

    // A third document from the same address within the hour is not fetched at all.
    let page = authorize_as(&world, &browser, &third);
    assert_eq!(page.status(), 429);
    assert!(page.headers().get("location").is_none());
    let wait: u64 = page.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&wait), "until the first fetch leaves the hour: {wait}");
    assert!(unescape(&page.text().unwrap()).contains("too many metadata documents fetched"));
    let token = world.exchange(&third, "any-code", "any-verifier");
    assert_eq!(token.status(), 429);
    assert!(token.headers().contains_key("retry-after"));
    assert_eq!(token.json::<Value>().unwrap()["error"], "invalid_request");
    assert_eq!(documents.hits("/third.json"), 0);

    // Documents already cached keep working for that address.
    assert_eq!(authorize_as(&world, &browser, &first).status(), 200);
    assert_eq!((documents.hits("/first.json"), documents.hits("/second.json")), (1, 1));

    assert_eq!(document_fetches(&world), (2.0, 0.0, 2.0));
}

fn authorize_as(world: &World, browser: &reqwest::blocking::Client, app: &App) -> Response {
    let (_, challenge) = pkce();
    browser.get(world.url("/oauth/authorize")).query(&world.authorize_query(app, "team", &challenge)).send().unwrap()
}

#[test]
fn hostile_metadata_documents_are_refused_without_a_redirect() {
    let documents = DocumentServer::start();
    let world = World::with_env(&[LOOPBACK]);

    let mismatched =
        documents.document("/mismatched.json", json!({ "client_id": "http://127.0.0.1/other.json" }), None);
    refused_page(authorize(&world, &mismatched), "its client_id is not exactly the URL");
    token_refused(&world, &mismatched);

    let mut elsewhere = documents.document("/elsewhere.json", json!({}), None);
    elsewhere.redirect_uri = "https://attacker.example/callback".into();
    refused_page(authorize(&world, &elsewhere), "redirect_uri mismatch");

    let confidential =
        documents.document("/confidential.json", json!({ "token_endpoint_auth_method": "client_secret_basic" }), None);
    refused_page(authorize(&world, &confidential), "token_endpoint_auth_method must be");
    let with_secret = documents.document("/secret.json", json!({ "client_secret": "s3cret" }), None);
    refused_page(authorize(&world, &with_secret), "client_secret");

    let huge = documents.document("/huge.json", json!({ "padding": "x".repeat(70 * 1024) }), None);
    refused_page(authorize(&world, &huge), "larger than 64 KiB");

    documents.set("/redirect.json", Reply::Redirect);
    let redirecting =
        App { client_id: documents.url("/redirect.json"), secret: None, redirect_uri: REDIRECT_URI.into() };
    refused_page(authorize(&world, &redirecting), "redirects (HTTP 302)");
    assert_eq!(documents.hits("/redirect.json"), 1);

    // Never connected to: the address is refused before any request.
    let private =
        App { client_id: "https://10.0.0.1/client.json".into(), secret: None, redirect_uri: REDIRECT_URI.into() };
    refused_page(authorize(&world, &private), "10.0.0.1, a non-public address");
    token_refused(&world, &private);
    let device = http()
        .post(world.url("/oauth/device_authorization"))
        .form(&[("client_id", private.client_id.as_str())])
        .send()
        .unwrap();
    assert_eq!(device.status(), 401);
    assert_eq!(device.json::<Value>().unwrap()["error"], "invalid_client");

    documents.set("/slow.json", Reply::Stall);
    let slow = App { client_id: documents.url("/slow.json"), secret: None, redirect_uri: REDIRECT_URI.into() };
    let started = Instant::now();
    refused_page(authorize(&world, &slow), "took longer than 5 seconds");
    assert!(started.elapsed() < Duration::from_secs(7), "the fetch stops at 5 s");

    let apps: i64 = {
        use portcullis::db::schema::oauth_apps::dsl::*;
        oauth_apps.filter(team_id.is_null()).count().get_result(&mut world.conn()).unwrap()
    };
    assert_eq!(apps, 1, "only the valid document (whose redirect URI was not asked for) became an app");

    // Every refusal above was a fetch (or an address vetted for one) that stored nothing:
    // the mismatched and private documents twice and three times, the others once each.
    assert_eq!(document_fetches(&world), (1.0, 10.0, 0.0));
}

/// `portcullis_client_metadata_fetches_total` by outcome: (stored, refused, throttled).
fn document_fetches(world: &World) -> (f64, f64, f64) {
    let (_, scrape) = metrics::scrape(world);
    let fetches =
        |outcome| metrics::value(&scrape, "portcullis_client_metadata_fetches_total", &[("outcome", outcome)]);
    (fetches("stored"), fetches("refused"), fetches("throttled"))
}

#[test]
fn without_the_loopback_allowance_loopback_and_http_documents_are_not_fetched() {
    let documents = DocumentServer::start();
    let world = World::new();
    let https_loopback = App {
        client_id: format!("https://127.0.0.1:{}/client.json", documents.address.port()),
        secret: None,
        redirect_uri: REDIRECT_URI.into(),
    };
    refused_page(authorize(&world, &https_loopback), "127.0.0.1, a non-public address");
    let http_document = documents.document("/client.json", json!({}), None);
    refused_page(authorize(&world, &http_document), "not registered");
    assert_eq!(documents.hits("/client.json"), 0);
}

fn metadata(world: &World) -> Value {
    http().get(world.url("/.well-known/oauth-authorization-server")).send().unwrap().json().unwrap()
}

fn register(world: &World, body: &Value) -> Response {
    http().post(world.url("/oauth/register")).json(body).send().unwrap()
}

#[test]
fn dynamic_registration_is_off_by_default() {
    let world = World::new();
    let metadata = metadata(&world);
    assert_eq!(metadata["client_id_metadata_document_supported"], true);
    assert!(metadata.get("registration_endpoint").is_none());
    let response = register(&world, &json!({ "client_name": "Agent", "redirect_uris": [REDIRECT_URI] }));
    assert_eq!(response.status(), 404);
}

/// The RFC 7591 §3.2.2 error of a registration.
fn registration_error(world: &World, body: &Value) -> String {
    let response = register(world, body);
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json::<Value>().unwrap()["error"].as_str().unwrap().to_owned()
}

#[test]
fn open_registration_issues_public_unowned_clients_that_operators_list_and_delete() {
    let world = World::with_env(&[("PORTCULLIS_DYNAMIC_REGISTRATION", "open")]);
    assert_eq!(metadata(&world)["registration_endpoint"], world.url("/oauth/register"));

    let response = register(
        &world,
        &json!({
            "client_name": "Agent Host",
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "logo_uri": "https://agent.example/logo.png",
            "software_id": "ignored",
        }),
    );
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let registered: Value = response.json().unwrap();
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    assert!(registered["client_id_issued_at"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(registered["client_name"], "Agent Host");
    assert_eq!(registered["redirect_uris"], json!([REDIRECT_URI]));
    assert_eq!(registered["grant_types"], json!(["authorization_code", "refresh_token"]));
    assert_eq!(registered["response_types"], json!(["code"]));
    assert_eq!(registered["token_endpoint_auth_method"], "none");
    assert_eq!(registered["logo_uri"], "https://agent.example/logo.png");
    assert!(registered.get("client_secret").is_none());

    let app = App { client_id: client_id.clone(), secret: None, redirect_uri: REDIRECT_URI.into() };
    let owner = world.user();
    let team = world.team(&owner);
    let page = authorize_as(&world, &world.login(&owner), &app).text().unwrap();
    assert!(page.contains("Registered by itself"), "no team owns it");
    let tokens = world.tokens(&owner, &app, Grant::Team { team: &team });
    let access = tokens["access_token"].as_str().unwrap();
    let backend = world.backend();
    assert!(world.is_active(&backend, access));

    let listed = world.cli(&["admin", "app", "list", "--dynamic"]);
    let apps = listed["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0]["client_id"], client_id.as_str());
    assert_eq!(apps[0]["name"], "Agent Host");
    assert_eq!(apps[0]["origin"], "dynamic");
    assert_eq!(apps[0]["grants"], 1);
    assert!(apps[0]["created_at"].as_str().is_some());

    let audited: Vec<(String, Option<String>)> = {
        use portcullis::db::schema::audit_events::dsl::*;
        audit_events.filter(action.eq("app.registered")).select((actor, client_ip)).load(&mut world.conn()).unwrap()
    };
    assert_eq!(audited, [("anonymous".to_owned(), Some("127.0.0.1".to_owned()))]);

    let deleted = world.cli(&["admin", "app", "delete", "--client-id", &client_id]);
    assert_eq!(deleted["revoked_grants"], 1);
    assert!(!world.is_active(&backend, access), "deleting the app ended its grant");
    assert_eq!(world.cli(&["admin", "app", "list", "--dynamic"])["apps"], json!([]));

    assert_eq!(
        registration_error(&world, &json!({ "client_name": "A", "redirect_uris": ["not a url"] })),
        "invalid_redirect_uri"
    );
    assert_eq!(registration_error(&world, &json!({ "client_name": "Agent" })), "invalid_redirect_uri");
    assert_eq!(
        registration_error(
            &world,
            &json!({ "client_name": "Agent", "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "client_secret_basic" })
        ),
        "invalid_client_metadata"
    );
    assert_eq!(
        registration_error(
            &world,
            &json!({ "client_name": "Agent", "redirect_uris": [REDIRECT_URI], "grant_types": ["password"] })
        ),
        "invalid_client_metadata"
    );
    assert_eq!(registration_error(&world, &json!({ "redirect_uris": [REDIRECT_URI] })), "invalid_client_metadata");
    assert_eq!(registration_error(&world, &json!(["not", "an", "object"])), "invalid_client_metadata");
}

#[test]
fn registration_is_throttled_per_address() {
    let world = World::with_env(&[("PORTCULLIS_DYNAMIC_REGISTRATION", "open")]);
    let body = json!({ "client_name": "Agent Host", "redirect_uris": [REDIRECT_URI] });
    for _ in 0..10 {
        assert_eq!(register(&world, &body).status(), 201);
    }
    let throttled = register(&world, &body);
    assert_eq!(throttled.status(), 429);
    assert!(throttled.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() > 0);
}
