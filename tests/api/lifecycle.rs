//! Every use re-checks membership (SPEC §1): each lifecycle event turns an active token
//! inactive on the very next introspection.

use crate::harness::http;
use crate::world::{App, Backend, Grant, World};

struct Member {
    world: World,
    backend: Backend,
    team: String,
    project: String,
    dev: String,
    app: App,
    token: String,
}

/// A developer of a team holding a live project token.
fn member_with_token() -> Member {
    let world = World::new();
    let (_, team, project) = world.owner_with_project();
    let dev = world.user();
    world.member(&team, &dev, "developer");
    let app = world.app(&team);
    let backend = world.backend();
    let token = world.access_token(&dev, &app, Grant::Project { team: &team, project: &project });
    assert!(world.is_active(&backend, &token));
    Member { world, backend, team, project, dev, app, token }
}

#[test]
fn removing_the_member_ends_the_token_and_re_adding_does_not_revive_it() {
    let m = member_with_token();
    m.world.cli(&["admin", "member", "remove", "--team", &m.team, "--email", &m.dev]);
    assert!(!m.world.is_active(&m.backend, &m.token));
    m.world.member(&m.team, &m.dev, "developer");
    assert!(!m.world.is_active(&m.backend, &m.token), "re-adding must not bring the old token back");
    // A new grant after re-adding works.
    let fresh = m.world.access_token(&m.dev, &m.app, Grant::Project { team: &m.team, project: &m.project });
    assert!(m.world.is_active(&m.backend, &fresh));
}

#[test]
fn a_role_change_shows_in_the_next_introspection() {
    let m = member_with_token();
    assert_eq!(m.world.introspect(&m.backend, &m.token)["role"], "developer");
    m.world.cli(&["admin", "member", "set-role", "--team", &m.team, "--email", &m.dev, "--role", "admin"]);
    assert_eq!(m.world.introspect(&m.backend, &m.token)["role"], "admin");
    m.world.cli(&[
        "admin",
        "member",
        "set-project-admin",
        "--team",
        &m.team,
        "--project",
        &m.project,
        "--email",
        &m.dev,
    ]);
    assert_eq!(m.world.introspect(&m.backend, &m.token)["project_admin"], true);
}

#[test]
fn deleting_the_project_ends_the_token_even_if_a_project_of_that_name_returns() {
    let m = member_with_token();
    m.world.cli(&["admin", "project", "delete", "--team", &m.team, "--slug", &m.project]);
    assert!(!m.world.is_active(&m.backend, &m.token));
    m.world.cli(&["admin", "project", "create", "--team", &m.team, "--slug", &m.project, "--name", "Again"]);
    assert!(!m.world.is_active(&m.backend, &m.token));
}

#[test]
fn disabling_the_user_ends_the_token() {
    let m = member_with_token();
    m.world.cli(&["admin", "user", "disable", "--email", &m.dev]);
    assert!(!m.world.is_active(&m.backend, &m.token));
}

#[test]
fn deleting_the_app_ends_the_token() {
    let m = member_with_token();
    m.world.cli(&["admin", "app", "delete", "--client-id", &m.app.client_id]);
    assert!(!m.world.is_active(&m.backend, &m.token));
}

#[test]
fn renaming_the_team_or_project_does_not_break_tokens() {
    let m = member_with_token();
    m.world.cli(&["admin", "team", "update", "--slug", &m.team, "--new-slug", &format!("{}-renamed", m.team)]);
    m.world.cli(&[
        "admin",
        "project",
        "update",
        "--team",
        &format!("{}-renamed", m.team),
        "--slug",
        &m.project,
        "--new-slug",
        "renamed-project",
    ]);
    let answer = m.world.introspect(&m.backend, &m.token);
    assert_eq!(answer["active"], true);
    assert_eq!(answer["project_slug"], "renamed-project", "introspection reports the current slug");
    assert!(
        m.token.starts_with(&format!("project:{}:{}|", m.team, m.project)),
        "the prefix keeps the issue-time slugs"
    );
}

