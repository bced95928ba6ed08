//! Deploy keys (SPEC §3): every key type, their default actions, custom roles, expiry,
//! revocation, and keys minted by an application through its project token.

use reqwest::blocking::Response;
use serde_json::{Value, json};

use crate::harness::http;
use crate::world::{App, Backend, Grant, World};

const DEFAULTS: [&str; 10] = [
    "builds:create",
    "builds:export",
    "builds:import",
    "builds:view",
    "deployment:deploy",
    "deployment:view",
    "env:write",
    "logs:view",
    "releases:promote",
    "run",
];

fn key_of(out: &Value) -> String {
    out["key"].as_str().expect("the key is shown at creation").to_owned()
}

fn check(
    world: &World,
    backend: &Backend,
    token: &str,
    action: &str,
    resource: Value,
    context: Option<Value>,
) -> Value {
    let mut body = json!({ "token": token, "action": action, "resource": resource });
    if let Some(context) = context {
        body["context"] = context;
    }
    let response =
        http().post(world.url("/v1/check")).basic_auth(&backend.id, Some(&backend.secret)).json(&body).send().unwrap();
    assert_eq!(response.status(), 200, "{body}");
    response.json().unwrap()
}

fn allowed(world: &World, backend: &Backend, token: &str, action: &str, deployment: &str) -> bool {
    check(world, backend, token, action, json!({ "deployment": deployment }), None)["allowed"] == true
}

fn sorted(value: &Value) -> Vec<String> {
    let mut list: Vec<String> = value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    list.sort();
    list
}

fn token_details(world: &World, token: &str) -> Response {
    http().get(world.url("/v1/token_details")).bearer_auth(token).send().unwrap()
}

#[test]
fn every_key_type_has_its_format_introspection_and_token_details() {
    let world = World::new();
    let (_, team, project) = world.owner_with_project();
    let backend = world.backend();
    for deployment_type in ["prod", "dev", "preview", "custom"] {
        let deployment = world.deployment(&team, &project, deployment_type);
        let out = world.deploy_key(&["--deployment", &deployment]);
        let key = key_of(&out);
        let (prefix, secret) = key.split_once('|').unwrap();
        assert_eq!(prefix, format!("{deployment_type}:{deployment}"));
        assert!(secret.len() >= 43 && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));

        let answer = world.introspect(&backend, &key);
        assert_eq!(answer["active"], true, "{answer}");
        assert_eq!(answer["credential_type"], "deployKey");
        assert_eq!(answer["token_type"], "Bearer");
        assert_eq!(answer["sub"], out["id"].to_string(), "sub is the key id");
        assert_eq!(answer["deployment"], deployment);
        assert_eq!(answer["team_slug"], team);
        assert_eq!(answer["project_slug"], project);
        assert_eq!(sorted(&answer["allowed_actions"]), DEFAULTS);
        assert!(answer.get("exp").is_none(), "a key without expiry has no exp: {answer}");

        let details: Value = token_details(&world, &key).json().unwrap();
        assert_eq!(details["type"], "deployKey");
        assert_eq!(details["id"], out["id"]);
        assert_eq!(details["deploymentName"], deployment);
        assert_eq!(details["name"], "CI");

        let tampered = key.replacen(deployment_type, if deployment_type == "prod" { "dev" } else { "prod" }, 1);
        assert!(!world.is_active(&backend, &tampered), "the prefix is part of the credential");
    }

    let out = world.deploy_key(&["--team", &team, "--project", &project, "--preview"]);
    let key = key_of(&out);
    assert!(key.starts_with(&format!("preview:{team}:{project}|")), "{key}");
    let answer = world.introspect(&backend, &key);
    assert_eq!(answer["active"], true);
    assert_eq!(answer["credential_type"], "deployKey");
    assert!(answer.get("deployment").is_none(), "a preview deploy key has no deployment: {answer}");
    assert_eq!(answer["project_slug"], project);
    let details: Value = token_details(&world, &key).json().unwrap();
    assert_eq!(details["type"], "deployKey");
    assert!(details.get("deploymentName").is_none());
}

