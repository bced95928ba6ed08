//! Introspection (RFC 7662), token details, and which callers may ask about what.

use serde_json::{Value, json};

use crate::harness::http;
use crate::world::{Grant, World};

fn introspect_as(world: &World, id: &str, secret: &str, form: &[(&str, &str)]) -> reqwest::blocking::Response {
    http().post(world.url("/oauth/introspect")).basic_auth(id, Some(secret)).form(form).send().unwrap()
}

#[test]
fn backends_see_every_member_spec_section_4_lists() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.app(&team);
    let backend = world.backend();
    let token = world.access_token(&email, &app, Grant::Project { team: &team, project: &project });
    let response = introspect_as(&world, &backend.id, &backend.secret, &[("token", &token)]);
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let answer: Value = response.json().unwrap();
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["credential_type"], "projectToken");
    assert_eq!(answer["scope"], "project");
    assert_eq!(answer["client_id"], app.client_id.as_str());
    assert_eq!(answer["username"], email.as_str());
    assert_eq!(answer["role"], "admin");
    assert_eq!(answer["project_admin"], false);
    assert_eq!(answer["team_slug"], team.as_str());
    assert_eq!(answer["project_slug"], project.as_str());
    assert!(answer["team_id"].is_i64() && answer["project_id"].is_i64() && answer["iat"].is_i64());
    assert!(answer["sub"].is_string());
    assert!(answer.get("exp").is_none(), "non-expiring token");

    let team_token = world.access_token(&email, &app, Grant::Team { team: &team });
    let answer = world.introspect(&backend, &team_token);
    assert_eq!((answer["credential_type"].as_str(), answer["scope"].as_str()), (Some("teamToken"), Some("team")));
    assert!(answer.get("project_id").is_none() && answer.get("project_admin").is_none());
}

#[test]
fn the_token_type_hint_never_changes_the_answer() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.app(&team);
    let backend = world.backend();
    let token = world.access_token(&email, &app, Grant::Project { team: &team, project: &project });
    for hint in ["access_token", "refresh_token", "nonsense"] {
        let answer: Value =
            introspect_as(&world, &backend.id, &backend.secret, &[("token", &token), ("token_type_hint", hint)])
                .json()
                .unwrap();
        assert_eq!(answer["active"], true, "{hint}");
    }
}

#[test]
fn apps_may_introspect_their_own_tokens_only() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.app(&team);
    let other = world.app(&team);
    let token = world.access_token(&email, &app, Grant::Project { team: &team, project: &project });
    let own: Value =
        introspect_as(&world, &app.client_id, app.secret.as_deref().unwrap(), &[("token", &token)]).json().unwrap();
    assert_eq!(own["active"], true);
    let foreign: Value =
        introspect_as(&world, &other.client_id, other.secret.as_deref().unwrap(), &[("token", &token)]).json().unwrap();
    assert_eq!(foreign, json!({ "active": false }));
    // Client secret in the body works too.
    let posted: Value = http()
        .post(world.url("/oauth/introspect"))
        .form(&[
            ("token", token.as_str()),
            ("client_id", &app.client_id),
            ("client_secret", app.secret.as_deref().unwrap()),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(posted["active"], true);
}

#[test]
fn callers_must_authenticate() {
    let world = World::new();
    let (_, team, _) = world.owner_with_project();
    let public = world.public_app(&team);
    let backend = world.backend();
    let no_auth = http().post(world.url("/oauth/introspect")).form(&[("token", "x")]).send().unwrap();
    assert_eq!(no_auth.status(), 401);
    assert!(no_auth.headers().get("www-authenticate").is_some());
    assert_eq!(no_auth.json::<Value>().unwrap()["error"], "invalid_client");
    // A wrong secret fails even right after the right one succeeded (and was cached).
    assert_eq!(introspect_as(&world, &backend.id, &backend.secret, &[("token", "x")]).status(), 200);
    assert_eq!(introspect_as(&world, &backend.id, "wrong", &[("token", "x")]).status(), 401);
    let public_only_id = http()
        .post(world.url("/oauth/introspect"))
        .form(&[("token", "x"), ("client_id", &public.client_id)])
        .send()
        .unwrap();
    assert_eq!(public_only_id.status(), 401, "a client id alone authenticates nobody");
    let missing = introspect_as(&world, &backend.id, &backend.secret, &[]);
    assert_eq!(
        (missing.status().as_u16(), missing.json::<Value>().unwrap()["error"].clone()),
        (400, json!("invalid_request"))
    );
    let repeated = introspect_as(&world, &backend.id, &backend.secret, &[("token", "a"), ("token", "b")]);
    assert_eq!(repeated.status(), 400);
}

#[test]
fn inactive_is_exactly_active_false_for_everything_that_is_not_a_live_credential() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let other_project = world.project(&team);
    let app = world.expiring_app(&team);
    let backend = world.backend();
    let tokens = world.tokens(&email, &app, Grant::Project { team: &team, project: &project });
    let token = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (code, _) = world.code_for(&email, &app, Grant::Project { team: &team, project: &project });
    let secret = token.split_once('|').unwrap().1;
    let browser = crate::harness::browser();
    let login = browser
        .post(world.url("/login"))
        .form(&[("email", email.as_str()), ("password", crate::harness::PASSWORD)])
        .send()
        .unwrap();
    let session = login
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();

    let mut upper = token.to_owned();
    upper.replace_range(0..1, "P");
    let tampered = [
        format!("project:{team}:{other_project}|{secret}"),
        format!("project:other-team:{project}|{secret}"),
        format!("team:{team}|{secret}"),
        upper,
        token.to_uppercase(),
        format!("{token}x"),
        format!(" {token}"),
        format!("{token}|{secret}"),
        secret.to_owned(),
        format!("project:{team}:{project}|"),
    ];
    let not_credentials = [
        "garbage".to_owned(),
        String::new(),
        code.clone(),
        app.secret.clone().unwrap(),
        backend.secret.clone(),
        refresh.to_owned(),
        session,
        "a".repeat(5000),
    ];
    for candidate in tampered.iter().chain(not_credentials.iter()) {
        if candidate.is_empty() {
            continue;
        }
        assert!(!world.is_active(&backend, candidate), "{candidate:?} must be inactive");
    }
    assert!(world.is_active(&backend, token), "the genuine token is still fine");
}

