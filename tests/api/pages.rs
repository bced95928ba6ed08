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

/// A team whose developer `granter` has authorized one app three times: on `project`, on
/// `other` and team-wide; and the grant ids, read from the owner's page.
struct Granted {
    world: World,
    owner: String,
    team: String,
    project: String,
    granter: String,
    backend: crate::world::Backend,
    /// (project slug, or `None` for the team-wide grant) → (grant id, token).
    grants: Vec<(Option<String>, i64, String)>,
}

impl Granted {
    fn new() -> Granted {
        let world = World::new();
        let (owner, team, project) = world.owner_with_project();
        let other = world.project(&team);
        let granter = world.user();
        world.member(&team, &granter, "developer");
        let app = world.app(&team);
        let backend = world.backend();
        let mut tokens = vec![
            (
                Some(project.clone()),
                world.access_token(&granter, &app, Grant::Project { team: &team, project: &project }),
            ),
            (Some(other.clone()), world.access_token(&granter, &app, Grant::Project { team: &team, project: &other })),
        ];
        tokens.push((None, world.access_token(&granter, &app, Grant::Team { team: &team })));
        let page =
            world.login(&owner).get(world.url(&format!("/teams/{team}/settings/authorized-apps"))).send().unwrap();
        let html = page.text().unwrap();
        let grants = tokens
            .into_iter()
            .map(|(project, token)| {
                let label = match &project {
                    Some(slug) => format!("<td>Project {slug}</td>"),
                    None => "<em>whole team</em>".to_owned(),
                };
                let row = html.split("<tr>").find(|row| row.contains(&label)).unwrap_or_else(|| panic!("{label}"));
                let id = row.split("/authorized-apps/").nth(1).and_then(|rest| rest.split('/').next()).unwrap();
                (project, id.parse().unwrap(), token)
            })
            .collect();
        Granted { world, owner, team, project, granter, backend, grants }
    }

    fn page(&self, browser: &reqwest::blocking::Client) -> reqwest::blocking::Response {
        browser.get(self.world.url(&format!("/teams/{}/settings/authorized-apps", self.team))).send().unwrap()
    }

    /// Posts the team page's Revoke for grant `id` with `browser`'s CSRF token: the status.
    fn revoke(&self, browser: &reqwest::blocking::Client, id: i64) -> u16 {
        let own = browser.get(self.world.url("/settings/authorized-apps")).send().unwrap().text().unwrap();
        let csrf = crate::harness::csrf(&own);
        let path = format!("/teams/{}/settings/authorized-apps/{id}/revoke", self.team);
        browser.post(self.world.url(&path)).form(&[("csrf_token", csrf)]).send().unwrap().status().as_u16()
    }

    /// Whether the tokens of the grants on `project`, on the other project and team-wide are active.
    fn active(&self) -> Vec<bool> {
        self.grants.iter().map(|(_, _, token)| self.world.is_active(&self.backend, token)).collect()
    }

    fn id(&self, project: Option<&str>) -> i64 {
        self.grants.iter().find(|(p, _, _)| p.as_deref() == project).unwrap().1
    }

    fn other_id(&self) -> i64 {
        self.grants.iter().find(|(p, _, _)| p.as_ref().is_some_and(|p| *p != self.project)).unwrap().1
    }
}

#[test]
fn project_admins_see_and_revoke_the_grants_on_their_project_only() {
    let g = Granted::new();
    let admin = g.world.user();
    g.world.member(&g.team, &admin, "developer");
    g.world.cli(&[
        "admin",
        "member",
        "set-project-admin",
        "--team",
        &g.team,
        "--email",
        &admin,
        "--project",
        &g.project,
    ]);
    let browser = g.world.login(&admin);

    let page = g.page(&browser);
    assert_eq!(page.status(), 200, "project admins oversee the grants on their project");
    let html = page.text().unwrap();
    assert!(html.contains(&g.granter) && html.contains(&format!("/{}/revoke", g.id(Some(&g.project)))));
    assert!(!html.contains(&format!("/{}/revoke", g.other_id())), "not the other project's");
    assert!(!html.contains("whole team"), "nor team-wide ones");

    assert_eq!(g.revoke(&browser, g.other_id()), 404);
    assert_eq!(g.revoke(&browser, g.id(None)), 404, "team-wide grants are for team admins");
    assert_eq!(g.active(), [true, true, true]);
    assert_eq!(g.revoke(&browser, g.id(Some(&g.project))), 303);
    assert_eq!(g.active(), [false, true, true]);
    // The team admin revokes the team-wide one.
    assert_eq!(g.revoke(&g.world.login(&g.owner), g.id(None)), 303);
    assert_eq!(g.active(), [false, true, false]);
}

#[test]
fn developers_revoke_their_own_grants_only() {
    let g = Granted::new();
    let dev = g.world.user();
    g.world.member(&g.team, &dev, "developer");
    let browser = g.world.login(&dev);
    assert_eq!(g.page(&browser).status(), 404, "a developer oversees nobody's grants");
    assert_eq!(g.revoke(&browser, g.id(Some(&g.project))), 404);
    assert_eq!(g.revoke(&browser, g.id(None)), 404);
    assert_eq!(g.active(), [true, true, true]);
    // The one who made them may, the team-wide one included, from the team's URL as well.
    let granter = g.world.login(&g.granter);
    assert_eq!(g.revoke(&granter, g.id(Some(&g.project))), 303);
    assert_eq!(g.revoke(&granter, g.id(None)), 303);
    assert_eq!(g.active(), [false, true, false]);
}

#[test]
fn custom_roles_with_token_revoke_revoke_and_with_token_view_only_look() {
    let g = Granted::new();
    let statements = |actions: &str| {
        format!(r#"[{{"effect":"allow","actions":{actions},"resource":"project:slug={}"}}]"#, g.project)
    };
    g.world.cli(&[
        "admin",
        "role",
        "create",
        "--team",
        &g.team,
        "--name",
        "keeper",
        "--statements",
        &statements(r#"["token:view","token:revoke"]"#),
    ]);
    g.world.cli(&[
        "admin",
        "role",
        "create",
        "--team",
        &g.team,
        "--name",
        "auditor",
        "--statements",
        &statements(r#"["token:view"]"#),
    ]);
    let member = |role: &str| {
        let email = g.world.user();
        g.world.member(&g.team, &email, "developer");
        g.world.cli(&["admin", "member", "set-custom-roles", "--team", &g.team, "--email", &email, "--role", role]);
        g.world.login(&email)
    };
    let (keeper, auditor) = (member("keeper"), member("auditor"));

    let html = g.page(&auditor).text().unwrap();
    assert!(html.contains(&g.granter), "token:view shows the grants on the project");
    assert!(!html.contains("/revoke\""), "but no Revoke without token:revoke");
    assert_eq!(g.revoke(&auditor, g.id(Some(&g.project))), 404);
    assert_eq!(g.active(), [true, true, true]);

    assert!(g.page(&keeper).text().unwrap().contains(&format!("/{}/revoke", g.id(Some(&g.project)))));
    assert_eq!(g.revoke(&keeper, g.other_id()), 404, "the role names one project");
    assert_eq!(g.revoke(&keeper, g.id(None)), 404, "team-wide grants are for team admins");
    assert_eq!(g.revoke(&keeper, g.id(Some(&g.project))), 303);
    assert_eq!(g.active(), [false, true, true]);
}