#[test]
fn default_actions_hold_on_the_keys_own_deployment_only() {
    let world = World::new();
    let (_, team, project) = world.owner_with_project();
    let backend = world.backend();
    let prod = world.deployment(&team, &project, "prod");
    let other = world.deployment(&team, &project, "prod");
    let key = key_of(&world.deploy_key(&["--deployment", &prod]));

    for action in DEFAULTS.iter().filter(|a| **a != "releases:promote") {
        assert!(allowed(&world, &backend, &key, action, &prod), "{action} on its deployment");
        assert!(!allowed(&world, &backend, &key, action, &other), "{action} on another deployment");
    }
    for action in ["env:view", "deployment:delete", "data:view", "data:write"] {
        assert!(!allowed(&world, &backend, &key, action, &prod), "{action} is not a default");
    }
    let answer = check(&world, &backend, &key, "env:view", json!({ "deployment": prod }), None);
    assert_eq!(answer["reason"], "not_in_key_actions");
    let answer = check(&world, &backend, &key, "deployment:deploy", json!({ "deployment": prod }), None);
    assert_eq!(answer, json!({ "allowed": true, "reason": "allowed_by_default_actions" }));
    let answer = check(&world, &backend, &key, "deployment:deploy", json!({ "deployment": other }), None);
    assert_eq!(answer["reason"], "not_in_scope");

    let promote = |context: Option<Value>| {
        check(&world, &backend, &key, "releases:promote", json!({ "deployment": prod }), context)
    };
    assert_eq!(promote(None), json!({ "allowed": false, "reason": "release_id_required" }));
    assert_eq!(promote(Some(json!({ "release_id": "" })))["allowed"], false);
    assert_eq!(promote(Some(json!({ "release_id": "rel_42" })))["allowed"], true);

    // Project- and team-level questions are outside a deployment key.
    let answer = check(&world, &backend, &key, "project:view", json!({ "team": team, "project": project }), None);
    assert_eq!(answer["allowed"], false);
    assert_eq!(check(&world, &backend, &key, "team:view", json!({ "team": team }), None)["allowed"], false);
}

#[test]
fn an_explicit_action_list_replaces_the_defaults() {
    let world = World::new();
    let (_, team, project) = world.owner_with_project();
    let backend = world.backend();
    let dev = world.deployment(&team, &project, "dev");
    let out = world.deploy_key(&["--deployment", &dev, "--action", "logs:view", "--action", "env:view"]);
    let key = key_of(&out);
    assert_eq!(sorted(&world.introspect(&backend, &key)["allowed_actions"]), ["env:view", "logs:view"]);
    assert!(allowed(&world, &backend, &key, "env:view", &dev));
    assert_eq!(
        check(&world, &backend, &key, "logs:view", json!({ "deployment": dev }), None)["reason"],
        "allowed_by_key_actions"
    );
    assert!(!allowed(&world, &backend, &key, "deployment:deploy", &dev));

    for bad in ["project:view", "team:view", "deployment:fly"] {
        let error = crate::harness::cli(
            &world.db.url,
            &["admin", "deploy-key", "create", "--name", "x", "--deployment", &dev, "--action", bad],
        )
        .unwrap_err();
        assert!(error.contains(bad), "{bad}: {error}");
    }
}

#[test]
fn a_preview_deploy_key_creates_preview_deployments_and_acts_on_them_only() {
    let world = World::new();
    let (_, team, project) = world.owner_with_project();
    let other_project = world.project(&team);
    let backend = world.backend();
    let preview = world.deployment(&team, &project, "preview");
    let dev = world.deployment(&team, &project, "dev");
    let elsewhere = world.deployment(&team, &other_project, "preview");
    let key = key_of(&world.deploy_key(&["--team", &team, "--project", &project, "--preview"]));

    let create = |project: &str| {
        check(&world, &backend, &key, "deployment:create", json!({ "team": team, "project": project }), None)
    };
    assert_eq!(create(&project), json!({ "allowed": true, "reason": "allowed_by_preview_deploy_key" }));
    assert_eq!(create(&other_project)["allowed"], false);
    assert!(allowed(&world, &backend, &key, "deployment:deploy", &preview));
    assert!(!allowed(&world, &backend, &key, "deployment:deploy", &dev), "only preview deployments");
    assert!(!allowed(&world, &backend, &key, "deployment:deploy", &elsewhere), "only its own project");
    assert!(!allowed(&world, &backend, &key, "env:view", &preview));
}

