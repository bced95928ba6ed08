//! A team's audit log (SPEC §2 audit events, issue #12): `ops::audit::list` through the
//! operator CLI and the team settings page — filters by time range and kind, keyset pages that
//! neither repeat nor skip an event while new ones are written, and only those with
//! `team:update` reading it.

use std::collections::BTreeSet;

use diesel::prelude::*;
use serde_json::Value;

use crate::harness::{cli, unescape};
use crate::world::World;

/// A team with an admin and a developer, and a second team whose events must never show.
struct Log {
    world: World,
    admin: String,
    dev: String,
    slug: String,
    team_id: i64,
    other_team_id: i64,
}

impl Log {
    fn new() -> Log {
        let world = World::new();
        let admin = world.user();
        let slug = world.team(&admin);
        let dev = world.user();
        world.member(&slug, &dev, "developer");
        let other = world.team(&admin);
        let id = |slug: &str| {
            use portcullis::db::schema::teams;
            teams::table.filter(teams::slug.eq(slug)).select(teams::id).first::<i64>(&mut world.conn()).unwrap()
        };
        let (team_id, other_team_id) = (id(&slug), id(&other));
        Log { world, admin, dev, slug, team_id, other_team_id }
    }

    /// Writes an event of `team_id` at `at` (UTC, `YYYY-MM-DD HH:MM:SS`) as the use cases do;
    /// its id.
    fn event(&self, team_id: i64, action: &str, at: &str) -> i64 {
        use portcullis::db::models::audit::{NewAuditEvent, create};
        use portcullis::db::schema::audit_events;
        let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        let mut conn = self.world.conn();
        let new = NewAuditEvent {
            created_at: time::PrimitiveDateTime::parse(at, format).unwrap(),
            actor: "user:1",
            action,
            target_type: "member",
            target_id: "7",
            team_id: Some(team_id),
            client_ip: Some("203.0.113.9"),
            details: r#"{"note":"test"}"#,
        };
        create(&mut conn, &new).unwrap();
        audit_events::table.select(diesel::dsl::max(audit_events::id)).first::<Option<i64>>(&mut conn).unwrap().unwrap()
    }

    fn list(&self, args: &[&str]) -> Result<Value, String> {
        let mut full = vec!["admin", "audit", "list", "--team", &self.slug];
        full.extend_from_slice(args);
        cli(&self.world.db.url, &full)
    }