fn revoke(world: &World, app: &App, token: &str) -> reqwest::blocking::Response {
    http()
        .post(world.url("/oauth/revoke"))
        .basic_auth(&app.client_id, app.secret.as_deref())
        .form(&[("token", token)])
        .send()
        .unwrap()
}

#[test]
fn the_holding_app_revokes_its_token_other_apps_cannot() {
    let m = member_with_token();
    let other = m.world.app(&m.team);
    let response = revoke(&m.world, &other, &m.token);
    assert_eq!(response.status(), 200, "RFC 7009: another app's token gets 200...");
    assert!(m.world.is_active(&m.backend, &m.token), "...and nothing changes");
    assert_eq!(revoke(&m.world, &m.app, "no-such-token").status(), 200, "unknown tokens get 200");
    assert_eq!(revoke(&m.world, &m.app, &m.token).status(), 200);
    assert!(!m.world.is_active(&m.backend, &m.token));
    assert_eq!(revoke(&m.world, &m.app, &m.token).status(), 200, "revoking twice is fine");
    let unauthenticated =
        http().post(m.world.url("/oauth/revoke")).form(&[("token", m.token.as_str())]).send().unwrap();
    assert_eq!(unauthenticated.status(), 401);
}

#[test]
fn revoking_the_refresh_token_revokes_the_grant() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.expiring_app(&team);
    let backend = world.backend();
    let tokens = world.tokens(&email, &app, Grant::Project { team: &team, project: &project });
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(revoke(&world, &app, tokens["refresh_token"].as_str().unwrap()).status(), 200);
    assert!(!world.is_active(&backend, access));
}

#[test]
fn public_clients_revoke_with_their_client_id() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.public_app(&team);
    let backend = world.backend();
    let token = world.access_token(&email, &app, Grant::Project { team: &team, project: &project });
    let response = http()
        .post(world.url("/oauth/revoke"))
        .form(&[("token", token.as_str()), ("client_id", &app.client_id)])
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(!world.is_active(&backend, &token));
}

/// The promise under load, with every cache warm: introspections run back to back on several
/// connections while the member is removed through the CLI (another process). Not one that
/// began after the removal committed may answer active.
#[test]
fn no_introspection_begun_after_a_removal_committed_sees_the_token_even_under_load() {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    let m = member_with_token();
    let url = m.world.url("/oauth/introspect");
    let (stop, removed_at) = (AtomicBool::new(false), OnceLock::<Instant>::new());
    let tallies: Vec<(usize, usize, usize)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let client = http();
                    let (mut active_before, mut after, mut active_after) = (0, 0, 0);
                    while !stop.load(Ordering::Relaxed) {
                        let began = Instant::now();
                        let answer: serde_json::Value = client
                            .post(&url)
                            .basic_auth(&m.backend.id, Some(&m.backend.secret))
                            .form(&[("token", m.token.as_str())])
                            .send()
                            .unwrap()
                            .json()
                            .unwrap();
                        let active = answer["active"] == true;
                        match removed_at.get() {
                            Some(at) if began > *at => {
                                after += 1;
                                active_after += usize::from(active);
                            }
                            Some(_) => {}
                            None => active_before += usize::from(active),
                        }
                    }
                    (active_before, after, active_after)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        m.world.cli(&["admin", "member", "remove", "--team", &m.team, "--email", &m.dev]);
        removed_at.set(Instant::now()).unwrap();
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::Relaxed);
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let sum = |pick: fn(&(usize, usize, usize)) -> usize| tallies.iter().map(pick).sum::<usize>();
    assert!(sum(|t| t.0) > 0 && sum(|t| t.1) > 0, "the load ran on both sides of the removal: {tallies:?}");
    assert_eq!(sum(|t| t.2), 0, "active answers to introspections begun after the removal: {tallies:?}");
}