#[test]
fn a_custom_role_extends_and_restricts_a_key_but_its_team_statements_do_not_apply() {
    let world = World::new();
    let (_, team, project) = world.owner_with_project();
    let backend = world.backend();
    let prod = world.deployment(&team, &project, "prod");
    let dev = world.deployment(&team, &project, "dev");
    world.cli(&[
        "admin",
        "role",
        "create",
        "--team",
        &team,
        "--name",
        "ci",
        "--statements",
        r#"[{"effect":"allow","actions":["env:view"],"resource":"project:*:deployment:*"},
            {"effect":"deny","actions":["run"],"resource":"project:*:deployment:type=prod"},
            {"effect":"allow","actions":"*","resource":"team"}]"#,
    ]);
    let prod_key = key_of(&world.deploy_key(&["--deployment", &prod, "--role", "ci"]));
    let dev_key = key_of(&world.deploy_key(&["--deployment", &dev, "--role", "ci"]));

    let answer = check(&world, &backend, &prod_key, "env:view", json!({ "deployment": prod }), None);
    assert_eq!(answer, json!({ "allowed": true, "reason": "allowed_by_role:ci" }));
    let answer = check(&world, &backend, &prod_key, "run", json!({ "deployment": prod }), None);
    assert_eq!(answer, json!({ "allowed": false, "reason": "denied_by_role:ci" }), "deny removes a default");
    assert!(allowed(&world, &backend, &dev_key, "run", &dev), "the deny names prod deployments only");
    assert!(allowed(&world, &backend, &dev_key, "env:view", &dev));
    for action in ["team:view", "member:invite", "customRole:manage"] {
        let answer = check(&world, &backend, &prod_key, action, json!({ "team": team }), None);
        assert_eq!(answer["allowed"], false, "team statements never apply to keys: {action}");
    }
    let effective = sorted(&world.introspect(&backend, &prod_key)["allowed_actions"]);
    assert!(effective.contains(&"env:view".to_owned()) && !effective.contains(&"run".to_owned()), "{effective:?}");

    // Editing the role changes the keys carrying it on their next use.
    world.cli(&[
        "admin",
        "role",
        "update",
        "--team",
        &team,
        "--name",
        "ci",
        "--statements",
        r#"[{"effect":"deny","actions":["deployment:deploy"],"resource":"project:*:deployment:*"}]"#,
    ]);
    assert!(!allowed(&world, &backend, &prod_key, "env:view", &prod));
    assert!(allowed(&world, &backend, &prod_key, "run", &prod));
    assert!(!allowed(&world, &backend, &dev_key, "deployment:deploy", &dev));
}

#[test]
fn expiry_is_at_least_thirty_minutes_and_ends_the_key() {
    use diesel::prelude::*;
    use portcullis::db::schema::deploy_keys;

    let world = World::new();
    let (_, team, project) = world.owner_with_project();
    let backend = world.backend();
    let prod = world.deployment(&team, &project, "prod");
    for too_soon in ["1799", "0", "-60"] {
        let error = crate::harness::cli(
            &world.db.url,
            &["admin", "deploy-key", "create", "--name", "x", "--deployment", &prod, "--expires-in", too_soon],
        )
        .unwrap_err();
        assert!(error.contains("at least 1800 seconds"), "{too_soon}: {error}");
    }
    let before = time::OffsetDateTime::now_utc().unix_timestamp();
    let out = world.deploy_key(&["--deployment", &prod, "--expires-in", "1800"]);
    let key = key_of(&out);
    let exp = world.introspect(&backend, &key)["exp"].as_i64().expect("exp for an expiring key");
    assert!((before + 1800..=before + 1805).contains(&exp), "{exp} vs {before}");

    // Half an hour later (moved back in the database): the key is dead.
    let past = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let past = time::PrimitiveDateTime::new(past.date(), past.time());
    diesel::update(deploy_keys::table.find(out["id"].as_i64().unwrap()))
        .set(deploy_keys::expires_at.eq(Some(past)))
        .execute(&mut world.conn())
        .unwrap();
    assert!(!world.is_active(&backend, &key));
    assert_eq!(
        check(&world, &backend, &key, "deployment:view", json!({ "deployment": prod }), None)["reason"],
        "inactive"
    );
    assert_eq!(token_details(&world, &key).status(), 401);
    let listed = world.cli(&["admin", "deploy-key", "list", "--team", &team]);
    assert_eq!(listed["deploy_keys"][0]["status"], "expired");
}

