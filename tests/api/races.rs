//! Races between the grant use cases, driven with real parallel requests and CLI runs (std
//! threads released by a `Barrier`). On SQLite every write transaction holds the database lock,
//! so these pass trivially there; on PostgreSQL (`TEST_DATABASE_URL`) they reproduce the
//! lock-order, count-then-insert and check-then-act defects the fixes close.
//!
//! Each race has a window of a few milliseconds. To hit it without touching the server, the
//! tests repeat it and stagger one side by a varying offset (test-side sleeps only), or keep
//! one side hammering for the whole life of the other.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::Value;

use crate::harness::{PASSWORD, browser, cli, http};
use crate::world::{App, Grant, World};

fn refresh(world: &World, app: &App, token: &str) -> reqwest::blocking::Response {
    http()
        .post(world.url("/oauth/token"))
        .basic_auth(&app.client_id, app.secret.as_deref())
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .unwrap()
}

fn error_of(response: reqwest::blocking::Response) -> String {
    let body: Value = response.json().unwrap_or_default();
    body["error"].as_str().unwrap_or_default().to_owned()
}

/// The owner's view of every live grant on the team (the admin "authorized applications" page).
fn team_grants_page(world: &World, owner: &Client, team: &str) -> String {
    let page = owner.get(world.url(&format!("/teams/{team}/settings/authorized-apps"))).send().unwrap();
    assert_eq!(page.status(), 200);
    page.text().unwrap()
}

/// `count` codes approved by `email` (one login, many consents).
fn codes(world: &World, email: &str, app: &App, grant: Grant, count: usize) -> Vec<(String, String)> {
    let browser = world.login(email);
    (0..count).map(|_| world.code_in(&browser, app, grant.clone())).collect()
}

/// Redeems `codes` on threads of `s`, all released by `barrier` and then the i-th delayed by
/// `i × step`: spread over the life of whatever the caller does once it passes the barrier.
fn staggered_exchanges<'s>(
    s: &'s std::thread::Scope<'s, '_>,
    world: &'s World,
    app: &'s App,
    codes: &'s [(String, String)],
    barrier: &'s Barrier,
    step: Duration,
) -> Vec<std::thread::ScopedJoinHandle<'s, reqwest::blocking::Response>> {
    codes
        .iter()
        .enumerate()
        .map(|(i, (code, verifier))| {
            s.spawn(move || {
                barrier.wait();
                std::thread::sleep(step * i as u32);
                world.exchange(app, code, verifier)
            })
        })
        .collect()
}

/// Item 6: removal took grant locks then the membership, refresh the membership then the
/// grant. While refreshes keep the membership locked, a removal deadlocked: one side failed.
#[test]
fn deadlock_member_removal_racing_refreshes_fails_neither_side() {
    let world = World::new();
    let (_, team, project) = world.owner_with_project();
    let app = world.expiring_app(&team);
    for _ in 0..4 {
        let dev = world.user();
        world.member(&team, &dev, "developer");
        let refresh_tokens: Vec<String> =
            codes(&world, &dev, &app, Grant::Project { team: &team, project: &project }, 4)
                .into_iter()
                .map(|(code, verifier)| {
                    let response = world.exchange(&app, &code, &verifier);
                    assert_eq!(response.status(), 200);
                    response.json::<Value>().unwrap()["refresh_token"].as_str().unwrap().to_owned()
                })
                .collect();
        let barrier = Barrier::new(refresh_tokens.len() + 1);
        let removal = std::thread::scope(|s| {
            let refreshers: Vec<_> = refresh_tokens
                .into_iter()
                .map(|mut token| {
                    let (world, app, barrier) = (&world, &app, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        // Refresh until the removal revokes the grant (bounded).
                        for _ in 0..300 {
                            let response = refresh(world, app, &token);
                            match response.status().as_u16() {
                                200 => {
                                    token = response.json::<Value>().unwrap()["refresh_token"].as_str().unwrap().into()
                                }
                                400 => return Ok(()),
                                other => return Err(format!("refresh answered {other}")),
                            }
                        }
                        Err("the grant outlived its member's removal".to_owned())
                    })
                })
                .collect();
            barrier.wait();
            std::thread::sleep(Duration::from_millis(30));
            let removal = cli(&world.db.url, &["admin", "member", "remove", "--team", &team, "--email", &dev]);
            for refresher in refreshers {
                refresher.join().unwrap().unwrap();
            }
            removal
        });
        let removed = removal.unwrap_or_else(|e| panic!("member remove failed: {e}"));
        assert_eq!(removed["removed"], true);
    }
}

