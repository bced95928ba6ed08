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

/// `(allowed, reason)` of a decision, checking that the two agree.
fn decide(world: &World, backend: &Backend, token: &str, action: &str, resource: Value) -> (bool, String) {
    let answer = check(world, backend, json!({ "token": token, "action": action, "resource": resource }));
    let reason = answer["reason"].as_str().unwrap_or_else(|| panic!("{answer}")).to_owned();
    let allowed = answer["allowed"].as_bool().unwrap();
    assert_eq!(allowed, reason.starts_with("allowed_by_"), "{answer}");
    assert_eq!(answer.as_object().unwrap().len(), 2, "{answer}");
    (allowed, reason)
}

fn deployment(world: &World, team: &str, project: &str, deployment_type: &str) -> Value {
    world.cli(&["admin", "deployment", "create", "--team", team, "--project", project, "--type", deployment_type])
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
    let prod = deployment(&world, &team, &project, "prod")["name"].clone();
    let dev_deployment = deployment(&world, &team, &project, "dev")["name"].clone();
    let elsewhere = deployment(&world, &team, &other_project, "dev")["name"].clone();
    let token = world.access_token(&dev, &app, Grant::Project { team: &team, project: &project });
    let reason = |action: &str, resource: Value| decide(&world, &backend, &token, action, resource).1;
    let on_project = json!({ "team": team, "project": project });

    let developer = [
        ("deployment:deploy", json!({ "deployment": dev_deployment }), "allowed_by_developer_role"),
        ("deployment:view", json!({ "deployment": prod }), "allowed_by_developer_role"),
        ("deployment:deploy", json!({ "deployment": prod }), "not_allowed_by_developer_role"),
        ("env:view", json!({ "deployment": prod }), "not_allowed_by_developer_role"),
        ("project:delete", on_project.clone(), "not_allowed_by_developer_role"),
        ("project:view", on_project.clone(), "allowed_by_developer_role"),
        ("project:view", json!({ "team": team, "project": other_project }), "not_in_scope"),
        ("deployment:view", json!({ "deployment": elsewhere }), "not_in_scope"),
        ("team:view", json!({ "team": team }), "not_in_scope"),
    ];
    let assert_all = |rows: &[(&str, Value, &str)], when: &str| {
        for (action, resource, expected) in rows {
            assert_eq!(reason(action, resource.clone()), *expected, "{when}: {action} on {resource}");
        }
    };
    assert_all(&developer, "developer");

    world.cli(&["admin", "member", "set-project-admin", "--team", &team, "--email", &dev, "--project", &project]);
    assert_all(
        &[
            ("project:delete", on_project.clone(), "allowed_by_project_admin"),
            ("env:view", json!({ "deployment": prod }), "allowed_by_project_admin"),
            ("deployment:deploy", json!({ "deployment": prod }), "allowed_by_project_admin"),
            ("team:view", json!({ "team": team }), "not_in_scope"),
        ],
        "project admin",
    );
    world.cli(&[
        "admin",
        "member",
        "set-project-admin",
        "--team",
        &team,
        "--email",
        &dev,
        "--project",
        &project,
        "--off",
    ]);
    assert_all(&developer, "no longer project admin");

    world.cli(&["admin", "member", "set-role", "--team", &team, "--email", &dev, "--role", "admin"]);
    assert_all(
        &[
            ("deployment:deploy", json!({ "deployment": prod }), "allowed_by_team_admin"),
            ("env:view", json!({ "deployment": prod }), "allowed_by_team_admin"),
            ("project:delete", on_project.clone(), "allowed_by_team_admin"),
            ("project:view", json!({ "team": team, "project": other_project }), "not_in_scope"),
            ("team:view", json!({ "team": team }), "not_in_scope"),
        ],
        "admin",
    );
    world.cli(&["admin", "member", "set-role", "--team", &team, "--email", &dev, "--role", "developer"]);
    assert_all(&developer, "developer again");

    world.cli(&["admin", "member", "remove", "--team", &team, "--email", &dev]);
    assert_eq!(
        check(
            &world,
            &backend,
            json!({ "token": token, "action": "deployment:view", "resource": { "deployment": prod } })
        ),
        json!({ "allowed": false, "reason": "inactive" })
    );
}

#[test]
fn team_tokens_never_manage_members_roles_or_apps() {
    let world = World::new();
    let (admin, team, _) = world.owner_with_project();
    let app = world.app(&team);
    let backend = world.backend();
    let token = world.access_token(&admin, &app, Grant::Team { team: &team });
    for (action, expected) in [
        ("team:view", "allowed_by_team_admin"),
        ("team:update", "allowed_by_team_admin"),
        ("member:view", "allowed_by_team_admin"),
        ("oauthApp:view", "allowed_by_team_admin"),
        ("member:invite", "never_delegated"),
        ("member:remove", "never_delegated"),
        ("member:updateRole", "never_delegated"),
        ("customRole:manage", "never_delegated"),
        ("oauthApp:manage", "never_delegated"),
    ] {
        assert_eq!(decide(&world, &backend, &token, action, json!({ "team": team })).1, expected, "{action}");
    }
}

