//! Hostile input at every boundary (SPEC §4 "Bad input"): NUL bytes, invalid UTF-8, broken
//! percent-escapes, control characters, oversized values and wrong JSON types, in every
//! parameter, header, cookie and body field. Each must answer a 4xx in the shape of its area
//! — RFC error JSON on OAuth endpoints, the API envelope under `/v1`, an error page elsewhere
//! — identically on SQLite and PostgreSQL (which rejects NUL in text), never a 5xx.
//!
//! One server per test function, many requests per test.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

use crate::harness::{hidden_inputs, http, pkce};
use crate::world::{Grant, Scene};

/// Already-encoded values that no field may hold: a form or query carries them as written.
const MALFORMED: [&str; 14] =
    ["%00", "a%00b", "%", "a%", "%zz", "%4", "%e2%82", "%ff", "%c0%80", "%01", "%0d%0a", "%09", "%7f", "%c2%85"];

/// Raw bytes (not percent-encoded) that no form body may hold.
const RAW_MALFORMED: [&[u8]; 4] = [b"\x00", b"a\x00b", b"\xff\xfe", b"\x1b[31m"];

/// Oversized values that do not compress (PostgreSQL refuses index entries over ~2.7 KB that
/// it cannot compress), in form-safe characters: 3 KiB fits in every body limit, 8 KiB is the
/// size of a large header.
fn oversized() -> [String; 2] {
    [3 * 1024, 8 * 1024].map(incompressible)
}

