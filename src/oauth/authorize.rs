//! The authorization endpoint (RFC 6749 §4.1.1–4.1.2, RFC 7636, RFC 9207) and the consent
//! decision, per SPEC §4 "Authorization request rules" and §6.
//!
//! Until the client and its redirect URI are known good, every problem is an error *page*
//! (never a redirect: that would make us an open redirector). After that, problems redirect
//! (303) to the client with `error`, `state` and `iss`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use url::Url;

use super::client_metadata;
use super::oxide::{self, AuthorizationParams, ConsentChoice, Decided, OAuthFlowError};
use crate::db::DbConnection;
use crate::domain::{Audience, Scope};
use crate::http::params::Params;
use crate::http::{AppState, body, client_ip};
use crate::ops::apps::{self, Client};
use crate::ops::resources::{NotTarget, check_targets};
use crate::ops::{Actor, OpError};
use crate::ui::consent::ticket::{Field, TicketKey};
use crate::ui::consent::{self, ConsentRequest, Draft, Via};
use crate::ui::pages::ConsentPage;
use crate::ui::session::{self, SessionUser};
use crate::ui::{PageError, render, see_other};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/oauth/authorize").get(authorize_any).post(decide))
        .service(web::resource("/oauth/authorize/project").get(authorize_project))
        .service(web::resource("/oauth/authorize/team").get(authorize_team));
}

/// A request that passed every check: safe to show consent for, or to redirect back.
struct Validated {
    client: Client,
    params: AuthorizationParams,
}

enum Rejection {
    /// Shown to the user; no redirect.
    Page(String),
    /// Sent to the client's (validated) redirect URI.
    Redirect {
        redirect_uri: String,
        error: &'static str,
        description: String,
        state: Option<String>,
    },
    Server(String),
}

impl From<OpError> for Rejection {
    fn from(error: OpError) -> Self {
        Rejection::Server(error.to_string())
    }
}

/// The authorization request's parameters, as the consent form carries them back (and the
/// consent ticket covers them, in this order). `resource` may repeat (RFC 8707 §2): the
/// ticket covers all of its values, in order.
const PROTOCOL_FIELDS: [&str; 8] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    consent::RESOURCE,
];

/// Protocol parameters that must not repeat once the client is trusted (RFC 6749 §3.1).
const SINGLE: &[&str] = &["response_type", "scope", "state", "code_challenge", "code_challenge_method", "team"];

fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn validate(conn: &mut DbConnection, params: &Params, path_scope: Option<Scope>) -> Result<Validated, Rejection> {
    let page = |message: &str| Rejection::Page(message.to_owned());
    let client_id = match params.get("client_id") {
        Err(_) => return Err(page("The request names its client more than once (client_id is repeated).")),
        Ok(None) => return Err(page("The request does not say which application is asking (client_id is missing).")),
        Ok(Some(id)) => id,
    };
    let Some(client) = apps::client(conn, client_id)? else {
        return Err(page("The application that sent you here is not registered (unknown client_id)."));
    };
    let app = &client.app;
    let redirect_uri = match params.get("redirect_uri") {
        Err(_) => return Err(page("The request is malformed: redirect_uri is repeated.")),
        Ok(None) => return Err(page("The request is malformed: redirect_uri is missing.")),
        Ok(Some(uri)) => uri,
    };
    if !client.redirect_uris.iter().any(|registered| registered.accepts(redirect_uri, app.is_public())) {
        return Err(page(
            "The application asked to send you to an address it has not registered (redirect_uri mismatch). Nothing was sent to it.",
        ));
    }

    // From here on the client and its redirect URI are trusted: errors go back to it, with
    // the client's `state` (the first one when it is repeated, so that even that error
    // reaches the client's state check; RFC 6749 §4.1.2.1).
    let state = params.first("state").map(str::to_owned);
    let redirect = |error: &'static str, description: String| Rejection::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        error,
        description,
        state: state.clone(),
    };
    if let Some(repeated) = params.first_repeated(SINGLE) {
        return Err(redirect("invalid_request", format!("parameter {} is repeated", repeated.0)));
    }
    match params.get("response_type").ok().flatten() {
        None => return Err(redirect("invalid_request", "response_type is missing".into())),
        Some("code") => {}
        Some(_) => return Err(redirect("unsupported_response_type", "only response_type=code is supported".into())),
    }
    let requested_scope = params.get("scope").ok().flatten();
    let scope = match (path_scope, requested_scope) {
        (Some(fixed), Some(requested)) if requested != fixed.as_str() => {
            return Err(redirect(
                "invalid_scope",
                format!("scope {requested:?} contradicts this endpoint, which grants {fixed} scope"),
            ));
        }
        (Some(fixed), _) => fixed,
        (None, None) => Scope::Project,
        (None, Some(requested)) => match Scope::parse(requested) {
            Ok(scope) => scope,
            Err(_) => return Err(redirect("invalid_scope", "scope must be \"project\" or \"team\"".into())),
        },
    };
    let challenge = params.get("code_challenge").ok().flatten();
    let method = params.get("code_challenge_method").ok().flatten();
    let code_challenge = match (challenge, method) {
        (None, Some(_)) => {
            return Err(redirect("invalid_request", "code_challenge_method without code_challenge".into()));
        }
        (None, None) if app.is_public() => {
            return Err(redirect(
                "invalid_request",
                "public clients must use PKCE (code_challenge with code_challenge_method=S256)".into(),
            ));
        }
        (None, None) => None,
        (Some(_), None | Some("plain")) => {
            return Err(redirect(
                "invalid_request",
                "code_challenge_method must be S256 (plain is not supported)".into(),
            ));
        }
        (Some(_), Some(method)) if method != "S256" => {
            return Err(redirect("invalid_request", "code_challenge_method must be S256".into()));
        }
        (Some(challenge), Some(_)) if !is_s256_challenge(challenge) => {
            return Err(redirect(
                "invalid_request",
                "code_challenge must be 43 base64url characters (a SHA-256 digest)".into(),
            ));
        }
        (Some(challenge), Some(_)) => Some(challenge.to_owned()),
    };
    let resources = match Audience::parse_all(params.all("resource")) {
        Ok(resources) => resources,
        Err(invalid) => return Err(redirect("invalid_target", invalid.0)),
    };
    if let Err(NotTarget(why)) = check_targets(conn, resources.as_ref(), scope, None)? {
        return Err(redirect("invalid_target", why));
    }
    Ok(Validated {
        params: AuthorizationParams {
            client_id: app.client_id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            state,
            scope,
            code_challenge,
            resources,
        },
        client,
    })
}

/// Adds the RFC 9207 `iss` parameter to a redirect back to the client.
fn with_iss(mut url: Url, issuer: &str) -> String {
    url.query_pairs_mut().append_pair("iss", issuer);
    url.into()
}

fn rejection_response(req: &HttpRequest, issuer: &str, rejection: Rejection) -> Result<HttpResponse, PageError> {
    match rejection {
        Rejection::Page(message) => {
            Err(PageError::new(req, StatusCode::BAD_REQUEST, "This authorization request is invalid", message))
        }
        Rejection::Redirect { redirect_uri, error, description, state } => {
            let mut url = Url::parse(&redirect_uri).map_err(|e| PageError::server(req, e))?;
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("error", error).append_pair("error_description", &description);
                if let Some(state) = &state {
                    query.append_pair("state", state);
                }
            }
            Ok(see_other(&with_iss(url, issuer)))
        }
        Rejection::Server(cause) => Err(PageError::server(req, cause)),
    }
}

fn flow_error(req: &HttpRequest, issuer: &str, error: OAuthFlowError) -> Result<HttpResponse, PageError> {
    match error {
        OAuthFlowError::Redirect(url) => Ok(see_other(&with_iss(url, issuer))),
        OAuthFlowError::Rejected => Err(PageError::bad_request(req, "This authorization request is invalid.")),
    }
}

