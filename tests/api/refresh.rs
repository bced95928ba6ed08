//! Refresh tokens (SPEC §4): rotation, reuse detection, client binding, membership re-check.

use std::sync::{Arc, Barrier};

use serde_json::Value;

use crate::harness::http;
use crate::world::{App, Grant, World};

fn refresh(world: &World, app: &App, token: &str, extra: &[(&str, &str)]) -> reqwest::blocking::Response {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    form.extend_from_slice(extra);
    http().post(world.url("/oauth/token")).basic_auth(&app.client_id, app.secret.as_deref()).form(&form).send().unwrap()
}

fn error(response: reqwest::blocking::Response) -> String {
    assert_eq!(response.status(), 400);
    response.json::<Value>().unwrap()["error"].as_str().unwrap().to_owned()
}

struct Setup {
    world: World,
    team: String,
    dev: String,
    app: App,
    tokens: Value,
}

fn setup() -> Setup {
    let world = World::new();
    let (_, team, project) = world.owner_with_project();
    let dev = world.user();
    world.member(&team, &dev, "developer");
    let app = world.expiring_app(&team);
    let tokens = world.tokens(&dev, &app, Grant::Project { team: &team, project: &project });
    Setup { world, team, dev, app, tokens }
}

impl Setup {
    fn access(&self) -> &str {
        self.tokens["access_token"].as_str().unwrap()
    }

    fn refresh_token(&self) -> &str {
        self.tokens["refresh_token"].as_str().unwrap()
    }
}

#[test]
fn refresh_rotates_both_tokens_and_the_old_access_token_stops_at_once() {
    let s = setup();
    let backend = s.world.backend();
    let response = refresh(&s.world, &s.app, s.refresh_token(), &[]);
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let rotated: Value = response.json().unwrap();
    assert_ne!(rotated["access_token"], s.tokens["access_token"]);
    assert_ne!(rotated["refresh_token"], s.tokens["refresh_token"]);
    assert_eq!(rotated["expires_in"], 3600);
    assert_eq!(rotated["scope"], "project");
    assert!(!s.world.is_active(&backend, s.access()), "one live access token per grant");
    let answer = s.world.introspect(&backend, rotated["access_token"].as_str().unwrap());
    assert_eq!(answer["active"], true);
    assert!(answer["exp"].as_i64().unwrap() > answer["iat"].as_i64().unwrap());
}

#[test]
fn reusing_a_rotated_refresh_token_revokes_the_whole_grant() {
    let s = setup();
    let backend = s.world.backend();
    let rotated: Value = refresh(&s.world, &s.app, s.refresh_token(), &[]).json().unwrap();
    assert_eq!(error(refresh(&s.world, &s.app, s.refresh_token(), &[])), "invalid_grant");
    assert!(
        !s.world.is_active(&backend, rotated["access_token"].as_str().unwrap()),
        "the thief's replay revoked the grant"
    );
    assert_eq!(error(refresh(&s.world, &s.app, rotated["refresh_token"].as_str().unwrap(), &[])), "invalid_grant");
}

#[test]
fn refresh_tokens_are_bound_to_their_client() {
    let s = setup();
    let other = s.world.expiring_app(&s.team);
    assert_eq!(error(refresh(&s.world, &other, s.refresh_token(), &[])), "invalid_grant");
    assert_eq!(refresh(&s.world, &s.app, s.refresh_token(), &[]).status(), 200, "still good for its own client");
}

#[test]
fn a_removed_member_cannot_refresh() {
    let s = setup();
    s.world.cli(&["admin", "member", "remove", "--team", &s.team, "--email", &s.dev]);
    assert_eq!(error(refresh(&s.world, &s.app, s.refresh_token(), &[])), "invalid_grant");
}

#[test]
fn scope_can_only_stay_the_same() {
    let s = setup();
    assert_eq!(error(refresh(&s.world, &s.app, s.refresh_token(), &[("scope", "team")])), "invalid_scope");
    assert_eq!(refresh(&s.world, &s.app, s.refresh_token(), &[("scope", "project")]).status(), 200);
}

#[test]
fn concurrent_refreshes_with_one_token_succeed_at_most_once() {
    let s = setup();
    let barrier = Arc::new(Barrier::new(10));
    let handles: Vec<_> = (0..10)
        .map(|_| {
            let (barrier, url, app, token) =
                (barrier.clone(), s.world.url("/oauth/token"), s.app.clone(), s.refresh_token().to_owned());
            std::thread::spawn(move || {
                let client = http();
                barrier.wait();
                client
                    .post(&url)
                    .basic_auth(&app.client_id, app.secret.as_deref())
                    .form(&[("grant_type", "refresh_token"), ("refresh_token", token.as_str())])
                    .send()
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(statuses.iter().filter(|s| **s == 200).count() <= 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 400), "{statuses:?}");
}