/// A project deletion locks the project and then cascades to its codes; a redemption claimed
/// its code and only then needed the project (to insert the grant): opposite orders, and
/// PostgreSQL aborted one side. Redemptions staggered over the deletion: each either gets its
/// token (and the deletion ends it) or `invalid_grant`, and the deletion always succeeds.
#[test]
fn deadlock_project_deletion_racing_redemptions_fails_neither_side() {
    let world = World::new();
    let (owner, team, _) = world.owner_with_project();
    let app = world.app(&team);
    let backend = world.backend();
    for _ in 0..4 {
        let project = world.project(&team);
        let codes = codes(&world, &owner, &app, Grant::Project { team: &team, project: &project }, 12);
        let barrier = Barrier::new(codes.len() + 1);
        let (deletion, issued) = std::thread::scope(|s| {
            let exchanges = staggered_exchanges(s, &world, &app, &codes, &barrier, Duration::from_millis(3));
            barrier.wait();
            std::thread::sleep(Duration::from_millis(15));
            let deletion = cli(&world.db.url, &["admin", "project", "delete", "--team", &team, "--slug", &project]);
            let issued: Vec<String> = exchanges
                .into_iter()
                .filter_map(|exchange| {
                    let response = exchange.join().unwrap();
                    match response.status().as_u16() {
                        200 => Some(response.json::<Value>().unwrap()["access_token"].as_str().unwrap().to_owned()),
                        400 => {
                            assert_eq!(error_of(response), "invalid_grant");
                            None
                        }
                        other => panic!("a redemption racing the deletion answered {other}"),
                    }
                })
                .collect();
            (deletion, issued)
        });
        deletion.unwrap_or_else(|e| panic!("project delete failed: {e}"));
        for token in issued {
            assert!(!world.is_active(&backend, &token), "a token of the deleted project is still active");
        }
    }
}

/// Item 7, removal: a grant issued while its member was being removed stayed live in the
/// table (dead only through joins), so listings showed it.
#[test]
fn grants_issued_while_the_member_is_removed_are_revoked() {
    born_revoked(|world, team, email| {
        cli(&world.db.url, &["admin", "member", "remove", "--team", team, "--email", email]).map(drop)
    });
}

/// Item 7, disable: the same with the user being disabled.
#[test]
fn grants_issued_while_the_user_is_disabled_are_revoked() {
    born_revoked(|world, _, email| cli(&world.db.url, &["admin", "user", "disable", "--email", email]).map(drop));
}

/// Redeems codes of a fresh member, staggered over the life of `end` (a CLI run that ends the
/// member's standing); afterwards none of their grants may still be listed as live.
fn born_revoked(end: impl Fn(&World, &str, &str) -> Result<(), String> + Sync) {
    let world = World::new();
    let (owner_email, team, project) = world.owner_with_project();
    let owner = world.login(&owner_email);
    let app = world.app(&team);
    for _ in 0..4 {
        let dev = world.user();
        world.member(&team, &dev, "developer");
        let codes = codes(&world, &dev, &app, Grant::Project { team: &team, project: &project }, 16);
        let barrier = Barrier::new(codes.len() + 1);
        std::thread::scope(|s| {
            let exchanges = staggered_exchanges(s, &world, &app, &codes, &barrier, Duration::from_millis(8));
            barrier.wait();
            end(&world, &team, &dev).unwrap_or_else(|e| panic!("ending the standing failed: {e}"));
            for exchange in exchanges {
                let status = exchange.join().unwrap().status().as_u16();
                assert!(status == 200 || status == 400, "exchange answered {status}");
            }
        });
        let page = team_grants_page(&world, &owner, &team);
        assert!(!page.contains(&dev), "a grant of {dev} is still listed as live");
    }
}

