//! `/device` (RFC 8628 §3.3, SPEC §7): the user types the code their device shows, sees the
//! same consent page as the browser flow (with that code, to compare), and decides.
//!
//! - `GET /device[?user_code=…]`: the code form, pre-filled from `verification_uri_complete`
//!   (never submitted on its own: the user confirms the code they see, RFC 8628 §5.4).
//! - `POST /device`: looks the code up (throttled per session and per address, each wrong code
//!   audited) and shows the consent page.
//! - `GET /device/consent?user_code=…&team=…`: the same consent page for another team (the
//!   page's team switch), looked up the same throttled way.
//! - `POST /device/consent`: the decision, bound to the page shown by its consent ticket.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::consent::ticket::Field;
use super::consent::{self, ConsentRequest, Draft, Via};
use super::pages::{Account, ConsentPage, DeviceDonePage, DevicePage};
use super::session::SessionUser;
use super::{ForPage, PageError, render, signed_in, signed_in_form};
use crate::db::DbConnection;
use crate::db::models::apps;
use crate::db::models::device_codes::DeviceCode;
use crate::domain::{Audience, Scope, UserCode};
use crate::http::params::Params;
use crate::http::{AppState, client_ip, set_retry_after};
use crate::ops::grants::device::{self, DeviceDecision, Lookup, Typist};
use crate::ops::{Actor, OpError, OpResult, apps as app_ops};
use crate::ui::consent::ticket::TicketKey;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/device").get(show).post(enter))
        .service(web::resource("/device/consent").get(switch_team).post(decide));
}

/// The one protocol field a device consent page carries, and its ticket covers.
const FIELDS: [&str; 1] = ["user_code"];

fn code_form(user: &SessionUser, user_code: &str, error: Option<String>) -> DevicePage {
    DevicePage { account: Account::from(user), user_code: user_code.to_owned(), error }
}

async fn show(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let user = signed_in(&req, &state).await?;
    let params = Params::parse(req.query_string().as_bytes()).map_err(PageError::malformed(&req))?;
    let prefill = params.first("user_code").unwrap_or_default();
    Ok(render(StatusCode::OK, &code_form(&user, prefill, None)))
}

/// What a typed code led to.
enum Entered {
    Consent(Box<ConsentPage>),
    Wrong,
    Throttled { retry_after: i64 },
}

/// The consent page for the pending request `request`, shown to `user` with `draft`, with a
/// fresh ticket for its user code and this session.
fn consent_page(
    conn: &mut DbConnection,
    request: &DeviceCode,
    user: &SessionUser,
    tickets: &TicketKey,
    draft: Draft,
) -> OpResult<ConsentPage> {
    let app = apps::find_by_id(conn, request.app_id)?.ok_or_else(|| OpError::NotFound("application".into()))?;
    let client = app_ops::client(conn, &app.client_id)?.ok_or_else(|| OpError::NotFound("application".into()))?;
    let user_code = UserCode::parse(&request.user_code)?.display();
    let bound: [Field; 1] = [("user_code", Some(&user_code))];
    let ticket = tickets.issue(&user.session_hash(), &bound, consent::unix_now());
    let fields = [("user_code", user_code.clone())];
    let resources = Audience::from_stored(request.resources.as_deref());
    let consent_request = ConsentRequest {
        client: &client,
        scope: Scope::parse(&request.scope)?,
        resources: resources.as_ref(),
        via: Via::Device { user_code },
        fields: &fields,
        ticket,
    };
    consent::page(conn, &consent_request, user, draft)
}

/// Looks up `input` for `user` (throttled) and builds its consent page.
async fn lookup(
    req: &HttpRequest,
    state: &AppState,
    user: &SessionUser,
    input: String,
    team: Option<String>,
) -> Result<Entered, PageError> {
    let actor = Actor::User { id: user.user.id, client_ip: client_ip(req) };
    let ip = client_ip(req).unwrap_or_default();
    let session_hash = user.session_hash();
    let tickets = state.consent_tickets.clone();
    let user = user.clone();
    state
        .db(move |conn| -> OpResult<Entered> {
            let typist = Typist { actor: &actor, session_hash: &session_hash, client_ip: &ip };
            Ok(match device::lookup(conn, &typist, &input)? {
                Lookup::Found(request) => {
                    let draft = Draft { team, ..Draft::default() };
                    Entered::Consent(Box::new(consent_page(conn, &request, &user, &tickets, draft)?))
                }
                Lookup::Wrong => Entered::Wrong,
                Lookup::Throttled { retry_after } => Entered::Throttled { retry_after },
            })
        })
        .await
        .for_page(req)
}

