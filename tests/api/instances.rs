//! Several `portcullis serve` processes on one database behave as one server (SPEC §5).

use std::time::{Duration, Instant};

use crate::harness::{Server, on_sqlite};
use crate::world::{Grant, World};

#[test]
fn a_revocation_through_one_instance_is_seen_by_the_other_on_its_next_request() {
    let world = World::new();
    let second = Server::start(&world.db.url, &[]);
    let (email, team, project) = world.owner_with_project();
    let dev = world.user();
    world.member(&team, &dev, "developer");
    let app = world.app(&team);
    let backend = world.backend();
    let token = world.access_token(&dev, &app, Grant::Project { team: &team, project: &project });

    let introspect_on = |server: &Server| -> serde_json::Value {
        crate::harness::http()
            .post(server.url("/oauth/introspect"))
            .basic_auth(&backend.id, Some(&backend.secret))
            .form(&[("token", token.as_str())])
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    assert_eq!(introspect_on(&world.server)["active"], true);
    assert_eq!(introspect_on(&second)["active"], true);
    // Revoke through the first instance (the holding app, RFC 7009)...
    let response = crate::harness::http()
        .post(world.url("/oauth/revoke"))
        .basic_auth(&app.client_id, app.secret.as_deref())
        .form(&[("token", token.as_str())])
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    // ...the second sees it on its very next request.
    assert_eq!(introspect_on(&second), serde_json::json!({ "active": false }));

    // Membership changes too: a role change through the CLI shows on both.
    let other = world.access_token(&dev, &app, Grant::Project { team: &team, project: &project });
    world.cli(&["admin", "member", "set-role", "--team", &team, "--email", &dev, "--role", "admin"]);
    let on_second: serde_json::Value = crate::harness::http()
        .post(second.url("/oauth/introspect"))
        .basic_auth(&backend.id, Some(&backend.secret))
        .form(&[("token", other.as_str())])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(on_second["role"], "admin");
    let _ = email;
}

/// One answer seen under load: when the request began, on which instance, about which token.
struct Seen {
    began: std::time::Instant,
    instance: usize,
    token: usize,
    active: bool,
}

/// The promise of the verification caches (SQLite's commit mark, PostgreSQL's freshness
/// barrier): no answer is stale with respect to a change committed before the request began,
/// on any instance. Both instances are under concurrent introspection load while credentials
/// are revoked four ways — through instance A's revocation endpoint, by the CLI (user disabled,
/// member removed) and by a hand-written UPDATE; no request to either instance that began after
/// a revocation returned may find that credential active.
#[test]
fn under_load_no_instance_answers_active_after_a_revocation_committed() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let world = World::new();
    let second = Server::start(&world.db.url, &[]);
    let (_, team, project) = world.owner_with_project();
    let app = world.app(&team);
    let backend = world.backend();
    let devs: Vec<String> = (0..4).map(|_| world.user()).collect();
    for dev in &devs {
        world.member(&team, dev, "developer");
    }
    let tokens: Vec<String> = devs
        .iter()
        .map(|dev| world.access_token(dev, &app, Grant::Project { team: &team, project: &project }))
        .collect();
    let bases = [world.server.base.clone(), second.base.clone()];

    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
    // Instance B (index 1) under three clients, A under two.
    let load: Vec<_> = [0, 0, 1, 1, 1]
        .into_iter()
        .enumerate()
        .map(|(client, instance)| {
            let (stop, seen, tokens, backend) = (stop.clone(), seen.clone(), tokens.clone(), backend.clone());
            let url = format!("{}/oauth/introspect", bases[instance]);
            std::thread::spawn(move || {
                let http = crate::harness::http();
                let mut mine = Vec::new();
                let mut next = client;
                let deadline = Instant::now() + Duration::from_secs(60);
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    next = (next + 1) % tokens.len();
                    let began = Instant::now();
                    let answer: serde_json::Value = http
                        .post(&url)
                        .basic_auth(&backend.id, Some(&backend.secret))
                        .form(&[("token", tokens[next].as_str())])
                        .send()
                        .expect("introspect")
                        .json()
                        .expect("JSON");
                    mine.push(Seen { began, instance, token: next, active: answer["active"] == true });
                }
                seen.lock().unwrap().extend(mine);
            })
        })
        .collect();

    let warm = || std::thread::sleep(Duration::from_millis(300));
    let mut revoked = Vec::new();
    warm();
    let response = crate::harness::http()
        .post(world.url("/oauth/revoke"))
        .basic_auth(&app.client_id, app.secret.as_deref())
        .form(&[("token", tokens[0].as_str())])
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    revoked.push((0, Instant::now()));
    warm();
    world.cli(&["admin", "user", "disable", "--email", &devs[1]]);
    revoked.push((1, Instant::now()));
    warm();
    world.cli(&["admin", "member", "remove", "--team", &team, "--email", &devs[2]]);
    revoked.push((2, Instant::now()));
    warm();
    {
        use diesel::connection::SimpleConnection;
        let sql = format!(
            "UPDATE grants SET revoked_at = '2026-01-02 00:00:00', revoked_reason = 'revoked_by_user'
             WHERE user_id = (SELECT id FROM users WHERE email = '{}')",
            devs[3]
        );
        world.conn().batch_execute(&sql).unwrap();
    }
    revoked.push((3, Instant::now()));
    warm();
    stop.store(true, Ordering::Relaxed);
    for client in load {
        client.join().unwrap();
    }

    let seen = seen.lock().unwrap();
    for (token, at) in revoked {
        let (mut before, mut after) = (0, 0);
        for answer in seen.iter().filter(|s| s.token == token) {
            if answer.began < at {
                before += usize::from(answer.active);
            } else {
                after += 1;
                assert!(
                    !answer.active,
                    "instance {} answered active for token {token}, asked {:?} after its revocation committed",
                    ["A", "B"][answer.instance],
                    answer.began - at
                );
            }
        }
        assert!(before > 0 && after > 0, "token {token}: {before} active answers before, {after} answers after");
    }
}