fn details(world: &World, token: &str) -> reqwest::blocking::Response {
    http().get(world.url("/v1/token_details")).bearer_auth(token).send().unwrap()
}

#[test]
fn token_details_describes_every_kind_of_credential() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.expiring_app(&team);
    let tokens = world.tokens(&email, &app, Grant::Project { team: &team, project: &project });
    let token = tokens["access_token"].as_str().unwrap();
    let body: Value = details(&world, token).json().unwrap();
    assert_eq!(body["type"], "projectToken");
    assert_eq!(body["name"], "Test Integration");
    assert!(
        body["id"].is_i64() && body["teamId"].is_i64() && body["projectId"].is_i64() && body["createTime"].is_i64()
    );

    let team_token = world.access_token(&email, &app, Grant::Team { team: &team });
    let body: Value = details(&world, &team_token).json().unwrap();
    assert_eq!(body["type"], "teamToken");
    assert!(body.get("projectId").is_none());

    let deployment =
        world.cli(&["admin", "deployment", "create", "--team", &team, "--project", &project, "--type", "prod"]);
    let admin_key = deployment["admin_key"].as_str().unwrap();
    let body: Value = details(&world, admin_key).json().unwrap();
    assert_eq!(body["type"], "adminKey");
    assert_eq!(body["deploymentName"], deployment["name"]);
    let backend = world.backend();
    let answer = world.introspect(&backend, admin_key);
    assert_eq!(answer["credential_type"], "adminKey");
    assert_eq!(answer["deployment"], deployment["name"]);
    assert!(answer["allowed_actions"].as_array().unwrap().iter().any(|a| a == "env:view"));

    for inactive in ["garbage", tokens["refresh_token"].as_str().unwrap(), &format!("{token}x")] {
        let response = details(&world, inactive);
        assert_eq!(response.status(), 401, "{inactive}");
        assert!(response.headers().get("www-authenticate").unwrap().to_str().unwrap().contains("invalid_token"));
    }
    assert_eq!(http().get(world.url("/v1/token_details")).send().unwrap().status(), 401);
}

#[test]
fn admin_keys_verify_offline_against_the_published_jwks() {
    let world = World::new();
    let (_, team, project) = world.owner_with_project();
    let deployment =
        world.cli(&["admin", "deployment", "create", "--team", &team, "--project", &project, "--type", "dev"]);
    let admin_key = deployment["admin_key"].as_str().unwrap();
    let jwks: jsonwebtoken::jwk::JwkSet =
        http().get(world.url("/.well-known/jwks.json")).send().unwrap().json().unwrap();
    assert_eq!(portcullis::tokens::admin_key::verify_offline(admin_key, &jwks), deployment["name"].as_str());
    let forged = admin_key.replacen(deployment["name"].as_str().unwrap(), "other-name", 1);
    assert_eq!(portcullis::tokens::admin_key::verify_offline(&forged, &jwks), None);
}
