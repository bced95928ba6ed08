//! The consent decision is bound to the page that was shown (SPEC §4): a form whose protocol
//! fields were edited, or whose consent ticket is missing, expired or another session's, is
//! refused with an error page, and no code is issued. Tests are named after the attack.

use diesel::prelude::*;
use portcullis::db::schema::{authorization_codes, grants, server_secrets, sessions};
use portcullis::ui::consent::ticket::{TTL_SECONDS, TicketKey};
use reqwest::blocking::{Client, Response};
use secrecy::SecretString;

use crate::harness::{Server, hidden_inputs, location, param, pkce, unique};
use crate::world::{App, Scene, World};

type Form = Vec<(String, String)>;

/// Authorization codes and grants in the database: what an approval creates.
fn issued(world: &World) -> (i64, i64) {
    let mut conn = world.conn();
    let codes = authorization_codes::table.count().get_result(&mut conn).expect("count codes");
    let grants = grants::table.count().get_result(&mut conn).expect("count grants");
    (codes, grants)
}

/// The approval form of the consent page for `query`, as the browser got it.
fn approval_form(world: &World, browser: &Client, query: &[(String, String)], team: &str, project: &str) -> Form {
    let page = browser.get(world.url("/oauth/authorize")).query(query).send().unwrap();
    assert_eq!(page.status(), 200, "consent page");
    let mut form = hidden_inputs(&page.text().unwrap());
    assert!(form.iter().any(|(name, _)| name == "consent_ticket"), "the page carries a consent ticket");
    form.extend(
        [("team", team), ("project", project), ("decision", "approve")].map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    form
}

fn post(world: &World, browser: &Client, form: &Form) -> Response {
    browser.post(world.url("/oauth/authorize")).form(form).send().unwrap()
}

/// `form` with `name` set to `value` (or removed when `None`).
fn with(form: &Form, name: &str, value: Option<&str>) -> Form {
    let mut form: Form = form.iter().filter(|(k, _)| k != name).cloned().collect();
    if let Some(value) = value {
        form.push((name.to_owned(), value.to_owned()));
    }
    form
}

/// Refused: a 400 error page, no redirect anywhere, and no code or grant created. Returns
/// the page.
fn assert_refused(world: &World, response: Response, what: &str) -> String {
    assert_eq!(response.status(), 400, "{what}");
    assert!(response.headers().get("location").is_none(), "{what}: an error page, never a redirect");
    let html = response.text().unwrap();
    assert!(html.contains("<h1>") && !html.contains("name=\"decision\""), "{what}: an error page: {html}");
    assert_eq!(issued(world), (0, 0), "{what}: no code and no grant");
    html
}

fn assert_approved(response: Response, app: &App) -> String {
    assert_eq!(response.status(), 303, "approval: {}", response.text().unwrap_or_default());
    let target = location(&response);
    assert!(target.starts_with(&app.redirect_uri), "{target}");
    param(&target, "code").unwrap_or_else(|| panic!("no code in {target}"))
}

#[test]
fn consent_form_tampering_with_any_protocol_field_is_refused_without_a_code() {
    let Scene { world, email, team, project, app } = Scene::new();
    let other_app = world.app(&team);
    let first_uri = app.redirect_uri.replace("callback", "first");
    let second_uri = format!("https://{}.client.example/other", unique("app"));
    let two = world.app_with_uris(&team, &[&first_uri, &second_uri], &[]);
    let browser = world.login(&email);
    let (_, challenge) = pkce();
    let (_, other_challenge) = pkce();
    let form = approval_form(&world, &browser, &world.authorize_query(&app, "project", &challenge), &team, &project);

    // The reproduced attack: the page for one app, posted as another's.
    let hijacked =
        with(&with(&form, "client_id", Some(&other_app.client_id)), "redirect_uri", Some(&other_app.redirect_uri));
    assert_refused(&world, post(&world, &browser, &hijacked), "client_id and redirect_uri of another app");
    for (name, value, what) in [
        ("client_id", Some(other_app.client_id.as_str()), "client_id of another app"),
        ("redirect_uri", Some("https://evil.example/callback"), "unregistered redirect_uri"),
        ("scope", Some("team"), "scope"),
        ("state", Some("attacker-state"), "state"),
        ("code_challenge", Some(other_challenge.as_str()), "code_challenge"),
        ("code_challenge_method", Some("plain"), "code_challenge_method"),
        ("response_type", Some("token"), "response_type"),
        ("state", None, "state removed"),
        ("code_challenge", None, "code_challenge removed"),
        ("scope", None, "scope removed"),
        ("consent_ticket", None, "ticket missing"),
        ("consent_ticket", Some("1.AAAA"), "ticket forged"),
    ] {
        assert_refused(&world, post(&world, &browser, &with(&form, name, value)), what);
    }
    let mut both = form.clone();
    both.retain(|(k, _)| k != "code_challenge" && k != "code_challenge_method");
    assert_refused(&world, post(&world, &browser, &both), "PKCE removed");
    for name in ["state", "client_id", "redirect_uri", "consent_ticket"] {
        let mut duplicated = form.clone();
        let value = form.iter().find(|(k, _)| k == name).unwrap().1.clone();
        duplicated.push((name.to_owned(), value));
        assert_refused(&world, post(&world, &browser, &duplicated), &format!("{name} duplicated"));
    }
    // A field added that the page did not have (here a state, on a page without one).
    let mut stateless_query = world.authorize_query(&app, "project", &challenge);
    stateless_query.retain(|(k, _)| k != "state");
    let stateless = approval_form(&world, &browser, &stateless_query, &team, &project);
    assert_refused(&world, post(&world, &browser, &with(&stateless, "state", Some("added"))), "state added");

    // Another registered redirect URI of the same app is still not the page's.
    let form_two =
        approval_form(&world, &browser, &world.authorize_query(&two, "project", &challenge), &team, &project);
    assert_refused(&world, post(&world, &browser, &with(&form_two, "redirect_uri", Some(&second_uri))), "other URI");

    // The untouched forms still work.
    assert_approved(post(&world, &browser, &form), &app);
    assert_approved(post(&world, &browser, &stateless), &app);
    assert_eq!(issued(&world).0, 2, "the counts above would have seen a code");
}

#[test]
fn a_consent_ticket_issued_to_another_session_is_refused() {
    let Scene { world, email, team, project, app } = Scene::new();
    let browser = world.login(&email);
    let same_user_elsewhere = world.login(&email);
    let stranger = world.login(&world.user());
    let (_, challenge) = pkce();
    let query = world.authorize_query(&app, "project", &challenge);
    let own = approval_form(&world, &browser, &query, &team, &project);
    for (other, what) in [(&same_user_elsewhere, "another session of the user"), (&stranger, "another user's session")]
    {
        let theirs = approval_form(&world, other, &query, &team, &project);
        let ticket = theirs.iter().find(|(k, _)| k == "consent_ticket").unwrap().1.clone();
        // This session's form and CSRF token, carrying a ticket issued to another session.
        assert_refused(&world, post(&world, &browser, &with(&own, "consent_ticket", Some(&ticket))), what);
    }
    assert_approved(post(&world, &browser, &own), &app);
}

#[test]
fn an_expired_consent_ticket_is_refused() {
    let Scene { world, email, team, project, app } = Scene::new();
    let browser = world.login(&email);
    let (_, challenge) = pkce();
    let form = approval_form(&world, &browser, &world.authorize_query(&app, "project", &challenge), &team, &project);
    // A ticket for this very form and session, issued by the server's own key a TTL ago.
    let mut conn = world.conn();
    let secret: String = server_secrets::table
        .filter(server_secrets::name.eq("consent_ticket"))
        .select(server_secrets::secret)
        .get_result(&mut conn)
        .unwrap();
    let session_hash: String = sessions::table.select(sessions::session_hash).get_result(&mut conn).unwrap();
    let key = TicketKey::new(&SecretString::from(secret)).unwrap();
    let fields: Vec<(&str, Option<&str>)> = [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "resource",
    ]
    .map(|name| (name, form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())))
    .to_vec();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let expired = key.issue(&session_hash, &fields, now - TTL_SECONDS - 1);
    let html =
        assert_refused(&world, post(&world, &browser, &with(&form, "consent_ticket", Some(&expired))), "expired");
    assert!(html.contains("This consent page has expired"), "{html}");
    // The same forge, fresh, is accepted: it is the expiry that was refused.
    let fresh = key.issue(&session_hash, &fields, now);
    assert_approved(post(&world, &browser, &with(&form, "consent_ticket", Some(&fresh))), &app);
}