#[test]
fn keys_survive_their_creators_removal_and_stop_when_revoked() {
    let world = World::new();
    let (_, team, project) = world.owner_with_project();
    let backend = world.backend();
    let dev = world.user();
    world.member(&team, &dev, "developer");
    let prod = world.deployment(&team, &project, "prod");
    let out = world.deploy_key(&["--deployment", &prod, "--created-by", &dev]);
    let key = key_of(&out);
    let id = out["id"].as_i64().unwrap();
    assert_eq!(out["created_by"], dev);

    world.cli(&["admin", "member", "remove", "--team", &team, "--email", &dev]);
    assert!(world.is_active(&backend, &key), "a person's key is a service credential");

    // Used keys show when; listing never shows a secret.
    let listed = world.cli(&["admin", "deploy-key", "list", "--team", &team, "--project", &project]);
    let row = &listed["deploy_keys"][0];
    assert_eq!(row["id"], id);
    assert!(row.get("key").is_none() && !listed.to_string().contains(key.split('|').nth(1).unwrap()));
    assert!(crate::harness::eventually(std::time::Duration::from_secs(10), || {
        world.cli(&["admin", "deploy-key", "list", "--team", &team])["deploy_keys"][0]["last_used_at"].is_string()
    }));

    let revoked = world.cli(&["admin", "deploy-key", "revoke", "--id", &id.to_string()]);
    assert_eq!(revoked, json!({ "id": id, "revoked": true, "already_revoked": false }));
    assert!(!world.is_active(&backend, &key));
    assert_eq!(world.cli(&["admin", "deploy-key", "revoke", "--id", &id.to_string()])["already_revoked"], true);
    assert!(crate::harness::cli(&world.db.url, &["admin", "deploy-key", "revoke", "--id", "424242"]).is_err());
    assert_eq!(world.cli(&["admin", "deploy-key", "list", "--team", &team])["deploy_keys"][0]["status"], "revoked");
    assert!(
        crate::harness::cli(
            &world.db.url,
            &["admin", "deploy-key", "create", "--name", "x", "--deployment", &prod, "--created-by", &dev]
        )
        .unwrap_err()
        .contains("not a member"),
        "a creator must be a member"
    );
}

/// `POST /v1/deploy_keys` with `token`.
fn mint(world: &World, token: &str, body: Value) -> Response {
    http().post(world.url("/v1/deploy_keys")).bearer_auth(token).json(&body).send().unwrap()
}

fn minted(world: &World, token: &str, deployment: &str) -> Value {
    let response = mint(world, token, json!({ "name": "from the app", "deployment": deployment }));
    assert_eq!(response.status(), 201);
    response.json().unwrap()
}

/// An app's project token for `email`.
fn project_token(world: &World, email: &str, app: &App, team: &str, project: &str) -> String {
    world.access_token(email, app, Grant::Project { team, project })
}

