//! Audit events (SPEC §2): who did what to which credential or membership, when, from where;
//! written by every use case ([`record`]) and read back by a team's admins ([`list`]).

use diesel::Connection;
use secrecy::SecretString;
use serde::Serialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use super::page::{Page, PageRequest};
use super::{OpError, OpResult, access, rfc3339, teams};
use crate::authz::{Action, Resource};
use crate::db::models::audit::{self, ActionMatch, AuditEvent, NewAuditEvent, TeamEvents};
use crate::db::{DbConnection, now};
use crate::domain::{Invalid, Slug};

/// Who is acting.
#[derive(Debug, Clone)]
pub enum Actor {
    /// An operator at the command line.
    Cli,
    /// A person signed in to the pages.
    User { id: i64, client_ip: Option<String> },
    /// An OAuth application, through the protocol endpoints.
    App { client_id: String, client_ip: Option<String> },
    /// An application acting for its user through `/v1` with its access token (`credential`,
    /// never logged: `SecretString` redacts itself). Use cases judge it by the credential as
    /// it is inside their own transaction (`access::authorize`).
    Token { credential: SecretString, client_id: String, user_id: i64, client_ip: Option<String> },
    /// The server itself (e.g. replay detection revoking a grant).
    System,
    /// Someone unauthenticated, known only by address (e.g. dynamic client registration).
    Anonymous { client_ip: Option<String> },
}

impl Actor {
    /// The person on whose behalf the change is made, if any: the signed-in user, or the
    /// user an application token acts for.
    pub fn person(&self) -> Option<i64> {
        match self {
            Actor::User { id, .. } => Some(*id),
            Actor::Token { user_id, .. } => Some(*user_id),
            Actor::Cli | Actor::App { .. } | Actor::System | Actor::Anonymous { .. } => None,
        }
    }

    fn label(&self) -> String {
        match self {
            Actor::Cli => "cli".into(),
            Actor::User { id, .. } => format!("user:{id}"),
            Actor::App { client_id, .. } => format!("app:{client_id}"),
            Actor::Token { client_id, user_id, .. } => format!("user:{user_id} via app:{client_id}"),
            Actor::System => "system".into(),
            Actor::Anonymous { .. } => "anonymous".into(),
        }
    }

    fn client_ip(&self) -> Option<&str> {
        match self {
            Actor::User { client_ip, .. }
            | Actor::App { client_ip, .. }
            | Actor::Token { client_ip, .. }
            | Actor::Anonymous { client_ip } => client_ip.as_deref(),
            Actor::Cli | Actor::System => None,
        }
    }
}

/// What happened to what.
pub struct Event<'a> {
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: String,
    pub team_id: Option<i64>,
    pub details: Value,
}

pub fn record(conn: &mut DbConnection, actor: &Actor, event: Event) -> diesel::QueryResult<()> {
    let details = event.details.to_string();
    audit::create(
        conn,
        &NewAuditEvent {
            created_at: now(),
            actor: &actor.label(),
            action: event.action,
            target_type: event.target_type,
            target_id: &event.target_id,
            team_id: event.team_id,
            client_ip: actor.client_ip(),
            details: &details,
        },
    )
}

/// Which of a team's events to list: a time range (`since` inclusive, `until` exclusive, UTC)
/// and a kind. Every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub since: Option<PrimitiveDateTime>,
    pub until: Option<PrimitiveDateTime>,
    pub kind: Option<AuditKind>,
}

impl AuditFilter {
    /// An RFC 3339 timestamp (`2026-12-01T09:30:00Z`, any offset) as the UTC time events are
    /// stored in.
    pub fn instant(text: &str) -> Result<PrimitiveDateTime, Invalid> {
        let at = OffsetDateTime::parse(text.trim(), &Rfc3339)
            .map_err(|_| Invalid(format!("{text:?} is not an RFC 3339 time such as 2026-12-01T09:30:00Z")))?
            .to_offset(UtcOffset::UTC);
        Ok(PrimitiveDateTime::new(at.date(), at.time()))
    }

    /// A range that ends before it begins is refused rather than answered with nothing.
    pub fn new(
        since: Option<PrimitiveDateTime>,
        until: Option<PrimitiveDateTime>,
        kind: Option<AuditKind>,
    ) -> Result<AuditFilter, Invalid> {
        if let (Some(since), Some(until)) = (since, until)
            && until <= since
        {
            return Err(Invalid::new("until must be later than since"));
        }
        Ok(AuditFilter { since, until, kind })
    }
}

/// What kind of event: one action (`member.remove`), or every action of a family, written
/// with a trailing dot (`member.`) or as the bare family name (`member`: no action is named
/// without a dot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditKind {
    Action(String),
    Family(String),
}