/// The protocol parameters the consent form carries back (SPEC §6: hidden inputs).
fn hidden_fields(params: &AuthorizationParams) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("response_type", "code".to_owned()),
        ("client_id", params.client_id.clone()),
        ("redirect_uri", params.redirect_uri.clone()),
        ("scope", params.scope.as_str().to_owned()),
    ];
    if let Some(state) = &params.state {
        fields.push(("state", state.clone()));
    }
    if let Some(challenge) = &params.code_challenge {
        fields.push(("code_challenge", challenge.clone()));
        fields.push(("code_challenge_method", "S256".to_owned()));
    }
    for resource in params.resources.iter().flat_map(Audience::uris) {
        fields.push((consent::RESOURCE, resource.to_string()));
    }
    fields
}

/// The consent page for `validated`, shown to `user` with `draft` choices, with a fresh
/// consent ticket for exactly those hidden fields and that session.
fn consent_page(
    conn: &mut DbConnection,
    validated: &Validated,
    user: &SessionUser,
    tickets: &TicketKey,
    draft: Draft,
) -> Result<ConsentPage, OpError> {
    let fields = hidden_fields(&validated.params);
    let bound = consent::bound_fields(&PROTOCOL_FIELDS, &fields);
    let bound: Vec<Field> = bound.iter().map(|(name, value)| (*name, value.as_deref())).collect();
    let request = ConsentRequest {
        client: &validated.client,
        scope: validated.params.scope,
        resources: validated.params.resources.as_ref(),
        via: Via::Redirect(&validated.params.redirect_uri),
        fields: &fields,
        ticket: tickets.issue(&user.session_hash(), &bound, consent::unix_now()),
    };
    consent::page(conn, &request, user, draft)
}

fn login_redirect(next: &str) -> HttpResponse {
    see_other(&format!("/login?next={}", url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()))
}

async fn authorize_any(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    show(req, state, None).await
}

async fn authorize_project(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    show(req, state, Some(Scope::Project)).await
}

async fn authorize_team(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    show(req, state, Some(Scope::Team)).await
}

enum Shown {
    Rejected(Rejection),
    Flow(OAuthFlowError),
    LoginFirst,
    Page(Box<ConsentPage>),
}

/// `GET /oauth/authorize[/project|/team]`: validate, then log in, then show consent.
async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path_scope: Option<Scope>,
) -> Result<HttpResponse, PageError> {
    let params = Params::parse(req.query_string().as_bytes()).map_err(PageError::malformed(&req))?;
    let user = session::current(&req, &state).await.map_err(PageError::db(&req))?;
    client_metadata::resolve_for_page(&req, &state, &params).await?;
    let policy = state.settings.policy;
    let tickets = state.consent_tickets.clone();
    let outcome = state
        .db(move |conn| -> Shown {
            let validated = match validate(conn, &params, path_scope) {
                Ok(validated) => validated,
                Err(rejection) => return Shown::Rejected(rejection),
            };
            if let Err(error) =
                oxide::check(conn, &validated.client.app, &validated.client.redirect_uris, &policy, &validated.params)
            {
                return Shown::Flow(error);
            }
            let Some(user) = user else {
                return Shown::LoginFirst;
            };
            let draft = Draft { team: params.get("team").ok().flatten().map(str::to_owned), ..Draft::default() };
            match consent_page(conn, &validated, &user, &tickets, draft) {
                Ok(page) => Shown::Page(Box::new(page)),
                Err(error) => Shown::Rejected(error.into()),
            }
        })
        .await
        .map_err(PageError::db(&req))?;
    let issuer = &state.settings.issuer;
    match outcome {
        Shown::Rejected(rejection) => rejection_response(&req, issuer, rejection),
        Shown::Flow(error) => flow_error(&req, issuer, error),
        Shown::LoginFirst => Ok(login_redirect(&req.uri().to_string())),
        Shown::Page(page) => Ok(render(StatusCode::OK, page.as_ref())),
    }
}

enum Decision {
    Rejected(Rejection),
    Flow(OAuthFlowError),
    Redirect(Url),
    Again(StatusCode, Box<ConsentPage>),
}

