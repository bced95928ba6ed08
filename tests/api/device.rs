//! The device authorization grant (RFC 8628, SPEC §7): the device's requests, the `/device`
//! page and its consent, every token-endpoint answer of §3.5, single redemption under
//! concurrent polling, user-code throttling, and the grant being an ordinary one.

use std::sync::Barrier;

use diesel::prelude::*;
use reqwest::blocking::{Client, Response};
use serde_json::Value;

use crate::harness::{self, csrf, hidden_inputs, http};
use crate::world::{App, Backend, World};

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// `POST /oauth/device_authorization` for `app` (Basic for confidential apps) with `extra`.
fn request_device(world: &World, app: &App, extra: &[(&str, &str)]) -> Response {
    world.post_as(app, "/oauth/device_authorization", extra)
}

fn start(world: &World, app: &App, extra: &[(&str, &str)]) -> Value {
    let response = request_device(world, app, extra);
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().unwrap()
}

fn poll(world: &World, app: &App, device_code: &str) -> Response {
    world.post_as(app, "/oauth/token", &[("grant_type", GRANT_TYPE), ("device_code", device_code)])
}

/// The RFC 6749 §5.2 error of a poll, checked to be a 400.
fn poll_error(world: &World, app: &App, device_code: &str) -> String {
    let response = poll(world, app, device_code);
    assert_eq!(response.status(), 400);
    let body: Value = response.json().unwrap();
    body["error"].as_str().unwrap().to_owned()
}

/// Types `user_code` on `/device`: the answer (a consent page when the code is good).
fn enter(world: &World, browser: &Client, user_code: &str) -> Response {
    let form_page = browser.get(world.url("/device")).send().unwrap().text().unwrap();
    let form = [("csrf_token", csrf(&form_page)), ("user_code", user_code.to_owned())];
    browser.post(world.url("/device")).form(&form).send().unwrap()
}

