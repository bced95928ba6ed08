//! RFC 8707 resource indicators (SPEC §7): registered resource servers, `invalid_target`,
//! `aud` in introspection, narrowing (never widening) at the token endpoint and on refresh,
//! deployment-bound resources, and `/v1/check` with `resource_server`.

use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

use crate::harness::{hidden_inputs, http, location, param, pkce, unique};
use crate::world::{App, Backend, World};

/// Registers a fresh resource server (for `deployment` when given); its URI.
fn resource_server(world: &World, deployment: Option<&str>) -> String {
    let uri = format!("https://{}.tools.example/mcp", unique("rs"));
    let mut args = vec!["admin", "resource", "create", "--uri", uri.as_str()];
    if let Some(deployment) = deployment {
        args.extend(["--deployment", deployment]);
    }
    let out = world.cli(&args);
    assert_eq!(out["uri"], uri.as_str());
    uri
}

/// The authorization request's query for `app` and `scope` naming `resources`; with its verifier.
fn request(world: &World, app: &App, scope: &str, resources: &[&str]) -> (Vec<(String, String)>, String) {
    let (verifier, challenge) = pkce();
    let mut query = world.authorize_query(app, scope, &challenge);
    query.extend(resources.iter().map(|r| ("resource".to_owned(), (*r).to_owned())));
    (query, verifier)
}

/// Shows the consent page for `query`: its status and body.
fn consent_page(world: &World, browser: &Client, query: &[(String, String)]) -> Response {
    browser.get(world.url("/oauth/authorize")).query(query).send().unwrap()
}

fn submit(world: &World, browser: &Client, page: &str, choice: &[(&str, &str)]) -> Response {
    let mut form = hidden_inputs(page);
    form.extend(choice.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    browser.post(world.url("/oauth/authorize")).form(&form).send().unwrap()
}

/// Approves `query` for `team`/`project` as `browser`; the code.
fn approve(world: &World, browser: &Client, query: &[(String, String)], team: &str, project: &str) -> String {
    let page = consent_page(world, browser, query);
    assert_eq!(page.status(), 200);
    let page = page.text().unwrap();
    let done = submit(world, browser, &page, &[("team", team), ("project", project), ("decision", "approve")]);
    assert_eq!(done.status(), 303, "{}", done.text().unwrap_or_default());
    param(&location(&done), "code").expect("a code")
}

/// The token endpoint with `form` and the app's credentials.
fn token_request(world: &World, app: &App, form: &[(&str, &str)]) -> Response {
    world.post_as(app, "/oauth/token", form)
}

fn redeem(world: &World, app: &App, code: &str, verifier: &str, resources: &[&str]) -> Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", app.redirect_uri.as_str()),
        ("code_verifier", verifier),
    ];
    form.extend(resources.iter().map(|r| ("resource", *r)));
    token_request(world, app, &form)
}

fn error_of(response: Response) -> String {
    assert_eq!(response.status(), 400);
    let body: Value = response.json().unwrap();
    body["error"].as_str().unwrap().to_owned()
}

fn check(world: &World, backend: &Backend, body: Value) -> Value {
    let response =
        http().post(world.url("/v1/check")).basic_auth(&backend.id, Some(&backend.secret)).json(&body).send().unwrap();
    assert_eq!(response.status(), 200);
    response.json().unwrap()
}

