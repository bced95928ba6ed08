//! The `/v1` management API (SPEC §4): each resource through a session and through
//! application tokens, what each caller may not do, validation, pagination, and that changes
//! take effect on the very next use of a credential.

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

use crate::harness::http;
use crate::world::{Backend, Grant, World};

/// A signed-in person calling `/v1` the way a same-origin page would: session cookie plus
/// the session's CSRF token in `X-CSRF-Token`.
pub struct Session {
    client: Client,
    csrf: String,
    base: String,
}

impl Session {
    pub fn new(world: &World, email: &str) -> Session {
        let client = world.login(email);
        let me: Value = client.get(world.url("/v1/me")).send().unwrap().json().unwrap();
        let csrf = me["csrf_token"].as_str().expect("a session's /v1/me carries its CSRF token").to_owned();
        Session { client, csrf, base: world.url("") }
    }

    fn get(&self, path: &str) -> Response {
        self.client.get(format!("{}{path}", self.base)).send().unwrap()
    }

    pub fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Response {
        let request = self.client.request(method, format!("{}{path}", self.base)).header("X-CSRF-Token", &self.csrf);
        with_body(request, body).send().unwrap()
    }
}

/// An application calling `/v1` with an access token.
struct Bearer<'a> {
    world: &'a World,
    token: String,
}

impl Bearer<'_> {
    fn get(&self, path: &str) -> Response {
        http().get(self.world.url(path)).bearer_auth(&self.token).send().unwrap()
    }

    fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Response {
        with_body(http().request(method, self.world.url(path)).bearer_auth(&self.token), body).send().unwrap()
    }
}

fn with_body(request: RequestBuilder, body: Option<Value>) -> RequestBuilder {
    match body {
        Some(body) => request.json(&body),
        None => request,
    }
}

use reqwest::Method;

/// The envelope's code, after checking the status and the envelope's shape.
fn error(response: Response, status: u16) -> String {
    assert_eq!(response.status(), status, "expected {status}");
    let body: Value = response.json().expect("a JSON error body");
    assert!(body["error"]["message"].is_string(), "{body}");
    body["error"]["code"].as_str().expect("error.code").to_owned()
}

fn ok(response: Response, status: u16) -> Value {
    let code = response.status();
    let text = response.text().unwrap();
    assert_eq!(code, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

struct Team {
    world: World,
    admin: String,
    dev: String,
    slug: String,
    project: String,
    backend: Backend,
}

impl Team {
    fn new() -> Team {
        let world = World::new();
        let (admin, slug, project) = world.owner_with_project();
        let dev = world.user();
        world.member(&slug, &dev, "developer");
        let backend = world.backend();
        Team { world, admin, dev, slug, project, backend }
    }

    fn path(&self, tail: &str) -> String {
        format!("/v1/teams/{}{tail}", self.slug)
    }

    fn user_id(&self, email: &str) -> i64 {
        let page = ok(Session::new(&self.world, &self.admin).get(&self.path("/members")), 200);
        page["items"].as_array().unwrap().iter().find(|m| m["email"] == email).expect("a member")["user_id"]
            .as_i64()
            .unwrap()
    }

    fn token(&self, email: &str, grant: Grant) -> Bearer<'_> {
        let app = self.world.app(&self.slug);
        Bearer { world: &self.world, token: self.world.access_token(email, &app, grant) }
    }

    fn team_token(&self, email: &str) -> Bearer<'_> {
        self.token(email, Grant::Team { team: &self.slug })
    }

    fn project_token(&self, email: &str) -> Bearer<'_> {
        self.token(email, Grant::Project { team: &self.slug, project: &self.project })
    }
}