#[test]
fn switching_team_and_reshown_pages_keep_a_valid_ticket() {
    let Scene { world, email, app, .. } = Scene::new();
    let second_team = world.team(&email);
    let second_project = world.project(&second_team);
    let browser = world.login(&email);
    let (_, challenge) = pkce();
    let mut query = world.authorize_query(&app, "project", &challenge);
    query.push(("team".into(), second_team.clone()));
    // Approving without a project re-shows the page (422) with the error...
    let form = approval_form(&world, &browser, &query, &second_team, "");
    let again = post(&world, &browser, &form);
    assert_eq!(again.status(), 422);
    let mut form = hidden_inputs(&again.text().unwrap());
    // ...and that page's form, completed, is approved.
    form.extend(
        [("team", second_team.as_str()), ("project", second_project.as_str()), ("decision", "approve")]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    assert_approved(post(&world, &browser, &form), &app);
}

#[test]
fn a_consent_page_shown_by_one_instance_is_decided_by_another() {
    let Scene { world, email, team, project, app } = Scene::new();
    let second = Server::start(&world.db.url, &[]);
    let browser = world.login(&email);
    let (_, challenge) = pkce();
    let form = approval_form(&world, &browser, &world.authorize_query(&app, "project", &challenge), &team, &project);
    let response = browser.post(second.url("/oauth/authorize")).form(&form).send().unwrap();
    assert_approved(response, &app);
}
