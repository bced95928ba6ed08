//! Custom roles (SPEC §2): validation when saved, the selector grammar, and application-token
//! decisions that follow role edits, role changes and project admin with no restart.

use serde_json::{Value, json};

use crate::harness::{cli, http};
use crate::world::{Backend, Grant, World};

fn role(world: &World, verb: &str, team: &str, name: &str, statements: &str) -> Result<Value, String> {
    cli(&world.db.url, &["admin", "role", verb, "--team", team, "--name", name, "--statements", statements])
}

fn check(world: &World, backend: &Backend, token: &str, action: &str, resource: Value) -> Value {
    let body = json!({ "token": token, "action": action, "resource": resource });
    let response =
        http().post(world.url("/v1/check")).basic_auth(&backend.id, Some(&backend.secret)).json(&body).send().unwrap();
    assert_eq!(response.status(), 200);
    response.json().unwrap()
}

#[test]
fn statements_are_validated_when_saved_with_clear_messages() {
    let world = World::new();
    let (_, team, _) = world.owner_with_project();
    for (statements, expected) in [
        (
            r#"[{"effect":"allow","actions":["deployment:fly"],"resource":"project:*:deployment:*"}]"#,
            "unknown action \"deployment:fly\"",
        ),
        (r#"[{"effect":"allow","actions":["team:view"],"resource":"org"}]"#, "invalid resource \"org\""),
        (
            r#"[{"effect":"allow","actions":["team:view"],"resource":"project:*"}]"#,
            "team:view does not apply to resource \"project:*\"",
        ),
        (
            r#"[{"effect":"allow","actions":["deployment:deploy"],"resource":"project:*"}]"#,
            "deployment:deploy does not apply",
        ),
        (
            r#"[{"effect":"allow","actions":"*","resource":"project:name=web"}]"#,
            "invalid project selector \"name=web\"",
        ),
        (r#"[{"effect":"allow","actions":"*","resource":"project:slug="}]"#, "invalid slug"),
        (r#"[{"effect":"allow","actions":"*","resource":"project:id=abc"}]"#, "invalid project id"),
        (
            r#"[{"effect":"allow","actions":"*","resource":"project:*:deployment:type=staging"}]"#,
            "unknown deployment type",
        ),
        (
            r#"[{"effect":"allow","actions":"*","resource":"project:*:deployment:slug=x"}]"#,
            "invalid deployment selector",
        ),
        (r#"[{"effect":"allow","actions":"*","resource":"project:*:deployment"}]"#, "invalid resource"),
        (r#"[{"effect":"maybe","actions":"*","resource":"team"}]"#, "invalid effect"),
        (r#"[{"effect":"allow","actions":[],"resource":"team"}]"#, "at least one action"),
        (r#"[{"effect":"allow","actions":"all","resource":"team"}]"#, "actions must be"),
        (r#"[{"effect":"allow","actions":"*","resource":"team","extra":1}]"#, "unknown field"),
        ("[]", "1 to 100 statements"),
        ("not json", "JSON array"),
    ] {
        let error = role(&world, "create", &team, "r", statements).expect_err(statements);
        assert!(error.contains(expected), "{statements}: expected {expected:?} in {error:?}");
        assert_eq!(error.trim().lines().count(), 1, "one line: {error}");
    }
    assert_eq!(world.cli(&["admin", "role", "list", "--team", &team]), json!({ "roles": [] }), "nothing stored");

    let good = r#"[{"effect":"allow","actions":"*","resource":"project:slug=web,id=7:deployment:name=happy-otter-1,type=dev"}]"#;
    let created = role(&world, "create", &team, "r", good).unwrap();
    assert_eq!(created["statements"][0]["resource"], "project:slug=web,id=7:deployment:name=happy-otter-1,type=dev");
    assert!(role(&world, "create", &team, "r", good).unwrap_err().contains("already has a role named r"));
    assert!(role(&world, "update", &team, "r", "[]").is_err(), "updates are validated too");
    assert!(role(&world, "update", &team, "nope", good).unwrap_err().contains("no role nope"));
    assert!(
        cli(&world.db.url, &["admin", "role", "create", "--team", &team, "--name", "bad name", "--statements", good])
            .unwrap_err()
            .contains("invalid role name")
    );
}

#[test]
fn a_role_in_use_is_deleted_only_with_force_which_takes_it_from_members_and_keys() {
    let world = World::new();
    let (_, team, project) = world.owner_with_project();
    let backend = world.backend();
    let app = world.app(&team);
    let dev = world.user();
    world.member(&team, &dev, "developer");
    let prod = world.deployment(&team, &project, "prod");
    let statements = r#"[{"effect":"allow","actions":"*","resource":"project:*"},
                         {"effect":"allow","actions":"*","resource":"project:*:deployment:*"},
                         {"effect":"deny","actions":["run"],"resource":"project:*:deployment:*"}]"#;
    role(&world, "create", &team, "operator", statements).unwrap();
    let assigned =
        world.cli(&["admin", "member", "set-custom-roles", "--team", &team, "--email", &dev, "--role", "operator"]);
    assert_eq!(assigned["custom_roles"], json!(["operator"]));
    assert!(
        cli(
            &world.db.url,
            &["admin", "member", "set-custom-roles", "--team", &team, "--email", &dev, "--role", "nope"]
        )
        .unwrap_err()
        .contains("no role nope")
    );
    let token = world.access_token(&dev, &app, Grant::Project { team: &team, project: &project });
    let key = world.deploy_key(&["--deployment", &prod, "--role", "operator"])["key"].as_str().unwrap().to_owned();

    let listed = world.cli(&["admin", "role", "list", "--team", &team]);
    assert_eq!(listed["roles"][0]["members"], json!([dev]));
    assert_eq!(listed["roles"][0]["deploy_keys"].as_array().unwrap().len(), 1);
    let introspected = world.introspect(&backend, &token);
    assert_eq!((introspected["role"].as_str(), &introspected["custom_roles"]), (Some("custom"), &json!(["operator"])));

    let error = cli(&world.db.url, &["admin", "role", "delete", "--team", &team, "--name", "operator"]).unwrap_err();
    assert!(error.contains("held by 1 member(s) and 1 deploy key(s)") && error.contains("--force"), "{error}");
    assert_eq!(
        check(&world, &backend, &key, "run", json!({ "deployment": prod }))["reason"],
        "denied_by_role:operator"
    );

    let deleted = world.cli(&["admin", "role", "delete", "--team", &team, "--name", "operator", "--force"]);
    assert_eq!(deleted["removed_from_members"], json!([dev]));
    assert_eq!(world.cli(&["admin", "role", "list", "--team", &team]), json!({ "roles": [] }));
    let answer = check(&world, &backend, &token, "deployment:view", json!({ "deployment": prod }));
    assert_eq!(
        answer,
        json!({ "allowed": false, "reason": "not_allowed_by_role" }),
        "custom with no role left: nothing"
    );
    assert_eq!(
        check(&world, &backend, &key, "run", json!({ "deployment": prod })),
        json!({ "allowed": true, "reason": "allowed_by_default_actions" }),
        "the key keeps its own actions"
    );
}

#[test]
fn application_token_decisions_follow_custom_role_edits_live() {
    let world = World::new();
    let (_, team, web) = world.owner_with_project();
    let api = world.project(&team);
    let backend = world.backend();
    let app = world.app(&team);
    let user = world.user();
    world.member(&team, &user, "developer");
    let web_prod = world.deployment(&team, &web, "prod");
    let web_dev = world.deployment(&team, &web, "dev");
    let api_prod = world.deployment(&team, &api, "prod");
    let token = world.access_token(&user, &app, Grant::Team { team: &team });
    let decide =
        |action: &str, deployment: &str| check(&world, &backend, &token, action, json!({ "deployment": deployment }));

    role(
        &world,
        "create",
        &team,
        "deployer",
        &format!(
            r#"[{{"effect":"allow","actions":["deployment:deploy","logs:view"],"resource":"project:slug={web}:deployment:*"}},
                {{"effect":"deny","actions":["deployment:deploy"],"resource":"project:*:deployment:type=prod"}},
                {{"effect":"allow","actions":["team:view"],"resource":"team"}}]"#
        ),
    )
    .unwrap();
    world.cli(&["admin", "member", "set-custom-roles", "--team", &team, "--email", &user, "--role", "deployer"]);
    assert_eq!(decide("deployment:deploy", &web_dev), json!({ "allowed": true, "reason": "allowed_by_role:deployer" }));
    assert_eq!(
        decide("deployment:deploy", &web_prod),
        json!({ "allowed": false, "reason": "denied_by_role:deployer" })
    );
    assert_eq!(decide("logs:view", &web_prod)["allowed"], true, "the deny names one action");
    assert_eq!(decide("logs:view", &api_prod), json!({ "allowed": false, "reason": "not_allowed_by_role" }));
    assert_eq!(check(&world, &backend, &token, "team:view", json!({ "team": team }))["allowed"], true);

    // A second role: allows are OR'd across roles, so it lifts the first one's deny.
    role(
        &world,
        "create",
        &team,
        "prod-by-name",
        &format!(r#"[{{"effect":"allow","actions":["deployment:deploy"],"resource":"project:*:deployment:name={web_prod},name={api_prod}"}}]"#),
    )
    .unwrap();
    world.cli(&[
        "admin",
        "member",
        "set-custom-roles",
        "--team",
        &team,
        "--email",
        &user,
        "--role",
        "deployer",
        "--role",
        "prod-by-name",
    ]);
    assert_eq!(
        decide("deployment:deploy", &web_prod),
        json!({ "allowed": true, "reason": "allowed_by_role:prod-by-name" })
    );
    assert_eq!(decide("deployment:deploy", &api_prod)["allowed"], true);

    // Editing a role: the very next request follows.
    let api_id = world.cli(&["admin", "project", "update", "--team", &team, "--slug", &api])["id"].as_i64().unwrap();
    role(
        &world,
        "update",
        &team,
        "prod-by-name",
        &format!(r#"[{{"effect":"allow","actions":["logs:view"],"resource":"project:id={api_id}:deployment:type=prod,type=custom"}}]"#),
    )
    .unwrap();
    assert_eq!(decide("deployment:deploy", &web_prod)["reason"], "denied_by_role:deployer");
    assert_eq!(decide("deployment:deploy", &api_prod)["allowed"], false);
    assert_eq!(decide("logs:view", &api_prod), json!({ "allowed": true, "reason": "allowed_by_role:prod-by-name" }));

    // Project admin adds to custom roles; back to a built-in role drops them.
    world.cli(&["admin", "member", "set-project-admin", "--team", &team, "--project", &api, "--email", &user]);
    assert_eq!(decide("deployment:deploy", &api_prod)["reason"], "allowed_by_project_admin");
    world.cli(&["admin", "member", "set-role", "--team", &team, "--email", &user, "--role", "developer"]);
    assert_eq!(decide("deployment:deploy", &web_dev)["reason"], "allowed_by_developer_role");
    assert_eq!(decide("deployment:deploy", &web_prod)["reason"], "not_allowed_by_developer_role");
    let introspected = world.introspect(&backend, &token);
    assert_eq!(introspected["role"], "developer");
    assert!(
        introspected.get("custom_roles").is_none_or(|r| r.as_array().is_some_and(|a| a.is_empty())),
        "{introspected}"
    );
}