#[test]
fn a_session_changes_things_only_with_its_csrf_token_from_its_own_origin() {
    let t = Team::new();
    let admin = Session::new(&t.world, &t.admin);
    let me = ok(admin.get("/v1/me"), 200);
    assert_eq!(me["email"], t.admin.as_str());
    assert_eq!(me["teams"][0]["slug"], t.slug.as_str());
    assert_eq!(me["teams"][0]["role"], "admin");

    let url = t.world.url(&t.path("/projects"));
    let body = json!({ "slug": "no-csrf" });
    let without = admin.client.post(&url).json(&body).send().unwrap();
    assert_eq!(error(without, 403), "forbidden");
    let wrong = admin.client.post(&url).header("X-CSRF-Token", "x".repeat(43)).json(&body).send().unwrap();
    assert_eq!(error(wrong, 403), "forbidden");
    let cross_site = admin
        .client
        .post(&url)
        .header("X-CSRF-Token", &admin.csrf)
        .header("Sec-Fetch-Site", "cross-site")
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(error(cross_site, 403), "forbidden");
    let other_origin = admin
        .client
        .post(&url)
        .header("X-CSRF-Token", &admin.csrf)
        .header("Origin", "https://evil.example")
        .json(&body);
    assert_eq!(error(other_origin.send().unwrap(), 403), "forbidden");
    let projects = ok(admin.get(&t.path("/projects")), 200);
    assert!(projects["items"].as_array().unwrap().iter().all(|p| p["slug"] != "no-csrf"), "nothing was created");

    ok(admin.send(Method::POST, &t.path("/projects"), Some(body)), 201);

    let anonymous = http().get(t.world.url(&t.path(""))).send().unwrap();
    assert_eq!(anonymous.headers()["www-authenticate"], r#"Bearer realm="portcullis""#);
    assert_eq!(error(anonymous, 401), "unauthorized");
}

#[test]
fn projects_and_deployments_through_the_api_and_deleting_a_project_ends_its_tokens() {
    let t = Team::new();
    let admin = Session::new(&t.world, &t.admin);
    let team = ok(admin.get(&t.path("")), 200);
    assert_eq!(team["slug"], t.slug.as_str());
    let renamed = ok(admin.send(Method::PATCH, &t.path(""), Some(json!({ "name": "Acme Renamed" }))), 200);
    assert_eq!(renamed["name"], "Acme Renamed");

    let created =
        ok(admin.send(Method::POST, &t.path("/projects"), Some(json!({ "slug": "shop", "name": "Shop" }))), 201);
    assert_eq!((created["slug"].as_str(), created["name"].as_str()), (Some("shop"), Some("Shop")));
    let taken = admin.send(Method::POST, &t.path("/projects"), Some(json!({ "slug": "shop" })));
    assert_eq!(error(taken, 409), "conflict");
    let bad = admin.send(Method::POST, &t.path("/projects"), Some(json!({ "slug": "Not A Slug" })));
    assert_eq!(error(bad, 422), "invalid");
    let renamed = ok(admin.send(Method::PATCH, &t.path("/projects/shop"), Some(json!({ "name": "The Shop" }))), 200);
    assert_eq!(renamed["name"], "The Shop");
    assert_eq!(ok(admin.get(&t.path("/projects/shop")), 200)["name"], "The Shop");

    let deployment =
        ok(admin.send(Method::POST, &t.path("/projects/shop/deployments"), Some(json!({ "type": "dev" }))), 201);
    assert!(deployment["admin_key"].as_str().unwrap().contains('|'), "the admin key is shown once");
    let listed = ok(admin.get(&t.path("/projects/shop/deployments")), 200);
    assert_eq!(listed["items"][0]["name"], deployment["name"]);
    assert!(listed["items"][0].get("admin_key").is_none(), "listing never shows the key");
    let bad_type = admin.send(Method::POST, &t.path("/projects/shop/deployments"), Some(json!({ "type": "staging" })));
    assert_eq!(error(bad_type, 422), "invalid");

    let token = t.token(&t.admin, Grant::Project { team: &t.slug, project: "shop" });
    assert!(t.world.is_active(&t.backend, &token.token));
    let deleted = ok(admin.send(Method::DELETE, &t.path("/projects/shop"), None), 200);
    assert_eq!(deleted["revoked_grants"], 1);
    assert!(!t.world.is_active(&t.backend, &token.token), "deleting a project ends its tokens at once");
    assert_eq!(error(admin.get(&t.path("/projects/shop")), 404), "not_found");
}

#[test]
fn lists_are_cursor_pages_in_a_stable_order() {
    let t = Team::new();
    let admin = Session::new(&t.world, &t.admin);
    for n in 0..5 {
        ok(admin.send(Method::POST, &t.path("/projects"), Some(json!({ "slug": format!("p{n}") }))), 201);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(cursor) => format!("?limit=2&cursor={cursor}"),
            None => "?limit=2".into(),
        };
        let page = ok(admin.get(&t.path(&format!("/projects{query}"))), 200);
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|p| p["slug"].as_str().unwrap().to_owned()));
        if cursor.is_none() {
            // A project created while paging after the first page is seen at the end, once.
            ok(admin.send(Method::POST, &t.path("/projects"), Some(json!({ "slug": "late" }))), 201);
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let expected: Vec<String> =
        [t.project.as_str(), "p0", "p1", "p2", "p3", "p4", "late"].iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(seen, expected);

    for bad in ["?limit=0", "?limit=101", "?limit=x", "?cursor=not-ours", "?limit=1&limit=2", "?colour=red"] {
        assert_eq!(error(admin.get(&t.path(&format!("/projects{bad}"))), 400), "bad_request", "{bad}");
    }
}