#[test]
fn a_resource_bound_token_says_its_audience_and_is_refused_by_other_resource_servers() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.app(&team);
    let backend = world.backend();
    let mcp = resource_server(&world, None);
    let browser = world.login(&email);

    let (query, verifier) = request(&world, &app, "project", &[&mcp]);
    let page = consent_page(&world, &browser, &query).text().unwrap();
    assert!(page.contains(&format!("<code>{mcp}</code>")), "the consent page names the resource server");

    // The consent decision is bound to the resource shown: swapping it is refused, no code.
    let other = resource_server(&world, None);
    let mut tampered = hidden_inputs(&page);
    for field in tampered.iter_mut().filter(|(name, _)| name == "resource") {
        field.1 = other.clone();
    }
    tampered.extend(
        [("team", team.as_str()), ("project", &project), ("decision", "approve")]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let refused = browser.post(world.url("/oauth/authorize")).form(&tampered).send().unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.headers().get("location").is_none());
    // So is dropping it (an unbound token would be wider).
    let dropped: Vec<_> = hidden_inputs(&page)
        .into_iter()
        .filter(|(name, _)| name != "resource")
        .chain([("team", &team), ("project", &project)].map(|(k, v)| (k.to_owned(), v.clone())))
        .chain([("decision".to_owned(), "approve".to_owned())])
        .collect();
    assert_eq!(browser.post(world.url("/oauth/authorize")).form(&dropped).send().unwrap().status(), 400);

    let done = submit(&world, &browser, &page, &[("team", &team), ("project", &project), ("decision", "approve")]);
    let code = param(&location(&done), "code").unwrap();
    let tokens: Value = redeem(&world, &app, &code, &verifier, &[]).json().unwrap();
    let token = tokens["access_token"].as_str().unwrap();
    let answer = world.introspect(&backend, token);
    assert_eq!(answer["active"], true);
    assert_eq!(answer["aud"], mcp.as_str(), "one resource: aud is that URI");

    let ask = |resource_server: Option<&str>| {
        let mut body =
            json!({ "token": token, "action": "project:view", "resource": { "team": team, "project": project } });
        if let Some(rs) = resource_server {
            body["resource_server"] = json!(rs);
        }
        check(&world, &backend, body)
    };
    assert_eq!(ask(Some(&mcp))["allowed"], true);
    assert_eq!(ask(None)["allowed"], true);
    assert_eq!(ask(Some(&other)), json!({ "allowed": false, "reason": "wrong_audience" }));
    assert_eq!(ask(Some("https://evil.example/mcp")), json!({ "allowed": false, "reason": "wrong_audience" }));

    // A token bound to nothing is judged as before, whoever asks.
    let unbound = world.access_token(&email, &app, crate::world::Grant::Project { team: &team, project: &project });
    assert!(world.introspect(&backend, &unbound).get("aud").is_none());
    let body = json!({ "token": unbound, "action": "project:view", "resource": { "team": team, "project": project }, "resource_server": mcp });
    assert_eq!(check(&world, &backend, body)["allowed"], true);

    // The person sees which resource server each grant reaches, on the page and in /v1.
    let listed = browser.get(world.url("/settings/authorized-apps")).send().unwrap().text().unwrap();
    assert_eq!(listed.matches(&format!("<code>{mcp}</code>")).count(), 1, "{listed}");
    let mine: Value = browser.get(world.url("/v1/me/grants")).send().unwrap().json().unwrap();
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let bound: Vec<_> = items.iter().filter_map(|grant| grant.get("resources")).collect();
    assert_eq!(bound, [&json!([mcp])], "only the bound grant lists resources: {mine}");
}

#[test]
fn unregistered_or_malformed_resources_are_invalid_target_everywhere() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.app(&team);
    let browser = world.login(&email);
    let registered = resource_server(&world, None);

    for bad in
        ["https://unregistered.example/mcp", "http://tools.example/mcp", "https://tools.example/#frag", "not a uri"]
    {
        let (query, _) = request(&world, &app, "project", &[bad]);
        let response = consent_page(&world, &browser, &query);
        assert_eq!(response.status(), 303, "{bad}: errors go back to the (valid) client");
        let back = location(&response);
        assert!(back.starts_with(&app.redirect_uri), "{back}");
        assert_eq!(param(&back, "error").as_deref(), Some("invalid_target"), "{bad}");
        assert_eq!(param(&back, "state").as_deref(), Some("st-1"));
        // One bad resource among good ones spoils the request.
        let (query, _) = request(&world, &app, "project", &[&registered, bad]);
        assert_eq!(
            param(&location(&consent_page(&world, &browser, &query)), "error").as_deref(),
            Some("invalid_target")
        );
    }

    let device = http()
        .post(world.url("/oauth/device_authorization"))
        .basic_auth(&app.client_id, app.secret.as_deref())
        .form(&[("client_id", app.client_id.as_str()), ("resource", "https://unregistered.example/mcp")])
        .send()
        .unwrap();
    assert_eq!(error_of(device), "invalid_target");

    // A token request cannot add a resource the user did not approve; the code survives it.
    let (query, verifier) = request(&world, &app, "project", &[&registered]);
    let code = approve(&world, &browser, &query, &team, &project);
    let other = resource_server(&world, None);
    assert_eq!(error_of(redeem(&world, &app, &code, &verifier, &[&other])), "invalid_target");
    assert_eq!(error_of(redeem(&world, &app, &code, &verifier, &["https://x.example/#f"])), "invalid_target");
    let redeemed = redeem(&world, &app, &code, &verifier, &[&registered]);
    assert_eq!(redeemed.status(), 200);

    // Nor can a token request bind a token whose authorization named nothing.
    let (query, verifier) = request(&world, &app, "project", &[]);
    let code = approve(&world, &browser, &query, &team, &project);
    assert_eq!(error_of(redeem(&world, &app, &code, &verifier, &[&registered])), "invalid_target");
}

