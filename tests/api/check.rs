//! `POST /v1/check`: decisions for backends (SPEC §4).

use serde_json::{Value, json};

use crate::harness::http;
use crate::world::{Backend, Grant, World};

fn check(world: &World, backend: &Backend, body: Value) -> Value {
    let response =
        http().post(world.url("/v1/check")).basic_auth(&backend.id, Some(&backend.secret)).json(&body).send().unwrap();
    assert_eq!(response.status(), 200, "{body}");
    response.json().unwrap()
}

#[test]
fn decisions_follow_the_users_current_role_within_the_tokens_scope() {
    let world = World::new();
    let (_, team, project) = world.owner_with_project();
    let other_project = world.project(&team);
    let dev = world.user();
    world.member(&team, &dev, "developer");
    let app = world.app(&team);
    let backend = world.backend();
    let prod = world.cli(&["admin", "deployment", "create", "--team", &team, "--project", &project, "--type", "prod"])
        ["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let dev_deployment =
        world.cli(&["admin", "deployment", "create", "--team", &team, "--project", &project, "--type", "dev"])["name"]
            .as_str()
            .unwrap()
            .to_owned();
    let token = world.access_token(&dev, &app, Grant::Project { team: &team, project: &project });
    let allowed = |action: &str, resource: Value| {
        check(&world, &backend, json!({ "token": token, "action": action, "resource": resource }))["allowed"] == true
    };

    assert!(allowed("deployment:deploy", json!({ "deployment": dev_deployment })));
    assert!(!allowed("deployment:deploy", json!({ "deployment": prod })), "developers only view production");
    assert!(allowed("deployment:view", json!({ "deployment": prod })));
    assert!(!allowed("env:view", json!({ "deployment": prod })));
    assert!(allowed("project:view", json!({ "team": team, "project": project })));
    assert!(!allowed("project:view", json!({ "team": team, "project": other_project })), "outside the token's project");
    assert!(!allowed("team:view", json!({ "team": team })), "a project token does not reach the team");

    world.cli(&["admin", "member", "set-role", "--team", &team, "--email", &dev, "--role", "admin"]);
    assert!(allowed("deployment:deploy", json!({ "deployment": prod })), "a role change is live");
    assert!(allowed("env:view", json!({ "deployment": prod })));

    world.cli(&["admin", "member", "remove", "--team", &team, "--email", &dev]);
    let answer = check(
        &world,
        &backend,
        json!({ "token": token, "action": "deployment:view", "resource": { "deployment": prod } }),
    );
    assert_eq!(answer["allowed"], false);
    assert!(answer["reason"].is_string());
}

#[test]
fn team_tokens_never_manage_members_roles_or_apps() {
    let world = World::new();
    let (admin, team, _) = world.owner_with_project();
    let app = world.app(&team);
    let backend = world.backend();
    let token = world.access_token(&admin, &app, Grant::Team { team: &team });
    for (action, expected) in [
        ("team:view", true),
        ("member:view", true),
        ("oauthApp:view", true),
        ("member:invite", false),
        ("member:remove", false),
        ("member:updateRole", false),
        ("customRole:manage", false),
        ("oauthApp:manage", false),
    ] {
        let answer = check(&world, &backend, json!({ "token": token, "action": action, "resource": { "team": team } }));
        assert_eq!(answer["allowed"], expected, "{action}: {answer}");
    }
}

#[test]
fn callers_and_inputs() {
    let world = World::new();
    let (_, team, _) = world.owner_with_project();
    let app = world.app(&team);
    let backend = world.backend();
    let body = json!({ "token": "garbage", "action": "team:view", "resource": { "team": team } });
    assert_eq!(
        check(&world, &backend, body.clone()),
        json!({ "allowed": false, "reason": "the credential is invalid, expired or revoked" })
    );
    let unauthenticated = http().post(world.url("/v1/check")).json(&body).send().unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let wrong = http().post(world.url("/v1/check")).basic_auth(&backend.id, Some("wrong")).json(&body).send().unwrap();
    assert_eq!(wrong.status(), 401);
    let as_app = http()
        .post(world.url("/v1/check"))
        .basic_auth(&app.client_id, app.secret.as_deref())
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(as_app.status(), 403, "an OAuth app's credentials are not a backend's");
    let bad_action = http()
        .post(world.url("/v1/check"))
        .basic_auth(&backend.id, Some(&backend.secret))
        .json(&json!({ "token": "x", "action": "fly", "resource": { "team": team } }))
        .send()
        .unwrap();
    assert_eq!(bad_action.status(), 400);
    let bad_json = http()
        .post(world.url("/v1/check"))
        .basic_auth(&backend.id, Some(&backend.secret))
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(bad_json.status(), 400);
    let unknown_resource =
        check(&world, &backend, json!({ "token": "x", "action": "team:view", "resource": { "team": "no-such-team" } }));
    assert_eq!(unknown_resource["allowed"], false);
}

#[test]
fn admin_keys_act_on_their_deployment_only() {
    let world = World::new();
    let (_, team, project) = world.owner_with_project();
    let backend = world.backend();
    let one = world.cli(&["admin", "deployment", "create", "--team", &team, "--project", &project, "--type", "prod"]);
    let two = world.cli(&["admin", "deployment", "create", "--team", &team, "--project", &project, "--type", "prod"]);
    let key = one["admin_key"].as_str().unwrap();
    let ask = |deployment: &Value| {
        check(
            &world,
            &backend,
            json!({ "token": key, "action": "env:write", "resource": { "deployment": deployment } }),
        )["allowed"]
            == true
    };
    assert!(ask(&one["name"]));
    assert!(!ask(&two["name"]));
}

#[test]
fn admin_key_escalating_to_project_actions_through_its_deployment_is_denied() {
    let world = World::new();
    let (_, team, project) = world.owner_with_project();
    let backend = world.backend();
    let deployment =
        world.cli(&["admin", "deployment", "create", "--team", &team, "--project", &project, "--type", "prod"]);
    let key = deployment["admin_key"].as_str().unwrap();
    let ask = |action: &str, resource: Value| {
        check(&world, &backend, json!({ "token": key, "action": action, "resource": resource }))
    };
    for action in ["project:delete", "deployKey:manage", "token:revoke", "project:update", "deployment:create"] {
        let answer = ask(action, json!({ "deployment": deployment["name"] }));
        assert_eq!(answer["allowed"], false, "{action} on its own deployment: {answer}");
        let answer = ask(action, json!({ "team": team, "project": project }));
        assert_eq!(answer["allowed"], false, "{action} on its project: {answer}");
    }
    assert_eq!(ask("team:view", json!({ "team": team }))["allowed"], false);
    for action in ["deployment:deploy", "env:view", "data:write", "deployment:delete"] {
        assert_eq!(ask(action, json!({ "deployment": deployment["name"] }))["allowed"], true, "{action}");
    }
}

#[test]
fn probing_the_check_body_without_valid_credentials_gets_401_before_any_parsing() {
    let world = World::new();
    let backend = world.backend();
    let bodies: [&[u8]; 4] = [b"{not json", b"{\"token\": 1}", b"{\"token\": \"\\u0000\"}", b""];
    for body in bodies {
        let what = String::from_utf8_lossy(body);
        let none = http().post(world.url("/v1/check")).body(body.to_vec()).send().unwrap();
        assert_eq!(none.status(), 401, "no credentials, body {what}");
        let wrong = http()
            .post(world.url("/v1/check"))
            .basic_auth(&backend.id, Some("wrong"))
            .body(body.to_vec())
            .send()
            .unwrap();
        assert_eq!(wrong.status(), 401, "wrong credentials, body {what}");
        assert!(wrong.headers().get("www-authenticate").is_some());
        assert_ne!(
            wrong.headers().get("connection").and_then(|v| v.to_str().ok()),
            Some("close"),
            "the body was read: the connection stays usable"
        );
        let right = http()
            .post(world.url("/v1/check"))
            .basic_auth(&backend.id, Some(&backend.secret))
            .body(body.to_vec())
            .send()
            .unwrap();
        assert_eq!(right.status(), 400, "a backend's bad body, {what}");
    }
}