#[test]
fn callers_and_inputs() {
    let world = World::new();
    let (_, team, _) = world.owner_with_project();
    let app = world.app(&team);
    let backend = world.backend();
    let body = json!({ "token": "garbage", "action": "team:view", "resource": { "team": team } });
    assert_eq!(check(&world, &backend, body.clone()), json!({ "allowed": false, "reason": "inactive" }));
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
}

#[test]
fn revoked_credentials_are_inactive_and_missing_or_misfit_resources_say_so() {
    let world = World::new();
    let (admin, team, project) = world.owner_with_project();
    let sibling = world.project(&team);
    let foreign_team = world.team(&world.user());
    let foreign_project = world.project(&foreign_team);
    let foreign = deployment(&world, &foreign_team, &foreign_project, "prod")["name"].clone();
    let app = world.app(&team);
    let backend = world.backend();
    let token = world.access_token(&admin, &app, Grant::Team { team: &team });
    let reason = |action: &str, resource: Value| decide(&world, &backend, &token, action, resource).1;
    for (action, resource, expected) in [
        ("team:view", json!({ "team": team }), "allowed_by_team_admin"),
        ("team:view", json!({ "team": "no-such-team" }), "no_such_resource"),
        ("team:view", json!({ "team": "Not A Slug" }), "no_such_resource"),
        ("project:view", json!({ "team": team, "project": "no-such-project" }), "no_such_resource"),
        ("project:view", json!({ "team": team, "project": sibling }), "allowed_by_team_admin"),
        ("deployment:view", json!({ "deployment": "no-such-deployment-1" }), "no_such_resource"),
        ("deployment:view", json!({ "deployment": "NOT/A NAME" }), "no_such_resource"),
        ("team:view", json!({ "team": foreign_team }), "other_team"),
        ("deployment:view", json!({ "deployment": foreign }), "other_team"),
        ("deployment:view", json!({ "team": team, "project": project }), "wrong_resource_kind"),
        ("project:view", json!({ "team": team }), "wrong_resource_kind"),
    ] {
        assert_eq!(reason(action, resource.clone()), expected, "{action} on {resource}");
    }

    let revoked = http()
        .post(world.url("/oauth/revoke"))
        .basic_auth(&app.client_id, app.secret.as_deref())
        .form(&[("token", token.as_str())])
        .send()
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(
        check(&world, &backend, json!({ "token": token, "action": "team:view", "resource": { "team": team } })),
        json!({ "allowed": false, "reason": "inactive" })
    );
    let unknown = json!({ "token": token, "action": "team:view", "resource": { "team": "no-such-team" } });
    assert_eq!(check(&world, &backend, unknown)["reason"], "inactive", "the credential is judged first");
}

#[test]
fn admin_keys_act_on_their_deployment_only() {
    let world = World::new();
    let (owner, team, project) = world.owner_with_project();
    let backend = world.backend();
    let one = deployment(&world, &team, &project, "prod");
    let two = deployment(&world, &team, &project, "prod");
    let foreign_team = world.team(&owner);
    let foreign = deployment(&world, &foreign_team, &world.project(&foreign_team), "prod");
    let key = one["admin_key"].as_str().unwrap();
    for (action, resource, expected) in [
        ("env:write", json!({ "deployment": one["name"] }), "allowed_by_admin_key"),
        ("releases:promote", json!({ "deployment": one["name"] }), "allowed_by_admin_key"),
        ("env:write", json!({ "deployment": two["name"] }), "not_in_scope"),
        ("env:write", json!({ "deployment": foreign["name"] }), "other_team"),
        ("project:view", json!({ "deployment": one["name"] }), "not_in_scope"),
        ("project:view", json!({ "team": team, "project": project }), "not_in_scope"),
        ("team:view", json!({ "team": team }), "not_in_scope"),
        ("env:write", json!({ "team": team, "project": project }), "wrong_resource_kind"),
    ] {
        assert_eq!(decide(&world, &backend, key, action, resource.clone()).1, expected, "{action} on {resource}");
    }
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
        assert_eq!(answer, json!({ "allowed": false, "reason": "not_in_scope" }), "{action} on its own deployment");
        let answer = ask(action, json!({ "team": team, "project": project }));
        assert_eq!(answer, json!({ "allowed": false, "reason": "not_in_scope" }), "{action} on its project");
    }
    assert_eq!(ask("team:view", json!({ "team": team }))["reason"], "not_in_scope");
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
