//! The team settings pages for members, OAuth apps and projects (SPEC §2, §6): what an admin
//! can do there, that each change is live at once, and what a developer cannot do.

use reqwest::blocking::{Client, Response};

use crate::harness::{csrf, http, unescape};
use crate::world::{App, Backend, Grant, World};

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

    fn url(&self, tail: &str) -> String {
        self.world.url(&format!("/teams/{}/settings/{tail}", self.slug))
    }

    fn get(&self, browser: &Client, tail: &str) -> Response {
        browser.get(self.url(tail)).send().unwrap()
    }

    /// Posts `fields` to `tail` with the CSRF token of the page at `page`.
    fn post(&self, browser: &Client, page: &str, tail: &str, fields: &[(&str, &str)]) -> Response {
        let html = self.get(browser, page).text().unwrap();
        let token = csrf(&html);
        let mut form = vec![("csrf_token", token.as_str())];
        form.extend_from_slice(fields);
        browser.post(self.url(tail)).form(&form).send().unwrap()
    }

    fn user_id(&self, email: &str) -> String {
        let mut conn = self.world.conn();
        use diesel::prelude::*;
        use portcullis::db::schema::users;
        users::table.filter(users::email.eq(email)).select(users::id).first::<i64>(&mut conn).unwrap().to_string()
    }

    fn members(&self) -> serde_json::Value {
        self.world.cli(&["admin", "member", "list", "--team", &self.slug])
    }
}

/// The value of the readonly input of a "shown once" page.
fn shown_secret(html: &str) -> String {
    let marker = r#"id="credential" type="text" readonly value=""#;
    let start = html.find(marker).expect("the secret in a readonly input") + marker.len();
    unescape(&html[start..start + html[start..].find('"').unwrap()])
}

/// The value shown after `label` in the facts list of a "shown once" page.
fn shown_fact(html: &str, label: &str) -> String {
    let start = html.find(&format!("<dt>{label}</dt><dd><code>")).expect(label) + label.len() + 19;
    unescape(&html[start..start + html[start..].find('<').unwrap()])
}

