//! Discovery metadata (RFC 8414), JWKS, health, and answers to unknown paths.

use serde_json::Value;

use crate::harness::http;
use crate::world::World;

#[test]
fn metadata_lists_every_endpoint_with_the_configured_issuer_whatever_the_host_header() {
    let world = World::with_env(&[("PORTCULLIS_ISSUER", "https://auth.example.com")]);
    let response = http()
        .get(world.url("/.well-known/oauth-authorization-server"))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "http")
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().unwrap();
    assert!(!text.contains("evil.example"), "{text}");
    let metadata: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(metadata["issuer"], "https://auth.example.com");
    for (member, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("introspection_endpoint", "/oauth/introspect"),
        ("revocation_endpoint", "/oauth/revoke"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(metadata[member], format!("https://auth.example.com{path}"), "{member}");
    }
    assert_eq!(metadata["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(metadata["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(metadata["scopes_supported"], serde_json::json!(["project", "team"]));
    assert_eq!(metadata["authorization_response_iss_parameter_supported"], true);
    let grants = metadata["grant_types_supported"].as_array().unwrap();
    assert!(grants.contains(&"authorization_code".into()) && grants.contains(&"refresh_token".into()));
    for member in [
        "token_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
    ] {
        assert!(metadata[member].as_array().unwrap().contains(&"client_secret_basic".into()), "{member}");
    }
    assert!(metadata["token_endpoint_auth_methods_supported"].as_array().unwrap().contains(&"none".into()));
}

#[test]
fn jwks_publishes_an_ed25519_key() {
    let world = World::new();
    let jwks: Value = http().get(world.url("/.well-known/jwks.json")).send().unwrap().json().unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    assert!(key["kid"].is_string() && key["x"].is_string());
    assert!(key.get("d").is_none(), "never the private part");
}

#[test]
fn health_and_readiness() {
    let world = World::new();
    assert_eq!(http().get(world.url("/healthz")).send().unwrap().status(), 200);
    // HEAD is served wherever GET is, without a body (RFC 9110 §9.3.2): load balancers use it.
    for path in ["/healthz", "/readyz", "/login"] {
        let head = http().head(world.url(path)).send().unwrap();
        assert_eq!(head.status(), 200, "{path}");
        assert_ne!(head.headers()["content-length"], "0", "{path}: the length GET would have");
        assert!(head.bytes().unwrap().is_empty(), "{path}");
    }
    let ready: Value = http().get(world.url("/readyz")).send().unwrap().json().unwrap();
    assert_eq!(ready["status"], "ready");
}

#[test]
fn unknown_paths_are_404_in_the_shape_of_their_area() {
    let world = World::new();
    let api = http().get(world.url("/v1/nothing")).send().unwrap();
    assert_eq!(api.status(), 404);
    assert_eq!(api.json::<Value>().unwrap()["error"]["code"], "not_found");
    let page = http().get(world.url("/nothing")).send().unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.text().unwrap().contains("Not found"));
}

#[test]
fn known_paths_asked_with_another_method_are_405_with_allow_in_the_shape_of_their_area() {
    let world = World::new();
    for path in ["/oauth/token", "/oauth/introspect", "/oauth/revoke"] {
        let response = http().get(world.url(path)).send().unwrap();
        assert_eq!(response.status(), 405, "{path}");
        assert_eq!(response.headers()["allow"], "POST", "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
        assert_eq!(response.json::<Value>().unwrap()["error"], "invalid_request", "{path}");
    }
    let api = http().delete(world.url("/v1/token_details")).send().unwrap();
    assert_eq!((api.status().as_u16(), api.headers()["allow"].to_str().unwrap()), (405, "GET"));
    assert_eq!(api.json::<Value>().unwrap()["error"]["code"], "method_not_allowed");
    let metadata = http().post(world.url("/.well-known/oauth-authorization-server")).send().unwrap();
    assert_eq!(metadata.status(), 405);
    // The authorization endpoint serves both methods; a page path answers with a page.
    let authorize = http().put(world.url("/oauth/authorize")).send().unwrap();
    assert_eq!(authorize.status(), 405);
    let allowed = authorize.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allowed.contains("GET") && allowed.contains("POST"), "{allowed}");
    assert!(authorize.text().unwrap().contains("Method not allowed"));
    let logout = http().put(world.url("/logout")).send().unwrap();
    assert_eq!(logout.status(), 405);
    assert_eq!(logout.headers()["x-frame-options"], "DENY", "security headers on every answer");
    assert!(logout.text().unwrap().contains("Method not allowed"));
}