impl AuditKind {
    pub fn parse(text: &str) -> Result<AuditKind, Invalid> {
        let text = text.trim();
        let valid = (1..=64).contains(&text.len())
            && text.starts_with(|c: char| c.is_ascii_lowercase())
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
        if !valid {
            return Err(Invalid(format!(
                "{text:?} is not an event kind: give an action such as member.remove, or a family such as member."
            )));
        }
        Ok(match text.strip_suffix('.') {
            Some(family) => AuditKind::Family(format!("{family}.")),
            None if !text.contains('.') => AuditKind::Family(format!("{text}.")),
            None => AuditKind::Action(text.to_owned()),
        })
    }

    fn matcher(&self) -> ActionMatch<'_> {
        match self {
            AuditKind::Action(action) => ActionMatch::Exactly(action),
            AuditKind::Family(prefix) => ActionMatch::Prefix(prefix),
        }
    }
}

/// One audit event as listed. `details` is what the use case recorded, which never holds a
/// secret (credentials are named by id, prefix or name).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEventOut {
    pub id: i64,
    /// When it happened (RFC 3339, UTC).
    pub time: String,
    /// `cli`, `user:<id>`, `user:<id> via app:<client_id>`, `app:<client_id>` or `system`.
    pub actor: String,
    /// What happened, e.g. `member.remove`.
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    /// Where the request came from, when it came over HTTP.
    pub client_ip: Option<String>,
    #[schema(value_type = Object)]
    pub details: Value,
}

impl From<AuditEvent> for AuditEventOut {
    fn from(event: AuditEvent) -> Self {
        AuditEventOut {
            id: event.id,
            time: rfc3339(event.created_at),
            // Written as JSON by `record`; a row written by hand is shown as the text it holds.
            details: serde_json::from_str(&event.details).unwrap_or(Value::String(event.details)),
            actor: event.actor,
            action: event.action,
            target_type: event.target_type,
            target_id: event.target_id,
            client_ip: event.client_ip,
        }
    }
}

/// A page of a team's audit log: `{"items": [...], "next_cursor": "..." | null}`.
pub type AuditPage = Page<AuditEventOut>;

/// The team's audit events that match `filter`, newest first, one page at a time: the cursor
/// of a page is the id of its last (oldest) event (opaque to callers, see [`super::page`]), and
/// the next page holds the events older than it. Ids only grow, so a walk through the pages
/// lists every matching event committed before it began exactly once, however many are
/// written meanwhile (newer ones start a new walk). The filters, the order and the limit run
/// in the database.
///
/// Who may read it: the audit log is team-level information about everyone's credentials and
/// memberships, so reading it takes `team:update` (SPEC §2 is silent; team admins hold it, and
/// custom roles that grant it) — the same bar as changing the team itself.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    team: &Slug,
    filter: &AuditFilter,
    page: PageRequest,
) -> OpResult<AuditPage> {
    conn.transaction(|conn| {
        let team = teams::require(conn, team)?;
        access::authorize(conn, actor, Action::TeamUpdate, &Resource::Team { team_id: team.id })?;
        let events = audit::list_for_team(
            conn,
            &TeamEvents {
                team_id: team.id,
                since: filter.since,
                until: filter.until,
                action: filter.kind.as_ref().map(AuditKind::matcher),
                before_id: page.after,
                limit: page.fetch(),
            },
        )?;
        let items = events.into_iter().map(AuditEventOut::from).collect();
        Ok::<_, OpError>(Page::from_fetched(items, &page, |event: &AuditEventOut| event.id))
    })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn kinds_are_one_action_or_a_family() {
        assert_eq!(AuditKind::parse("member.remove").unwrap(), AuditKind::Action("member.remove".into()));
        assert_eq!(AuditKind::parse("deploy_key.").unwrap(), AuditKind::Family("deploy_key.".into()));
        assert_eq!(AuditKind::parse(" member ").unwrap(), AuditKind::Family("member.".into()));
        for bad in ["", ".", ".member", "Member.remove", "member%", "member remove", &"a".repeat(65)] {
            assert!(AuditKind::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn instants_are_rfc3339_in_any_offset_read_as_utc() {
        assert_eq!(AuditFilter::instant("2026-12-01T09:30:00Z").unwrap(), datetime!(2026-12-01 09:30:00));
        assert_eq!(AuditFilter::instant("2026-12-01T11:30:00+02:00").unwrap(), datetime!(2026-12-01 09:30:00));
        for bad in ["", "yesterday", "2026-12-01", "2026-12-01T09:30"] {
            assert!(AuditFilter::instant(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_range_must_end_after_it_begins() {
        let (a, b) = (datetime!(2026-12-01 09:00:00), datetime!(2026-12-01 10:00:00));
        assert!(AuditFilter::new(Some(a), Some(b), None).is_ok());
        assert!(AuditFilter::new(Some(b), Some(a), None).is_err());
        assert!(AuditFilter::new(Some(a), Some(a), None).is_err());
    }
}