/// Submits the consent page `page` with `choice`.
fn decide(world: &World, browser: &Client, page: &str, choice: &[(&str, &str)]) -> Response {
    let mut form = hidden_inputs(page);
    form.extend(choice.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    browser.post(world.url("/device/consent")).form(&form).send().unwrap()
}

/// Logs `email` in and approves `user_code` for the project.
fn approve(world: &World, email: &str, user_code: &str, team: &str, project: &str) {
    let browser = world.login(email);
    let consent = enter(world, &browser, user_code);
    assert_eq!(consent.status(), 200);
    let page = consent.text().unwrap();
    let done = decide(world, &browser, &page, &[("team", team), ("project", project), ("decision", "approve")]);
    assert_eq!(done.status(), 200);
    assert!(done.text().unwrap().contains("Device connected"));
}

fn set_expired(world: &World) {
    use diesel::connection::SimpleConnection;
    world.conn().batch_execute("UPDATE device_codes SET expires_at = '2000-01-01 00:00:00'").unwrap();
}

fn failures_audited(world: &World) -> i64 {
    use portcullis::db::schema::audit_events::dsl::*;
    audit_events.filter(action.eq("device.user_code_failed")).count().get_result(&mut world.conn()).unwrap()
}

#[test]
fn a_public_cli_logs_in_with_a_device_code_and_gets_an_ordinary_revocable_grant() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.public_app(&team);
    let backend: Backend = world.backend();

    let started = start(&world, &app, &[("device_name", "ada's laptop")]);
    let user_code = started["user_code"].as_str().unwrap().to_owned();
    assert_eq!(started["verification_uri"], world.url("/device"));
    assert_eq!(started["verification_uri_complete"], format!("{}?user_code={user_code}", world.url("/device")));
    assert_eq!(started["expires_in"], 600);
    assert_eq!(started["interval"], 5);
    let shape = user_code.as_bytes();
    assert!(shape.len() == 9 && shape[4] == b'-', "{user_code}");
    assert!(user_code.replace('-', "").bytes().all(|b| b"BCDFGHJKLMNPQRSTVWXZ".contains(&b)), "{user_code}");
    let device_code = started["device_code"].as_str().unwrap().to_owned();
    assert_eq!(poll_error(&world, &app, &device_code), "authorization_pending");

    // verification_uri_complete pre-fills the form (after logging in), never submits it.
    let browser = world.login(&email);
    let prefilled = browser.get(started["verification_uri_complete"].as_str().unwrap()).send().unwrap();
    assert_eq!(prefilled.status(), 200);
    let prefilled = prefilled.text().unwrap();
    assert!(prefilled.contains(&format!(r#"value="{user_code}""#)), "{prefilled}");
    let anonymous = harness::browser().get(world.url(&format!("/device?user_code={user_code}"))).send().unwrap();
    assert_eq!(anonymous.status(), 303);
    assert!(harness::location(&anonymous).starts_with("/login?next="));

    // Typed in lower case without the dash: the consent page, showing the code to compare.
    let consent = enter(&world, &browser, &user_code.replace('-', "").to_lowercase());
    assert_eq!(consent.status(), 200);
    assert_eq!(consent.headers()["x-frame-options"], "DENY");
    let page = consent.text().unwrap();
    assert!(page.contains(&user_code) && page.contains("Test Integration"), "{page}");
    assert!(harness::select_options(&page, "project").contains(&project), "{page}");
    let done = decide(&world, &browser, &page, &[("team", &team), ("project", &project), ("decision", "approve")]);
    assert_eq!(done.status(), 200);

    let tokens: Value = {
        let response = poll(&world, &app, &device_code);
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        response.json().unwrap()
    };
    let access = tokens["access_token"].as_str().unwrap();
    assert!(access.starts_with(&format!("project:{team}:{project}|")), "{tokens}");
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["scope"], "project");
    // A public client: expiring tokens with a rotating refresh token (SPEC §7 "Lifetimes").
    assert_eq!(tokens["expires_in"], 3600);
    assert!(tokens["refresh_token"].is_string());
    let answer = world.introspect(&backend, access);
    assert_eq!(answer["active"], true);
    assert_eq!(answer["username"], email.as_str());
    // Spent: redeemed exactly once.
    assert_eq!(poll_error(&world, &app, &device_code), "invalid_grant");

    // Listed under the device's name, and revoked from the authorized-applications page.
    let listing = browser.get(world.url("/settings/authorized-apps")).send().unwrap().text().unwrap();
    assert!(harness::unescape(&listing).contains("Test Integration on ada's laptop"), "{listing}");
    let marker = "/settings/authorized-apps/";
    let at = listing.find(&format!(r#"action="{marker}"#)).expect("a revoke form") + r#"action=""#.len();
    let action = &listing[at..at + listing[at..].find('"').unwrap()];
    let revoked = browser.post(world.url(action)).form(&[("csrf_token", csrf(&listing))]).send().unwrap();
    assert_eq!(revoked.status(), 303, "{action}");
    assert!(!world.is_active(&backend, access));
}

#[test]
fn every_token_endpoint_answer_of_rfc_8628_section_3_5() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.app(&team);
    let other = world.app(&team);

    // Polled faster than the interval: slow_down, and it stays slow.
    let device_code = start(&world, &app, &[])["device_code"].as_str().unwrap().to_owned();
    assert_eq!(poll_error(&world, &app, &device_code), "authorization_pending");
    assert_eq!(poll_error(&world, &app, &device_code), "slow_down");
    assert_eq!(poll_error(&world, &app, &device_code), "slow_down");
    {
        use portcullis::db::schema::device_codes::dsl::*;
        let interval: i64 = device_codes.select(interval_seconds).first(&mut world.conn()).unwrap();
        assert_eq!(interval, 15, "each slow_down adds 5 seconds");
    }
    // Another client's code, and an unknown one: invalid_grant.
    assert_eq!(poll_error(&world, &other, &device_code), "invalid_grant");
    assert_eq!(poll_error(&world, &app, "no-such-device-code"), "invalid_grant");

    // Denied.
    let started = start(&world, &app, &[]);
    let browser = world.login(&email);
    let page = enter(&world, &browser, started["user_code"].as_str().unwrap()).text().unwrap();
    let denied = decide(&world, &browser, &page, &[("decision", "deny")]);
    assert_eq!(denied.status(), 200);
    assert!(denied.text().unwrap().contains("Device denied"));
    assert_eq!(poll_error(&world, &app, started["device_code"].as_str().unwrap()), "access_denied");

    // Approved, then expired before the device came back: expired_token.
    let started = start(&world, &app, &[]);
    approve(&world, &email, started["user_code"].as_str().unwrap(), &team, &project);
    set_expired(&world);
    assert_eq!(poll_error(&world, &app, started["device_code"].as_str().unwrap()), "expired_token");
    assert_eq!(poll_error(&world, &app, &device_code), "expired_token");

    // Missing pieces of the request.
    let missing = http()
        .post(world.url("/oauth/token"))
        .basic_auth(&app.client_id, app.secret.as_deref())
        .form(&[("grant_type", GRANT_TYPE)])
        .send()
        .unwrap();
    assert_eq!(missing.status(), 400);
    assert_eq!(missing.json::<Value>().unwrap()["error"], "invalid_request");
}

#[test]
fn the_device_request_authenticates_confidential_clients_and_checks_its_parameters() {
    let world = World::new();
    let team = world.team(&world.user());
    let app = world.app(&team);
    let unauthenticated = App { secret: None, ..app.clone() };
    let response = request_device(&world, &unauthenticated, &[]);
    assert_eq!(response.status(), 401);
    assert_eq!(response.json::<Value>().unwrap()["error"], "invalid_client");
    let wrong = App { secret: Some("wrong".into()), ..app.clone() };
    assert_eq!(request_device(&world, &wrong, &[]).status(), 401);
    let unknown = App { client_id: "nobody".into(), secret: None, ..app.clone() };
    assert_eq!(request_device(&world, &unknown, &[]).status(), 401);

    let bad_scope = request_device(&world, &app, &[("scope", "admin")]);
    assert_eq!(bad_scope.status(), 400);
    assert_eq!(bad_scope.json::<Value>().unwrap()["error"], "invalid_scope");
    let repeated = request_device(&world, &app, &[("scope", "team"), ("scope", "project")]);
    assert_eq!(repeated.json::<Value>().unwrap()["error"], "invalid_request");
    let long_name = "x".repeat(101);
    let too_long = request_device(&world, &app, &[("device_name", &long_name)]);
    assert_eq!(too_long.status(), 400);
    let nul = http()
        .post(world.url("/oauth/device_authorization"))
        .basic_auth(&app.client_id, app.secret.as_deref())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("device_name=a%00b")
        .send()
        .unwrap();
    assert_eq!(nul.status(), 400);
    assert_eq!(start(&world, &app, &[("scope", "team")])["interval"], 5);
}

#[test]
fn concurrent_polls_of_an_approved_code_issue_exactly_one_token() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.app(&team);
    for _ in 0..3 {
        let started = start(&world, &app, &[]);
        approve(&world, &email, started["user_code"].as_str().unwrap(), &team, &project);
        let device_code = started["device_code"].as_str().unwrap();
        let barrier = Barrier::new(8);
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let polls: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        poll(&world, &app, device_code).status().as_u16()
                    })
                })
                .collect();
            polls.into_iter().map(|p| p.join().unwrap()).collect()
        });
        assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|&s| s == 200 || s == 400), "{statuses:?}");
    }
}