#[test]
fn members_through_the_api_with_no_escalation_and_removal_ending_grants() {
    let t = Team::new();
    let admin = Session::new(&t.world, &t.admin);
    let newcomer = t.world.user();
    let added = ok(admin.send(Method::POST, &t.path("/members"), Some(json!({ "email": newcomer }))), 201);
    assert_eq!(added["role"], "developer");
    let again = admin.send(Method::POST, &t.path("/members"), Some(json!({ "email": newcomer })));
    assert_eq!(error(again, 409), "conflict");
    let nobody = admin.send(Method::POST, &t.path("/members"), Some(json!({ "email": "nobody@example.com" })));
    assert_eq!(error(nobody, 404), "not_found");
    let bad_role =
        admin.send(Method::POST, &t.path("/members"), Some(json!({ "email": t.world.user(), "role": "owner" })));
    assert_eq!(error(bad_role, 422), "invalid");

    let page = ok(admin.get(&t.path("/members?limit=2")), 200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let rest = ok(admin.get(&t.path(&format!("/members?cursor={}", page["next_cursor"].as_str().unwrap()))), 200);
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["next_cursor"], Value::Null);

    let dev = Session::new(&t.world, &t.dev);
    let dev_id = t.user_id(&t.dev);
    let newcomer_id = t.user_id(&newcomer);
    let itself = dev.send(Method::PATCH, &t.path(&format!("/members/{dev_id}")), Some(json!({ "role": "admin" })));
    assert_eq!(error(itself, 403), "forbidden", "a developer cannot make themselves admin");
    let project_admin = dev.send(Method::PUT, &t.path(&format!("/members/{dev_id}/project_admin/{}", t.project)), None);
    assert_eq!(error(project_admin, 403), "forbidden", "nor project admin");
    let other = dev.send(Method::DELETE, &t.path(&format!("/members/{newcomer_id}")), None);
    assert_eq!(error(other, 403), "forbidden", "a developer cannot remove members");
    assert_eq!(ok(dev.get(&t.path("/members")), 200)["items"].as_array().unwrap().len(), 3, "but may view them");

    let granted = admin.send(Method::PUT, &t.path(&format!("/members/{dev_id}/project_admin/{}", t.project)), None);
    assert_eq!(ok(granted, 200)["project_admin"], true);
    let promoted =
        ok(admin.send(Method::PATCH, &t.path(&format!("/members/{dev_id}")), Some(json!({ "role": "admin" }))), 200);
    assert_eq!(promoted["role"], "admin");
    let neither = admin.send(Method::PATCH, &t.path(&format!("/members/{dev_id}")), Some(json!({})));
    assert_eq!(error(neither, 422), "invalid");

    let token = t.project_token(&newcomer);
    assert!(t.world.is_active(&t.backend, &token.token));
    let removed = ok(admin.send(Method::DELETE, &t.path(&format!("/members/{newcomer_id}")), None), 200);
    assert_eq!(removed["revoked_grants"], 1);
    assert!(!t.world.is_active(&t.backend, &token.token), "removal ends the member's tokens at once");
    assert_eq!(error(admin.get(&t.path(&format!("/members/{newcomer_id}/x/y"))), 404), "not_found");
}

#[test]
fn the_last_admin_can_be_neither_demoted_nor_removed() {
    let t = Team::new();
    let admin = Session::new(&t.world, &t.admin);
    let admin_id = t.user_id(&t.admin);
    let dev_id = t.user_id(&t.dev);
    // An admin may not change their own role anyway; an operator may, and is refused too.
    let out = crate::harness::cli(
        &t.world.db.url,
        &["admin", "member", "set-role", "--team", &t.slug, "--email", &t.admin, "--role", "developer"],
    );
    assert!(out.unwrap_err().contains("last admin"));
    ok(admin.send(Method::PATCH, &t.path(&format!("/members/{dev_id}")), Some(json!({ "role": "admin" }))), 200);
    let second = Session::new(&t.world, &t.dev);
    let demoted =
        second.send(Method::PATCH, &t.path(&format!("/members/{admin_id}")), Some(json!({ "role": "developer" })));
    assert_eq!(ok(demoted, 200)["role"], "developer", "with another admin, an admin may be demoted");
    let last =
        crate::harness::cli(&t.world.db.url, &["admin", "member", "remove", "--team", &t.slug, "--email", &t.dev]);
    assert!(last.unwrap_err().contains("last admin"));
}

