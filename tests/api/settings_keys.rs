//! The team settings pages for deploy keys and custom roles (SPEC §2, §3, §6): creating,
//! listing and revoking keys, creating, editing and deleting roles, and who may do which.

use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

use crate::harness::{csrf, http, location, select_options, unescape};
use crate::world::{Backend, World};

/// A team with an admin (its owner), a developer, a project with a prod and a dev deployment,
/// and a backend credential.
struct Team {
    world: World,
    admin: String,
    dev: String,
    slug: String,
    project: String,
    prod: String,
    dev_deployment: String,
    backend: Backend,
}

impl Team {
    fn new() -> Team {
        let world = World::new();
        let (admin, slug, project) = world.owner_with_project();
        let dev = world.user();
        world.member(&slug, &dev, "developer");
        let prod = world.deployment(&slug, &project, "prod");
        let dev_deployment = world.deployment(&slug, &project, "dev");
        let backend = world.backend();
        Team { world, admin, dev, slug, project, prod, dev_deployment, backend }
    }

    fn keys_url(&self) -> String {
        self.world.url(&format!("/teams/{}/settings/deploy-keys", self.slug))
    }

    fn roles_url(&self) -> String {
        self.world.url(&format!("/teams/{}/settings/roles", self.slug))
    }

    fn keys_page(&self, browser: &Client) -> String {
        let page = browser.get(self.keys_url()).send().unwrap();
        assert_eq!(page.status(), 200);
        page.text().unwrap()
    }

    /// Posts the create form with the page's CSRF token and `fields`.
    fn create_key(&self, browser: &Client, fields: &[(&str, &str)]) -> Response {
        let csrf = csrf(&self.keys_page(browser));
        let mut form = vec![("csrf_token", csrf.as_str())];
        form.extend_from_slice(fields);
        browser.post(self.keys_url()).form(&form).send().unwrap()
    }

    /// Creates a key through the form; returns the key the page shows.
    fn key_via_form(&self, browser: &Client, fields: &[(&str, &str)]) -> String {
        let response = self.create_key(browser, fields);
        assert_eq!(response.status(), 200);
        shown_key(&response.text().unwrap())
    }

    fn key_count(&self) -> usize {
        self.world.cli(&["admin", "deploy-key", "list", "--team", &self.slug])["deploy_keys"].as_array().unwrap().len()
    }