/// `POST /oauth/authorize`: the consent decision. Requires the session that saw the page, its
/// CSRF token and the page's consent ticket (the hidden fields unchanged); then re-validates
/// the request (the app or its redirect URIs may have changed since).
async fn decide(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let body = body::read(&req, payload, 16 * 1024).await.map_err(|_| {
        PageError::new(&req, StatusCode::PAYLOAD_TOO_LARGE, "Request too large", "The form is too large.")
    })?;
    let params = Params::parse(&body).map_err(PageError::malformed(&req))?;
    let Some(user) = session::current(&req, &state).await.map_err(PageError::db(&req))? else {
        // The session ended while the page was open: start over from the same request (its
        // protocol parameters only: the stale CSRF token and the choices stay out of the URL).
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in params.pairs().filter(|(name, _)| PROTOCOL_FIELDS.contains(name)) {
            query.append_pair(name, value);
        }
        return Ok(login_redirect(&format!("/oauth/authorize?{}", query.finish())));
    };
    if !user.csrf_matches(params.get("csrf_token").ok().flatten()) {
        return Err(PageError::forbidden(
            &req,
            "This consent form was not issued to your session (CSRF check failed). Start again from the application.",
        ));
    }
    consent::check_ticket(&req, &state.consent_tickets, &user, &params, &PROTOCOL_FIELDS)?;
    client_metadata::resolve_for_page(&req, &state, &params).await?;
    let policy = state.settings.policy;
    let tickets = state.consent_tickets.clone();
    let client_ip = client_ip(&req);
    let outcome = state
        .db(move |conn| -> Decision {
            let validated = match validate(conn, &params, None) {
                Ok(validated) => validated,
                Err(rejection) => return Decision::Rejected(rejection),
            };
            let draft = |error: String| Draft {
                team: params.get("team").ok().flatten().map(str::to_owned),
                project: params.get("project").ok().flatten().map(str::to_owned),
                new_project_name: params.get("new_project_name").ok().flatten().unwrap_or_default().to_owned(),
                new_project_slug: params.get("new_project_slug").ok().flatten().unwrap_or_default().to_owned(),
                error: Some(error),
            };
            let again = |conn: &mut DbConnection, status: StatusCode, error: String| match consent_page(
                conn,
                &validated,
                &user,
                &tickets,
                draft(error),
            ) {
                Ok(page) => Decision::Again(status, Box::new(page)),
                Err(error) => Decision::Rejected(error.into()),
            };
            let mut slugs = (None, None, None);
            let consent = match params.get("decision") {
                Ok(Some("deny")) => None,
                Ok(Some("approve")) => {
                    let (team, project) = match consent::choice(&params, validated.params.scope, &mut slugs) {
                        Ok(choice) => choice,
                        Err(message) => return again(conn, StatusCode::UNPROCESSABLE_ENTITY, message),
                    };
                    let actor = Actor::User { id: user.user.id, client_ip: client_ip.clone() };
                    Some(ConsentChoice { actor, user_id: user.user.id, team, project })
                }
                _ => return again(conn, StatusCode::BAD_REQUEST, "Choose Approve or Deny.".into()),
            };
            match oxide::decide(
                conn,
                &validated.client.app,
                &validated.client.redirect_uris,
                &policy,
                &validated.params,
                consent,
            ) {
                Ok(Decided::Redirect(url)) => Decision::Redirect(url),
                Ok(Decided::Refused(error)) => again(conn, consent::refusal_status(&error), error.to_string()),
                Err(error) => Decision::Flow(error),
            }
        })
        .await
        .map_err(PageError::db(&req))?;
    let issuer = &state.settings.issuer;
    match outcome {
        Decision::Rejected(rejection) => rejection_response(&req, issuer, rejection),
        Decision::Flow(error) => flow_error(&req, issuer, error),
        Decision::Redirect(url) => Ok(see_other(&with_iss(url, issuer))),
        Decision::Again(status, page) => Ok(render(status, page.as_ref())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_challenges_are_43_base64url_characters() {
        assert!(is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
        assert!(!is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
    }
}
