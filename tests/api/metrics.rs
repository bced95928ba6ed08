//! `/metrics` (SPEC §4): Prometheus text that parses, counters that move by exactly what
//! happened, labels that never carry a raw path, and the separate listener.

use prometheus_parse::{Scrape, Value as Sample};
use serde_json::{Value, json};

use crate::harness::{PASSWORD, Server, TestDb, browser, http, on_sqlite};
use crate::world::{App, Grant, World};

/// The exposition at `url`, checked line by line against the text format's grammar and then
/// parsed by an independent parser.
fn scrape_at(url: &str) -> (String, Scrape) {
    let response = http().get(url).send().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("content-type").unwrap(), "text/plain; version=0.0.4; charset=utf-8");
    let text = response.text().unwrap();
    for line in text.lines() {
        assert!(well_formed(line), "not Prometheus text format 0.0.4: {line:?}");
    }
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("parses as Prometheus text");
    for sample in &scrape.samples {
        assert!(sample.metric.starts_with("portcullis_"), "{}", sample.metric);
    }
    (text, scrape)
}

pub(crate) fn scrape(world: &World) -> (String, Scrape) {
    scrape_at(&world.url("/metrics"))
}

/// One line of the format: `# HELP name text`, `# TYPE name kind`,
/// `name{label="value",...} number`, or blank.
fn well_formed(line: &str) -> bool {
    if line.is_empty() {
        return true;
    }
    let is_name = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    if let Some(rest) = line.strip_prefix("# HELP ") {
        return rest.split_once(' ').is_some_and(|(name, help)| is_name(name) && !help.is_empty());
    }
    if let Some(rest) = line.strip_prefix("# TYPE ") {
        return rest.split_once(' ').is_some_and(|(name, kind)| {
            is_name(name) && ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind)
        });
    }
    let Some((series, value)) = line.rsplit_once(' ') else { return false };
    let number = value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value);
    let (name, labels) = match series.split_once('{') {
        Some((name, rest)) => match rest.strip_suffix('}') {
            Some(labels) => (name, labels),
            None => return false,
        },
        None => (series, ""),
    };
    let labels_ok = labels.is_empty()
        || labels.split("\",").all(|pair| {
            pair.split_once("=\"").is_some_and(|(label, v)| is_name(label) && !v.trim_end_matches('"').contains('"'))
        });
    is_name(name) && number && labels_ok
}

/// The value of the counter or gauge `metric` with exactly these labels (0 when absent).
pub(crate) fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric && s.labels.len() == labels.len())
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            Sample::Counter(v) | Sample::Gauge(v) | Sample::Untyped(v) => v,
            _ => panic!("{metric} is not a counter or gauge"),
        })
        .sum()
}

/// How many observations the histogram `metric` holds (its `_count`; 0 when absent).
fn observations(scrape: &Scrape, metric: &str) -> f64 {
    let count = format!("{metric}_count");
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == count)
        .map(|s| if let Sample::Untyped(v) = s.value { v } else { 0.0 })
        .sum()
}

fn introspections(scrape: &Scrape, result: &str) -> f64 {
    value(scrape, "portcullis_introspections_total", &[("result", result)])
}

fn tokens(scrape: &Scrape, counter: &str, kind: &str) -> f64 {
    value(scrape, &format!("portcullis_tokens_{counter}_total"), &[("kind", kind)])
}