/// Item 8: the unverified-app limit was count-then-insert with only each member's row
/// locked, so redemptions from different teams all counted zero and all got in.
#[test]
fn unverified_app_limit_holds_under_concurrent_redemptions_from_many_teams() {
    let world = World::with_env(&[("PORTCULLIS_UNVERIFIED_APP_TEAM_LIMIT", "2")]);
    let (_, home, _) = world.owner_with_project();
    let teams: Vec<(String, String, String)> = (0..6).map(|_| world.owner_with_project()).collect();
    let browsers: Vec<Client> = teams.iter().map(|(email, _, _)| world.login(email)).collect();
    for _ in 0..3 {
        let app = world.app(&home);
        let codes: Vec<(String, String)> = teams
            .iter()
            .zip(&browsers)
            .map(|((_, team, project), browser)| world.code_in(browser, &app, Grant::Project { team, project }))
            .collect();
        let barrier = Barrier::new(codes.len());
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let handles: Vec<_> = codes
                .iter()
                .map(|(code, verifier)| {
                    let (world, app, barrier) = (&world, &app, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        world.exchange(app, code, verifier).status().as_u16()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 2, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 400), "{statuses:?}");
    }
}

/// Item 9: a refresh that lost the grant to a concurrent revocation ignored that its
/// access-token replacement changed nothing, and answered 200 with a token that was never
/// stored. Every 200 must hand out the grant's stored token.
#[test]
fn refresh_racing_a_revocation_never_hands_out_a_dead_token() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.expiring_app(&team);
    let grants: Vec<Value> = codes(&world, &email, &app, Grant::Project { team: &team, project: &project }, 30)
        .into_iter()
        .map(|(code, verifier)| world.exchange(&app, &code, &verifier).json().unwrap())
        .collect();
    let mut conn = portcullis::db::pool::open(&world.db.url.parse().unwrap()).unwrap();
    let mut refreshed = 0;
    for (i, tokens) in grants.iter().enumerate() {
        let (access, refresh_token) =
            (tokens["access_token"].as_str().unwrap(), tokens["refresh_token"].as_str().unwrap());
        let barrier = Barrier::new(2);
        let response = std::thread::scope(|s| {
            let refresher = s.spawn(|| {
                barrier.wait();
                refresh(&world, &app, refresh_token)
            });
            barrier.wait();
            spin(Duration::from_micros(250 * (i % 12) as u64));
            let revoked = http()
                .post(world.url("/oauth/revoke"))
                .basic_auth(&app.client_id, app.secret.as_deref())
                .form(&[("token", access)])
                .send()
                .unwrap();
            assert_eq!(revoked.status(), 200);
            refresher.join().unwrap()
        });
        match response.status().as_u16() {
            200 => {
                refreshed += 1;
                let handed_out = response.json::<Value>().unwrap()["access_token"].as_str().unwrap().to_owned();
                let hash = portcullis::tokens::SecretHash::of(&handed_out);
                let stored = portcullis::db::models::grants::find_by_access_hash(&mut conn, hash.as_str()).unwrap();
                assert!(stored.is_some(), "refresh {i} answered 200 with a token its grant does not hold");
            }
            400 => assert_eq!(error_of(response), "invalid_grant"),
            other => panic!("refresh answered {other}"),
        }
    }
    eprintln!("{refreshed} of {} refreshes completed before their revocation", grants.len());
}

