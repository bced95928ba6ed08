//! The device authorization grant (RFC 8628, SPEC §7): a device asks for a user code, the
//! user approves it on the `/device` page with the same consent as the browser flow, and the
//! device, polling the token endpoint, gets an ordinary grant.

use serde_json::json;
use time::{Duration, PrimitiveDateTime};

use super::consent::{Choice, resolve};
use super::issue::{Approved, Issue, issue_in_tx};
use super::{GrantPolicy, IssuedTokens, ProjectChoice};
use crate::db::DbConnection;
use crate::db::models::apps::App;
use crate::db::models::device_codes::{self, Decision, DeviceCode, status};
use crate::db::models::login_failures::{self, FailureKind};
use crate::domain::{Audience, Scope, Slug, UserCode};
use crate::ops::audit::{self, Actor, Event};
use crate::ops::resources::{self, NotTarget};
use crate::ops::{OpError, OpResult};
use crate::tokens::{SecretHash, generate_secret};

/// RFC 8628 §3.2 `interval`: how long a device waits between polls, at first.
pub const INTERVAL_SECONDS: i64 = 5;

/// RFC 8628 §3.5: what `slow_down` adds to the interval.
const SLOW_DOWN_SECONDS: i64 = 5;

/// A device name is shown to people next to the app's name; longer is not a name.
pub const DEVICE_NAME_MAX: usize = 100;

/// What the device shows its user (RFC 8628 §3.2).
#[derive(Debug)]
pub struct Started {
    pub device_code: String,
    pub user_code: UserCode,
    pub expires_in: i64,
    pub interval: i64,
}