fn revoke(world: &World, app: &App, token: &str) {
    let response = http()
        .post(world.url("/oauth/revoke"))
        .basic_auth(&app.client_id, app.secret.as_deref())
        .form(&[("token", token)])
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[test]
fn scrapes_cleanly_with_help_for_every_series_and_pool_gauges() {
    let world = World::new();
    assert_eq!(http().get(world.url("/healthz")).send().unwrap().status(), 200);
    let (_, scrape) = scrape(&world);
    for metric in [
        "portcullis_http_requests_total",
        "portcullis_http_request_duration_seconds",
        "portcullis_introspections_total",
        "portcullis_verification_cache_total",
        "portcullis_tokens_issued_total",
        "portcullis_tokens_revoked_total",
        "portcullis_login_failures_total",
        "portcullis_login_throttled_total",
        "portcullis_db_pool_connections",
        "portcullis_revocation_visible_seconds",
    ] {
        assert!(scrape.docs.get(metric).is_some_and(|help| !help.is_empty()), "no help for {metric}");
    }
    assert_pool_gauges(&scrape);
}

/// Both pool gauges, as gauges, counting the connection the pool keeps open at least (idle, or
/// in use by housekeeping at that moment).
fn assert_pool_gauges(scrape: &Scrape) {
    let gauge = |state: &str| {
        let sample = scrape
            .samples
            .iter()
            .find(|s| s.metric == "portcullis_db_pool_connections" && s.labels.get("state") == Some(state));
        match sample.map(|s| &s.value) {
            Some(Sample::Gauge(v)) => *v,
            other => panic!("no {state} gauge: {other:?}"),
        }
    };
    assert!(gauge("in_use") + gauge("idle") >= 1.0);
}
#[test]
fn introspections_move_by_exactly_what_was_asked_and_routes_are_patterns() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.app(&team);
    let backend = world.backend();
    let token = world.access_token(&email, &app, Grant::Project { team: &team, project: &project });
    let (_, before) = scrape(&world);

    assert!(world.is_active(&backend, &token));
    assert!(!world.is_active(&backend, "project:nobody:nothing|not-a-real-secret"));
    let _ = http().delete(world.url("/v1/deploy_keys/12345")).send().unwrap();
    let _ = http().get(world.url("/no/such/page/67890")).send().unwrap();

    let (text, after) = scrape(&world);
    assert_eq!(introspections(&after, "active") - introspections(&before, "active"), 1.0);
    assert_eq!(introspections(&after, "inactive") - introspections(&before, "inactive"), 1.0);
    let introspect = [("route", "/oauth/introspect"), ("method", "POST"), ("status", "200")];
    assert_eq!(
        value(&after, "portcullis_http_requests_total", &introspect)
            - value(&before, "portcullis_http_requests_total", &introspect),
        2.0
    );
    assert!(text.contains(r#"route="/v1/deploy_keys/{id}""#), "{text}");
    assert!(text.contains(r#"route="unmatched""#), "{text}");
    assert!(!text.contains("12345") && !text.contains("67890"), "a raw path in a label: {text}");
    assert!(!text.contains(&token) && !text.contains(&email) && !text.contains(&app.client_id));
    assert!(observations(&after, "portcullis_http_request_duration_seconds") > 0.0);
}

#[test]
fn tokens_are_counted_by_kind_when_issued_and_revoked() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.app(&team);
    let expiring = world.expiring_app(&team);
    let prod = world.deployment(&team, &project, "prod");
    let (_, before) = scrape(&world);

    let token = world.access_token(&email, &app, Grant::Project { team: &team, project: &project });
    let team_token = world.access_token(&email, &app, Grant::Team { team: &team });
    let refreshable = world.tokens(&email, &expiring, Grant::Team { team: &team });
    assert!(refreshable["refresh_token"].is_string());
    let response = http()
        .post(world.url("/v1/deploy_keys"))
        .bearer_auth(&token)
        .json(&json!({ "name": "from the app", "deployment": prod }))
        .send()
        .unwrap();
    assert_eq!(response.status(), 201);
    let key: Value = response.json().unwrap();
    let id = key["id"].as_i64().unwrap();
    let deleted = http().delete(world.url(&format!("/v1/deploy_keys/{id}"))).bearer_auth(&token).send().unwrap();
    assert_eq!(deleted.status(), 200);
    revoke(&world, &app, &team_token);
    revoke(&world, &app, &team_token); // already revoked: nothing more ends

    let (_, after) = scrape(&world);
    let moved = |counter: &str, kind: &str| tokens(&after, counter, kind) - tokens(&before, counter, kind);
    assert_eq!(moved("issued", "authorization_code"), 3.0);
    assert_eq!(moved("issued", "project_token"), 1.0);
    assert_eq!(moved("issued", "team_token"), 2.0);
    assert_eq!(moved("issued", "refresh_token"), 1.0);
    assert_eq!(moved("issued", "deploy_key"), 1.0);
    assert_eq!(moved("revoked", "deploy_key"), 1.0);
    assert_eq!(moved("revoked", "team_token"), 1.0);
    assert_eq!(moved("revoked", "project_token"), 0.0);
}

#[test]
fn revocations_by_removal_replay_and_deletion_are_counted_once_committed() {
    let world = World::new();
    let (admin, team, project) = world.owner_with_project();
    let member = world.user();
    world.member(&team, &member, "developer");
    let app = world.app(&team);
    let session = crate::manage::Session::new(&world, &admin);
    let (_, before) = scrape(&world);

    world.access_token(&member, &app, Grant::Project { team: &team, project: &project });
    world.access_token(&member, &app, Grant::Team { team: &team });
    let members: Value = session.send(reqwest::Method::GET, &format!("/v1/teams/{team}/members"), None).json().unwrap();
    let id_of = |email: &str| {
        members["items"].as_array().unwrap().iter().find(|m| m["email"] == email).unwrap()["user_id"].clone()
    };
    let remove =
        |user_id: Value| session.send(reqwest::Method::DELETE, &format!("/v1/teams/{team}/members/{user_id}"), None);
    assert_eq!(remove(id_of(&member)).status(), 200);
    assert_eq!(remove(id_of(&admin)).status(), 409, "the last admin stays: nothing is counted");

    let (code, verifier) = world.code_for(&admin, &app, Grant::Project { team: &team, project: &project });
    assert_eq!(world.exchange(&app, &code, &verifier).status(), 200);
    assert_eq!(world.exchange(&app, &code, &verifier).status(), 400, "a replay revokes the grant");

    let doomed = world.app(&team);
    world.access_token(&admin, &doomed, Grant::Team { team: &team });
    let deleted = session.send(reqwest::Method::DELETE, &format!("/v1/teams/{team}/apps/{}", doomed.client_id), None);
    assert_eq!(deleted.status(), 200);
    let dev = world.deployment(&team, &project, "dev");
    world.deploy_key(&["--deployment", &dev]);
    assert_eq!(session.send(reqwest::Method::DELETE, &format!("/v1/deployments/{dev}"), None).status(), 200);

    let (_, after) = scrape(&world);
    let moved = |kind: &str| tokens(&after, "revoked", kind) - tokens(&before, "revoked", kind);
    assert_eq!(moved("project_token"), 2.0, "the member's project token and the replayed code's");
    assert_eq!(moved("team_token"), 2.0, "the member's team token and the deleted app's");
    assert_eq!(moved("deploy_key"), 1.0, "the deleted deployment's key");
}

#[test]
fn login_failures_and_throttles_are_counted() {
    let world = World::new();
    let email = world.user();
    let (_, before) = scrape(&world);
    let login = |password: &str| {
        browser().post(world.url("/login")).form(&[("email", email.as_str()), ("password", password)]).send().unwrap()
    };
    for _ in 0..10 {
        assert_eq!(login("wrong-password").status(), 401);
    }
    assert_eq!(login(PASSWORD).status(), 429);
    let (_, after) = scrape(&world);
    let moved = |metric: &str| value(&after, metric, &[]) - value(&before, metric, &[]);
    assert_eq!(moved("portcullis_login_failures_total"), 10.0);
    assert_eq!(moved("portcullis_login_throttled_total"), 1.0);
}

/// The verification cache, on either backend: a kept answer is a hit, the revocation that the
/// log names is an invalidation, and the first inactive answer after it is timed. On
/// PostgreSQL each request passed the freshness barrier, which read the change counter.
#[test]
fn the_verification_cache_and_revocation_visibility_are_measured() {
    let world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.app(&team);
    let backend = world.backend();
    let token = world.access_token(&email, &app, Grant::Project { team: &team, project: &project });
    let (_, before) = scrape(&world);
    assert!(world.is_active(&backend, &token));
    assert!(world.is_active(&backend, &token));
    revoke(&world, &app, &token);
    assert!(!world.is_active(&backend, &token));
    let (_, after) = scrape(&world);
    let cache = |s: &Scrape, outcome: &str| value(s, "portcullis_verification_cache_total", &[("outcome", outcome)]);
    let moved = |outcome: &str| cache(&after, outcome) - cache(&before, outcome);
    let visible = observations(&after, "portcullis_revocation_visible_seconds")
        - observations(&before, "portcullis_revocation_visible_seconds");
    // One cache per instance, whichever worker answers.
    assert_eq!(moved("hit"), 1.0, "the second answer came from memory");
    assert_eq!(moved("miss"), 2.0, "the first answer, and the one after the revocation");
    assert_eq!(moved("invalidation"), 1.0, "the revocation dropped the kept answer");
    assert_eq!(visible, 1.0, "the first inactive answer after the revocation is timed, once");
    let rounds = value(&after, "portcullis_verification_barrier_rounds_total", &[])
        - value(&before, "portcullis_verification_barrier_rounds_total", &[]);
    if on_sqlite() {
        assert_eq!(rounds, 0.0, "SQLite checks its commit mark instead");
    } else {
        // One round per introspection, one after the other (the revocation and the scrape
        // pass no barrier).
        assert_eq!(rounds, 3.0, "barrier rounds for three introspections");
    }
}

#[test]
fn a_separate_metrics_listener_takes_metrics_off_the_main_one() {
    let db = TestDb::new();
    let server = Server::start(&db.url, &[("PORTCULLIS_METRICS_BIND", "127.0.0.1:0")]);
    let address = server
        .banner
        .iter()
        .find_map(|line| line.strip_prefix("portcullis metrics on "))
        .unwrap_or_else(|| panic!("no metrics address in {:?}", server.banner))
        .to_owned();
    let (_, scrape) = scrape_at(&format!("{address}/metrics"));
    assert_pool_gauges(&scrape);
    assert_eq!(http().get(server.url("/metrics")).send().unwrap().status(), 404);
    assert_eq!(http().get(server.url("/healthz")).send().unwrap().status(), 200);
    assert_eq!(http().get(format!("{address}/healthz")).send().unwrap().status(), 404, "metrics only");
}