/// A short, precise pause (sleep granularity is too coarse to stagger by microseconds).
fn spin(duration: Duration) {
    let until = Instant::now() + duration;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// Item 10: the throttle counted failures, ran Argon2, then recorded the failure, so parallel
/// guesses all counted the same few failures and all got through.
#[test]
fn brute_force_thirty_parallel_guesses_get_at_most_ten_answers_past_the_throttle() {
    let world = World::new();
    let email = world.user();
    let barrier = Arc::new(Barrier::new(30));
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..30)
            .map(|i| {
                let (world, email, barrier) = (&world, &email, barrier.clone());
                s.spawn(move || {
                    let client = browser();
                    barrier.wait();
                    let password = format!("wrong-guess-{i}");
                    let form = [("email", email.as_str()), ("password", password.as_str())];
                    client.post(world.url("/login")).form(&form).send().unwrap().status().as_u16()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 10, "{statuses:?}");
    let right = browser().post(world.url("/login")).form(&[("email", email.as_str()), ("password", PASSWORD)]);
    assert_eq!(right.send().unwrap().status(), 429, "the account stays throttled");
}

/// Item 10: Argon2 ran while the login held a pooled connection, so with a small pool logins
/// left introspection waiting for one. Run with a pool of one connection: an introspection
/// sent while a login is hashing its password must not wait for the hash. Medians measured
/// on 2 busy cores: before the fix, 37–55 ms against logins of 48–62 ms (the introspection
/// waited for the hash); after it, 11–21 ms against 57–65 ms.
#[test]
fn a_login_flood_does_not_starve_introspection_of_connections() {
    let world = World::with_env(&[("PORTCULLIS_DB_POOL_SIZE", "1")]);
    let email = world.user();
    let backend = world.backend();
    let timed = |f: &dyn Fn()| {
        let started = Instant::now();
        f();
        started.elapsed()
    };
    let login = || {
        let form = [("email", email.as_str()), ("password", PASSWORD)];
        assert_eq!(browser().post(world.url("/login")).form(&form).send().unwrap().status(), 303);
    };
    let introspect = || assert!(!world.is_active(&backend, "project:no:such|token"));
    let (mut logins, mut introspections): (Vec<Duration>, Vec<Duration>) = (0..12)
        .map(|_| {
            std::thread::scope(|s| {
                let login = s.spawn(|| timed(&login));
                // Long enough for the login to reach Argon2, well short of its end.
                std::thread::sleep(Duration::from_millis(5));
                let introspection = timed(&introspect);
                (login.join().unwrap(), introspection)
            })
        })
        .unzip();
    logins.sort();
    introspections.sort();
    let (login, introspection) = (logins[logins.len() / 2], introspections[introspections.len() / 2]);
    assert!(
        introspection < login / 2,
        "introspection during a login took {introspection:?} (median), the login {login:?}"
    );
}

/// Item 11 under concurrency: another client's presentations and wrong verifiers racing the
/// real redemption neither win nor revoke: exactly one token, and it stays active.
#[test]
fn race_wrong_clients_and_wrong_verifiers_around_the_real_redemption_change_nothing() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.app(&team);
    let other = App { redirect_uri: app.redirect_uri.clone(), ..world.app(&team) };
    let backend = world.backend();
    for (code, verifier) in codes(&world, &email, &app, Grant::Project { team: &team, project: &project }, 3) {
        let barrier = Barrier::new(13);
        let (real, statuses) = std::thread::scope(|s| {
            let attackers: Vec<_> = (0..12)
                .map(|i| {
                    let (world, barrier, code) = (&world, &barrier, &code);
                    let (client, verifier) =
                        if i % 2 == 0 { (&other, verifier.clone()) } else { (&app, crate::harness::pkce().0) };
                    s.spawn(move || {
                        barrier.wait();
                        world.exchange(client, code, &verifier).status().as_u16()
                    })
                })
                .collect();
            barrier.wait();
            let real = world.exchange(&app, &code, &verifier);
            let statuses: Vec<u16> = attackers.into_iter().map(|h| h.join().unwrap()).collect();
            (real, statuses)
        });
        assert!(statuses.iter().all(|s| *s == 400), "{statuses:?}");
        assert_eq!(real.status(), 200);
        let token = real.json::<Value>().unwrap()["access_token"].as_str().unwrap().to_owned();
        assert!(world.is_active(&backend, &token), "a failed presentation revoked the real grant");
    }
}

/// Keys minted through a token while its user is being removed: every mint either is refused or
/// yields a key that ends with the grant — none outlives the removal — and none fails with a 5xx.
#[test]
fn deploy_keys_minted_while_the_member_is_removed_all_end() {
    let mut minted = 0;
    for round in 0..3u64 {
        let world = World::new();
        let (_, team, project) = world.owner_with_project();
        let app = world.app(&team);
        let backend = world.backend();
        let deployment = world.deployment(&team, &project, "dev");
        let member = world.user();
        world.member(&team, &member, "admin");
        let token = world.access_token(&member, &app, Grant::Project { team: &team, project: &project });
        let barrier = Barrier::new(9);
        let keys: Vec<String> = std::thread::scope(|s| {
            let minters: Vec<_> = (0..8u64)
                .map(|i| {
                    let (world, token, deployment, barrier) = (&world, &token, &deployment, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        std::thread::sleep(Duration::from_millis(i * (2 + round)));
                        let response = http()
                            .post(world.url("/v1/deploy_keys"))
                            .bearer_auth(token)
                            .json(&serde_json::json!({ "name": "racing", "deployment": deployment }))
                            .send()
                            .unwrap();
                        let status = response.status();
                        assert!(status == 201 || status == 401 || status == 403, "mint answered {status}");
                        (status == 201).then(|| response.json::<Value>().unwrap()["key"].as_str().unwrap().to_owned())
                    })
                })
                .collect();
            barrier.wait();
            std::thread::sleep(Duration::from_millis(5));
            cli(&world.db.url, &["admin", "member", "remove", "--team", &team, "--email", &member]).unwrap();
            minters.into_iter().filter_map(|m| m.join().unwrap()).collect()
        });
        for key in &keys {
            assert!(!world.is_active(&backend, key), "round {round}: a key minted during the removal survived it");
        }
        minted += keys.len();
    }
    assert!(minted > 0, "the removal must race real mints (it starts a process; the first mints start at once)");
}
