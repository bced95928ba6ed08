//! `/logout` (SPEC §6): `GET` shows a CSRF-protected logout form, `POST` ends the session.
//! Negative tests are named after the attack they stop.

use diesel::prelude::*;
use portcullis::db::schema::sessions;
use reqwest::blocking::{Client, RequestBuilder};

use crate::harness::{PASSWORD, hidden_inputs, http, location, pkce};
use crate::world::{Scene, World};

/// A signed-in user agent that sends its session cookie by hand, so that the very cookie can
/// be replayed after logout.
struct Session {
    client: Client,
    cookie: String,
}

impl Session {
    fn login(world: &World, email: &str) -> Session {
        let client = http();
        let response =
            client.post(world.url("/login")).form(&[("email", email), ("password", PASSWORD)]).send().unwrap();
        assert_eq!(response.status(), 303, "login");
        let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        Session { client, cookie }
    }

    fn get(&self, world: &World, path: &str) -> RequestBuilder {
        self.client.get(world.url(path)).header("cookie", &self.cookie)
    }

    fn post(&self, world: &World, path: &str) -> RequestBuilder {
        self.client.post(world.url(path)).header("cookie", &self.cookie)
    }

    /// The CSRF token of the logout form on `GET /logout`.
    fn logout_token(&self, world: &World) -> String {
        let page = self.get(world, "/logout").send().unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().unwrap();
        assert_logout_form(&html);
        hidden_inputs(&html).into_iter().find(|(k, _)| k == "csrf_token").unwrap().1
    }

    fn is_logged_in(&self, world: &World) -> bool {
        let response = self.get(world, "/settings/authorized-apps").send().unwrap();
        match response.status().as_u16() {
            200 => true,
            303 => {
                assert!(location(&response).starts_with("/login"));
                false
            }
            other => panic!("unexpected {other}"),
        }
    }
}

/// The page has a form posting to `/logout` with a CSRF token and a submit button.
fn assert_logout_form(html: &str) {
    let start =
        html.find(r#"<form method="post" action="/logout""#).unwrap_or_else(|| panic!("no logout form: {html}"));
    let form = &html[start..start + html[start..].find("</form>").unwrap()];
    assert!(form.contains(r#"name="csrf_token""#), "{form}");
    assert!(form.contains(r#"<button type="submit""#), "{form}");
}

fn sessions_of(world: &World) -> i64 {
    sessions::table.count().get_result(&mut world.conn()).unwrap()
}

#[test]
fn logout_page_shows_a_csrf_protected_form_or_that_nobody_is_logged_in() {
    let world = World::new();
    let anonymous = http().get(world.url("/logout")).send().unwrap();
    assert_eq!(anonymous.status(), 200);
    let html = anonymous.text().unwrap();
    assert!(html.contains("You are not logged in") && html.contains(r#"href="/login""#), "{html}");
    assert!(!html.contains(r#"action="/logout""#), "nothing to log out of");

    let session = Session::login(&world, &world.user());
    let token = session.logout_token(&world);
    assert!(!token.is_empty());
}

#[test]
fn logout_csrf_without_or_with_a_wrong_token_is_refused_and_the_session_kept() {
    let world = World::new();
    let session = Session::login(&world, &world.user());
    let stranger = Session::login(&world, &world.user());
    let strangers_token = stranger.logout_token(&world);
    for form in [vec![], vec![("csrf_token", "forged")], vec![("csrf_token", strangers_token.as_str())]] {
        let response = session.post(&world, "/logout").form(&form).send().unwrap();
        assert_eq!(response.status(), 403, "{form:?}");
        assert!(response.headers().get("set-cookie").is_none(), "{form:?}: the cookie is kept");
        assert!(session.is_logged_in(&world), "{form:?}: the session is kept");
    }
    assert_eq!(sessions_of(&world), 2);
}

#[test]
fn logout_ends_the_session_and_the_old_cookie_replayed_is_logged_out() {
    let world = World::new();
    let email = world.user();
    let session = Session::login(&world, &email);
    let other_session = Session::login(&world, &email);
    let token = session.logout_token(&world);
    let response = session.post(&world, "/logout").form(&[("csrf_token", token.as_str())]).send().unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/logout", "then shows that you are logged out");
    let cleared = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cleared.starts_with("portcullis_session=;") && cleared.contains("Max-Age=0"), "{cleared}");
    // The session row is gone: the very cookie, replayed, is logged out.
    assert_eq!(sessions_of(&world), 1, "only the other session is left");
    assert!(!session.is_logged_in(&world));
    let page = session.get(&world, "/logout").send().unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    assert!(html.contains("You are logged out") && html.contains("You are not logged in"), "{html}");
    // Posting again (a reload) changes nothing and ends no one else's session.
    let again = session.post(&world, "/logout").form(&[("csrf_token", token.as_str())]).send().unwrap();
    assert_eq!((again.status().as_u16(), location(&again)), (303, "/logout".to_owned()));
    assert!(other_session.is_logged_in(&world));
}

#[test]
fn every_page_of_a_logged_in_user_has_a_logout_form() {
    let Scene { world, email, team, app, .. } = Scene::new();
    let session = Session::login(&world, &email);
    let (_, challenge) = pkce();
    let consent = session.get(&world, "/oauth/authorize").query(&world.authorize_query(&app, "project", &challenge));
    let team_grants = format!("/teams/{team}/settings/authorized-apps");
    for (what, request) in [
        ("consent", consent),
        ("authorized applications", session.get(&world, "/settings/authorized-apps")),
        ("team grants", session.get(&world, &team_grants)),
        ("logout", session.get(&world, "/logout")),
    ] {
        let response = request.send().unwrap();
        assert_eq!(response.status(), 200, "{what}");
        assert_logout_form(&response.text().unwrap());
    }
}

#[test]
fn error_pages_lead_to_the_logout_page() {
    let world = World::new();
    let session = Session::login(&world, &world.user());
    let page = session
        .get(&world, "/oauth/authorize?client_id=nobody&redirect_uri=https%3A%2F%2Fx.example%2F")
        .send()
        .unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.text().unwrap().contains(r#"<a href="/logout">Log out</a>"#));
}
