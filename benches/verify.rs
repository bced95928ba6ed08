//! The verification hot path with its database: `ops::verify::verify` of a project token on a
//! SQLite file holding a few thousand live grants, i.e. the full re-check one introspection
//! makes (grant, user, membership, team, project, app, project-admin flag), and the server's
//! `Verifier` answering the same tokens from its warm cache (commit mark read, nothing
//! committed since). Run with `cargo bench --bench verify`; compare with bench/introspect.sh's
//! per-request CPU.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::db::models::apps;
use portcullis::db::{DatabaseUrl, DbConnection};
use portcullis::domain::{AppName, DisplayName, Email, Password, RedirectUris, Scope, Slug};
use portcullis::ops::grants::{Approval, GrantPolicy, ProjectChoice, Redeemed, approve, find_code, redeem_code};
use portcullis::ops::{self, Actor, verify};
use time::Duration;

const GRANTS: usize = 2_000;

fn seeded() -> (tempfile::TempDir, DatabaseUrl, DbConnection, Vec<String>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url: DatabaseUrl = format!("sqlite://{}", dir.path().join("bench.db").display()).parse().expect("url");
    let (mut conn, _) = portcullis::db::pool::connect_and_migrate(&url).expect("database");
    let actor = Actor::Cli;
    let email = Email::parse("owner@bench.example").unwrap();
    let name = DisplayName::parse("Bench").unwrap();
    let user = ops::users::create(&mut conn, &actor, &email, &name, &Password::parse("long-enough").unwrap()).unwrap();
    let (team, project) = (Slug::parse("bench").unwrap(), Slug::parse("web").unwrap());
    ops::teams::create(&mut conn, &actor, &team, &name, &email).unwrap();
    ops::projects::create(&mut conn, &actor, &team, &project, &name).unwrap();
    let params = ops::apps::NewAppParams {
        team: &team,
        name: &AppName::parse("Bench app").unwrap(),
        redirect_uris: &RedirectUris::parse(&["https://bench.example/cb"]).unwrap(),
        public: false,
        token_ttl: None,
    };
    let client_id = ops::apps::create(&mut conn, &actor, &params).unwrap().client_id;
    let app = apps::find_by_client_id(&mut conn, &client_id).unwrap().unwrap();
    let policy = GrantPolicy {
        code_ttl: Duration::minutes(10),
        refresh_ttl: Duration::days(30),
        unverified_app_team_limit: 100,
        public_token_ttl_seconds: 3600,
        device_code_ttl: Duration::minutes(10),
    };
    let tokens = (0..GRANTS)
        .map(|_| {
            let approval = Approval {
                app: &app,
                user_id: user.id,
                team: &team,
                project: ProjectChoice::Existing(&project),
                scope: Scope::Project,
                redirect_uri: "https://bench.example/cb",
                code_challenge: None,
                resources: None,
            };
            let code = approve(&mut conn, &actor, &approval, &policy).unwrap();
            let now = portcullis::db::now();
            let row = find_code(&mut conn, &code, now).unwrap().expect("a fresh code");
            let Ok(Redeemed::Issued(tokens)) = redeem_code(&mut conn, &app, &row, None, &policy, None, now) else {
                panic!("a fresh code")
            };
            tokens.access_token
        })
        .collect();
    (dir, url, conn, tokens)
}

fn verification(c: &mut Criterion) {
    let (_dir, url, mut conn, tokens) = seeded();
    let now = portcullis::db::now();
    let mut next = 0;
    c.bench_function("verify/project token, SQLite, 2k grants", |b| {
        b.iter(|| {
            next = (next + 1) % tokens.len();
            assert!(verify::verify(&mut conn, black_box(&tokens[next]), now).unwrap().is_some());
        })
    });
    c.bench_function("verify/unknown token, SQLite", |b| {
        b.iter(|| assert!(verify::verify(&mut conn, black_box("project:bench:web|unknown"), now).unwrap().is_none()))
    });
    let verifier = verify::Verifier::new(&url, GRANTS);
    for token in &tokens {
        assert!(verifier.verify(&mut conn, verify::Freshness::UNPROVEN, token, now).unwrap().is_some());
    }
    c.bench_function("verifier/project token, warm cache, SQLite, 2k grants", |b| {
        b.iter(|| {
            next = (next + 1) % tokens.len();
            assert!(
                verifier
                    .verify(&mut conn, verify::Freshness::UNPROVEN, black_box(&tokens[next]), now)
                    .unwrap()
                    .is_some()
            );
        })
    });
}

criterion_group!(benches, verification);
criterion_main!(benches);