#[test]
fn apps_through_the_api_secret_rotation_and_deletion() {
    let t = Team::new();
    let admin = Session::new(&t.world, &t.admin);
    let uri = "https://app.example.com/callback";
    let created = ok(
        admin.send(Method::POST, &t.path("/apps"), Some(json!({ "name": "Deploy Bot", "redirect_uris": [uri] }))),
        201,
    );
    let client_id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let listed = ok(admin.get(&t.path("/apps")), 200);
    assert_eq!(listed["items"][0]["client_id"], client_id.as_str());
    assert!(listed["items"][0].get("client_secret").is_none(), "a secret is shown once");
    let shown = ok(admin.get(&t.path(&format!("/apps/{client_id}"))), 200);
    assert_eq!((shown["verified"].as_bool(), shown["teams_using"].as_i64()), (Some(false), Some(0)));

    for (body, status) in [
        (json!({ "name": "ab", "redirect_uris": [uri] }), 422),
        (json!({ "name": "Fine Name", "redirect_uris": [] }), 422),
        (json!({ "name": "Fine Name", "redirect_uris": ["https://x.example/cb#frag"] }), 422),
        (json!({ "name": "Fine Name", "redirect_uris": ["/relative"] }), 422),
        (json!({ "name": "Fine Name", "redirect_uris": [uri], "colour": "red" }), 400),
        (json!({ "name": 7, "redirect_uris": [uri] }), 400),
    ] {
        let response = admin.send(Method::POST, &t.path("/apps"), Some(body.clone()));
        assert_eq!(response.status(), status, "{body}");
    }
    let not_json = admin
        .client
        .post(t.world.url(&t.path("/apps")))
        .header("X-CSRF-Token", &admin.csrf)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(error(not_json, 400), "bad_request");
    let huge = admin.send(Method::POST, &t.path("/apps"), Some(json!({ "name": "x".repeat(70_000) })));
    assert_eq!(error(huge, 413), "payload_too_large");

    let second_uri = "http://127.0.0.1:9999/cb";
    let updated = ok(
        admin.send(
            Method::PATCH,
            &t.path(&format!("/apps/{client_id}")),
            Some(json!({ "redirect_uris": [uri, second_uri], "name": "Deploy Robot" })),
        ),
        200,
    );
    assert_eq!(updated["redirect_uris"], json!([uri, second_uri]));
    assert_eq!(updated["name"], "Deploy Robot");

    let rotated = ok(admin.send(Method::POST, &t.path(&format!("/apps/{client_id}/secret")), None), 200);
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let revoke_with = |secret: &str| {
        http()
            .post(t.world.url("/oauth/revoke"))
            .basic_auth(&client_id, Some(secret))
            .form(&[("token", "nothing")])
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(revoke_with(&secret), 401, "the old secret is dead at once");
    assert_eq!(revoke_with(new_secret), 200);

    t.world.cli(&["admin", "app", "verify", "--client-id", &client_id]);
    let frozen =
        admin.send(Method::PATCH, &t.path(&format!("/apps/{client_id}")), Some(json!({ "name": "Other Name" })));
    assert_eq!(error(frozen, 409), "conflict", "a verified app's name is frozen");

    let app = crate::world::App {
        client_id: client_id.clone(),
        secret: Some(new_secret.to_owned()),
        redirect_uri: uri.into(),
    };
    let token = t.world.access_token(&t.admin, &app, Grant::Project { team: &t.slug, project: &t.project });
    assert!(t.world.is_active(&t.backend, &token));
    let deleted = ok(admin.send(Method::DELETE, &t.path(&format!("/apps/{client_id}")), None), 200);
    assert_eq!(deleted["revoked_grants"], 1);
    assert!(!t.world.is_active(&t.backend, &token), "deleting an app ends all its grants");
    assert_eq!(error(admin.get(&t.path(&format!("/apps/{client_id}"))), 404), "not_found");
    for hostile in ["%00", "a%00b", "%0A", "%FF"] {
        let response = admin.get(&t.path(&format!("/apps/{hostile}")));
        assert_eq!(error(response, 404), "not_found", "client id {hostile}");
        let response = admin.send(Method::DELETE, &t.path(&format!("/apps/{hostile}")), None);
        assert_eq!(error(response, 404), "not_found", "client id {hostile}");
    }
}

#[test]
fn a_developer_cannot_manage_apps_members_or_roles() {
    let t = Team::new();
    let dev = Session::new(&t.world, &t.dev);
    let new_app = json!({ "name": "Sneaky App", "redirect_uris": ["https://x.example/cb"] });
    assert_eq!(error(dev.send(Method::POST, &t.path("/apps"), Some(new_app)), 403), "forbidden");
    let role = json!({ "name": "all", "statements": [{ "effect": "allow", "actions": "*", "resource": "team" }] });
    assert_eq!(error(dev.send(Method::POST, &t.path("/roles"), Some(role)), 403), "forbidden");
    let invite = json!({ "email": t.world.user() });
    assert_eq!(error(dev.send(Method::POST, &t.path("/members"), Some(invite)), 403), "forbidden");
    assert_eq!(error(dev.send(Method::PATCH, &t.path(""), Some(json!({ "name": "Mine" }))), 403), "forbidden");
    assert_eq!(ok(dev.get(&t.path("/apps")), 200)["items"], json!([]), "but may view the team's apps");
}

#[test]
fn application_tokens_act_within_their_scope_and_never_manage_members_roles_or_apps() {
    let t = Team::new();
    let team_token = t.team_token(&t.admin);
    // A team token of an admin: team actions follow the role...
    assert_eq!(ok(team_token.get("/v1/me"), 200)["teams"][0]["slug"], t.slug.as_str());
    assert!(ok(team_token.get(&t.path("/members")), 200)["items"].as_array().unwrap().len() == 2);
    ok(team_token.send(Method::POST, &t.path("/projects"), Some(json!({ "slug": "from-token" }))), 201);
    // ...but member, role and app management is never delegated (SPEC §2).
    let dev_id = t.user_id(&t.dev);
    for (method, path, body) in [
        (Method::POST, t.path("/members"), Some(json!({ "email": t.world.user() }))),
        (Method::PATCH, t.path(&format!("/members/{dev_id}")), Some(json!({ "role": "admin" }))),
        (Method::DELETE, t.path(&format!("/members/{dev_id}")), None),
        (
            Method::POST,
            t.path("/apps"),
            Some(json!({ "name": "Token App", "redirect_uris": ["https://x.example/cb"] })),
        ),
        (
            Method::POST,
            t.path("/roles"),
            Some(json!({ "name": "r", "statements": [{ "effect": "allow", "actions": "*", "resource": "team" }] })),
        ),
    ] {
        let response = team_token.send(method.clone(), &path, body);
        assert_eq!(error(response, 403), "forbidden", "{method} {path}");
    }

    // A project token reaches its project only: not the team's members, not other projects.
    let project_token = t.project_token(&t.admin);
    assert_eq!(error(project_token.get(&t.path("/members")), 403), "forbidden");
    assert_eq!(
        error(project_token.send(Method::DELETE, &t.path(&format!("/members/{dev_id}")), None), 403),
        "forbidden"
    );
    let visible = ok(project_token.get(&t.path("/projects")), 200);
    let slugs: Vec<&str> = visible["items"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, [t.project.as_str()]);
    assert_eq!(error(project_token.get(&t.path("/projects/from-token")), 403), "forbidden");
    ok(
        project_token.send(
            Method::PATCH,
            &t.path(&format!("/projects/{}", t.project)),
            Some(json!({ "name": "Renamed" })),
        ),
        200,
    );

    // Another team does not exist for the token.
    let other_owner = t.world.user();
    let other = t.world.team(&other_owner);
    assert_eq!(error(team_token.get(&format!("/v1/teams/{other}")), 404), "not_found");

    // A developer's team token follows the developer's role.
    let dev_token = t.team_token(&t.dev);
    assert_eq!(error(dev_token.send(Method::PATCH, &t.path(""), Some(json!({ "name": "X" }))), 403), "forbidden");

    // The token's standing is read when it is used: demoted, the admin's token loses team:update.
    let session = Session::new(&t.world, &t.admin);
    ok(session.send(Method::PATCH, &t.path(&format!("/members/{dev_id}")), Some(json!({ "role": "admin" }))), 200);
    let by_dev = Session::new(&t.world, &t.dev);
    let admin_id = t.user_id(&t.admin);
    ok(by_dev.send(Method::PATCH, &t.path(&format!("/members/{admin_id}")), Some(json!({ "role": "developer" }))), 200);
    assert_eq!(error(team_token.send(Method::PATCH, &t.path(""), Some(json!({ "name": "Y" }))), 403), "forbidden");

    // Deploy keys do not manage teams; a revoked token is simply unauthenticated.
    let deployment = t.world.deployment(&t.slug, &t.project, "dev");
    let key = t.world.deploy_key(&["--deployment", &deployment]);
    let key = Bearer { world: &t.world, token: key["key"].as_str().unwrap().to_owned() };
    assert_eq!(error(key.get(&t.path("/members")), 403), "forbidden");
    http().post(t.world.url("/oauth/revoke")).form(&[("token", team_token.token.as_str())]).send().unwrap();
}

#[test]
fn roles_through_the_api() {
    let t = Team::new();
    let admin = Session::new(&t.world, &t.admin);
    let statements =
        json!([{ "effect": "allow", "actions": ["deployment:view"], "resource": "project:*:deployment:*" }]);
    let created = ok(
        admin.send(Method::POST, &t.path("/roles"), Some(json!({ "name": "viewer", "statements": statements }))),
        201,
    );
    assert_eq!(created["statements"], statements);
    let invalid = json!([{ "effect": "allow", "actions": ["member:invite"], "resource": "project:*" }]);
    let refused = admin.send(Method::POST, &t.path("/roles"), Some(json!({ "name": "bad", "statements": invalid })));
    assert_eq!(error(refused, 422), "invalid");
    let dev_id = t.user_id(&t.dev);
    let given =
        admin.send(Method::PATCH, &t.path(&format!("/members/{dev_id}")), Some(json!({ "custom_roles": ["viewer"] })));
    assert_eq!(ok(given, 200)["custom_roles"], json!(["viewer"]));
    assert_eq!(ok(admin.get(&t.path("/roles/viewer")), 200)["members"], json!([t.dev]));
    let more = json!([{ "effect": "allow", "actions": "*", "resource": "project:*:deployment:*" }]);
    ok(admin.send(Method::PUT, &t.path("/roles/viewer"), Some(json!({ "statements": more }))), 200);
    assert_eq!(error(admin.send(Method::DELETE, &t.path("/roles/viewer"), None), 409), "conflict");
    ok(admin.send(Method::DELETE, &t.path("/roles/viewer?force=true"), None), 200);
    assert_eq!(ok(admin.get(&t.path("/roles")), 200)["items"], json!([]));
    assert_eq!(error(admin.get(&t.path("/roles/viewer")), 404), "not_found");
}

#[test]
fn grants_through_the_api_own_and_on_the_team_and_revocation_is_live() {
    let t = Team::new();
    let dev_token = t.project_token(&t.dev);
    let admin_token = t.project_token(&t.admin);
    let dev = Session::new(&t.world, &t.dev);
    let admin = Session::new(&t.world, &t.admin);

    let mine = ok(dev.get("/v1/me/grants"), 200);
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["user_email"], t.dev.as_str());
    assert_eq!(error(dev_token.get("/v1/me/grants"), 403), "forbidden", "a token does not list its user's grants");

    let on_team = ok(admin.get(&t.path("/grants")), 200);
    assert_eq!(on_team["items"].as_array().unwrap().len(), 2);
    assert!(on_team["items"].as_array().unwrap().iter().all(|g| g["revocable"] == true));
    assert_eq!(error(dev.get(&t.path("/grants")), 404), "not_found", "a developer oversees no one's grants");

    let admin_grant =
        on_team["items"].as_array().unwrap().iter().find(|g| g["user_email"] == t.admin.as_str()).unwrap();
    let admin_grant = admin_grant["id"].as_i64().unwrap();
    let refused = dev.send(Method::DELETE, &format!("/v1/grants/{admin_grant}"), None);
    assert_eq!(error(refused, 404), "not_found", "a developer cannot revoke another's grant");
    assert!(t.world.is_active(&t.backend, &admin_token.token));

    let dev_grant = mine["items"][0]["id"].as_i64().unwrap();
    ok(dev.send(Method::DELETE, &format!("/v1/grants/{dev_grant}"), None), 200);
    assert!(!t.world.is_active(&t.backend, &dev_token.token), "revoking one's own grant is live");
    ok(admin.send(Method::DELETE, &format!("/v1/grants/{admin_grant}"), None), 200);
    assert!(!t.world.is_active(&t.backend, &admin_token.token));
    assert_eq!(error(admin.send(Method::DELETE, &format!("/v1/grants/{admin_grant}"), None), 404), "not_found");
    assert_eq!(error(admin.send(Method::DELETE, "/v1/grants/not-a-number", None), 404), "not_found");
}