    fn allowed(&self, token: &str, action: &str, deployment: &str) -> bool {
        let body = json!({ "token": token, "action": action, "resource": { "deployment": deployment } });
        let response = http()
            .post(self.world.url("/v1/check"))
            .basic_auth(&self.backend.id, Some(&self.backend.secret))
            .json(&body)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200, "{body}");
        let answer: Value = response.json().unwrap();
        answer["allowed"].as_bool().unwrap()
    }

    fn role_names(&self) -> Vec<String> {
        self.world.cli(&["admin", "role", "list", "--team", &self.slug])["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The key in the readonly input of the "created" page.
fn shown_key(html: &str) -> String {
    let marker = r#"id="credential" type="text" readonly value=""#;
    let start = html.find(marker).expect("the key in a readonly input") + marker.len();
    unescape(&html[start..start + html[start..].find('"').unwrap()])
}

/// The id of the key named `name` in the listing, from its Revoke link, if it has one.
fn revoke_link(html: &str, name: &str) -> Option<String> {
    let label = format!("aria-label=\"Revoke {name} (");
    let at = html.find(&label)?;
    let href = html[..at].rfind("href=\"").unwrap() + "href=\"".len();
    Some(html[href..href + html[href..].find('"').unwrap()].to_owned())
}

#[test]
fn an_admin_creates_a_key_through_the_form_and_it_is_shown_once_and_works() {
    let team = Team::new();
    let browser = team.world.login(&team.admin);
    let html = team.keys_page(&browser);
    assert!(html.contains(r#"<nav class="tabs" aria-label="Team settings">"#));
    assert!(
        html.contains(&format!(r#"href="/teams/{}/settings/authorized-apps""#, team.slug)),
        "admins see Authorizations"
    );
    let targets = select_options(&html, "target");
    for expected in [
        format!("deployment:{}", team.prod),
        format!("deployment:{}", team.dev_deployment),
        format!("preview:{}", team.project),
    ] {
        assert!(targets.contains(&expected), "{expected} in {targets:?}");
    }
    assert!(html.contains(r#"value="deployment:deploy" checked"#), "defaults pre-checked");
    assert!(!html.contains(r#"value="env:view" checked"#), "env:view is not a default");

    let response = team.create_key(
        &browser,
        &[
            ("name", "GitHub Actions"),
            ("target", &format!("deployment:{}", team.prod)),
            ("action", "deployment:deploy"),
            ("action", "logs:view"),
            ("expires_in", "86400"),
        ],
    );
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let html = response.text().unwrap();
    let key = shown_key(&html);
    assert!(key.starts_with(&format!("prod:{}|", team.prod)), "{key}");
    assert!(html.contains(&format!("PORTCULLIS_DEPLOY_KEY={key}")), "the line to paste into CI");
    assert!(html.contains(r#"<label for="credential">"#));

    let answer = team.world.introspect(&team.backend, &key);
    assert_eq!(answer["active"], true);
    let mut actions: Vec<&str> =
        answer["allowed_actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    actions.sort();
    assert_eq!(actions, ["deployment:deploy", "logs:view"]);
    assert_eq!(answer["exp"].as_i64().unwrap() - answer["iat"].as_i64().unwrap(), 86_400);
    assert!(team.allowed(&key, "deployment:deploy", &team.prod));
    assert!(!team.allowed(&key, "run", &team.prod), "only the ticked actions");

    // Listed with its creator; the secret is never shown again.
    let listing = team.keys_page(&browser);
    assert!(listing.contains("GitHub Actions") && listing.contains(&team.admin));
    assert!(!listing.contains(key.split_once('|').unwrap().1));

    // No expiry chosen and no action ticked: SPEC §3's defaults, never expiring.
    let key = team
        .key_via_form(&browser, &[("name", "defaults"), ("target", &format!("deployment:{}", team.dev_deployment))]);
    let answer = team.world.introspect(&team.backend, &key);
    assert!(answer.get("exp").is_none(), "{answer}");
    assert!(answer["allowed_actions"].as_array().unwrap().contains(&json!("releases:promote")));
    assert!(!answer["allowed_actions"].as_array().unwrap().contains(&json!("env:view")));
    // A project's preview deploy key.
    let key = team.key_via_form(&browser, &[("name", "previews"), ("target", &format!("preview:{}", team.project))]);
    assert!(key.starts_with(&format!("preview:{}:{}|", team.slug, team.project)), "{key}");
    assert_eq!(team.key_count(), 3);
}

#[test]
fn the_create_form_refuses_bad_input_next_to_the_field_and_without_csrf() {
    let team = Team::new();
    let browser = team.world.login(&team.admin);
    let target = format!("deployment:{}", team.prod);
    for (fields, field) in [
        (vec![("name", "   "), ("target", target.as_str())], "name"),
        (vec![("name", "ci"), ("target", "deployment:no-such-deployment")], "target"),
        (vec![("name", "ci"), ("target", target.as_str()), ("expires_in", "60")], "expires_in"),
        (vec![("name", "ci"), ("target", target.as_str()), ("action", "project:delete")], "actions"),
        (vec![("name", "ci"), ("target", target.as_str()), ("role", "no-such-role")], "role"),
    ] {
        let response = team.create_key(&browser, &fields);
        assert_eq!(response.status(), 422, "{field}");
        let html = response.text().unwrap();
        assert!(html.contains(&format!(r#"id="{field}-error""#)), "{field}: the message is next to the field");
        assert!(html.contains(&format!("{field}-error\"")) && html.contains("aria-describedby"), "{field}");
        assert!(!html.contains("PORTCULLIS_DEPLOY_KEY="), "{field}");
    }
    assert!(
        team.create_key(&browser, &[("name", "ci"), ("target", &target), ("expires_in", "60")])
            .text()
            .unwrap()
            .contains("at least 1800 seconds")
    );

    // Without the CSRF token, or with another session's: refused before anything.
    let form = [("name", "ci"), ("target", target.as_str())];
    assert_eq!(browser.post(team.keys_url()).form(&form).send().unwrap().status(), 403);
    let other = csrf(&team.keys_page(&team.world.login(&team.admin)));
    let forged = [("csrf_token", other.as_str()), ("name", "ci"), ("target", target.as_str())];
    assert_eq!(browser.post(team.keys_url()).form(&forged).send().unwrap().status(), 403);
    assert_eq!(team.key_count(), 0, "nothing was created");
}

#[test]
fn developers_manage_keys_of_dev_deployments_only() {
    let team = Team::new();
    let prod_key = team.world.cli(&[
        "admin",
        "deploy-key",
        "create",
        "--deployment",
        &team.prod,
        "--name",
        "prod-ci",
        "--created-by",
        &team.admin,
    ])["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = team.world.login(&team.dev);
    let html = team.keys_page(&browser);
    assert!(
        !html.contains(&format!("/teams/{}/settings/authorized-apps", team.slug)),
        "no Authorizations tab for developers"
    );
    assert_eq!(
        select_options(&html, "target"),
        [format!("deployment:{}", team.dev_deployment)],
        "only what they may manage"
    );
    assert!(html.contains("prod-ci"), "developers see the team's keys (deployKey:view)");
    assert_eq!(revoke_link(&html, "prod-ci"), None, "no Revoke on a key they cannot manage");

    let refused = team.create_key(&browser, &[("name", "sneaky"), ("target", &format!("deployment:{}", team.prod))]);
    assert_eq!(refused.status(), 403);
    let refused = team.create_key(&browser, &[("name", "sneaky"), ("target", &format!("preview:{}", team.project))]);
    assert_eq!(refused.status(), 403, "a project's preview key needs deployKey:manage on the project");
    assert_eq!(team.key_count(), 1);
    let key =
        team.key_via_form(&browser, &[("name", "dev-ci"), ("target", &format!("deployment:{}", team.dev_deployment))]);
    assert!(team.allowed(&key, "deployment:deploy", &team.dev_deployment));
    let html = team.keys_page(&browser);
    assert!(html.contains(&team.dev), "recorded as made by the developer");
    assert!(revoke_link(&html, "dev-ci").is_some(), "Revoke on their own dev key");

    // A forged revoke of the production key: the confirmation and the POST are refused.
    let prod_id = team.world.cli(&["admin", "deploy-key", "list", "--team", &team.slug])["deploy_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "prod-ci")
        .unwrap()["id"]
        .to_string();
    let revoke = format!("{}/{prod_id}/revoke", team.keys_url());
    assert_eq!(browser.get(&revoke).send().unwrap().status(), 403);
    let forged = browser.post(&revoke).form(&[("csrf_token", csrf(&html).as_str())]).send().unwrap();
    assert_eq!(forged.status(), 403);
    assert!(team.world.is_active(&team.backend, &prod_key), "the key stays active");
}

#[test]
fn a_role_on_a_key_cannot_give_it_more_than_its_maker_has() {
    let team = Team::new();
    team.world.cli(&[
        "admin",
        "role",
        "create",
        "--team",
        &team.slug,
        "--name",
        "wide",
        "--statements",
        r#"[{"effect":"allow","actions":["project:delete","deployKey:manage"],"resource":"project:*"},
            {"effect":"allow","actions":["env:view"],"resource":"project:*:deployment:*"}]"#,
    ]);
    let target = format!("deployment:{}", team.dev_deployment);
    let browser = team.world.login(&team.dev);
    let refused = team.create_key(&browser, &[("name", "escalating"), ("target", &target), ("role", "wide")]);
    assert_eq!(refused.status(), 403, "a developer may not delete the project, so neither may their key");
    assert!(unescape(&refused.text().unwrap()).contains("may not grant project:delete"));
    assert_eq!(team.key_count(), 0, "nothing written");

    // The team admin holds all of it: the same key is theirs to make.
    let admin = team.world.login(&team.admin);
    let key = team.key_via_form(&admin, &[("name", "wide-ci"), ("target", &target), ("role", "wide")]);
    assert!(team.allowed(&key, "env:view", &team.dev_deployment));
}

#[test]
fn revoking_through_the_confirmation_page_ends_the_key() {
    let team = Team::new();
    let browser = team.world.login(&team.admin);
    let key = team.key_via_form(&browser, &[("name", "to-revoke"), ("target", &format!("deployment:{}", team.prod))]);
    let link = revoke_link(&team.keys_page(&browser), "to-revoke").expect("a Revoke link");
    let confirm = browser.get(team.world.url(&link)).send().unwrap();
    assert_eq!(confirm.status(), 200);
    let html = confirm.text().unwrap();
    assert!(html.contains("to-revoke") && html.contains(&format!(r#"action="{link}""#)));

    assert_eq!(browser.post(team.world.url(&link)).form(&[("csrf_token", "forged")]).send().unwrap().status(), 403);
    assert!(team.world.is_active(&team.backend, &key));

    // Another team's admin cannot reach it through their own team's pages.
    let other_admin = team.world.user();
    let other_team = team.world.team(&other_admin);
    let other = team.world.login(&other_admin);
    let foreign = link.replace(&format!("/teams/{}/", team.slug), &format!("/teams/{other_team}/"));
    assert_eq!(other.get(team.world.url(&foreign)).send().unwrap().status(), 404);
    let other_csrf = csrf(
        &other
            .get(team.world.url(&format!("/teams/{other_team}/settings/deploy-keys")))
            .send()
            .unwrap()
            .text()
            .unwrap(),
    );
    assert_eq!(
        other.post(team.world.url(&foreign)).form(&[("csrf_token", other_csrf.as_str())]).send().unwrap().status(),
        404
    );
    assert!(team.world.is_active(&team.backend, &key));

    let response = browser.post(team.world.url(&link)).form(&[("csrf_token", csrf(&html).as_str())]).send().unwrap();
    assert_eq!(response.status(), 303);
    assert!(!team.world.is_active(&team.backend, &key));
    assert!(!team.allowed(&key, "deployment:deploy", &team.prod));
    let after = browser.get(team.world.url(&location(&response))).send().unwrap().text().unwrap();
    assert!(after.contains("Deploy key revoked") && after.contains("revoked</span>"));
    assert_eq!(revoke_link(&after, "to-revoke"), None);
}

#[test]
fn people_outside_the_team_get_404_everywhere() {
    let team = Team::new();
    team.world.cli(&[
        "admin",
        "role",
        "create",
        "--team",
        &team.slug,
        "--name",
        "ci",
        "--statements",
        r#"[{"effect":"allow","actions":["logs:view"],"resource":"project:*:deployment:*"}]"#,
    ]);
    let stranger_email = team.world.user();
    let own_team = team.world.team(&stranger_email);
    let stranger = team.world.login(&stranger_email);
    let own = stranger.get(team.world.url(&format!("/teams/{own_team}/settings/deploy-keys"))).send().unwrap();
    let token = csrf(&own.text().unwrap());
    let landing = stranger.get(team.world.url(&format!("/teams/{}/settings", team.slug))).send().unwrap();
    assert_eq!(location(&landing), format!("/teams/{}/settings/deploy-keys", team.slug));
    let url = |path: &str| team.world.url(&format!("/teams/{}/settings/{path}", team.slug));
    for path in [
        "deploy-keys",
        "deployments",
        "roles",
        "roles/ci",
        "roles/ci/delete",
        "authorized-apps",
        "audit",
        "deploy-keys/1/revoke",
        &format!("deployments/{}/delete", team.prod),
    ] {
        assert_eq!(stranger.get(url(path)).send().unwrap().status(), 404, "GET {path}");
    }
    let form = [("csrf_token", token.as_str()), ("name", "x"), ("statements", LOGS_ONLY), ("force", "1")];
    let delete = format!("deployments/{}/delete", team.prod);
    for path in ["deploy-keys", "deployments", "roles", "roles/ci", "roles/ci/delete", "deploy-keys/1/revoke", &delete]
    {
        assert_eq!(stranger.post(url(path)).form(&form).send().unwrap().status(), 404, "POST {path}");
    }
    assert_eq!(stranger.get(team.world.url("/teams/no-such-team/settings/roles")).send().unwrap().status(), 404);
    assert_eq!(team.role_names(), ["ci"]);
}

const LOGS_ONLY: &str = r#"[{"effect":"allow","actions":["logs:view"],"resource":"project:*:deployment:*"}]"#;

impl Team {
    fn post_role(&self, browser: &Client, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = csrf(&browser.get(self.roles_url()).send().unwrap().text().unwrap());
        let mut form = vec![("csrf_token", token.as_str())];
        form.extend_from_slice(fields);
        browser.post(format!("{}{path}", self.roles_url())).form(&form).send().unwrap()
    }
}

#[test]
fn roles_are_validated_listed_edited_and_deleted_through_the_pages() {
    let team = Team::new();
    let browser = team.world.login(&team.admin);
    let page = browser.get(team.roles_url()).send().unwrap().text().unwrap();
    assert!(
        page.contains(r#"<textarea id="statements" name="statements""#)
            && page.contains("type=prod|dev|preview|custom")
    );

    // Invalid statements: the reason next to the textarea, nothing stored.
    let bad = r#"[{"effect":"allow","actions":["deployment:fly"],"resource":"project:*"}]"#;
    let response = team.post_role(&browser, "", &[("name", "deployer"), ("statements", bad)]);
    assert_eq!(response.status(), 422);
    let html = response.text().unwrap();
    assert!(html.contains(r#"id="statements-error""#) && html.contains("unknown action"), "{html}");
    assert!(html.contains("aria-describedby=\"statements-help statements-error\""));
    assert!(html.contains("deployment:fly"), "the draft is kept");
    assert!(team.role_names().is_empty());

    // Valid: listed, pretty-printed.
    let response = team.post_role(&browser, "", &[("name", "deployer"), ("statements", LOGS_ONLY)]);
    assert_eq!(response.status(), 303);
    let listing = browser.get(team.world.url(&location(&response))).send().unwrap().text().unwrap();
    assert!(listing.contains("Role created.") && listing.contains("deployer"));
    assert!(
        unescape(&listing).contains("[\n  {\n    \"actions\": [\n      \"logs:view\"\n    ],"),
        "pretty-printed: {listing}"
    );
    assert_eq!(team.role_names(), ["deployer"]);
    let duplicate = team.post_role(&browser, "", &[("name", "deployer"), ("statements", LOGS_ONLY)]);
    assert_eq!(duplicate.status(), 422);
    let html = duplicate.text().unwrap();
    assert!(html.contains(r#"id="name-error""#) && html.contains("already has a role named deployer"));

    // A key carrying it: the role adds logs:view to its own actions.
    let keys_page = browser.get(team.keys_url()).send().unwrap().text().unwrap();
    assert!(select_options(&keys_page, "role").contains(&"deployer".to_owned()));
    let key = team.key_via_form(
        &browser,
        &[
            ("name", "with-role"),
            ("target", &format!("deployment:{}", team.prod)),
            ("action", "deployment:view"),
            ("role", "deployer"),
        ],
    );
    assert!(team.allowed(&key, "logs:view", &team.prod));
    assert!(!team.allowed(&key, "run", &team.prod));

    // Editing the role changes what the key may do, at once.
    let edit = browser.get(format!("{}/deployer", team.roles_url())).send().unwrap();
    assert_eq!(edit.status(), 200);
    assert!(edit.text().unwrap().contains("logs:view"));
    let refused = team.post_role(&browser, "/deployer", &[("statements", "not json")]);
    assert_eq!(refused.status(), 422);
    assert!(refused.text().unwrap().contains(r#"id="statements-error""#));
    let run_instead = r#"[{"effect":"allow","actions":["run"],"resource":"project:*:deployment:type=prod"}]"#;
    let response = team.post_role(&browser, "/deployer", &[("statements", run_instead)]);
    assert_eq!(response.status(), 303);
    assert!(team.allowed(&key, "run", &team.prod));
    assert!(!team.allowed(&key, "logs:view", &team.prod));

    // Deleting a role in use: the confirmation names its holders, then it is gone from them.
    let holder = team.world.user();
    team.world.member(&team.slug, &holder, "developer");
    team.world.cli(&[
        "admin",
        "member",
        "set-custom-roles",
        "--team",
        &team.slug,
        "--email",
        &holder,
        "--role",
        "deployer",
    ]);
    let confirm = browser.get(format!("{}/deployer/delete", team.roles_url())).send().unwrap().text().unwrap();
    assert!(confirm.contains(&holder) && confirm.contains("with-role"), "{confirm}");
    let token = csrf(&confirm);
    let response = browser
        .post(format!("{}/deployer/delete", team.roles_url()))
        .form(&[("csrf_token", token.as_str()), ("force", "1")])
        .send()
        .unwrap();
    assert_eq!(response.status(), 303);
    assert!(team.role_names().is_empty());
    assert!(!team.allowed(&key, "run", &team.prod), "the key lost the role");
    assert!(team.allowed(&key, "deployment:view", &team.prod), "and kept its own actions");
}

#[test]
fn developers_see_roles_but_not_the_forms_and_forged_posts_are_refused() {
    let team = Team::new();
    team.world.cli(&["admin", "role", "create", "--team", &team.slug, "--name", "deployer", "--statements", LOGS_ONLY]);
    let browser = team.world.login(&team.dev);
    let page = browser.get(team.roles_url()).send().unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    assert!(html.contains("deployer") && html.contains("logs:view"));
    assert!(!html.contains(r#"name="statements""#) && !html.contains("/deployer/delete"), "no forms for developers");
    for (path, fields) in [
        ("", vec![("name", "mine"), ("statements", LOGS_ONLY)]),
        ("/deployer", vec![("statements", LOGS_ONLY)]),
        ("/deployer/delete", vec![("force", "1")]),
    ] {
        assert_eq!(team.post_role(&browser, path, &fields).status(), 403, "POST roles{path}");
    }
    assert_eq!(browser.get(format!("{}/deployer", team.roles_url())).send().unwrap().status(), 403);
    assert_eq!(team.role_names(), ["deployer"]);
}

#[test]
fn members_register_deployments_and_see_the_admin_key_once() {
    let team = Team::new();
    let url = team.world.url(&format!("/teams/{}/settings/deployments", team.slug));
    let admin = team.world.login(&team.admin);
    let html = admin.get(&url).send().unwrap().text().unwrap();
    assert!(html.contains(&team.prod) && html.contains(&team.dev_deployment), "the team's deployments are listed");
    let register = |browser: &Client, fields: &[(&str, &str)]| {
        let token = csrf(&browser.get(&url).send().unwrap().text().unwrap());
        let mut form = vec![("csrf_token", token.as_str())];
        form.extend_from_slice(fields);
        browser.post(&url).form(&form).send().unwrap()
    };

    let name = crate::harness::unique("calm-seal");
    let created = register(&admin, &[("project", &team.project), ("type", "preview"), ("name", &name)]);
    assert_eq!(created.status(), 200);
    let html = created.text().unwrap();
    let admin_key = shown_key(&html);
    assert!(admin_key.starts_with(&format!("{name}|")), "{admin_key}");
    assert!(html.contains("PORTCULLIS_ADMIN_KEY="));
    assert_eq!(team.world.introspect(&team.backend, &admin_key)["credential_type"], "adminKey");
    assert!(team.allowed(&admin_key, "env:view", &name));
    assert!(admin.get(&url).send().unwrap().text().unwrap().contains(&name), "listed, without its key");
    assert!(!admin.get(&url).send().unwrap().text().unwrap().contains(&admin_key));

    for (fields, field) in [
        (vec![("project", team.project.as_str()), ("type", "preview"), ("name", name.as_str())], "name-error"),
        (vec![("project", team.project.as_str()), ("type", "staging"), ("name", "")], "type-error"),
        (vec![("project", "no-such-project"), ("type", "dev"), ("name", "")], "project-error"),
        (vec![("project", team.project.as_str()), ("type", "dev"), ("name", "Bad Name")], "name-error"),
    ] {
        let refused = register(&admin, &fields);
        assert_eq!(refused.status(), 422, "{fields:?}");
        assert!(refused.text().unwrap().contains(&format!("id=\"{field}\"")), "{fields:?}: error next to {field}");
    }
    let forged = admin.post(&url).form(&[("project", team.project.as_str()), ("type", "dev")]).send().unwrap();
    assert_eq!(forged.status(), 403, "no CSRF token");

    // Developers may create deployments (SPEC §2); a custom role without deployment:create may not.
    let developer = team.world.login(&team.dev);
    assert_eq!(register(&developer, &[("project", &team.project), ("type", "dev"), ("name", "")]).status(), 200);
    team.world.cli(&["admin", "role", "create", "--team", &team.slug, "--name", "viewer", "--statements", LOGS_ONLY]);
    team.world.cli(&[
        "admin",
        "member",
        "set-custom-roles",
        "--team",
        &team.slug,
        "--email",
        &team.dev,
        "--role",
        "viewer",
    ]);
    let html = developer.get(&url).send().unwrap().text().unwrap();
    assert!(!html.contains("Register a deployment"), "no form without deployment:create");
    let listed = || admin.get(&url).send().unwrap().text().unwrap().matches("<tr><td><code>").count();
    let before = listed();
    assert_eq!(register(&developer, &[("project", &team.project), ("type", "dev"), ("name", "")]).status(), 403);
    assert_eq!(listed(), before, "nothing registered");
}

#[test]
fn the_statements_textarea_takes_line_breaks_but_no_other_control_character() {
    let team = Team::new();
    let browser = team.world.login(&team.admin);
    // What a person types (or the edit page pre-fills): indented, several lines, CRLF as
    // browsers send a textarea.
    let typed = "[\r\n\t{\"effect\": \"allow\",\r\n\t \"actions\": [\"logs:view\"],\r\n\t \"resource\": \"project:*:deployment:*\"}\r\n]";
    let created = team.post_role(&browser, "", &[("name", "typed"), ("statements", typed)]);
    assert_eq!(created.status(), 303, "a multi-line statements field is text");
    assert_eq!(team.role_names(), ["typed"]);
    let updated = team.post_role(&browser, "/typed", &[("statements", typed)]);
    assert_eq!(updated.status(), 303, "the edit form too");

    for hostile in ["[\u{0}]", "[\u{1b}]", "[{\"effect\":\"allow\u{7f}\"}]"] {
        let refused = team.post_role(&browser, "", &[("name", "hostile"), ("statements", hostile)]);
        assert_eq!(refused.status(), 400, "{hostile:?}");
    }
    let refused = team.post_role(&browser, "", &[("name", "two\nlines"), ("statements", LOGS_ONLY)]);
    assert_eq!(refused.status(), 400, "other fields stay single-line");
    assert_eq!(team.role_names(), ["typed"]);
}

#[test]
fn deleting_a_deployment_ends_its_admin_key_and_deploy_keys_at_once_but_developers_may_not_delete_prod() {
    let team = Team::new();
    let created = team.world.cli(&[
        "admin",
        "deployment",
        "create",
        "--team",
        &team.slug,
        "--project",
        &team.project,
        "--type",
        "prod",
    ]);
    let (name, admin_key) = (created["name"].as_str().unwrap(), created["admin_key"].as_str().unwrap());
    let deploy_key = team.world.deploy_key(&["--deployment", name])["key"].as_str().unwrap().to_owned();
    let preview_key = team.world.deploy_key(&["--team", &team.slug, "--project", &team.project, "--preview"]);
    let preview_key = preview_key["key"].as_str().unwrap();
    // Answered twice: the second answer comes from the verification cache.
    for _ in 0..2 {
        for key in [admin_key, deploy_key.as_str(), preview_key] {
            assert!(team.world.is_active(&team.backend, key));
        }
    }
    let url = |tail: &str| team.world.url(&format!("/teams/{}/settings/deployments{tail}", team.slug));
    let delete = format!("/{name}/delete");

    // A developer has only deployment:view on prod (SPEC §2): no Delete, and a forged post fails.
    let developer = team.world.login(&team.dev);
    let html = developer.get(url("")).send().unwrap().text().unwrap();
    assert!(html.contains(name) && !html.contains(&delete), "no Delete link for a prod deployment");
    assert!(html.contains(&format!("/{}/delete", team.dev_deployment)), "developers may delete dev deployments");
    assert_eq!(developer.get(url(&delete)).send().unwrap().status(), 403);
    let token = csrf(&html);
    assert_eq!(developer.post(url(&delete)).form(&[("csrf_token", token.as_str())]).send().unwrap().status(), 403);
    assert!(team.world.is_active(&team.backend, admin_key) && team.world.is_active(&team.backend, &deploy_key));

    let admin = team.world.login(&team.admin);
    let confirm = admin.get(url(&delete)).send().unwrap();
    assert_eq!(confirm.status(), 200);
    let html = confirm.text().unwrap();
    assert!(html.contains("Delete deployment") && html.contains(name), "{html}");
    let forged = admin.post(url(&delete)).form(&[("csrf_token", "forged")]).send().unwrap();
    assert_eq!(forged.status(), 403, "the confirmation is CSRF-protected");
    let deleted = admin.post(url(&delete)).form(&[("csrf_token", csrf(&html).as_str())]).send().unwrap();
    assert_eq!(deleted.status(), 303);
    assert_eq!(location(&deleted), format!("/teams/{}/settings/deployments?deleted=1", team.slug));
    assert!(!team.world.is_active(&team.backend, admin_key), "the admin key ends with its deployment");
    assert!(!team.world.is_active(&team.backend, &deploy_key), "so do its deploy keys, cached or not");
    assert!(team.world.is_active(&team.backend, preview_key), "the project's preview deploy key is not scoped to it");
    assert!(!admin.get(url("")).send().unwrap().text().unwrap().contains(name));
    assert_eq!(admin.get(url(&delete)).send().unwrap().status(), 404, "gone");

    let events = team.world.cli(&["admin", "audit", "list", "--team", &team.slug, "--kind", "deployment.delete"]);
    assert_eq!(events["items"].as_array().unwrap().len(), 1, "{events}");
    assert_eq!(events["items"][0]["details"]["name"], name);
    assert_eq!(events["items"][0]["details"]["ended_deploy_keys"], 1);

    // The operator's CLI: the same use case.
    let out = team.world.cli(&["admin", "deployment", "delete", &team.dev_deployment]);
    assert_eq!((&out["deleted"], &out["name"]), (&json!(true), &json!(team.dev_deployment)));
    let again = crate::harness::cli(&team.world.db.url, &["admin", "deployment", "delete", &team.dev_deployment]);
    assert!(again.unwrap_err().contains("no deployment named"));
}
