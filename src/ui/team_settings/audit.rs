//! `/teams/<slug>/settings/audit` (SPEC §2 audit events, §6): the team's audit log for those
//! who may read it (`team:update`, see `ops::audit::list`), newest first, narrowed by a GET
//! form (a time range and a kind; no CSRF token: it changes nothing), a page at a time with a
//! link to the older events. A filter that cannot be read comes back next to its field.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use time::PrimitiveDateTime;
use time::macros::format_description;

use super::{Section, TeamRequest};
use crate::authz::{Action, Resource};
use crate::domain::Invalid;
use crate::ops::access;
use crate::ops::audit::{self, AuditFilter, AuditKind};
use crate::ops::page::PageRequest;
use crate::ui::pages::{AuditLogPage, AuditRow, FieldErrors};
use crate::ui::{PageError, render};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/teams/{slug}/settings/audit").get(show));
}

/// The form as sent (all optional), and the cursor of the "Older events" link.
#[derive(Debug, Default, serde::Deserialize)]
struct Query {
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    kind: String,
    cursor: Option<String>,
}

/// A time as a `datetime-local` input sends it (`2026-12-01T09:30`, seconds optional), read
/// as UTC; or a full RFC 3339 time with its offset.
fn instant(text: &str) -> Result<Option<PrimitiveDateTime>, Invalid> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let local = format_description!(version = 2, "[year]-[month]-[day]T[hour]:[minute][optional [:[second]]]");
    match PrimitiveDateTime::parse(text, local) {
        Ok(at) => Ok(Some(at)),
        Err(_) => AuditFilter::instant(text)
            .map(Some)
            .map_err(|_| Invalid::new("Give a date and time, e.g. 2026-12-01T09:30 (UTC).")),
    }
}

/// The filter, or the reasons next to the fields.
fn filter(query: &Query, errors: &mut FieldErrors) -> Option<AuditFilter> {
    let since = instant(&query.since).map_err(|e| errors.add("since", e.0)).ok();
    let until = instant(&query.until).map_err(|e| errors.add("until", e.0)).ok();
    let kind = match query.kind.trim() {
        "" => Some(None),
        kind => AuditKind::parse(kind).map(Some).map_err(|e| errors.add("kind", e.0)).ok(),
    };
    let (since, until, kind) = (since?, until?, kind?);
    AuditFilter::new(since, until, kind).map_err(|e| errors.add("until", e.0)).ok()
}

/// The next page's URL: the same filters and `cursor`.
fn older(base: &str, query: &Query, cursor: &str) -> String {
    let mut params = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [("since", &query.since), ("until", &query.until), ("kind", &query.kind)] {
        if !value.trim().is_empty() {
            params.append_pair(name, value);
        }
    }
    params.append_pair("cursor", cursor);
    format!("{base}?{}", params.finish())
}

async fn show(team: TeamRequest, query: web::Query<Query>) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let (status, page) = team
        .visit()
        .await?
        .run(Section::Audit, move |conn, settings, visitor| {
            // Before anything about the request is answered, even that its filter is wrong.
            access::require(conn, visitor.user_id, Action::TeamUpdate, &Resource::Team { team_id: settings.team.id })?;
            let page = PageRequest::parse(None, query.cursor.as_deref())?;
            let base = settings.url(Section::Audit);
            let mut errors = FieldErrors::default();
            let (status, rows, older) = match filter(&query, &mut errors) {
                Some(filter) => {
                    let found = audit::list(conn, &visitor.actor, &visitor.slug, &filter, page)?;
                    let rows = found
                        .items
                        .into_iter()
                        .map(|event| AuditRow {
                            time: event.time,
                            actor: event.actor,
                            action: event.action,
                            target: format!("{} {}", event.target_type, event.target_id),
                            client_ip: event.client_ip,
                        })
                        .collect();
                    (StatusCode::OK, rows, found.next_cursor.map(|cursor| older(&base, &query, &cursor)))
                }
                None => (StatusCode::UNPROCESSABLE_ENTITY, Vec::new(), None),
            };
            let Query { since, until, kind, .. } = query;
            Ok((
                status,
                AuditLogPage {
                    account: visitor.account,
                    nav: settings.nav,
                    base,
                    since,
                    until,
                    kind,
                    errors,
                    rows,
                    older,
                },
            ))
        })
        .await?;
    Ok(render(status, &page))
}