#[test]
fn the_audit_log_through_the_api_by_time_and_kind() {
    let t = Team::new();
    let admin = Session::new(&t.world, &t.admin);
    for n in 0..3 {
        ok(admin.send(Method::POST, &t.path("/projects"), Some(json!({ "slug": format!("audited-{n}") }))), 201);
    }
    let dev_id = t.user_id(&t.dev);
    ok(admin.send(Method::DELETE, &t.path(&format!("/members/{dev_id}")), None), 200);

    let all = ok(admin.get(&t.path("/audit")), 200);
    let actions: Vec<&str> = all["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions[0], "member.remove", "newest first: {actions:?}");
    let by_api: Vec<&Value> =
        all["items"].as_array().unwrap().iter().filter(|e| e["action"] == "project.create").collect();
    assert!(by_api.iter().take(3).all(|e| e["actor"].as_str().unwrap().starts_with("user:")));

    let projects = ok(admin.get(&t.path("/audit?kind=project.&limit=2")), 200);
    assert_eq!(projects["items"].as_array().unwrap().len(), 2);
    assert!(projects["items"].as_array().unwrap().iter().all(|e| e["action"] == "project.create"));
    let next = projects["next_cursor"].as_str().expect("more project events");
    let older = ok(admin.get(&t.path(&format!("/audit?kind=project.&limit=2&cursor={next}"))), 200);
    assert!(older["items"].as_array().unwrap().iter().all(|e| e["action"] == "project.create"));
    assert!(older["items"][0]["id"].as_i64() < projects["items"][1]["id"].as_i64());

    let future = ok(admin.get(&t.path("/audit?since=2999-01-01T00:00:00Z")), 200);
    assert_eq!(future["items"], json!([]));
    let past = ok(admin.get(&t.path("/audit?until=2000-01-01T00:00:00%2B02:00")), 200);
    assert_eq!(past["items"], json!([]));
    for bad in ["?since=yesterday", "?kind=NOT%20A%20KIND", "?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z"] {
        assert_eq!(error(admin.get(&t.path(&format!("/audit{bad}"))), 400), "bad_request", "{bad}");
    }
    let developer = t.world.user();
    t.world.member(&t.slug, &developer, "developer");
    assert_eq!(error(Session::new(&t.world, &developer).get(&t.path("/audit")), 403), "forbidden");
    assert_eq!(error(t.project_token(&t.admin).get(&t.path("/audit")), 403), "forbidden");
}

#[test]
fn deleting_a_deployment_through_the_api_ends_its_keys() {
    let t = Team::new();
    let admin = Session::new(&t.world, &t.admin);
    let dev = Session::new(&t.world, &t.dev);
    let prod = t.world.deployment(&t.slug, &t.project, "prod");
    let key = t.world.deploy_key(&["--deployment", &prod])["key"].as_str().unwrap().to_owned();
    assert!(t.world.is_active(&t.backend, &key));
    assert_eq!(error(dev.send(Method::DELETE, &format!("/v1/deployments/{prod}"), None), 403), "forbidden");
    let outsider = Session::new(&t.world, &t.world.user());
    assert_eq!(error(outsider.send(Method::DELETE, &format!("/v1/deployments/{prod}"), None), 404), "not_found");
    let deleted = ok(admin.send(Method::DELETE, &format!("/v1/deployments/{prod}"), None), 200);
    assert_eq!(deleted["ended_deploy_keys"], 1);
    assert!(!t.world.is_active(&t.backend, &key), "its deploy key ends at once");
    assert_eq!(error(admin.send(Method::DELETE, &format!("/v1/deployments/{prod}"), None), 404), "not_found");
}