#[test]
fn an_admin_adds_changes_and_removes_a_member_and_removal_ends_their_tokens() {
    let team = Team::new();
    let browser = team.world.login(&team.admin);
    let newcomer = team.world.user();

    // Unknown users and bad emails come back next to the field.
    for (email, message) in [("nobody@example.com", "no user"), ("not-an-email", "email")] {
        let refused = team.post(&browser, "members", "members", &[("email", email), ("role", "developer")]);
        assert_eq!(refused.status(), 422, "{email}");
        let html = refused.text().unwrap();
        assert!(html.contains(r#"id="email-error""#) && html.to_lowercase().contains(message), "{html}");
    }
    let added = team.post(&browser, "members", "members", &[("email", &newcomer), ("role", "developer")]);
    assert_eq!(added.status(), 303);
    let listing = team.get(&browser, "members").text().unwrap();
    assert!(listing.contains(&newcomer), "{listing}");
    let again = team.post(&browser, "members", "members", &[("email", &newcomer), ("role", "developer")]);
    assert_eq!(again.status(), 422, "already a member");

    let app = team.world.app(&team.slug);
    let token = team.world.access_token(&newcomer, &app, Grant::Project { team: &team.slug, project: &team.project });
    assert!(team.world.is_active(&team.backend, &token));

    let id = team.user_id(&newcomer);
    let page = format!("members/{id}");
    assert_eq!(team.post(&browser, &page, &format!("{page}/role"), &[("role", "admin")]).status(), 303);
    assert_eq!(team.world.introspect(&team.backend, &token)["role"], "admin", "the token follows the role at once");
    let made =
        team.post(&browser, &page, &format!("{page}/project-admin"), &[("project", &team.project), ("on", "true")]);
    assert_eq!(made.status(), 303);
    assert!(team.get(&browser, &page).text().unwrap().contains("Remove project admin"));

    let confirm = team.get(&browser, &format!("{page}/remove")).text().unwrap();
    assert!(confirm.contains("Remove member") && confirm.contains(&newcomer));
    let removed = team.post(&browser, &format!("{page}/remove"), &format!("{page}/remove"), &[]);
    assert_eq!(removed.status(), 303);
    assert!(!team.world.is_active(&team.backend, &token), "removal revokes their grants");
    assert!(!team.members().to_string().contains(&newcomer));
}

#[test]
fn a_developer_sees_members_but_cannot_add_change_or_remove_anyone() {
    let team = Team::new();
    let browser = team.world.login(&team.dev);
    let listing = team.get(&browser, "members").text().unwrap();
    assert!(listing.contains(&team.admin), "developers have member:view");
    assert!(!listing.contains("Add a member") && !listing.contains("/remove\""), "{listing}");

    let outsider = team.world.user();
    let add = team.post(&browser, "members", "members", &[("email", &outsider), ("role", "admin")]);
    assert_eq!(add.status(), 403);
    let admin_id = team.user_id(&team.admin);
    let me = team.user_id(&team.dev);
    for (tail, fields) in [
        (format!("members/{admin_id}/role"), vec![("role", "developer")]),
        (format!("members/{me}/role"), vec![("role", "admin")]),
        (format!("members/{me}/project-admin"), vec![("project", team.project.as_str()), ("on", "true")]),
        (format!("members/{admin_id}/remove"), vec![]),
    ] {
        assert_eq!(team.post(&browser, "members", &tail, &fields).status(), 403, "{tail}");
    }
    assert_eq!(team.get(&browser, &format!("members/{admin_id}")).status(), 403);
    let members = team.members().to_string();
    assert!(!members.contains(&outsider), "{members}");
    assert!(members.contains(r#""role":"developer""#) && members.contains(r#""role":"admin""#), "{members}");
}

#[test]
fn an_admin_cannot_change_their_own_role_from_the_page() {
    let team = Team::new();
    let browser = team.world.login(&team.admin);
    let me = team.user_id(&team.admin);
    assert_eq!(team.post(&browser, "members", &format!("members/{me}/role"), &[("role", "developer")]).status(), 403);
}

/// Registers an app through the page; returns it with the secret the page showed.
fn register(team: &Team, browser: &Client, redirect_uri: &str) -> App {
    let response = team.post(
        browser,
        "apps",
        "apps",
        &[("name", "Page Integration"), ("redirect_uris", &format!("{redirect_uri}\r\n\r\n"))],
    );
    assert_eq!(response.status(), 200);
    let html = response.text().unwrap();
    assert!(html.contains("only time it is shown"), "{html}");
    App {
        client_id: shown_fact(&html, "Client ID"),
        secret: Some(shown_secret(&html)),
        redirect_uri: redirect_uri.into(),
    }
}

#[test]
fn an_admin_registers_an_app_whose_shown_secret_works_and_regenerating_kills_it() {
    let team = Team::new();
    let browser = team.world.login(&team.admin);
    let app = register(&team, &browser, "https://page.client.example/cb");
    let grant = Grant::Project { team: &team.slug, project: &team.project };
    let (code, verifier) = team.world.code_for(&team.dev, &app, grant.clone());
    assert_eq!(team.world.exchange(&app, &code, &verifier).status(), 200, "the secret shown works");

    let listing = team.get(&browser, "apps").text().unwrap();
    assert!(listing.contains(&app.client_id) && listing.contains("1 of 100 teams"), "{listing}");
    assert!(!listing.contains(app.secret.as_deref().unwrap()), "never shown again");

    let secret_page = format!("apps/{}/secret", app.client_id);
    assert!(team.get(&browser, &secret_page).text().unwrap().contains("Regenerate secret"));
    let regenerated = team.post(&browser, &secret_page, &secret_page, &[]);
    assert_eq!(regenerated.status(), 200);
    let new_secret = shown_secret(&regenerated.text().unwrap());
    let (code, verifier) = team.world.code_for(&team.dev, &app, grant.clone());
    assert_eq!(team.world.exchange(&app, &code, &verifier).status(), 401, "the old secret is dead at once");
    let renewed = App { secret: Some(new_secret), ..app.clone() };
    let (code, verifier) = team.world.code_for(&team.dev, &renewed, grant);
    assert_eq!(team.world.exchange(&renewed, &code, &verifier).status(), 200);
}

#[test]
fn app_edits_are_validated_next_to_the_field_and_deletion_ends_every_grant() {
    let team = Team::new();
    let browser = team.world.login(&team.admin);
    let app = register(&team, &browser, "https://edit.client.example/cb");
    let page = format!("apps/{}", app.client_id);
    for (uris, name, field) in [
        ("https://x.example/cb#frag", "Fine name", "redirect_uris"),
        ("", "Fine name", "redirect_uris"),
        ("https://x.example/cb", "ab", "name"),
    ] {
        let refused = team.post(&browser, &page, &page, &[("name", name), ("redirect_uris", uris)]);
        assert_eq!(refused.status(), 422, "{field}: {uris:?} {name:?}");
        assert!(refused.text().unwrap().contains(&format!(r#"id="{field}-error""#)), "{field}");
    }
    let moved = "https://moved.client.example/cb";
    let saved = team.post(&browser, &page, &page, &[("name", "Renamed Integration"), ("redirect_uris", moved)]);
    assert_eq!(saved.status(), 303);
    let listing = team.get(&browser, "apps").text().unwrap();
    assert!(listing.contains("Renamed Integration") && listing.contains(moved), "{listing}");
    let old_uri = http()
        .get(team.world.url("/oauth/authorize"))
        .query(&team.world.authorize_query(&app, "project", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"))
        .send()
        .unwrap();
    assert_eq!(old_uri.status(), 400, "the old redirect URI is no longer accepted");

    let moved_app = App { redirect_uri: moved.into(), ..app.clone() };
    let token = team.world.access_token(&team.dev, &moved_app, Grant::Team { team: &team.slug });
    assert!(team.world.is_active(&team.backend, &token));
    let delete = format!("{page}/delete");
    assert_eq!(team.post(&browser, &delete, &delete, &[]).status(), 303);
    assert!(!team.world.is_active(&team.backend, &token), "deleting the app ends its grants");
    assert!(!team.get(&browser, "apps").text().unwrap().contains(&app.client_id));
}

#[test]
fn a_developer_sees_the_apps_but_cannot_register_edit_or_delete_them() {
    let team = Team::new();
    let app = team.world.app(&team.slug);
    let browser = team.world.login(&team.dev);
    let listing = team.get(&browser, "apps").text().unwrap();
    assert!(listing.contains(&app.client_id), "developers have oauthApp:view");
    assert!(!listing.contains("Register an application"), "{listing}");
    let fields = [("name", "Sneaky"), ("redirect_uris", "https://sneaky.example/cb")];
    assert_eq!(team.post(&browser, "apps", "apps", &fields).status(), 403);
    let page = format!("apps/{}", app.client_id);
    assert_eq!(team.post(&browser, "apps", &page, &fields).status(), 403);
    for step in ["secret", "delete"] {
        assert_eq!(team.post(&browser, "apps", &format!("{page}/{step}"), &[]).status(), 403, "{step}");
    }
    let token = team.world.access_token(&team.admin, &app, Grant::Team { team: &team.slug });
    assert!(team.world.is_active(&team.backend, &token), "the app and its secret are untouched");
}

#[test]
fn projects_are_created_renamed_and_deleted_from_the_page_and_deletion_ends_their_tokens() {
    let team = Team::new();
    let browser = team.world.login(&team.admin);
    let created = team.post(&browser, "projects", "projects", &[("name", "Docs site"), ("slug", "docs")]);
    assert_eq!(created.status(), 303);
    let taken = team.post(&browser, "projects", "projects", &[("name", "Docs again"), ("slug", "docs")]);
    assert_eq!(taken.status(), 422);
    assert!(taken.text().unwrap().contains(r#"id="slug-error""#));
    let bad = team.post(&browser, "projects", "projects", &[("name", "Bad"), ("slug", "Not A Slug")]);
    assert_eq!(bad.status(), 422);

    let app = team.world.app(&team.slug);
    let token = team.world.access_token(&team.admin, &app, Grant::Project { team: &team.slug, project: "docs" });
    let renamed = team.post(&browser, "projects/docs", "projects/docs", &[("name", "Handbook"), ("slug", "handbook")]);
    assert_eq!(renamed.status(), 303);
    assert!(team.world.is_active(&team.backend, &token), "tokens survive a rename");
    let listing = team.get(&browser, "projects").text().unwrap();
    assert!(listing.contains("Handbook") && listing.contains("handbook"), "{listing}");

    let deleted = team.post(&browser, "projects/handbook/delete", "projects/handbook/delete", &[]);
    assert_eq!(deleted.status(), 303);
    assert!(!team.world.is_active(&team.backend, &token), "deletion ends every credential scoped to it");
}

#[test]
fn a_developer_creates_projects_but_cannot_delete_them() {
    let team = Team::new();
    let browser = team.world.login(&team.dev);
    assert_eq!(team.post(&browser, "projects", "projects", &[("name", "Mine"), ("slug", "mine")]).status(), 303);
    let delete = format!("projects/{}/delete", team.project);
    assert_eq!(team.post(&browser, "projects", &delete, &[]).status(), 403);
    assert!(team.get(&browser, "projects").text().unwrap().contains(&team.project));
}

#[test]
fn the_header_offers_the_settings_of_each_of_the_users_teams() {
    let team = Team::new();
    let other = team.world.team(&team.dev);
    let browser = team.world.login(&team.dev);
    let html = team.get(&browser, "deploy-keys").text().unwrap();
    for slug in [&team.slug, &other] {
        assert!(html.contains(&format!(r#"href="/teams/{slug}/settings""#)), "{slug}: {html}");
    }
    let single = team.world.login(&team.admin);
    let html = team.get(&single, "deploy-keys").text().unwrap();
    assert!(html.contains(&format!(r#"<a href="/teams/{}/settings">Settings</a>"#, team.slug)), "{html}");
}

#[test]
fn a_custom_role_with_member_rights_cannot_hand_out_admin_or_touch_an_admin() {
    let team = Team::new();
    let manager = team.world.user();
    team.world.member(&team.slug, &manager, "developer");
    let statements = r#"[{"effect":"allow","actions":["team:view","member:view","member:invite","member:updateRole","member:remove"],"resource":"team"}]"#;
    team.world.cli(&["admin", "role", "create", "--team", &team.slug, "--name", "people", "--statements", statements]);
    team.world.cli(&[
        "admin",
        "member",
        "set-custom-roles",
        "--team",
        &team.slug,
        "--email",
        &manager,
        "--role",
        "people",
    ]);
    let browser = team.world.login(&manager);

    let newcomer = team.world.user();
    let as_admin = team.post(&browser, "members", "members", &[("email", &newcomer), ("role", "admin")]);
    assert_eq!(as_admin.status(), 422);
    assert!(as_admin.text().unwrap().contains("only a team admin"));
    assert_eq!(team.post(&browser, "members", "members", &[("email", &newcomer), ("role", "developer")]).status(), 303);

    let (dev_id, admin_id, me) = (team.user_id(&team.dev), team.user_id(&team.admin), team.user_id(&manager));
    let promote = team.post(&browser, "members", &format!("members/{dev_id}/role"), &[("role", "admin")]);
    assert_eq!(promote.status(), 422, "no escalation to admin");
    let project_admin = [("project", team.project.as_str()), ("on", "true")];
    assert_eq!(
        team.post(&browser, "members", &format!("members/{dev_id}/project-admin"), &project_admin).status(),
        403
    );
    assert_eq!(team.post(&browser, "members", &format!("members/{me}/project-admin"), &project_admin).status(), 403);
    assert_eq!(
        team.post(&browser, "members", &format!("members/{admin_id}/role"), &[("role", "developer")]).status(),
        422
    );
    assert_eq!(team.post(&browser, "members", &format!("members/{admin_id}/remove"), &[]).status(), 403);
    let members = team.members().to_string();
    assert_eq!(members.matches(r#""role":"admin""#).count(), 1, "{members}");
    let all = team.members();
    let holders: Vec<&str> = all["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !m["project_admin_of"].as_array().unwrap().is_empty())
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert!(holders.is_empty(), "{holders:?}");
}