    fn actions(&self, args: &[&str]) -> Vec<String> {
        let page = self.list(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        page["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
    }

    fn page(&self, browser: &reqwest::blocking::Client, query: &str) -> (u16, String) {
        let response =
            browser.get(self.world.url(&format!("/teams/{}/settings/audit{query}", self.slug))).send().unwrap();
        (response.status().as_u16(), response.text().unwrap())
    }
}

#[test]
fn events_are_filtered_by_time_range_and_kind_newest_first() {
    let log = Log::new();
    log.event(log.team_id, "member.add", "2020-01-01 10:00:00");
    log.event(log.team_id, "member.remove", "2020-01-02 10:00:00");
    log.event(log.team_id, "app.create", "2020-01-03 10:00:00");
    log.event(log.team_id, "deploy_key.create", "2020-01-04 10:00:00");
    log.event(log.team_id, "deployxkey.create", "2020-01-04 11:00:00");
    log.event(log.other_team_id, "member.remove", "2020-01-02 11:00:00");

    let range = ["--since", "2020-01-02T00:00:00Z", "--until", "2020-01-04T00:00:00Z"];
    assert_eq!(log.actions(&range), ["app.create", "member.remove"], "since inclusive, until exclusive, no other team");
    assert_eq!(
        log.actions(&["--since", "2020-01-02T12:00:00+02:00", "--until", "2020-01-03T10:00:00Z"]),
        ["member.remove"]
    );
    let early = ["--until", "2020-01-05T00:00:00Z"];
    for family in ["member.", "member"] {
        assert_eq!(log.actions(&[&early[..], &["--kind", family]].concat()), ["member.remove", "member.add"]);
    }
    assert_eq!(log.actions(&[&early[..], &["--kind", "member.remove"]].concat()), ["member.remove"]);
    assert_eq!(log.actions(&[&early[..], &["--kind", "deploy_key."]].concat()), ["deploy_key.create"], "_ is literal");
    assert_eq!(log.actions(&[&early[..], &["--kind", "member.rem"]].concat()), Vec::<String>::new(), "exact action");

    let all = log.list(&["--until", "2020-01-05T00:00:00Z"]).unwrap();
    let newest = &all["items"][0];
    assert_eq!(
        (newest["time"].as_str(), newest["client_ip"].as_str()),
        (Some("2020-01-04T11:00:00Z"), Some("203.0.113.9"))
    );
    assert_eq!(newest["details"]["note"], "test");
    assert!(all["next_cursor"].is_null());
    assert!(log.actions(&[]).contains(&"team.create".to_owned()), "the use cases' own events are listed");

    for bad in [
        &["--since", "yesterday"][..],
        &["--kind", "Member."],
        &["--since", "2020-01-02T00:00:00Z", "--until", "2020-01-02T00:00:00Z"],
        &["--limit", "0"],
        &["--limit", "101"],
        &["--cursor", "not-a-cursor"],
    ] {
        assert!(log.list(bad).is_err(), "{bad:?}");
    }
    assert!(
        cli(&log.world.db.url, &["admin", "audit", "list", "--team", "no-such-team"]).unwrap_err().contains("no team")
    );
}

#[test]
fn pages_walk_newest_first_without_repeats_or_gaps_while_events_are_written() {
    let log = Log::new();
    let written: BTreeSet<i64> =
        (0..25).map(|i| log.event(log.team_id, "project.update", &format!("2020-02-01 10:{i:02}:00"))).collect();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut args = vec!["--kind", "project.update", "--limit", "10"];
        if let Some(cursor) = &cursor {
            args.extend(["--cursor", cursor]);
        }
        let page = log.list(&args).unwrap();
        pages += 1;
        seen.extend(page["items"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()));
        // Newer events arrive between the pages.
        for _ in 0..3 {
            log.event(log.team_id, "project.update", "2020-02-02 10:00:00");
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3, "10 + 10 + 5");
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats: {seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), written, "exactly the events there when the walk began");
    let first = log.list(&["--kind", "project.update", "--limit", "100"]).unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 25 + 9, "the newer ones start a new walk");
}