fn revoke_token(world: &World, app: &App, token: &str) {
    let response = http()
        .post(world.url("/oauth/revoke"))
        .basic_auth(&app.client_id, app.secret.as_deref())
        .form(&[("token", token)])
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[test]
fn an_app_mints_a_real_key_that_is_revocable_alone() {
    let world = World::new();
    let (owner, team, project) = world.owner_with_project();
    let backend = world.backend();
    let app = world.app(&team);
    let prod = world.deployment(&team, &project, "prod");
    let token = project_token(&world, &owner, &app, &team, &project);

    let out = minted(&world, &token, &prod);
    let key = key_of(&out);
    assert!(key.starts_with(&format!("prod:{prod}|")));
    assert_eq!(out["minted_by_app"], app.client_id);
    assert_eq!(out["created_by"], owner);
    assert!(allowed(&world, &backend, &key, "deployment:deploy", &prod));
    assert_eq!(world.introspect(&backend, &key)["credential_type"], "deployKey");

    let listed: Value = http().get(world.url("/v1/deploy_keys")).bearer_auth(&token).send().unwrap().json().unwrap();
    assert_eq!(listed["deploy_keys"][0]["id"], out["id"]);

    let id = out["id"].as_i64().unwrap();
    let response = http().delete(world.url(&format!("/v1/deploy_keys/{id}"))).bearer_auth(&token).send().unwrap();
    assert_eq!(response.status(), 200);
    assert!(!world.is_active(&backend, &key), "revoked alone");
    assert!(world.is_active(&backend, &token), "the token that minted it lives on");
}

#[test]
fn an_app_minted_key_ends_with_its_grant() {
    let world = World::new();
    let (owner, team, project) = world.owner_with_project();
    let backend = world.backend();
    let prod = world.deployment(&team, &project, "prod");

    // Revocation of the grant.
    let app = world.app(&team);
    let token = project_token(&world, &owner, &app, &team, &project);
    let key = key_of(&minted(&world, &token, &prod));
    let person_key = key_of(&world.deploy_key(&["--deployment", &prod, "--created-by", &owner]));
    revoke_token(&world, &app, &token);
    assert!(!world.is_active(&backend, &key), "revoking the grant ends the key");
    assert_eq!(world.cli(&["admin", "deploy-key", "list", "--team", &team])["deploy_keys"][1]["status"], "grant_ended");

    // The user's removal.
    let admin = world.user();
    world.member(&team, &admin, "admin");
    let token = project_token(&world, &admin, &app, &team, &project);
    let key = key_of(&minted(&world, &token, &prod));
    world.cli(&["admin", "member", "remove", "--team", &team, "--email", &admin]);
    assert!(!world.is_active(&backend, &key), "removing the user ends the key");

    // The app's deletion.
    let other_app = world.app(&team);
    let token = project_token(&world, &owner, &other_app, &team, &project);
    let key = key_of(&minted(&world, &token, &prod));
    world.cli(&["admin", "app", "delete", "--client-id", &other_app.client_id]);
    assert!(!world.is_active(&backend, &key), "deleting the app ends the key");

    assert!(world.is_active(&backend, &person_key), "keys made by people are not touched");
}

#[test]
fn an_app_cannot_mint_more_than_its_user_may_grant() {
    let world = World::new();
    let (owner, team, project) = world.owner_with_project();
    let other_project = world.project(&team);
    let app = world.app(&team);
    let prod = world.deployment(&team, &project, "prod");
    let dev = world.deployment(&team, &project, "dev");
    let elsewhere = world.deployment(&team, &other_project, "dev");
    let developer = world.user();
    world.member(&team, &developer, "developer");
    let token = project_token(&world, &developer, &app, &team, &project);

    assert_eq!(
        mint(&world, &token, json!({ "name": "k", "deployment": prod })).status(),
        403,
        "prod: no deployKey:manage"
    );
    assert_eq!(
        mint(&world, &token, json!({ "name": "k", "preview": true })).status(),
        403,
        "the project: no deployKey:manage"
    );
    assert_eq!(
        mint(&world, &token, json!({ "name": "k", "deployment": elsewhere })).status(),
        403,
        "outside the token"
    );
    assert_eq!(mint(&world, &token, json!({ "name": "k", "deployment": dev })).status(), 201, "dev deployments: yes");

    // A custom role may manage keys but hold fewer actions than a default key has.
    world.cli(&[
        "admin",
        "role",
        "create",
        "--team",
        &team,
        "--name",
        "keymaster",
        "--statements",
        r#"[{"effect":"allow","actions":["deployKey:manage"],"resource":"project:*"},
            {"effect":"allow","actions":["logs:view"],"resource":"project:*:deployment:*"}]"#,
    ]);
    world.cli(&["admin", "member", "set-custom-roles", "--team", &team, "--email", &developer, "--role", "keymaster"]);
    let response = mint(&world, &token, json!({ "name": "k", "deployment": prod }));
    assert_eq!(response.status(), 403);
    assert!(response.text().unwrap().contains("may not grant"));
    let response = mint(&world, &token, json!({ "name": "k", "deployment": prod, "actions": ["logs:view"] }));
    assert_eq!(response.status(), 201, "exactly what the user has");

    // Other credentials and bad requests.
    let team_token = world.access_token(&owner, &app, Grant::Team { team: &team });
    assert_eq!(mint(&world, &team_token, json!({ "name": "k", "deployment": dev })).status(), 403);
    let key = key_of(&world.deploy_key(&["--deployment", &dev]));
    assert_eq!(mint(&world, &key, json!({ "name": "k", "deployment": dev })).status(), 403, "keys do not mint keys");
    assert_eq!(mint(&world, "project:nope:nope|x", json!({ "name": "k", "deployment": dev })).status(), 401);
    assert_eq!(mint(&world, &token, json!({ "name": "k", "deployment": dev, "expires_in": 60 })).status(), 422);
    assert_eq!(mint(&world, &token, json!({ "name": "k", "deployment": dev, "actions": ["team:view"] })).status(), 422);
    assert_eq!(mint(&world, &token, json!({ "name": "k", "deployment": "no-such-deployment" })).status(), 404);
    assert_eq!(mint(&world, &token, json!({ "name": "k" })).status(), 422);
    assert_eq!(mint(&world, &token, json!({ "name": "k", "deployment": dev, "extra": 1 })).status(), 400);
}
