//! The authorization endpoint and the consent page (SPEC §4 "Authorization request rules",
//! §6). Negative tests are named after the attack they stop.

use reqwest::blocking::Client;

use crate::harness::{hidden_inputs, location, param, pkce, query_of, select_options};
use crate::world::{App, Scene, World};

fn get(world: &World, client: &Client, path: &str, query: &[(&str, &str)]) -> reqwest::blocking::Response {
    client.get(world.url(path)).query(query).send().unwrap()
}

fn assert_error_page(response: reqwest::blocking::Response) {
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none(), "an error page, never a redirect");
    assert!(response.text().unwrap().contains("<h1>"), "an HTML page");
}

/// Follows an error redirect; returns its query.
fn error_redirect(response: reqwest::blocking::Response, app: &App) -> Vec<(String, String)> {
    assert_eq!(response.status(), 303);
    let target = location(&response);
    assert!(target.starts_with(&app.redirect_uri), "redirects to the registered URI: {target}");
    query_of(&target)
}

fn value<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn open_redirect_unknown_client_missing_or_unregistered_redirect_uri_get_an_error_page() {
    let Scene { world, email, app, .. } = Scene::new();
    let browser = world.login(&email);
    let cb = app.redirect_uri.as_str();
    let id = app.client_id.as_str();
    assert_error_page(get(
        &world,
        &browser,
        "/oauth/authorize",
        &[("response_type", "code"), ("client_id", "unknown"), ("redirect_uri", cb)],
    ));
    assert_error_page(get(&world, &browser, "/oauth/authorize", &[("response_type", "code"), ("redirect_uri", cb)]));
    assert_error_page(get(&world, &browser, "/oauth/authorize", &[("response_type", "code"), ("client_id", id)]));
    let near_misses = [
        format!("{cb}/"),
        format!("{cb}?x=1"),
        format!("{cb}#x"),
        cb.replace("https://", "http://"),
        cb.to_uppercase(),
        format!("{cb}.evil.example"),
        "https://evil.example/callback".to_owned(),
    ];
    for uri in &near_misses {
        assert_error_page(get(
            &world,
            &browser,
            "/oauth/authorize",
            &[("response_type", "code"), ("client_id", id), ("redirect_uri", uri)],
        ));
    }
    // Repeated client_id or redirect_uri: ambiguous, so an error page too.
    assert_error_page(get(
        &world,
        &browser,
        "/oauth/authorize",
        &[("response_type", "code"), ("client_id", id), ("client_id", id), ("redirect_uri", cb)],
    ));
    assert_error_page(get(
        &world,
        &browser,
        "/oauth/authorize",
        &[("response_type", "code"), ("client_id", id), ("redirect_uri", cb), ("redirect_uri", cb)],
    ));
}

