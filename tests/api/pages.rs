//! The "authorized applications" pages and their Revoke buttons.

use std::time::Duration;

use crate::harness::{eventually, hidden_inputs, location};
use crate::world::{Grant, World};

/// The action and fields of the first revoke form on a page.
fn revoke_form(html: &str) -> (String, Vec<(String, String)>) {
    let start = html.find("/revoke\"").expect("a revoke form");
    let action_start = html[..start].rfind("action=\"").unwrap() + "action=\"".len();
    (html[action_start..start + "/revoke".len()].to_owned(), hidden_inputs(&html[action_start..]))
}

#[test]
fn users_see_their_grants_and_revoking_one_ends_it_at_once() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.app(&team);
    let backend = world.backend();
    let token = world.access_token(&email, &app, Grant::Project { team: &team, project: &project });
    let browser = world.login(&email);

    // Using the token marks it used (the write is coalesced, so it shows up shortly).
    assert!(world.is_active(&backend, &token));
    assert!(
        eventually(Duration::from_secs(15), || {
            !browser.get(world.url("/settings/authorized-apps")).send().unwrap().text().unwrap().contains(">never<")
        }),
        "last used is recorded"
    );
    let page = browser.get(world.url("/settings/authorized-apps")).send().unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers().get("x-frame-options").unwrap(), "DENY");
    let html = page.text().unwrap();
    assert!(html.contains("Test Integration") && html.contains(&format!("Project {project}")));

    let (action, form) = revoke_form(&html);
    // Without the CSRF token: refused.
    let forged = browser.post(world.url(&action)).form(&[("csrf_token", "forged")]).send().unwrap();
    assert_eq!(forged.status(), 403);
    assert!(world.is_active(&backend, &token));
    // Another user cannot revoke it even with their own valid CSRF token.
    let stranger = world.login(&world.user());
    let stranger_page = stranger.get(world.url("/settings/authorized-apps")).send().unwrap().text().unwrap();
    let stranger_csrf = hidden_inputs(&stranger_page).into_iter().find(|(k, _)| k == "csrf_token").unwrap();
    let response = stranger.post(world.url(&action)).form(&[stranger_csrf]).send().unwrap();
    assert_eq!(response.status(), 404);
    assert!(world.is_active(&backend, &token));
    // A grant id that is not a number names nothing: the 404 page, like any unknown grant.
    for id in ["abc", "99999999999999999999999"] {
        let odd =
            browser.post(world.url(&format!("/settings/authorized-apps/{id}/revoke"))).form(&form).send().unwrap();
        assert_eq!(odd.status(), 404, "{id}");
        assert!(odd.text().unwrap().contains("There is nothing here."), "{id}");
    }

    let response = browser.post(world.url(&action)).form(&form).send().unwrap();
    assert_eq!(response.status(), 303);
    assert!(!world.is_active(&backend, &token));
    let after = browser.get(world.url(&location(&response))).send().unwrap().text().unwrap();
    assert!(after.contains("Access revoked") && !after.contains("Test Integration"));
}

#[test]
fn team_admins_see_and_revoke_every_grant_on_their_team_developers_cannot() {
    let world = World::new();
    let (admin, team, project) = world.owner_with_project();
    let dev = world.user();
    world.member(&team, &dev, "developer");
    let app = world.app(&team);
    let backend = world.backend();
    let token = world.access_token(&dev, &app, Grant::Project { team: &team, project: &project });

    let dev_browser = world.login(&dev);
    assert_eq!(
        dev_browser.get(world.url(&format!("/teams/{team}/settings/authorized-apps"))).send().unwrap().status(),
        404
    );

    let admin_browser = world.login(&admin);
    // The settings land on deploy keys; the tab bar leads admins to the team's grants.
    let settings = admin_browser.get(world.url(&format!("/teams/{team}/settings"))).send().unwrap();
    assert_eq!(settings.status(), 303);
    let landing = admin_browser.get(world.url(&location(&settings))).send().unwrap().text().unwrap();
    let tab = format!("/teams/{team}/settings/authorized-apps");
    assert!(landing.contains(&format!(r#"<a href="{tab}">Authorizations</a>"#)), "{landing}");
    let html = admin_browser.get(world.url(&tab)).send().unwrap().text().unwrap();
    assert!(html.contains(r#"aria-current="page">Authorizations</a>"#));
    assert!(html.contains(&dev), "shows who granted it");
    let (action, form) = revoke_form(&html);
    assert_eq!(admin_browser.post(world.url(&action)).form(&form).send().unwrap().status(), 303);
    assert!(!world.is_active(&backend, &token));
}

#[test]
fn pages_require_login() {
    let world = World::new();
    let response = crate::harness::browser().get(world.url("/settings/authorized-apps")).send().unwrap();
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with("/login?next=%2Fsettings%2Fauthorized-apps"));
}