#[test]
fn token_requests_narrow_the_audience_and_refresh_never_widens_it() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.expiring_app(&team);
    let backend = world.backend();
    let (a, b) = (resource_server(&world, None), resource_server(&world, None));
    let browser = world.login(&email);
    let (query, verifier) = request(&world, &app, "project", &[&a, &b]);
    let code = approve(&world, &browser, &query, &team, &project);

    let tokens: Value = redeem(&world, &app, &code, &verifier, &[&a]).json().unwrap();
    assert_eq!(world.introspect(&backend, tokens["access_token"].as_str().unwrap())["aud"], a.as_str());

    let refresh = |refresh_token: &str, resources: &[&str]| {
        let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
        form.extend(resources.iter().map(|r| ("resource", *r)));
        token_request(&world, &app, &form)
    };
    // Narrowed on redemption, the grant still holds both: a refresh may name the other one.
    let tokens: Value = refresh(tokens["refresh_token"].as_str().unwrap(), &[&b]).json().unwrap();
    assert_eq!(world.introspect(&backend, tokens["access_token"].as_str().unwrap())["aud"], b.as_str());
    // Naming nothing: everything granted, as an array.
    let tokens: Value = refresh(tokens["refresh_token"].as_str().unwrap(), &[]).json().unwrap();
    let mut both = [a.clone(), b.clone()];
    both.sort();
    assert_eq!(world.introspect(&backend, tokens["access_token"].as_str().unwrap())["aud"], json!(both));

    // Never wider: a resource the user did not approve is refused, and the refresh token stays
    // good (nothing was rotated).
    let c = resource_server(&world, None);
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(error_of(refresh(refresh_token, &[&a, &c])), "invalid_target");
    assert!(world.is_active(&backend, tokens["access_token"].as_str().unwrap()));
    assert_eq!(refresh(refresh_token, &[&a]).status(), 200);
}

#[test]
fn a_deployments_resource_serves_only_project_tokens_of_its_project() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let elsewhere = world.project(&team);
    let deployment = world.deployment(&team, &project, "prod");
    let app = world.app(&team);
    let backend = world.backend();
    let rs = resource_server(&world, Some(&deployment));
    let listed = world.cli(&["admin", "resource", "list"]);
    let entry = listed["resource_servers"].as_array().unwrap().iter().find(|r| r["uri"] == rs.as_str()).cloned();
    assert_eq!(entry.unwrap()["deployment"], deployment.as_str());
    let browser = world.login(&email);

    let (team_query, _) = request(&world, &app, "team", &[&rs]);
    assert_eq!(
        param(&location(&consent_page(&world, &browser, &team_query)), "error").as_deref(),
        Some("invalid_target")
    );

    // Approving it for another project is refused on the consent page; nothing is issued.
    let (project_query, verifier) = request(&world, &app, "project", &[&rs]);
    let page = consent_page(&world, &browser, &project_query).text().unwrap();
    let wrong = submit(&world, &browser, &page, &[("team", &team), ("project", &elsewhere), ("decision", "approve")]);
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().unwrap().contains(&deployment));

    let code = approve(&world, &browser, &project_query, &team, &project);
    let tokens: Value = redeem(&world, &app, &code, &verifier, &[]).json().unwrap();
    let token = tokens["access_token"].as_str().unwrap();
    assert_eq!(world.introspect(&backend, token)["aud"], rs.as_str());

    // Unregistered: no new binding, while the token already bound keeps its audience.
    assert_eq!(world.cli(&["admin", "resource", "delete", &rs])["deleted"], rs.as_str());
    assert_eq!(
        param(&location(&consent_page(&world, &browser, &project_query)), "error").as_deref(),
        Some("invalid_target")
    );
    assert_eq!(world.introspect(&backend, token)["aud"], rs.as_str());
    assert!(crate::harness::cli(&world.db.url, &["admin", "resource", "delete", &rs]).is_err());
}