#[test]
fn loopback_redirect_uris_may_use_any_port_for_public_clients_only() {
    let world = World::new();
    let (email, team, _) = world.owner_with_project();
    let public = world.app_with_uris(&team, &["http://127.0.0.1/cb"], &["--public"]);
    let confidential = world.app_with_uris(&team, &["http://127.0.0.1/cb"], &[]);
    let browser = world.login(&email);
    let (_, challenge) = pkce();
    let request = |client_id: &str, uri: &str| {
        get(
            &world,
            &browser,
            "/oauth/authorize",
            &[
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", uri),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
    };
    assert_eq!(request(&public.client_id, "http://127.0.0.1:51234/cb").status(), 200);
    assert_error_page(request(&confidential.client_id, "http://127.0.0.1:51234/cb"));
    assert_error_page(request(&public.client_id, "http://127.0.0.1:51234/other"));
    assert_error_page(request(&public.client_id, "http://localhost:51234/cb"));
}

#[test]
fn once_the_redirect_uri_is_trusted_errors_redirect_with_state_and_iss() {
    let Scene { world, email, app, .. } = Scene::new();
    let browser = world.login(&email);
    let (_, challenge) = pkce();
    let base = |extra: &[(&'static str, &str)]| {
        let mut query = vec![
            ("client_id", app.client_id.clone()),
            ("redirect_uri", app.redirect_uri.clone()),
            ("state", "s-42".to_owned()),
        ];
        query.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        query
    };
    let check = |path: &str, query: Vec<(&str, String)>, error: &str| {
        let response = browser.get(world.url(path)).query(&query).send().unwrap();
        let redirect = error_redirect(response, &app);
        assert_eq!(value(&redirect, "error"), Some(error), "{query:?} → {redirect:?}");
        assert_eq!(value(&redirect, "iss"), Some(world.server.base.as_str()), "RFC 9207 iss");
        redirect
    };
    let code = ("response_type", "code");
    let s256 = ("code_challenge_method", "S256");
    let redirect = check(
        "/oauth/authorize",
        base(&[code, ("code_challenge", &challenge), s256, ("scope", "project"), ("scope", "team")]),
        "invalid_request",
    );
    assert_eq!(value(&redirect, "state"), Some("s-42"));
    check(
        "/oauth/authorize",
        base(&[code, ("code_challenge", &challenge), s256, ("response_type", "code")]),
        "invalid_request",
    );
    check("/oauth/authorize", base(&[("code_challenge", &challenge), s256]), "invalid_request");
    check(
        "/oauth/authorize",
        base(&[("response_type", "token"), ("code_challenge", &challenge), s256]),
        "unsupported_response_type",
    );
    check("/oauth/authorize", base(&[code, ("scope", "admin")]), "invalid_scope");
    check("/oauth/authorize/team", base(&[code, ("scope", "project")]), "invalid_scope");
    check("/oauth/authorize/project", base(&[code, ("scope", "team")]), "invalid_scope");
    // PKCE: plain is refused, the method is required with a challenge, challenges are S256-shaped.
    check(
        "/oauth/authorize",
        base(&[code, ("code_challenge", &challenge), ("code_challenge_method", "plain")]),
        "invalid_request",
    );
    check("/oauth/authorize", base(&[code, ("code_challenge", &challenge)]), "invalid_request");
    check("/oauth/authorize", base(&[code, ("code_challenge", "short"), s256]), "invalid_request");
    check("/oauth/authorize", base(&[code, s256]), "invalid_request");
    // Repeated state: the error goes back with the first one, which the client's state check knows.
    let redirect = check("/oauth/authorize", base(&[code, ("state", "again")]), "invalid_request");
    assert_eq!(value(&redirect, "state"), Some("s-42"));
}

#[test]
fn pkce_is_required_for_public_clients() {
    let world = World::new();
    let (email, team, _) = world.owner_with_project();
    let app = world.public_app(&team);
    let browser = world.login(&email);
    let response = get(
        &world,
        &browser,
        "/oauth/authorize",
        &[("response_type", "code"), ("client_id", &app.client_id), ("redirect_uri", &app.redirect_uri)],
    );
    assert_eq!(value(&error_redirect(response, &app), "error"), Some("invalid_request"));
}

#[test]
fn unauthenticated_users_log_in_first_and_come_back_to_the_request() {
    let Scene { world, email, app, .. } = Scene::new();
    let browser = crate::harness::browser();
    let (_, challenge) = pkce();
    let query = world.authorize_query(&app, "project", &challenge);
    let response = browser.get(world.url("/oauth/authorize")).query(&query).send().unwrap();
    assert_eq!(response.status(), 303);
    let login = location(&response);
    assert!(login.starts_with("/login?next="), "{login}");
    let next = param(&format!("http://x{login}"), "next").unwrap();
    let response = browser
        .post(world.url("/login"))
        .form(&[("email", email.as_str()), ("password", crate::harness::PASSWORD), ("next", next.as_str())])
        .send()
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), next, "back to the authorization request");
    assert_eq!(browser.get(world.url(&next)).send().unwrap().status(), 200);
}

#[test]
fn consent_page_shows_the_app_and_only_the_users_teams() {
    let Scene { world, email, team, project, app } = Scene::new();
    let second_team = world.team(&email);
    let second_project = world.project(&second_team);
    let stranger = world.user();
    let foreign_team = world.team(&stranger);
    let browser = world.login(&email);
    let (_, challenge) = pkce();
    let query = world.authorize_query(&app, "project", &challenge);
    let response = browser.get(world.url("/oauth/authorize")).query(&query).send().unwrap();
    assert_eq!(response.status(), 200);
    // Clickjacking and referrer leaks.
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert_eq!(header("x-frame-options"), "DENY");
    assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert_eq!(header("cache-control"), "no-store");
    let html = response.text().unwrap();
    assert!(html.contains("Test Integration"), "app name");
    assert!(html.contains(&format!("Team {team}")), "owning team");
    assert!(html.contains("Unverified"), "verified badge");
    let teams = select_options(&html, "team");
    assert!(teams.contains(&team) && teams.contains(&second_team));
    assert!(!teams.contains(&foreign_team), "only the user's teams");
    for field in [
        "new_project_name",
        "new_project_slug",
        r#"name="decision" value="approve""#,
        r#"name="decision" value="deny""#,
    ] {
        assert!(html.contains(field), "{field}");
    }
    // Choosing another team reloads with team=<slug> and that team's projects.
    let mut with_team = query.clone();
    with_team.push(("team".into(), second_team.clone()));
    let html = browser.get(world.url("/oauth/authorize")).query(&with_team).send().unwrap().text().unwrap();
    assert_eq!(select_options(&html, "project"), vec![second_project]);
    assert!(!html.contains(&project));
    // A verified app shows the badge.
    world.cli(&["admin", "app", "verify", "--client-id", &app.client_id]);
    let html = browser.get(world.url("/oauth/authorize")).query(&query).send().unwrap().text().unwrap();
    assert!(html.contains(">Verified<"));
}

#[test]
fn approve_redirects_with_code_state_and_iss_and_deny_with_access_denied() {
    let Scene { world, email, team, project, app } = Scene::new();
    let browser = world.login(&email);
    let (_, challenge) = pkce();
    let query = world.authorize_query(&app, "project", &challenge);
    let response = world.consent(&browser, &query, &[("team", &team), ("project", &project), ("decision", "approve")]);
    assert_eq!(response.status(), 303);
    let target = location(&response);
    assert!(target.starts_with(&app.redirect_uri));
    assert!(param(&target, "code").is_some());
    assert_eq!(param(&target, "state").as_deref(), Some("st-1"));
    assert_eq!(param(&target, "iss").as_deref(), Some(world.server.base.as_str()));

    let response = world.consent(&browser, &query, &[("team", &team), ("project", &project), ("decision", "deny")]);
    assert_eq!(response.status(), 303);
    let target = location(&response);
    assert_eq!(param(&target, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&target, "state").as_deref(), Some("st-1"));
    assert_eq!(param(&target, "iss").as_deref(), Some(world.server.base.as_str()));
    assert!(param(&target, "code").is_none());
}

#[test]
fn csrf_consent_without_the_sessions_token_is_refused() {
    let Scene { world, email, team, project, app } = Scene::new();
    let victim = world.login(&email);
    let attacker = world.login(&world.user());
    let (_, challenge) = pkce();
    let query = world.authorize_query(&app, "project", &challenge);
    let page = attacker.get(world.url("/oauth/authorize")).query(&query).send().unwrap().text().unwrap();
    let mut form = hidden_inputs(&page);
    form.extend([
        ("team".to_owned(), team.clone()),
        ("project".to_owned(), project.clone()),
        ("decision".to_owned(), "approve".to_owned()),
    ]);
    // The attacker's page (their CSRF token) submitted with the victim's session.
    let response = victim.post(world.url("/oauth/authorize")).form(&form).send().unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.headers().get("location").is_none());
    // No token at all.
    form.retain(|(k, _)| k != "csrf_token");
    let response = victim.post(world.url("/oauth/authorize")).form(&form).send().unwrap();
    assert_eq!(response.status(), 403);
}