#[test]
fn wrong_user_codes_are_throttled_per_session_and_audited() {
    let world = World::new();
    let (email, team, _) = world.owner_with_project();
    let app = world.public_app(&team);
    let good = start(&world, &app, &[])["user_code"].as_str().unwrap().to_owned();
    let browser = world.login(&email);
    for i in 0..10 {
        let wrong = enter(&world, &browser, if i % 2 == 0 { "BCDF-GHJK" } else { "not a code" });
        assert_eq!(wrong.status(), 400, "attempt {i}");
    }
    let throttled = enter(&world, &browser, &good);
    assert_eq!(throttled.status(), 429);
    let retry_after: i64 = throttled.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert_eq!(failures_audited(&world), 10);
    // Nothing was looked up while throttled, and the code is still usable from elsewhere...
    // but not from the same address either: the address has the same ten failures.
    let other_session = world.login(&email);
    assert_eq!(enter(&world, &other_session, &good).status(), 429);
}

#[test]
fn the_decision_is_bound_to_the_code_shown_and_to_the_session() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.public_app(&team);
    let shown = start(&world, &app, &[]);
    let other = start(&world, &app, &[]);
    let browser = world.login(&email);
    let page = enter(&world, &browser, shown["user_code"].as_str().unwrap()).text().unwrap();

    // The form edited to approve another pending code: refused, nothing decided.
    let mut form = hidden_inputs(&page);
    for (name, value) in form.iter_mut() {
        if name == "user_code" {
            *value = other["user_code"].as_str().unwrap().to_owned();
        }
    }
    form.extend(
        [("team", team.as_str()), ("project", project.as_str()), ("decision", "approve")]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let tampered = browser.post(world.url("/device/consent")).form(&form).send().unwrap();
    assert_eq!(tampered.status(), 400);
    assert_eq!(poll_error(&world, &app, other["device_code"].as_str().unwrap()), "authorization_pending");

    // Without the session's CSRF token: refused.
    let mut no_csrf = hidden_inputs(&page);
    no_csrf.retain(|(name, _)| name != "csrf_token");
    no_csrf.push(("decision".into(), "deny".into()));
    assert_eq!(browser.post(world.url("/device/consent")).form(&no_csrf).send().unwrap().status(), 403);
    // Another user's session cannot post this page's ticket.
    let mallory = world.user();
    world.member(&team, &mallory, "admin");
    let mallory_browser = world.login(&mallory);
    let mallory_page = mallory_browser.get(world.url("/device")).send().unwrap().text().unwrap();
    let mut stolen = hidden_inputs(&page);
    for (name, value) in stolen.iter_mut() {
        if name == "csrf_token" {
            *value = csrf(&mallory_page);
        }
    }
    stolen.push(("decision".into(), "deny".into()));
    assert_eq!(mallory_browser.post(world.url("/device/consent")).form(&stolen).send().unwrap().status(), 400);
    assert_eq!(poll_error(&world, &app, shown["device_code"].as_str().unwrap()), "authorization_pending");

    // A project the user picks outside their teams: refused on the page, the code stays pending.
    let outsider_team = world.team(&world.user());
    let refused =
        decide(&world, &browser, &page, &[("team", &outsider_team), ("project", "web"), ("decision", "approve")]);
    assert_eq!(refused.status(), 403);
    assert_eq!(poll_error(&world, &app, shown["device_code"].as_str().unwrap()), "slow_down");

    // Decided once: a second decision (another tab) is refused.
    let approved = decide(&world, &browser, &page, &[("team", &team), ("project", &project), ("decision", "approve")]);
    assert_eq!(approved.status(), 200);
    let again = decide(&world, &browser, &page, &[("decision", "deny")]);
    assert_eq!(again.status(), 400);
}