#[test]
fn the_audit_page_lists_and_filters_for_admins_and_refuses_developers() {
    let log = Log::new();
    log.event(log.team_id, "member.remove", "2020-01-02 10:00:00");
    log.event(log.team_id, "app.create", "2020-01-03 10:00:00");
    let admin = log.world.login(&log.admin);
    let row = |action: &str| format!("<td><code>{action}</code></td>");

    let (status, html) = log.page(&admin, "");
    assert_eq!(status, 200);
    assert!(html.contains(">Audit log</a>") && html.contains(r#"<label for="since">"#), "the tab and labelled inputs");
    assert!(
        html.contains(&row("member.remove")) && html.contains(&row("app.create")) && html.contains("203.0.113.9"),
        "{html}"
    );
    assert!(html.contains(&row("team.create")) && !html.contains("Older events"));

    let (status, html) = log.page(&admin, "?kind=member.&since=2020-01-01T00%3A00&until=2020-01-05T00%3A00%3A00");
    assert_eq!(status, 200);
    assert!(
        html.contains(&row("member.remove"))
            && !html.contains(&row("app.create"))
            && !html.contains(&row("team.create")),
        "{html}"
    );
    assert!(html.contains(r#"value="member.""#) && html.contains(r#"value="2020-01-01T00:00""#), "the filter as typed");

    for (query, field) in
        [("?since=yesterday", "since"), ("?until=2020-13-01T00:00", "until"), ("?kind=Member", "kind")]
    {
        let (status, html) = log.page(&admin, query);
        assert_eq!(status, 422, "{query}");
        assert!(html.contains(&format!(r#"id="{field}-error""#)) && html.contains(r#"aria-invalid="true""#), "{query}");
        assert!(!html.contains(&row("member.remove")), "{query}: no events until it is corrected");
    }
    let (status, html) = log.page(&admin, "?since=2020-01-03T00:00&until=2020-01-02T00:00");
    assert_eq!(status, 422);
    assert!(html.contains(r#"id="until-error""#));
    assert_eq!(log.page(&admin, "?cursor=forged").0, 400);

    // More than a page: the link to the older events keeps the filter.
    for i in 0..55 {
        log.event(log.team_id, "grant.revoke", &format!("2020-03-01 10:{i:02}:00"));
    }
    let (_, html) = log.page(&admin, "?kind=grant.revoke");
    assert_eq!(html.matches(&row("grant.revoke")).count(), 50);
    let marker = "<a href=\"";
    let link = html[..html.find(">Older events</a>").expect("an Older events link")].rsplit(marker).next().unwrap();
    let link = unescape(link.trim_end_matches('"'));
    assert!(link.contains("kind=grant.revoke") && link.contains("cursor="), "{link}");
    let older = admin.get(log.world.url(&link)).send().unwrap().text().unwrap();
    assert_eq!(older.matches(&row("grant.revoke")).count(), 5);
    assert!(!older.contains("Older events") && !older.contains(&row("member.remove")));

    // Developers have no team:update: no tab, and the page is refused.
    let developer = log.world.login(&log.dev);
    let members = developer.get(log.world.url(&format!("/teams/{}/settings/members", log.slug))).send().unwrap();
    assert!(!members.text().unwrap().contains(">Audit log</a>"));
    let (status, html) = log.page(&developer, "");
    assert_eq!(status, 403);
    assert!(!html.contains(&row("member.remove")) && !html.contains("203.0.113.9"));
    assert_eq!(log.page(&developer, "?since=yesterday").0, 403, "refused before the filter is read");
}

#[test]
fn the_use_case_lets_team_update_read_the_log_and_nobody_else() {
    use portcullis::domain::Slug;
    use portcullis::ops::audit::{AuditFilter, list};
    use portcullis::ops::page::PageRequest;
    use portcullis::ops::{Actor, OpError};

    let log = Log::new();
    let outsider = log.world.user();
    let user_id = |email: &str| {
        use portcullis::db::schema::users;
        users::table.filter(users::email.eq(email)).select(users::id).first::<i64>(&mut log.world.conn()).unwrap()
    };
    let slug = Slug::parse(&log.slug).unwrap();
    let read = |email: &str| {
        let actor = Actor::User { id: user_id(email), client_ip: None };
        list(&mut log.world.conn(), &actor, &slug, &AuditFilter::default(), PageRequest::first())
    };
    assert!(!read(&log.admin).unwrap().items.is_empty());
    assert!(matches!(read(&log.dev), Err(OpError::Forbidden(_))), "developers have no team:update");
    assert!(matches!(read(&outsider), Err(OpError::NotFound(_))), "a team one is not in does not exist");
    // A custom role granting team:update may read it.
    let statements = r#"[{"effect":"allow","actions":["team:update"],"resource":"team"}]"#;
    log.world.cli(&["admin", "role", "create", "--team", &log.slug, "--name", "auditor", "--statements", statements]);
    log.world.cli(&[
        "admin",
        "member",
        "set-custom-roles",
        "--team",
        &log.slug,
        "--email",
        &log.dev,
        "--role",
        "auditor",
    ]);
    assert!(read(&log.dev).is_ok());
}