#[test]
fn forged_consent_for_a_team_or_project_the_user_does_not_belong_to_is_refused() {
    let Scene { world, email, team, app, .. } = Scene::new();
    let stranger = world.user();
    let foreign_team = world.team(&stranger);
    let foreign_project = world.project(&foreign_team);
    let browser = world.login(&email);
    let (_, challenge) = pkce();
    let query = world.authorize_query(&app, "project", &challenge);
    let response = world.consent(
        &browser,
        &query,
        &[("team", &foreign_team), ("project", &foreign_project), ("decision", "approve")],
    );
    assert_eq!(response.status(), 403, "not a member of that team");
    assert!(response.headers().get("location").is_none());
    // Own team, but another team's project.
    let response =
        world.consent(&browser, &query, &[("team", &team), ("project", &foreign_project), ("decision", "approve")]);
    assert_eq!(response.status(), 422);
    assert!(response.headers().get("location").is_none());
}

#[test]
fn approving_with_a_new_project_creates_it_and_grants_it() {
    let Scene { world, email, team, app, .. } = Scene::new();
    let browser = world.login(&email);
    let (verifier, challenge) = pkce();
    let query = world.authorize_query(&app, "project", &challenge);
    // Invalid and taken slugs re-show the form with an error.
    let bad = world.consent(
        &browser,
        &query,
        &[("team", &team), ("new_project_name", "New"), ("new_project_slug", "Not A Slug"), ("decision", "approve")],
    );
    assert_eq!(bad.status(), 422);
    assert!(bad.text().unwrap().contains("invalid slug"));
    let existing = world.project(&team);
    let taken = world.consent(
        &browser,
        &query,
        &[("team", &team), ("new_project_name", "Dup"), ("new_project_slug", &existing), ("decision", "approve")],
    );
    assert_eq!(taken.status(), 409);

    let response = world.consent(
        &browser,
        &query,
        &[
            ("team", &team),
            ("new_project_name", "Fresh Site"),
            ("new_project_slug", "fresh-site"),
            ("decision", "approve"),
        ],
    );
    assert_eq!(response.status(), 303);
    let code = param(&location(&response), "code").unwrap();
    let tokens: serde_json::Value = world.exchange(&app, &code, &verifier).json().unwrap();
    assert!(tokens["access_token"].as_str().unwrap().starts_with(&format!("project:{team}:fresh-site|")));
}

