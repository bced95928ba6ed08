//! Login, sessions and their defences (SPEC §6 "Session security").

use crate::harness::{PASSWORD, browser, location};
use crate::world::World;

fn login(
    world: &World,
    client: &reqwest::blocking::Client,
    email: &str,
    password: &str,
) -> reqwest::blocking::Response {
    client.post(world.url("/login")).form(&[("email", email), ("password", password)]).send().unwrap()
}

fn session_cookie(response: &reqwest::blocking::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("portcullis_session="))
}

#[test]
fn login_sets_a_new_httponly_samesite_lax_session_each_time() {
    let world = World::new();
    let email = world.user();
    let client = browser();
    let form = client.get(world.url("/login")).send().unwrap().text().unwrap();
    assert!(form.contains(r#"name="email""#) && form.contains(r#"name="password""#));
    let first = login(&world, &client, &email, PASSWORD);
    assert_eq!(first.status(), 303);
    let cookie = session_cookie(&first).unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "the test issuer is http");
    let second = login(&world, &client, &email, PASSWORD);
    let again = session_cookie(&second).unwrap();
    assert_ne!(cookie.split(';').next(), again.split(';').next(), "login issues a new session id (no fixation)");
    // The old session no longer works.
    let stale = browser();
    let old_value = cookie.split(';').next().unwrap().to_owned();
    let response = stale.get(world.url("/settings/authorized-apps")).header("cookie", old_value).send().unwrap();
    assert_eq!(response.status(), 303, "the replaced session is gone");
}

#[test]
fn wrong_password_and_unknown_user_look_the_same() {
    let world = World::new();
    let email = world.user();
    let wrong = login(&world, &browser(), &email, "not-the-password");
    let unknown = login(&world, &browser(), "nobody@example.com", PASSWORD);
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    assert!(session_cookie(&wrong).is_none());
    let (a, b) = (wrong.text().unwrap(), unknown.text().unwrap());
    assert!(a.contains("Incorrect email or password") && b.contains("Incorrect email or password"));
}

#[test]
fn disabled_users_cannot_log_in_and_their_sessions_end() {
    let world = World::new();
    let email = world.user();
    let client = world.login(&email);
    world.cli(&["admin", "user", "disable", "--email", &email]);
    assert_eq!(client.get(world.url("/settings/authorized-apps")).send().unwrap().status(), 303);
    assert_eq!(login(&world, &browser(), &email, PASSWORD).status(), 401);
}

#[test]
fn open_redirect_after_login_only_same_origin_paths_are_followed() {
    let world = World::new();
    let email = world.user();
    for next in ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"] {
        let response = browser()
            .post(world.url("/login"))
            .form(&[("email", email.as_str()), ("password", PASSWORD), ("next", next)])
            .send()
            .unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), "/settings/authorized-apps", "{next}");
    }
    let response = browser()
        .post(world.url("/login"))
        .form(&[("email", email.as_str()), ("password", PASSWORD), ("next", "/settings/authorized-apps?x=1")])
        .send()
        .unwrap();
    assert_eq!(location(&response), "/settings/authorized-apps?x=1");
}

#[test]
fn login_csrf_cross_site_posts_are_refused() {
    let world = World::new();
    let email = world.user();
    let response = browser()
        .post(world.url("/login"))
        .header("origin", "https://evil.example")
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .unwrap();
    assert_eq!(response.status(), 403);
    let labelled = |headers: &[(&str, &str)]| {
        let mut request = browser().post(world.url("/login"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.form(&[("email", email.as_str()), ("password", PASSWORD)]).send().unwrap().status()
    };
    // What browsers send under our no-referrer policy: Origin null, but labelled same-origin.
    assert_eq!(labelled(&[("origin", "null"), ("sec-fetch-site", "same-origin")]), 303);
    assert_eq!(labelled(&[("origin", "null"), ("sec-fetch-site", "cross-site")]), 403);
    assert_eq!(labelled(&[("sec-fetch-site", "same-site")]), 403, "a sibling subdomain is another site's page");
    assert_eq!(labelled(&[("origin", "null")]), 403, "an unlabelled opaque origin (sandboxed frame)");
    let same_origin = browser()
        .post(world.url("/login"))
        .header("origin", world.server.base.as_str())
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .unwrap();
    assert_eq!(same_origin.status(), 303);
}

#[test]
fn brute_force_ten_failures_in_fifteen_minutes_are_throttled_per_account() {
    let world = World::new();
    let email = world.user();
    for _ in 0..10 {
        assert_eq!(login(&world, &browser(), &email, "wrong-password").status(), 401);
    }
    let throttled = login(&world, &browser(), &email, PASSWORD);
    assert_eq!(throttled.status(), 429, "even the right password waits");
    let retry_after: i64 = throttled.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
}

#[test]
fn brute_force_across_accounts_is_throttled_per_client_address() {
    let world = World::new();
    let email = world.user();
    for i in 0..10 {
        assert_eq!(login(&world, &browser(), &format!("guess{i}@example.com"), "x").status(), 401);
    }
    assert_eq!(login(&world, &browser(), &email, PASSWORD).status(), 429);
}

#[test]
fn sessions_are_secure_cookies_when_the_issuer_is_https() {
    let world = World::with_env(&[("PORTCULLIS_ISSUER", "https://auth.example.com")]);
    let email = world.user();
    let response = login(&world, &browser(), &email, PASSWORD);
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-portcullis_session=") && cookie.contains("Secure"), "{cookie}");
}
