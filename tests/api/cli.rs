//! The operator CLI (SPEC §5): every command, its JSON output and its errors.

use serde_json::json;

use crate::harness::{TestDb, cli};
use crate::world::World;

fn ok(db: &TestDb, args: &[&str]) -> serde_json::Value {
    cli(&db.url, args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn fails(db: &TestDb, args: &[&str], expected: &str) {
    let stderr = cli(&db.url, args).expect_err(&format!("{args:?} should fail"));
    assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in {stderr:?}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line on stderr: {stderr:?}");
}

#[test]
fn every_operator_command_works_and_prints_one_json_object() {
    let db = TestDb::new();
    let user = ok(
        &db,
        &["admin", "user", "create", "--email", "Ada@Example.COM", "--name", "Ada", "--password", "long-enough"],
    );
    assert_eq!(user["email"], "ada@example.com", "emails are case-insensitive, stored lowercase");
    ok(&db, &["admin", "user", "create", "--email", "bob@example.com", "--name", "Bob", "--password", "long-enough"]);

    let team = ok(&db, &["admin", "team", "create", "--slug", "acme", "--name", "Acme", "--owner", "ada@example.com"]);
    assert_eq!((team["slug"].as_str(), team["owner"].as_str()), (Some("acme"), Some("ada@example.com")));
    let renamed =
        ok(&db, &["admin", "team", "update", "--slug", "acme", "--new-slug", "acme-inc", "--name", "Acme Inc"]);
    assert_eq!((renamed["slug"].as_str(), renamed["name"].as_str()), (Some("acme-inc"), Some("Acme Inc")));

    let member =
        ok(&db, &["admin", "member", "add", "--team", "acme-inc", "--email", "bob@example.com", "--role", "developer"]);
    assert_eq!(member["role"], "developer");
    let member = ok(
        &db,
        &["admin", "member", "set-role", "--team", "acme-inc", "--email", "bob@example.com", "--role", "admin"],
    );
    assert_eq!(member["role"], "admin");

    let project = ok(&db, &["admin", "project", "create", "--team", "acme-inc", "--slug", "web", "--name", "Web"]);
    assert_eq!(project["slug"], "web");
    let project = ok(&db, &["admin", "project", "update", "--team", "acme-inc", "--slug", "web", "--new-slug", "site"]);
    assert_eq!((project["slug"].as_str(), project["name"].as_str()), (Some("site"), Some("Web")));
    let admin = ok(
        &db,
        &[
            "admin",
            "member",
            "set-project-admin",
            "--team",
            "acme-inc",
            "--project",
            "site",
            "--email",
            "bob@example.com",
        ],
    );
    assert_eq!(admin["project_admin"], true);
    let admin = ok(
        &db,
        &[
            "admin",
            "member",
            "set-project-admin",
            "--team",
            "acme-inc",
            "--project",
            "site",
            "--email",
            "bob@example.com",
            "--off",
        ],
    );
    assert_eq!(admin["project_admin"], false);

    let named = ok(
        &db,
        &[
            "admin",
            "deployment",
            "create",
            "--team",
            "acme-inc",
            "--project",
            "site",
            "--type",
            "prod",
            "--name",
            "happy-otter-123",
        ],
    );
    assert_eq!(named["name"], "happy-otter-123");
    let admin_key = named["admin_key"].as_str().unwrap();
    let (prefix, hex) = admin_key.split_once('|').unwrap();
    assert_eq!(prefix, "happy-otter-123");
    assert!(hex.len() >= 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()), "{admin_key}");
    let generated =
        ok(&db, &["admin", "deployment", "create", "--team", "acme-inc", "--project", "site", "--type", "dev"]);
    assert!(generated["name"].as_str().unwrap().split('-').count() == 3, "{generated}");

    let app = ok(
        &db,
        &[
            "admin",
            "app",
            "create",
            "--team",
            "acme-inc",
            "--name",
            "Deployer",
            "--redirect-uri",
            "https://a.example/cb",
            "--redirect-uri",
            "http://127.0.0.1/cb",
        ],
    );
    let client_id = app["client_id"].as_str().unwrap();
    let secret = app["client_secret"].as_str().unwrap();
    assert!(secret.len() >= 43 && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(app["redirect_uris"].as_array().unwrap().len(), 2);
    let public = ok(
        &db,
        &[
            "admin",
            "app",
            "create",
            "--team",
            "acme-inc",
            "--name",
            "CLI tool",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--public",
        ],
    );
    assert!(public.get("client_secret").is_none(), "public clients have no secret");
    let expiring = ok(
        &db,
        &[
            "admin",
            "app",
            "create",
            "--team",
            "acme-inc",
            "--name",
            "Expiring",
            "--redirect-uri",
            "https://e.example/cb",
            "--token-ttl",
            "3600",
        ],
    );
    assert_eq!(expiring["token_ttl"], 3600);
    let update = ["admin", "app", "update", "--client-id", client_id, "--name", "Renamed App"];
    let updated = ok(&db, &[&update[..], &["--redirect-uri", "https://n.example/cb"]].concat());
    assert_eq!(
        (updated["name"].as_str(), &updated["redirect_uris"]),
        (Some("Renamed App"), &json!(["https://n.example/cb"]))
    );
    assert_eq!(ok(&db, &["admin", "app", "verify", "--client-id", client_id])["verified"], true);
    fails(&db, &["admin", "app", "update", "--client-id", client_id, "--name", "Other Name"], "verified app's name");
    let regenerated = ok(&db, &["admin", "app", "regenerate-secret", "--client-id", client_id]);
    assert_ne!(regenerated["client_secret"].as_str().unwrap(), secret);
    assert_eq!(ok(&db, &["admin", "app", "delete", "--client-id", client_id])["deleted"], true);

    let backend = ok(&db, &["admin", "backend", "create", "--name", "Platform API"]);
    assert!(backend["client_id"].is_string() && backend["client_secret"].is_string());

    let removed = ok(&db, &["admin", "member", "remove", "--team", "acme-inc", "--email", "bob@example.com"]);
    assert_eq!(removed["removed"], true);
    let deleted = ok(&db, &["admin", "project", "delete", "--team", "acme-inc", "--slug", "site"]);
    assert_eq!(deleted["deleted"], true);
    let disabled = ok(&db, &["admin", "user", "disable", "--email", "bob@example.com"]);
    assert_eq!(disabled["disabled"], true);
}

#[test]
fn bad_input_fails_with_one_clear_line() {
    let db = TestDb::new();
    ok(&db, &["admin", "user", "create", "--email", "ada@example.com", "--name", "Ada", "--password", "long-enough"]);
    ok(&db, &["admin", "team", "create", "--slug", "acme", "--name", "Acme", "--owner", "ada@example.com"]);
    ok(&db, &["admin", "project", "create", "--team", "acme", "--slug", "web", "--name", "Web"]);
    ok(
        &db,
        &[
            "admin",
            "deployment",
            "create",
            "--team",
            "acme",
            "--project",
            "web",
            "--type",
            "dev",
            "--name",
            "taken-name",
        ],
    );
    let public = ok(
        &db,
        &[
            "admin",
            "app",
            "create",
            "--team",
            "acme",
            "--name",
            "CLI",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--public",
        ],
    );

    let cases: &[(&[&str], &str)] = &[
        (
            &["admin", "user", "create", "--email", "ADA@example.com", "--name", "A", "--password", "long-enough"],
            "already exists",
        ),
        (
            &["admin", "user", "create", "--email", "not-an-email", "--name", "A", "--password", "long-enough"],
            "invalid email",
        ),
        (&["admin", "user", "create", "--email", "c@example.com", "--name", "A", "--password", "short"], "password"),
        (&["admin", "user", "disable", "--email", "nobody@example.com"], "no user"),
        (&["admin", "team", "create", "--slug", "acme", "--name", "Again", "--owner", "ada@example.com"], "taken"),
        (
            &["admin", "team", "create", "--slug", "Bad_Slug", "--name", "X", "--owner", "ada@example.com"],
            "invalid slug",
        ),
        (&["admin", "team", "create", "--slug", "x", "--name", "X", "--owner", "ada@example.com"], "invalid slug"),
        (&["admin", "team", "create", "--slug", "other", "--name", "X", "--owner", "nobody@example.com"], "no user"),
        (&["admin", "member", "add", "--team", "nope", "--email", "ada@example.com", "--role", "admin"], "no team"),
        (
            &["admin", "member", "add", "--team", "acme", "--email", "ada@example.com", "--role", "admin"],
            "already a member",
        ),
        (
            &["admin", "member", "set-role", "--team", "acme", "--email", "ada@example.com", "--role", "owner"],
            "unknown role",
        ),
        (&["admin", "project", "create", "--team", "acme", "--slug", "web", "--name", "Web"], "taken"),
        (&["admin", "project", "delete", "--team", "acme", "--slug", "nope"], "no project"),
        (
            &["admin", "deployment", "create", "--team", "acme", "--project", "web", "--type", "staging"],
            "unknown deployment type",
        ),
        (
            &[
                "admin",
                "deployment",
                "create",
                "--team",
                "acme",
                "--project",
                "web",
                "--type",
                "dev",
                "--name",
                "taken-name",
            ],
            "taken",
        ),
        (
            &[
                "admin",
                "deployment",
                "create",
                "--team",
                "acme",
                "--project",
                "web",
                "--type",
                "dev",
                "--name",
                "bad|name",
            ],
            "invalid deployment name",
        ),
    ];
    for (args, expected) in cases {
        fails(&db, args, expected);
    }
    let app_with = |uris: &[&str], expected: &str| {
        let mut args = vec!["admin", "app", "create", "--team", "acme", "--name", "Some App"];
        for uri in uris {
            args.extend(["--redirect-uri", uri]);
        }
        fails(&db, &args, expected);
    };
    let many: Vec<String> = (0..21).map(|i| format!("https://c.example/{i}")).collect();
    app_with(&many.iter().map(String::as_str).collect::<Vec<_>>(), "1 to 20 redirect URIs");
    app_with(&["https://c.example/cb#fragment"], "fragment");
    app_with(&["https:///cb"], "invalid redirect URI");
    app_with(&["/relative/cb"], "invalid redirect URI");
    app_with(&["ftp://c.example/cb"], "scheme");
    fails(
        &db,
        &["admin", "app", "create", "--team", "acme", "--name", "ab", "--redirect-uri", "https://c.example/cb"],
        "3 to 128",
    );
    fails(
        &db,
        &[
            "admin",
            "app",
            "create",
            "--team",
            "acme",
            "--name",
            "TTL",
            "--redirect-uri",
            "https://c.example/cb",
            "--token-ttl",
            "5",
        ],
        "TTL",
    );
    fails(&db, &["admin", "app", "verify", "--client-id", "nope"], "no OAuth app");
    fails(
        &db,
        &["admin", "app", "regenerate-secret", "--client-id", public["client_id"].as_str().unwrap()],
        "public client",
    );
}

#[test]
fn migrations_are_idempotent() {
    let db = TestDb::new();
    let first = ok(&db, &["migrate"]);
    assert!(!first["applied"].as_array().unwrap().is_empty(), "a new database gets every migration: {first}");
    let second = ok(&db, &["migrate"]);
    assert_eq!(second["applied"], serde_json::json!([]), "nothing pending the second time");
    // And a server starts on the migrated database.
    let server = crate::harness::Server::start(&db.url, &[]);
    assert_eq!(crate::harness::http().get(server.url("/readyz")).send().unwrap().status(), 200);
}

#[test]
fn help_documents_flags_and_environment() {
    let help = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis")).args(args).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let top = help(&["--help"]);
    assert!(top.contains("PORTCULLIS_DATABASE_URL") && top.contains("serve") && top.contains("admin"));
    let serve = help(&["serve", "--help"]);
    for var in [
        "PORTCULLIS_BIND",
        "PORTCULLIS_ISSUER",
        "PORTCULLIS_CODE_TTL_SECONDS",
        "PORTCULLIS_REFRESH_TOKEN_TTL_SECONDS",
        "PORTCULLIS_UNVERIFIED_APP_TEAM_LIMIT",
        "PORTCULLIS_VERIFY_CACHE_ENTRIES",
        "--demo",
    ] {
        assert!(serve.contains(var), "serve --help mentions {var}");
    }
    assert!(help(&["admin", "app", "create", "--help"]).contains("--redirect-uri"));
}

#[test]
fn an_oversized_verification_cache_is_refused_before_anything_is_allocated() {
    let db = crate::harness::TestDb::new();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["--database-url", &db.url, "serve", "--bind", "127.0.0.1:0", "--verify-cache-entries", "99999999999"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--verify-cache-entries") && !stderr.contains("panicked"), "{stderr}");
}

#[test]
fn changes_made_by_the_cli_while_the_server_runs_are_seen_by_its_next_request() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let other = world.user();
    world.member(&team, &other, "developer");
    let app = world.app(&team);
    let backend = world.backend();
    let token = world.access_token(&other, &app, crate::world::Grant::Project { team: &team, project: &project });
    assert!(world.is_active(&backend, &token));
    world.cli(&["admin", "member", "remove", "--team", &team, "--email", &other]);
    assert!(!world.is_active(&backend, &token), "the removal committed by the CLI is visible at once");
    let _ = email;
}

#[test]
fn every_change_writes_an_audit_event() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let dev = world.user();
    world.member(&team, &dev, "developer");
    world.cli(&["admin", "member", "set-role", "--team", &team, "--email", &dev, "--role", "admin"]);
    let app = world.app(&team);
    let token = world.access_token(&dev, &app, crate::world::Grant::Project { team: &team, project: &project });
    world.cli(&["admin", "member", "remove", "--team", &team, "--email", &dev]);
    world.cli(&["admin", "app", "delete", "--client-id", &app.client_id]);
    world.cli(&["admin", "user", "disable", "--email", &email]);
    assert!(token.starts_with("project:"));

    let (mut conn, _) = portcullis::db::pool::connect_and_migrate(&world.db.url.parse().unwrap()).unwrap();
    let actions: Vec<String> =
        portcullis::db::models::audit::list(&mut conn, None, 100).unwrap().into_iter().map(|e| e.action).collect();
    for expected in [
        "user.create",
        "team.create",
        "project.create",
        "member.add",
        "member.set_role",
        "app.create",
        "consent.approve",
        "grant.issue",
        "member.remove",
        "app.delete",
        "user.disable",
    ] {
        assert!(actions.iter().any(|a| a == expected), "no {expected} event in {actions:?}");
    }
}