#[test]
fn a_member_removed_after_approving_gets_no_token() {
    let world = World::new();
    let (owner, team, project) = world.owner_with_project();
    let dev = world.user();
    world.member(&team, &dev, "developer");
    let app = world.public_app(&team);
    let started = start(&world, &app, &[]);
    approve(&world, &dev, started["user_code"].as_str().unwrap(), &team, &project);
    world.cli(&["admin", "member", "remove", "--team", &team, "--email", &dev]);
    assert_eq!(poll_error(&world, &app, started["device_code"].as_str().unwrap()), "access_denied");
    let _ = owner;
}

#[test]
fn metadata_advertises_the_device_endpoint_and_grant() {
    let world = World::new();
    let metadata: Value =
        http().get(world.url("/.well-known/oauth-authorization-server")).send().unwrap().json().unwrap();
    assert_eq!(metadata["device_authorization_endpoint"], world.url("/oauth/device_authorization"));
    assert!(metadata["grant_types_supported"].as_array().unwrap().contains(&Value::from(GRANT_TYPE)), "{metadata}");
}

#[test]
fn a_device_request_naming_a_resource_gets_a_token_bound_to_it_and_may_narrow_nothing_new() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.public_app(&team);
    let backend = world.backend();
    let uri = format!("https://{}.tools.example/mcp", harness::unique("rs"));
    world.cli(&["admin", "resource", "create", "--uri", &uri]);

    let started = start(&world, &app, &[("resource", &uri)]);
    let user_code = started["user_code"].as_str().unwrap();
    let browser = world.login(&email);
    let consent = enter(&world, &browser, user_code).text().unwrap();
    assert!(consent.contains(&format!("<code>{uri}</code>")), "the consent page names the resource server");
    let done = decide(&world, &browser, &consent, &[("team", &team), ("project", &project), ("decision", "approve")]);
    assert_eq!(done.status(), 200);

    let device_code = started["device_code"].as_str().unwrap();
    let form = [("grant_type", GRANT_TYPE), ("device_code", device_code), ("resource", "https://other.example/mcp")];
    let widened = world.post_as(&app, "/oauth/token", &form);
    assert_eq!(widened.status(), 400);
    assert_eq!(widened.json::<Value>().unwrap()["error"], "invalid_target");
    // Refused before anything was spent: the device still gets its token.
    let tokens: Value = poll(&world, &app, device_code).json().unwrap();
    let answer = world.introspect(&backend, tokens["access_token"].as_str().unwrap());
    assert_eq!(answer["aud"], uri.as_str());
}