fn answer(user: &SessionUser, typed: &str, entered: Entered) -> HttpResponse {
    match entered {
        Entered::Consent(page) => render(StatusCode::OK, page.as_ref()),
        Entered::Wrong => render(
            StatusCode::BAD_REQUEST,
            &code_form(user, typed, Some("That code is not valid, or has expired. Check it on your device.".into())),
        ),
        Entered::Throttled { retry_after } => {
            let message = format!("Too many wrong codes. Try again in {} minutes.", (retry_after + 59) / 60);
            let mut response = render(StatusCode::TOO_MANY_REQUESTS, &code_form(user, typed, Some(message)));
            set_retry_after(&mut response, retry_after.unsigned_abs());
            response
        }
    }
}

async fn enter(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> Result<HttpResponse, PageError> {
    let (user, params) = signed_in_form(&req, &state, payload, 4 * 1024).await?;
    let typed = params.get("user_code").ok().flatten().unwrap_or_default().to_owned();
    let entered = lookup(&req, &state, &user, typed.clone(), None).await?;
    Ok(answer(&user, &typed, entered))
}

async fn switch_team(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let user = signed_in(&req, &state).await?;
    let params = Params::parse(req.query_string().as_bytes()).map_err(PageError::malformed(&req))?;
    let typed = params.first("user_code").unwrap_or_default().to_owned();
    let team = params.first("team").map(str::to_owned);
    let entered = lookup(&req, &state, &user, typed.clone(), team).await?;
    Ok(answer(&user, &typed, entered))
}

enum Decided {
    Done(DeviceDonePage),
    Again(StatusCode, Box<ConsentPage>),
    Gone,
}

async fn decide(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (user, params) = signed_in_form(&req, &state, payload, 16 * 1024).await?;
    consent::check_ticket(&req, &state.consent_tickets, &user, &params, &FIELDS)?;
    let user_code = params
        .get("user_code")
        .ok()
        .flatten()
        .and_then(|code| UserCode::parse(code).ok())
        .ok_or_else(|| PageError::bad_request(&req, "The form does not name a device code."))?;
    let policy = state.settings.policy;
    let tickets = state.consent_tickets.clone();
    let actor = Actor::User { id: user.user.id, client_ip: client_ip(&req) };
    let outcome = state
        .db(move |conn| -> OpResult<Decided> {
            let Some(request) = device::pending(conn, &user_code)? else {
                return Ok(Decided::Gone);
            };
            let app = apps::find_by_id(conn, request.app_id)?.ok_or_else(|| OpError::NotFound("application".into()))?;
            let field = |name: &str| params.get(name).ok().flatten().unwrap_or_default().to_owned();
            let again = |conn: &mut DbConnection, status: StatusCode, error: String| -> OpResult<Decided> {
                let draft = Draft {
                    team: params.get("team").ok().flatten().map(str::to_owned),
                    project: params.get("project").ok().flatten().map(str::to_owned),
                    new_project_name: field("new_project_name"),
                    new_project_slug: field("new_project_slug"),
                    error: Some(error),
                };
                Ok(Decided::Again(status, Box::new(consent_page(conn, &request, &user, &tickets, draft)?)))
            };
            let mut slugs = (None, None, None);
            let decision = match params.get("decision") {
                Ok(Some("deny")) => DeviceDecision::Deny,
                Ok(Some("approve")) => match consent::choice(&params, Scope::parse(&request.scope)?, &mut slugs) {
                    Ok((team, project)) => DeviceDecision::Approve { team, project },
                    Err(message) => return again(conn, StatusCode::UNPROCESSABLE_ENTITY, message),
                },
                _ => return again(conn, StatusCode::BAD_REQUEST, "Choose Approve or Deny.".into()),
            };
            match device::decide(conn, &actor, &app, &request, user.user.id, &decision, &policy) {
                Ok(()) => Ok(Decided::Done(DeviceDonePage {
                    account: Account::from(&user),
                    app_name: app.name.clone(),
                    approved: matches!(decision, DeviceDecision::Approve { .. }),
                })),
                Err(OpError::Conflict(_)) => Ok(Decided::Gone),
                Err(error @ (OpError::Forbidden(_) | OpError::Invalid(_))) => {
                    again(conn, consent::refusal_status(&error), error.to_string())
                }
                Err(error) => Err(error),
            }
        })
        .await
        .for_page(&req)?;
    match outcome {
        Decided::Done(page) => Ok(render(StatusCode::OK, &page)),
        Decided::Again(status, page) => Ok(render(status, page.as_ref())),
        Decided::Gone => Err(PageError::new(
            &req,
            StatusCode::BAD_REQUEST,
            "This code can no longer be used",
            "It was already used, or it has expired. Start again on your device.",
        )),
    }
}