#[test]
fn team_scope_issues_a_team_token() {
    let Scene { world, email, team, app, .. } = Scene::new();
    let browser = world.login(&email);
    let (verifier, challenge) = pkce();
    let mut query = world.authorize_query(&app, "team", &challenge);
    query.retain(|(k, _)| k != "scope");
    let page = browser.get(world.url("/oauth/authorize/team")).query(&query).send().unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    assert!(!html.contains(r#"name="project""#), "no project picker for team scope");
    let mut form = hidden_inputs(&html);
    form.extend([("team".to_owned(), team.clone()), ("decision".to_owned(), "approve".to_owned())]);
    let response = browser.post(world.url("/oauth/authorize")).form(&form).send().unwrap();
    let code = param(&location(&response), "code").unwrap();
    let tokens: serde_json::Value = world.exchange(&app, &code, &verifier).json().unwrap();
    assert_eq!(tokens["scope"], "team");
    assert!(tokens["access_token"].as_str().unwrap().starts_with(&format!("team:{team}|")));
}

#[test]
fn unknown_parameters_are_ignored() {
    let Scene { world, email, app, .. } = Scene::new();
    let browser = world.login(&email);
    let (_, challenge) = pkce();
    let mut query = world.authorize_query(&app, "project", &challenge);
    query.push(("prompt".into(), "consent".into()));
    query.push(("nonce".into(), "n".into()));
    assert_eq!(browser.get(world.url("/oauth/authorize")).query(&query).send().unwrap().status(), 200);
}

#[test]
fn unverified_apps_are_limited_to_n_teams_until_verified() {
    let world = World::with_env(&[("PORTCULLIS_UNVERIFIED_APP_TEAM_LIMIT", "1")]);
    let (owner, team, project) = world.owner_with_project();
    let app = world.app(&team);
    world.tokens(&owner, &app, crate::world::Grant::Project { team: &team, project: &project });
    // A second team may not authorize it...
    let (other, other_team, other_project) = world.owner_with_project();
    let browser = world.login(&other);
    let (_, challenge) = pkce();
    let query = world.authorize_query(&app, "project", &challenge);
    let refused =
        world.consent(&browser, &query, &[("team", &other_team), ("project", &other_project), ("decision", "approve")]);
    assert_eq!(refused.status(), 403);
    assert!(refused.text().unwrap().contains("unverified"));
    // ...but the first team still can, and verification lifts the limit.
    world.tokens(&owner, &app, crate::world::Grant::Project { team: &team, project: &project });
    world.cli(&["admin", "app", "verify", "--client-id", &app.client_id]);
    world.tokens(&other, &app, crate::world::Grant::Project { team: &other_team, project: &other_project });
}

#[test]
fn consent_is_never_remembered() {
    let Scene { world, email, team, project, app } = Scene::new();
    world.tokens(&email, &app, crate::world::Grant::Project { team: &team, project: &project });
    let browser = world.login(&email);
    let (_, challenge) = pkce();
    let response = browser
        .get(world.url("/oauth/authorize"))
        .query(&world.authorize_query(&app, "project", &challenge))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200, "the consent page shows again");
}

#[test]
fn a_consent_posted_after_the_session_ended_starts_over_at_login_without_leaking_the_form() {
    let Scene { world, email, team, project, app } = Scene::new();
    let browser = world.login(&email);
    let (_, challenge) = pkce();
    let query = world.authorize_query(&app, "project", &challenge);
    let page = browser.get(world.url("/oauth/authorize")).query(&query).send().unwrap().text().unwrap();
    let mut form = hidden_inputs(&page);
    form.extend([
        ("team".to_owned(), team),
        ("project".to_owned(), project),
        ("decision".to_owned(), "approve".to_owned()),
    ]);
    let logged_out = crate::harness::browser();
    let response = logged_out.post(world.url("/oauth/authorize")).form(&form).send().unwrap();
    assert_eq!(response.status(), 303);
    let login = location(&response);
    assert!(login.starts_with("/login?next=%2Foauth%2Fauthorize%3F"), "{login}");
    assert!(!login.contains("csrf") && !login.contains("decision"), "{login}");
}