/// RFC 8628 §3.1–3.2: a new device authorization request of `app` for `scope`, optionally
/// naming the device. A user code that happens to be taken by another live request is drawn
/// again.
pub fn start(
    conn: &mut DbConnection,
    app: &App,
    scope: Scope,
    device_name: Option<&str>,
    resources: Option<&Audience>,
    policy: &GrantPolicy,
) -> OpResult<Started> {
    let resources = resources.map(Audience::to_stored);
    let device_code = generate_secret();
    let hash = SecretHash::of(&device_code);
    let now = crate::db::now();
    let mut attempts = 0;
    loop {
        let user_code = UserCode::generate();
        let created = device_codes::create(
            conn,
            &device_codes::NewDeviceCode {
                device_code_hash: hash.as_str(),
                user_code: user_code.as_str(),
                app_id: app.id,
                scope: scope.as_str(),
                device_name,
                interval_seconds: INTERVAL_SECONDS,
                status: status::PENDING,
                created_at: now,
                expires_at: now + policy.device_code_ttl,
                resources: resources.as_deref(),
            },
        );
        match created {
            Ok(()) => {
                let expires_in = policy.device_code_ttl.whole_seconds();
                return Ok(Started { device_code, user_code, expires_in, interval: INTERVAL_SECONDS });
            }
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
                if attempts < 3 =>
            {
                attempts += 1;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// Wrong user codes allowed per session and per address in [`FAILURE_WINDOW`] (SPEC §7).
pub const MAX_FAILURES: i64 = 10;

/// The window [`MAX_FAILURES`] counts in.
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);

/// What a typed user code found.
#[derive(Debug)]
pub enum Lookup {
    /// The pending request it names.
    Found(Box<DeviceCode>),
    /// No pending request has that code (or it is not a code at all); counted and audited.
    Wrong,
    /// Too many wrong codes lately from this session or this address: try again after this
    /// many seconds (RFC 8628 §5.1: user codes are guessable only through this page).
    Throttled { retry_after: i64 },
}

/// Who is typing a user code: their session (its digest) and their address.
pub struct Typist<'a> {
    pub actor: &'a Actor,
    pub session_hash: &'a str,
    pub client_ip: &'a str,
}

/// Looks up the pending request the user code `input` names, throttled: after
/// [`MAX_FAILURES`] wrong codes in [`FAILURE_WINDOW`] from the session or the address, nothing
/// is looked up. Each wrong code is recorded and audited in the same transaction as the check,
/// so parallel guesses cannot slip past the count.
pub fn lookup(conn: &mut DbConnection, typist: &Typist, input: &str) -> OpResult<Lookup> {
    let now = crate::db::now();
    conn.write_transaction(|conn| {
        let (session, ip) = (typist.session_hash, typist.client_ip);
        if let Some(oldest) =
            login_failures::over_limit(conn, FailureKind::UserCode, session, ip, now - FAILURE_WINDOW, MAX_FAILURES)?
        {
            return Ok(Lookup::Throttled { retry_after: (oldest + FAILURE_WINDOW - now).whole_seconds().max(1) });
        }
        let found = match UserCode::parse(input) {
            Ok(code) => device_codes::find_pending(conn, code.as_str(), now)?,
            Err(_) => None,
        };
        if let Some(request) = found {
            return Ok(Lookup::Found(Box::new(request)));
        }
        login_failures::record(conn, FailureKind::UserCode, session, ip, now)?;
        let event = Event {
            action: "device.user_code_failed",
            target_type: "device_code",
            target_id: String::new(),
            team_id: None,
            details: json!({}),
        };
        audit::record(conn, typist.actor, event)?;
        Ok(Lookup::Wrong)
    })
}

/// The pending request under the canonical `user_code` (from a consent form whose ticket
/// was checked, so not a guess), if it is still pending.
pub fn pending(conn: &mut DbConnection, user_code: &UserCode) -> OpResult<Option<DeviceCode>> {
    Ok(device_codes::find_pending(conn, user_code.as_str(), crate::db::now())?)
}

/// What the user decided on the device's consent page.
pub enum DeviceDecision<'a> {
    Approve { team: &'a Slug, project: ProjectChoice<'a> },
    Deny,
}

/// Records the user's decision on the pending request `request`, with the same server-side
/// checks as the browser flow's consent ([`resolve`]); creating a new project and approving are
/// one transaction. A request that is no longer pending (decided in another tab, expired) is
/// refused and nothing changes.
pub fn decide(
    conn: &mut DbConnection,
    actor: &Actor,
    app: &App,
    request: &DeviceCode,
    user_id: i64,
    decision: &DeviceDecision,
    policy: &GrantPolicy,
) -> OpResult<()> {
    conn.write_transaction(|conn| {
        let now = crate::db::now();
        let scope = Scope::parse(&request.scope)?;
        let (recorded, action, team_id, details) = match decision {
            DeviceDecision::Approve { team, project } => {
                let choice = Choice { app, user_id, team, project };
                let (team, project) = resolve(conn, actor, &choice, scope, policy)?;
                let project_id = project.as_ref().map(|p| p.id);
                let resources = Audience::from_stored(request.resources.as_deref());
                resources::check_targets(conn, resources.as_ref(), scope, project_id)??;
                let approve = Decision::Approve { user_id, team_id: team.id, project_id };
                let recorded = device_codes::decide(conn, request.id, &approve, now)?;
                (
                    recorded,
                    "consent.approve",
                    Some(team.id),
                    json!({ "scope": scope.as_str(), "project_id": project_id }),
                )
            }
            DeviceDecision::Deny => {
                let recorded = device_codes::decide(conn, request.id, &Decision::Deny { user_id }, now)?;
                (recorded, "consent.deny", None, json!({ "scope": scope.as_str() }))
            }
        };
        if !recorded {
            return Err(OpError::Conflict(
                "this code was already used or has expired: start again on your device".into(),
            ));
        }
        let details = json!({ "device": true, "device_name": request.device_name, "decision": details });
        let event = Event { action, target_type: "oauth_app", target_id: app.client_id.clone(), team_id, details };
        Ok(audit::record(conn, actor, event)?)
    })
}

/// Why a poll did not get tokens (RFC 8628 §3.5).
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    AuthorizationPending,
    SlowDown,
    AccessDenied,
    ExpiredToken,
    /// Unknown, another client's, or already redeemed.
    InvalidGrant,
    /// The poll named resources the user did not approve, or that are gone (RFC 8707).
    InvalidTarget(NotTarget),
}