fn incompressible(len: usize) -> String {
    let mut state: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            char::from(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."[(state % 65) as usize])
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Area {
    /// `{"error", "error_description"}`, `Cache-Control: no-store`.
    OAuth,
    /// `{"error": {"code", "message"}}`.
    Api,
    /// An HTML error page.
    Page,
}

/// `response` must be a 4xx in `area`'s shape.
fn assert_refused(area: Area, response: Response, what: &str) {
    let status = response.status();
    assert!(status.is_client_error(), "{what}: expected a 4xx, got {status}");
    assert_shape(area, response, what);
}

/// `response` (to input that is odd but not malformed, like an 8 KiB value) must not be a
/// server error, and when it is an error it has `area`'s shape.
fn assert_not_a_server_error(area: Area, response: Response, what: &str) {
    let status = response.status();
    assert!(!status.is_server_error(), "{what}: got {status}");
    if status.is_client_error() {
        assert_shape(area, response, what);
    }
}

fn assert_shape(area: Area, response: Response, what: &str) {
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let cache_control = response.headers().get("cache-control").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.text().unwrap_or_default();
    match area {
        Area::OAuth | Area::Api => {
            assert!(content_type.starts_with("application/json"), "{what}: {content_type} {body}");
            assert_eq!(cache_control.as_deref(), Some("no-store"), "{what}");
            let json: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what}: {e}: {body}"));
            let keys: &[&str] = match area {
                Area::OAuth => &["/error", "/error_description"],
                _ => &["/error/code", "/error/message"],
            };
            for key in keys {
                assert!(json.pointer(key).is_some_and(Value::is_string), "{what}: no {key:?} in {body}");
            }
        }
        Area::Page => {
            assert!(content_type.starts_with("text/html"), "{what}: {content_type}");
            assert!(body.contains("<h1>"), "{what}: an error page");
        }
    }
}

/// `base` as a form body, with the value of `replaced.0` (if any) replaced by the bytes
/// `replaced.1` sent as they are.
fn encode(base: &[(&str, String)], replaced: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (key, value) in base {
        if !body.is_empty() {
            body.push(b'&');
        }
        body.extend(url::form_urlencoded::byte_serialize(key.as_bytes()).flat_map(str::bytes));
        body.push(b'=');
        match replaced {
            Some((name, raw)) if name == *key => body.extend_from_slice(raw),
            _ => body.extend(url::form_urlencoded::byte_serialize(value.as_bytes()).flat_map(str::bytes)),
        }
    }
    body
}

fn form_with(base: &[(&str, String)], name: &str, raw: &[u8]) -> Vec<u8> {
    encode(base, Some((name, raw)))
}

fn post_form(client: &Client, url: &str, body: Vec<u8>) -> RequestBuilder {
    client.post(url).header("content-type", "application/x-www-form-urlencoded").body(body)
}

/// Every hostile replacement for one field: the malformed escapes, raw bytes, and a value
/// with a NUL or control character after a valid prefix.
fn malformed_values() -> Vec<Vec<u8>> {
    let mut values: Vec<Vec<u8>> = MALFORMED.iter().map(|v| v.as_bytes().to_vec()).collect();
    values.extend(RAW_MALFORMED.iter().map(|v| v.to_vec()));
    values
}

/// `Authorization: Basic` with `id` and `secret` as raw bytes (before base64).
fn basic(id: &[u8], secret: &[u8]) -> String {
    format!("Basic {}", STANDARD.encode([id, b":", secret].concat()))
}

/// Hostile Basic credentials: malformed in the id or in the secret, or not Basic at all.
fn hostile_basic(id: &str, secret: &str) -> Vec<String> {
    let mut headers = Vec::new();
    for value in malformed_values() {
        headers.push(basic(&value, secret.as_bytes()));
        headers.push(basic(id.as_bytes(), &value));
    }
    headers.extend(oversized().map(|big| basic(big.as_bytes(), secret.as_bytes())));
    headers.push("Basic %%%not-base64".to_owned());
    headers.push(format!("Basic {}", STANDARD.encode("no-colon")));
    headers.push(format!("Basic {}", STANDARD.encode(b"\xff\xfe:\x00")));
    headers
}

#[test]
fn nul_and_broken_escapes_in_the_authorization_request_never_reach_the_database() {
    let Scene { world, email, team, app, .. } = Scene::new();
    let browser = world.login(&email);
    let (_, challenge) = pkce();
    let base: Vec<(&str, String)> = vec![
        ("response_type", "code".into()),
        ("client_id", app.client_id.clone()),
        ("redirect_uri", app.redirect_uri.clone()),
        ("scope", "project".into()),
        ("state", "st-1".into()),
        ("code_challenge", challenge.clone()),
        ("code_challenge_method", "S256".into()),
        ("team", team.clone()),
    ];
    let query = |name: &str, raw: &str| String::from_utf8(form_with(&base, name, raw.as_bytes())).unwrap();
    for path in ["/oauth/authorize", "/oauth/authorize/project", "/oauth/authorize/team"] {
        for (name, _) in &base {
            for value in MALFORMED {
                let response = browser.get(format!("{}?{}", world.url(path), query(name, value))).send().unwrap();
                assert!(response.headers().get("location").is_none(), "{path} {name}={value}: never a redirect");
                assert_refused(Area::Page, response, &format!("GET {path} {name}={value}"));
            }
            for big in oversized() {
                let response = browser.get(format!("{}?{}", world.url(path), query(name, &big))).send().unwrap();
                assert_not_a_server_error(Area::Page, response, &format!("GET {path} {name}=<{} bytes>", big.len()));
            }
        }
        // A malformed parameter that is not ours refuses the request all the same.
        let response = browser.get(format!("{}?{}&x%00=1", world.url(path), query("state", "st-1"))).send().unwrap();
        assert_refused(Area::Page, response, &format!("GET {path} with a malformed unknown parameter"));
        // Without a session (the login redirect must not be where malformed input goes).
        let response = http().get(format!("{}?{}", world.url(path), query("client_id", "%00"))).send().unwrap();
        assert_refused(Area::Page, response, &format!("GET {path} client_id=%00 logged out"));
    }

    // The consent decision: every field of the form the page issued.
    let page = browser
        .get(world.url("/oauth/authorize"))
        .query(&base.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    let mut form: Vec<(String, String)> = hidden_inputs(&page.text().unwrap());
    form.retain(|(k, _)| k != "team");
    form.extend([("team".to_owned(), team.clone()), ("decision".to_owned(), "approve".to_owned())]);
    form.extend(["project", "new_project_name", "new_project_slug"].map(|k| (k.to_owned(), String::new())));
    let base: Vec<(&str, String)> = form.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    for (name, _) in &base {
        for value in malformed_values() {
            let response =
                post_form(&browser, &world.url("/oauth/authorize"), form_with(&base, name, &value)).send().unwrap();
            assert!(response.headers().get("location").is_none(), "consent {name}={value:?}: no code, no redirect");
            assert_refused(Area::Page, response, &format!("POST consent {name}={:?}", String::from_utf8_lossy(&value)));
        }
        for big in oversized() {
            let response = post_form(&browser, &world.url("/oauth/authorize"), form_with(&base, name, big.as_bytes()))
                .send()
                .unwrap();
            let what = format!("POST consent {name}=<{} bytes>", big.len());
            let location = response.headers().get("location").map(|l| l.to_str().unwrap_or_default().to_owned());
            assert!(location.is_none_or(|l| !l.contains("code=")), "{what}: no code");
            assert_not_a_server_error(Area::Page, response, &what);
        }
    }
    // Nothing above created a project or a grant: the user's grant list is still empty.
    let grants = browser.get(world.url("/settings/authorized-apps")).send().unwrap().text().unwrap();
    assert!(!grants.contains("Revoke"), "no partial write: no grant was made");
}

#[test]
fn nul_and_broken_escapes_at_the_token_introspection_and_revocation_endpoints_get_rfc_errors() {
    let scene = Scene::new();
    let Scene { world, app, .. } = &scene;
    let backend = world.backend();
    let secret = app.secret.clone().unwrap();
    let (code, verifier) = scene.code();
    let token_form: Vec<(&str, String)> = vec![
        ("grant_type", "authorization_code".into()),
        ("code", code.clone()),
        ("redirect_uri", app.redirect_uri.clone()),
        ("code_verifier", verifier.clone()),
        ("client_id", app.client_id.clone()),
        ("client_secret", secret.clone()),
    ];
    let refresh_form: Vec<(&str, String)> = vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", "r".into()),
        ("client_id", app.client_id.clone()),
        ("client_secret", secret.clone()),
    ];
    let token_request: Vec<(&str, String)> = vec![
        ("token", "team:acme|abc".into()),
        ("token_type_hint", "access_token".into()),
        ("client_id", backend.id.clone()),
        ("client_secret", backend.secret.clone()),
    ];
    let client = http();
    let endpoints = [
        ("/oauth/token", &token_form),
        ("/oauth/token", &refresh_form),
        ("/oauth/introspect", &token_request),
        ("/oauth/revoke", &token_request),
    ];
    for (path, base) in endpoints {
        for (name, _) in base {
            for value in malformed_values() {
                let response = post_form(&client, &world.url(path), form_with(base, name, &value)).send().unwrap();
                assert_refused(Area::OAuth, response, &format!("{path} {name}={:?}", String::from_utf8_lossy(&value)));
            }
        }
    }
    // None of that reached the code: it is still there to redeem (no partial write).
    assert_eq!(world.exchange(app, &code, &verifier).status(), 200);

    for (path, base) in endpoints {
        let url = world.url(path);
        for (name, _) in base {
            for big in oversized() {
                let response = post_form(&client, &url, form_with(base, name, big.as_bytes())).send().unwrap();
                assert_not_a_server_error(Area::OAuth, response, &format!("{path} {name}=<{} bytes>", big.len()));
            }
        }
        let (id, secret) = if path == "/oauth/token" {
            (app.client_id.as_str(), secret.as_str())
        } else {
            (backend.id.as_str(), backend.secret.as_str())
        };
        let without_credentials: Vec<(&str, String)> =
            base.iter().filter(|(k, _)| !k.starts_with("client_")).cloned().collect();
        for header in hostile_basic(id, secret) {
            let response = post_form(&client, &url, encode(&without_credentials, None))
                .header("authorization", header.as_str())
                .send()
                .unwrap();
            assert_refused(
                Area::OAuth,
                response,
                &format!("{path} Authorization: {}", &header[..header.len().min(40)]),
            );
        }
        let json = client.post(&url).json(&json!({ "token": "x", "client_id": id })).send().unwrap();
        assert_refused(Area::OAuth, json, &format!("{path} with a JSON body"));
        let oversized_body = post_form(&client, &url, vec![b'a'; 64 * 1024]).send().unwrap();
        assert_refused(Area::OAuth, oversized_body, &format!("{path} with a 64 KiB body"));
    }
}

#[test]
fn nul_and_control_characters_in_login_logout_cookies_and_paths_get_error_pages() {
    let Scene { world, email, team, .. } = Scene::new();
    // Logged in first: the failed logins below may well throttle this address.
    let browser = world.login(&email);
    let login: Vec<(&str, String)> = vec![
        ("email", email.clone()),
        ("password", "not-the-password".into()),
        ("next", "/settings/authorized-apps".into()),
    ];
    let client = http();
    for (name, _) in &login {
        for value in malformed_values() {
            let response = post_form(&client, &world.url("/login"), form_with(&login, name, &value)).send().unwrap();
            assert_refused(Area::Page, response, &format!("login {name}={:?}", String::from_utf8_lossy(&value)));
        }
        for big in oversized() {
            let response =
                post_form(&client, &world.url("/login"), form_with(&login, name, big.as_bytes())).send().unwrap();
            assert_not_a_server_error(Area::Page, response, &format!("login {name}=<{} bytes>", big.len()));
        }
    }

    for value in malformed_values() {
        for path in [
            "/logout",
            "/settings/authorized-apps/1/revoke",
            &format!("/teams/{team}/settings/authorized-apps/1/revoke"),
        ] {
            let body = form_with(&[("csrf_token", String::new())], "csrf_token", &value);
            let response = post_form(&browser, &world.url(path), body).send().unwrap();
            assert_refused(
                Area::Page,
                response,
                &format!("POST {path} csrf_token={:?}", String::from_utf8_lossy(&value)),
            );
        }
    }
    assert_eq!(
        browser.get(world.url("/settings/authorized-apps")).send().unwrap().status(),
        200,
        "still logged in: no malformed logout ended the session"
    );

    for cookie in [
        "portcullis_session=%00".to_owned(),
        format!("portcullis_session={}", "%00".repeat(14)),
        format!("portcullis_session={}", "\t".repeat(43)),
        format!("portcullis_session={}", incompressible(4 * 1024)),
        "portcullis_session=\"unterminated".to_owned(),
        "=; ;;=;".to_owned(),
    ] {
        for path in ["/settings/authorized-apps", &format!("/teams/{team}/settings"), "/login"] {
            let response = http().get(world.url(path)).header("cookie", cookie.as_str()).send().unwrap();
            assert_not_a_server_error(
                Area::Page,
                response,
                &format!("GET {path} Cookie: {}", &cookie[..cookie.len().min(40)]),
            );
        }
    }
    let mut raw_cookie = reqwest::header::HeaderMap::new();
    raw_cookie.insert("cookie", reqwest::header::HeaderValue::from_bytes(b"portcullis_session=\xff\xfe").unwrap());
    let response = http().get(world.url("/settings/authorized-apps")).headers(raw_cookie).send().unwrap();
    assert_not_a_server_error(Area::Page, response, "a cookie that is not UTF-8");

    for segment in ["%00", "a%00b", "%ff", "a%zz", "%e2%82", "%0d%0a", "%7f"] {
        let path = format!("/teams/{segment}/settings/authorized-apps");
        assert_refused(Area::Page, browser.get(world.url(&path)).send().unwrap(), &format!("GET {path}"));
        let path = format!("/teams/{segment}/settings");
        assert_not_a_server_error(Area::Page, browser.get(world.url(&path)).send().unwrap(), &format!("GET {path}"));
    }
    for value in MALFORMED {
        let response = browser.get(format!("{}?next={value}", world.url("/login"))).send().unwrap();
        assert_not_a_server_error(Area::Page, response, &format!("GET /login?next={value}"));
    }
}

#[test]
fn nul_wrong_types_and_hostile_headers_under_v1_get_the_api_envelope() {
    let scene = Scene::new();
    let Scene { world, email, team, project, app } = &scene;
    let backend = world.backend();
    let token = world.access_token(email, app, Grant::Project { team, project });
    let client = http();
    let check = |body: Vec<u8>| {
        client
            .post(world.url("/v1/check"))
            .basic_auth(&backend.id, Some(&backend.secret))
            .header("content-type", "application/json")
            .body(body)
    };
    let valid = json!({
        "token": token,
        "action": "project:view",
        "resource": { "team": team, "project": project },
        "context": { "release_id": "rel_1" },
    });
    assert_eq!(check(valid.to_string().into_bytes()).send().unwrap().json::<Value>().unwrap()["allowed"], true);

    let strings = ["\u{0}", "a\u{0}b", "\u{1}", "\r\n", "\t", "\u{7f}", "\u{85}", "\u{1b}[31m"];
    let pointers = ["/token", "/action", "/resource/team", "/resource/project", "/context/release_id"];
    for pointer in pointers {
        for bad in strings {
            let mut body = valid.clone();
            *body.pointer_mut(pointer).unwrap() = json!(bad);
            let response = check(body.to_string().into_bytes()).send().unwrap();
            assert_refused(Area::Api, response, &format!("/v1/check {pointer}={bad:?}"));
        }
        for wrong in [json!(1), json!(null), json!(true), json!([]), json!({}), json!(1.5)] {
            let mut body = valid.clone();
            *body.pointer_mut(pointer).unwrap() = wrong.clone();
            let response = check(body.to_string().into_bytes()).send().unwrap();
            let what = format!("/v1/check {pointer}={wrong}");
            let optional = matches!(pointer, "/resource/project" | "/context/release_id");
            if optional && wrong.is_null() {
                assert_not_a_server_error(Area::Api, response, &what);
            } else {
                assert_refused(Area::Api, response, &what);
            }
        }
        for big in oversized() {
            let mut body = valid.clone();
            *body.pointer_mut(pointer).unwrap() = json!(big);
            let response = check(body.to_string().into_bytes()).send().unwrap();
            assert_not_a_server_error(Area::Api, response, &format!("{pointer}=<{} bytes>", big.len()));
        }
    }
    let deployment = json!({ "token": token, "action": "deployment:view", "resource": { "deployment": "x\u{0}y" } });
    assert_refused(Area::Api, check(deployment.to_string().into_bytes()).send().unwrap(), "deployment name with NUL");
    let key_with_nul = json!({ "token": token, "action": "team:view", "resource": { "team\u{0}": team } });
    assert_refused(Area::Api, check(key_with_nul.to_string().into_bytes()).send().unwrap(), "a key with NUL");
    for body in [
        &b"{\"token\": \"\xff\", \"action\": \"team:view\", \"resource\": {\"team\": \"t\"}}"[..],
        b"{\"token\": \"a\\ud800\", \"action\": \"team:view\", \"resource\": {\"team\": \"t\"}}",
        b"{",
        b"",
        b"[]",
        b"\"just a string\"",
        b"{\"token\": \"x\", \"token\": \"y\", \"action\": \"team:view\", \"resource\": {\"team\": \"t\"}}",
        b"\x00",
    ] {
        let response = check(body.to_vec()).send().unwrap();
        assert_refused(Area::Api, response, &format!("/v1/check body {:?}", String::from_utf8_lossy(body)));
    }
    for header in hostile_basic(&backend.id, &backend.secret) {
        let response =
            client.post(world.url("/v1/check")).header("authorization", header.as_str()).json(&valid).send().unwrap();
        assert_refused(Area::Api, response, &format!("/v1/check Authorization: {}", &header[..header.len().min(40)]));
    }

    let details = |value: &[u8]| {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("authorization", reqwest::header::HeaderValue::from_bytes(value).unwrap());
        client.get(world.url("/v1/token_details")).headers(headers).send().unwrap()
    };
    for value in [
        &b"Bearer \t"[..],
        b"Bearer a\tb",
        b"Bearer \xff\xfe",
        b"Bearer %00",
        b"Bearer team:acme|\xc3\xa9",
        b"Basic Zm9vOmJhcg==",
        b"Bearer",
    ] {
        assert_refused(Area::Api, details(value), &format!("token_details {:?}", String::from_utf8_lossy(value)));
    }
    for big in oversized() {
        let what = format!("token_details with a {}-byte bearer credential", big.len());
        assert_refused(Area::Api, details(format!("Bearer {big}").as_bytes()), &what);
    }
    assert_eq!(details(format!("Bearer {token}").as_bytes()).status(), 200);
}

#[test]
fn hostile_deploy_key_requests_get_the_api_envelope_and_write_nothing() {
    let scene = Scene::new();
    let Scene { world, email, team, project, app } = &scene;
    let deployment = world.deployment(team, project, "dev");
    let token = world.access_token(email, app, Grant::Project { team, project });
    let client = http();
    let mint = |body: Vec<u8>| {
        client
            .post(world.url("/v1/deploy_keys"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap()
    };
    let valid =
        json!({ "name": "CI", "deployment": deployment, "actions": ["logs:view"], "role": "ci", "expires_in": 3600 });
    let strings = ["\u{0}", "a\u{0}b", "\u{1}", "\r\n", "\u{7f}", "\u{1b}[31m"];
    for pointer in ["/name", "/deployment", "/actions/0", "/role"] {
        for bad in strings {
            let mut body = valid.clone();
            *body.pointer_mut(pointer).unwrap() = json!(bad);
            assert_refused(
                Area::Api,
                mint(body.to_string().into_bytes()),
                &format!("/v1/deploy_keys {pointer}={bad:?}"),
            );
        }
        for wrong in [json!(1), json!(true), json!([]), json!({}), json!(1.5)] {
            let mut body = valid.clone();
            *body.pointer_mut(pointer).unwrap() = wrong.clone();
            assert_refused(
                Area::Api,
                mint(body.to_string().into_bytes()),
                &format!("/v1/deploy_keys {pointer}={wrong}"),
            );
        }
        for big in oversized() {
            let mut body = valid.clone();
            *body.pointer_mut(pointer).unwrap() = json!(big);
            assert_refused(Area::Api, mint(body.to_string().into_bytes()), &format!("{pointer}=<{} bytes>", big.len()));
        }
    }
    for expires_in in [json!(-1), json!(1e30), json!("3600"), json!(i64::MAX)] {
        let mut body = valid.clone();
        body["expires_in"] = expires_in.clone();
        assert_refused(Area::Api, mint(body.to_string().into_bytes()), &format!("expires_in={expires_in}"));
    }
    for body in [&b"{"[..], b"", b"[]", b"\x00", b"{\"name\": \"\xff\"}", &vec![b' '; 64 * 1024]] {
        assert_refused(
            Area::Api,
            mint(body.to_vec()),
            &format!("body {:?}", String::from_utf8_lossy(&body[..body.len().min(20)])),
        );
    }
    for path in ["/v1/deploy_keys/abc", "/v1/deploy_keys/%00", "/v1/deploy_keys/99999999999999999999999"] {
        let response = client.delete(world.url(path)).bearer_auth(&token).send().unwrap();
        assert_refused(Area::Api, response, path);
    }
    assert_eq!(
        world.cli(&["admin", "deploy-key", "list", "--team", team])["deploy_keys"],
        json!([]),
        "nothing written"
    );
}

#[test]
fn an_out_of_range_loopback_port_is_no_redirect_target() {
    let Scene { world, email, team, .. } = Scene::new();
    let public = world.app_with_uris(&team, &["http://127.0.0.1/cb"], &["--public"]);
    let client_id = public.client_id.as_str();
    let browser = world.login(&email);
    let (_, challenge) = pkce();
    for port in ["65536", "99999"] {
        let uri = format!("http://127.0.0.1:{port}/cb");
        for response_type in ["code", "token"] {
            let response = browser
                .get(world.url("/oauth/authorize"))
                .query(&[
                    ("response_type", response_type),
                    ("client_id", client_id),
                    ("redirect_uri", uri.as_str()),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                ])
                .send()
                .unwrap();
            let what = format!("redirect_uri={uri} response_type={response_type}");
            assert!(response.headers().get("location").is_none(), "{what}: never a redirect");
            assert_refused(Area::Page, response, &what);
        }
    }
}