/// PostgreSQL: a freshness-barrier read that cannot finish (here the counter table is locked by
/// another session; in production, a server gone silent) costs the requests waiting on it one
/// bounded wait. Later requests go to the database at once, with the database's answers, and
/// the cache serves again once the read finishes. SQLite has no barrier (it reads its commit
/// mark on use), so there is nothing to hold up.
#[test]
fn a_stuck_barrier_read_holds_up_only_the_requests_already_waiting_on_it() {
    use diesel::connection::SimpleConnection;

    if on_sqlite() {
        return;
    }
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.app(&team);
    let backend = world.backend();
    let token = world.access_token(&email, &app, Grant::Project { team: &team, project: &project });
    let unknown = format!("project:{team}:{project}|{}", "A".repeat(43));
    assert!(world.is_active(&backend, &token));

    let mut locker = world.conn();
    locker.batch_execute("BEGIN; LOCK TABLE credential_change_counter IN ACCESS EXCLUSIVE MODE").unwrap();
    let first = Instant::now();
    assert!(world.is_active(&backend, &token), "the database answers when the round never ends");
    assert!(first.elapsed() >= Duration::from_secs(2), "the first request waited its round out");
    std::thread::sleep(Duration::from_millis(100));
    let later = Instant::now();
    for _ in 0..10 {
        assert!(world.is_active(&backend, &token));
        assert!(!world.is_active(&backend, &unknown));
    }
    assert!(later.elapsed() < Duration::from_secs(2), "20 requests behind a stuck read took {:?}", later.elapsed());

    locker.batch_execute("COMMIT").unwrap();
    let hits = || {
        let (_, scrape) = crate::metrics::scrape(&world);
        crate::metrics::value(&scrape, "portcullis_verification_cache_total", &[("outcome", "hit")])
    };
    let before = hits();
    assert!(
        crate::harness::eventually(Duration::from_secs(5), || world.is_active(&backend, &token) && hits() > before),
        "the cache serves again once the read finishes"
    );
}