/// RFC 8628 §3.4–3.5: a poll of the token endpoint with `device_code` by `app`. While the user
/// has not decided, a poll sooner than the interval after the previous one is `slow_down` and
/// lengthens the interval by 5 s for good. An approved request is redeemed exactly once (of
/// concurrent polls, one gets the tokens and the others `invalid_grant`), re-checking the user
/// and the membership as a code redemption does.
pub fn poll(
    conn: &mut DbConnection,
    app: &App,
    device_code: &str,
    requested: Option<&Audience>,
    policy: &GrantPolicy,
    client_ip: Option<String>,
    now: PrimitiveDateTime,
) -> OpResult<Result<IssuedTokens, Refused>> {
    let hash = SecretHash::of(device_code);
    let actor = Actor::App { client_id: app.client_id.clone(), client_ip };
    let polled = conn.write_transaction(|conn| -> OpResult<Result<IssuedTokens, Refused>> {
        let Some(request) = device_codes::find_by_hash(conn, hash.as_str())?.filter(|r| r.app_id == app.id) else {
            return Ok(Err(Refused::InvalidGrant));
        };
        if request.status == status::REDEEMED {
            return Ok(Err(Refused::InvalidGrant));
        }
        if request.expires_at <= now {
            return Ok(Err(Refused::ExpiredToken));
        }
        match request.status.as_str() {
            status::PENDING => {
                let too_soon =
                    request.last_polled_at.is_some_and(|at| now < at + Duration::seconds(request.interval_seconds));
                let interval = request.interval_seconds + if too_soon { SLOW_DOWN_SECONDS } else { 0 };
                device_codes::record_poll(conn, request.id, interval, now)?;
                Ok(Err(if too_soon { Refused::SlowDown } else { Refused::AuthorizationPending }))
            }
            status::DENIED => Ok(Err(Refused::AccessDenied)),
            _ => redeem(conn, app, &request, requested, policy, &actor, now),
        }
    })?;
    if let Ok(tokens) = &polled {
        tokens.count_issued();
    }
    Ok(polled)
}

/// Redeems an approved request in the poll's transaction.
fn redeem(
    conn: &mut DbConnection,
    app: &App,
    request: &DeviceCode,
    requested: Option<&Audience>,
    policy: &GrantPolicy,
    actor: &Actor,
    now: PrimitiveDateTime,
) -> OpResult<Result<IssuedTokens, Refused>> {
    let (Some(user_id), Some(team_id)) = (request.user_id, request.team_id) else {
        return Ok(Err(Refused::InvalidGrant));
    };
    let resources = Audience::from_stored(request.resources.as_deref());
    let approved = Approved {
        app,
        user_id,
        team_id,
        project_id: request.project_id,
        scope: &request.scope,
        device_name: request.device_name.as_deref(),
        resources: resources.as_ref(),
        requested,
    };
    let claim = |conn: &mut DbConnection| Ok(device_codes::claim(conn, request.id)?);
    Ok(match issue_in_tx(conn, &approved, policy, actor, now, claim)? {
        Issue::Issued { tokens, grant_id } => {
            device_codes::link_grant(conn, request.id, grant_id)?;
            Ok(tokens)
        }
        // Approved, but the user can no longer grant it (removed, disabled, project gone).
        Issue::Refused => Err(Refused::AccessDenied),
        Issue::Lost => Err(Refused::InvalidGrant),
        Issue::Untargeted(refused) => Err(Refused::InvalidTarget(refused)),
    })
}
