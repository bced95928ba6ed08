//! The bridge to oxide-auth, whose core runs the authorization-code + PKCE state machine
//! (RFC 6749 §4.1, RFC 7636). Everything oxide-auth touches is here: database-backed
//! `Registrar`, `Authorizer` and `Issuer` built per request around one connection, request
//! adapters, and the mapping of its results. The rest of the code never sees an oxide type.
//!
//! Known deviations of oxide-auth 0.6 corrected here (see ARCHITECTURE.md):
//! - it reports a reused code or a wrong PKCE verifier as `invalid_request`; every request
//!   shape error is caught before it runs, so what it reports as `invalid_request` is a grant
//!   problem and becomes `invalid_grant` (RFC 6749 §5.2);
//! - its `Pkce` accepts a verifier for a code issued without a challenge; that downgrade is
//!   refused here (RFC 9700 §2.1.1);
//! - it compares redirect URIs after parsing; codes are bound to the byte-exact string;
//! - its own token response always has `expires_in`; ours is built by the caller;
//! - it hard-codes a 10-minute code lifetime; the stored code's configured expiry is used.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use oxide_auth::code_grant::accesstoken::{self, Authorization as BasicAuthorization};
use oxide_auth::code_grant::authorization::{self, Pending};
use oxide_auth::code_grant::error::AccessTokenErrorType;
use oxide_auth::code_grant::extensions::Pkce;
use oxide_auth::primitives::authorizer::Authorizer;
use oxide_auth::primitives::grant::{Extensions, Grant};
use oxide_auth::primitives::issuer::{IssuedToken, Issuer, RefreshedToken, TokenType};
use oxide_auth::primitives::registrar::{BoundClient, ClientUrl, PreGrant, RegisteredUrl, Registrar, RegistrarError};
use oxide_auth::primitives::scope::Scope as OxideScope;
use time::PrimitiveDateTime;
use url::Url;

use super::error::OAuthError;
use crate::db::DbConnection;
use crate::db::models::apps::App;
use crate::db::models::codes::Code;
use crate::domain::{Audience, RedirectUri, Scope};
use crate::ops::grants::{self, Approval, GrantPolicy, IssuedTokens, ProjectChoice, Redeemed};
use crate::ops::{Actor, OpError};

/// The authorization request, validated by our edge (`authorize::request`).
#[derive(Debug, Clone)]
pub struct AuthorizationParams {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scope: Scope,
    pub code_challenge: Option<String>,
    /// RFC 8707 resources, registered and allowed for `scope`.
    pub resources: Option<Audience>,
}

/// The token request (`grant_type=authorization_code`), validated by our edge.
pub struct CodeExchange<'a> {
    pub code: &'a str,
    pub redirect_uri: &'a str,
    pub code_verifier: Option<&'a str>,
    /// RFC 8707 resources to narrow the token's audience to.
    pub resources: Option<&'a Audience>,
}

/// What the user chose on the consent page.
pub struct ConsentChoice<'a> {
    pub actor: Actor,
    pub user_id: i64,
    pub team: &'a crate::domain::Slug,
    pub project: ProjectChoice<'a>,
}

struct Bridge<'a, 'c> {
    conn: &'a mut DbConnection,
    app: &'a App,
    redirect_uris: &'a [RedirectUri],
    policy: &'a GrantPolicy,
    requested_redirect_uri: &'a str,
    consent: Option<ConsentChoice<'c>>,
    /// The request's RFC 8707 resources: asked for (authorization) or to narrow to (token).
    resources: Option<&'a Audience>,
    /// The code `extract` found, checked but not yet spent.
    presented: Option<Code>,
    issued: Option<IssuedTokens>,
    client_ip: Option<String>,
    /// Why a primitive failed, for the response (oxide-auth only knows that it did).
    failure: Option<OpError>,
    grant_problem: Option<&'static str>,
    /// Why the token request's resources were refused (RFC 8707 `invalid_target`).
    untargeted: Option<String>,
}

impl<'a> Bridge<'a, '_> {
    fn new(
        conn: &'a mut DbConnection,
        app: &'a App,
        redirect_uris: &'a [RedirectUri],
        policy: &'a GrantPolicy,
        requested_redirect_uri: &'a str,
    ) -> Self {
        Bridge {
            conn,
            app,
            redirect_uris,
            policy,
            requested_redirect_uri,
            consent: None,
            resources: None,
            presented: None,
            issued: None,
            client_ip: None,
            failure: None,
            grant_problem: None,
            untargeted: None,
        }
    }
}

fn to_chrono(at: PrimitiveDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(at.assume_utc().unix_timestamp(), 0).unwrap_or_else(Utc::now)
}

fn pkce_for(app: &App) -> Pkce {
    if app.is_public() { Pkce::required() } else { Pkce::optional() }
}

/// RFC 7636 §4.1: 43–128 characters of `[A-Z a-z 0-9 - . _ ~]`.
fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl Registrar for Bridge<'_, '_> {
    fn bound_redirect<'a>(&self, bound: ClientUrl<'a>) -> Result<BoundClient<'a>, RegistrarError> {
        let requested = bound.redirect_uri.ok_or(RegistrarError::Unspecified)?;
        let accepted = bound.client_id == self.app.client_id
            && self.redirect_uris.iter().any(|uri| uri.accepts(requested.as_str(), self.app.is_public()));
        if !accepted {
            return Err(RegistrarError::Unspecified);
        }
        Ok(BoundClient {
            client_id: bound.client_id,
            redirect_uri: Cow::Owned(RegisteredUrl::Exact(requested.into_owned())),
        })
    }

    fn negotiate(&self, client: BoundClient, scope: Option<OxideScope>) -> Result<PreGrant, RegistrarError> {
        let scope = scope.ok_or(RegistrarError::Unspecified)?;
        Ok(PreGrant { client_id: client.client_id.into_owned(), redirect_uri: client.redirect_uri.into_owned(), scope })
    }

    /// The client was authenticated at our edge (`client_auth`) before the flow started.
    fn check(&self, client_id: &str, _passphrase: Option<&[u8]>) -> Result<(), RegistrarError> {
        if client_id == self.app.client_id { Ok(()) } else { Err(RegistrarError::Unspecified) }
    }
}

impl Authorizer for Bridge<'_, '_> {
    /// Consent approved: store the code with what the user chose.
    fn authorize(&mut self, grant: Grant) -> Result<String, ()> {
        let consent = self.consent.take().ok_or(())?;
        let pkce = pkce_for(self.app);
        let mut extensions = grant.extensions;
        let challenge = match extensions.remove(&pkce) {
            // oxide-auth's private encoding is the challenge followed by a method letter.
            Some(value) => {
                value.into_private_value().ok().flatten().and_then(|v| v.strip_suffix('S').map(str::to_owned))
            }
            None => None,
        };
        let scope = Scope::parse(&grant.scope.to_string()).map_err(|_| ())?;
        let approval = Approval {
            app: self.app,
            user_id: consent.user_id,
            team: consent.team,
            project: consent.project,
            scope,
            redirect_uri: self.requested_redirect_uri,
            code_challenge: challenge.as_deref(),
            resources: self.resources,
        };
        grants::approve(self.conn, &consent.actor, &approval, self.policy).map_err(|error| {
            self.failure = Some(error);
        })
    }

    /// Finds the code without spending it; a code for another client or redirect URI extracts
    /// as nothing. It is spent in `issue`, once oxide-auth has also checked the PKCE verifier:
    /// a presentation that fails any check changes nothing (another client's replay revokes
    /// nothing, a wrong verifier does not burn the code).
    fn extract(&mut self, code: &str) -> Result<Option<Grant>, ()> {
        let found = grants::find_code(self.conn, code, crate::db::now()).map_err(|error| self.failure = Some(error))?;
        let Some(row) = found else {
            self.grant_problem = Some("the authorization code is invalid or expired");
            return Ok(None);
        };
        if row.app_id != self.app.id || row.redirect_uri != self.requested_redirect_uri {
            self.grant_problem = Some("the authorization code was not issued to this client and redirect_uri");
            return Ok(None);
        }
        let mut extensions = Extensions::new();
        if let Some(challenge) = &row.code_challenge {
            let value = pkce_for(self.app).challenge(Some(Cow::Borrowed("S256")), Some(Cow::Borrowed(challenge)))?;
            if let Some(value) = value {
                extensions.set(&pkce_for(self.app), value);
            }
        }
        let grant = Grant {
            owner_id: row.user_id.to_string(),
            client_id: self.app.client_id.clone(),
            scope: row.scope.parse().map_err(|_| ())?,
            redirect_uri: Url::parse(&row.redirect_uri).map_err(|_| ())?,
            until: to_chrono(row.expires_at),
            extensions,
        };
        self.presented = Some(row);
        Ok(Some(grant))
    }
}

impl Issuer for Bridge<'_, '_> {
    fn issue(&mut self, _grant: Grant) -> Result<IssuedToken, ()> {
        let code = self.presented.take().ok_or(())?;
        let ip = self.client_ip.clone();
        let redeemed =
            grants::redeem_code(self.conn, self.app, &code, self.resources, self.policy, ip, crate::db::now());
        match redeemed {
            Ok(Redeemed::Issued(tokens)) => {
                let issued = IssuedToken {
                    token: tokens.access_token.clone(),
                    refresh: tokens.refresh_token.clone(),
                    until: tokens
                        .expires_in
                        .map_or(DateTime::<Utc>::MAX_UTC, |s| Utc::now() + chrono::Duration::seconds(s)),
                    token_type: TokenType::Bearer,
                };
                self.issued = Some(tokens);
                Ok(issued)
            }
            Ok(Redeemed::Refused) => {
                self.grant_problem = Some("the user can no longer grant this access");
                Err(())
            }
            Ok(Redeemed::Untargeted(refused)) => {
                self.untargeted = Some(refused.0);
                Err(())
            }
            Ok(Redeemed::Replayed) => {
                self.grant_problem =
                    Some("the authorization code was already used; the tokens issued from it are revoked");
                Err(())
            }
            Err(error) => {
                self.failure = Some(error);
                Err(())
            }
        }
    }

    // Refresh is ours (rotation and reuse detection, `ops::grants::refresh`) and bearer
    // verification is ours (`ops::verify`): oxide-auth's code flow never calls these.
    fn refresh(&mut self, _refresh: &str, _grant: Grant) -> Result<RefreshedToken, ()> {
        Err(())
    }

    fn recover_token<'a>(&'a self, _token: &'a str) -> Result<Option<Grant>, ()> {
        Err(())
    }

    fn recover_refresh<'a>(&'a self, _token: &'a str) -> Result<Option<Grant>, ()> {
        Err(())
    }
}

impl authorization::Extension for Bridge<'_, '_> {
    fn extend(&mut self, request: &dyn authorization::Request) -> Result<Extensions, ()> {
        let pkce = pkce_for(self.app);
        let mut extensions = Extensions::new();
        if let Some(value) =
            pkce.challenge(request.extension("code_challenge_method"), request.extension("code_challenge"))?
        {
            extensions.set(&pkce, value);
        }
        Ok(extensions)
    }
}

impl accesstoken::Extension for Bridge<'_, '_> {
    fn extend(&mut self, request: &dyn accesstoken::Request, mut data: Extensions) -> Result<Extensions, ()> {
        let pkce = pkce_for(self.app);
        let challenge = data.remove(&pkce);
        let verifier = request.extension("code_verifier");
        let verified = match (&challenge, &verifier) {
            (None, None) => Ok(()),
            // RFC 9700 §2.1.1: a verifier for a code issued without a challenge means someone
            // is trying to downgrade; refuse it.
            (None, Some(_)) => Err("code_verifier sent for a code issued without code_challenge"),
            (Some(_), None) => Err("code_verifier is required"),
            (Some(_), Some(v)) if !is_valid_verifier(v) => Err("code_verifier is malformed"),
            (Some(_), Some(_)) => {
                Pkce::optional().verify(challenge, verifier).map_err(|()| "code_verifier does not match")
            }
        };
        verified.map(|()| Extensions::new()).map_err(|problem| self.grant_problem = Some(problem))
    }
}

impl authorization::Endpoint for Bridge<'_, '_> {
    fn registrar(&self) -> &dyn Registrar {
        self
    }

    fn authorizer(&mut self) -> &mut dyn Authorizer {
        self
    }

    fn extension(&mut self) -> &mut dyn authorization::Extension {
        self
    }
}

impl accesstoken::Endpoint for Bridge<'_, '_> {
    fn registrar(&self) -> &dyn Registrar {
        self
    }

    fn authorizer(&mut self) -> &mut dyn Authorizer {
        self
    }

    fn issuer(&mut self) -> &mut dyn Issuer {
        self
    }

    fn extension(&mut self) -> &mut dyn accesstoken::Extension {
        self
    }
}

impl authorization::Request for AuthorizationParams {
    fn valid(&self) -> bool {
        true
    }

    fn client_id(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(&self.client_id))
    }

    fn scope(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.scope.as_str()))
    }

    fn redirect_uri(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(&self.redirect_uri))
    }

    fn state(&self) -> Option<Cow<'_, str>> {
        self.state.as_deref().map(Cow::Borrowed)
    }

    fn response_type(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed("code"))
    }

    fn extension(&self, key: &str) -> Option<Cow<'_, str>> {
        match key {
            "code_challenge" => self.code_challenge.as_deref().map(Cow::Borrowed),
            "code_challenge_method" => self.code_challenge.as_ref().map(|_| Cow::Borrowed("S256")),
            _ => None,
        }
    }
}

struct TokenRequest<'a> {
    client_id: &'a str,
    exchange: &'a CodeExchange<'a>,
}

impl accesstoken::Request for TokenRequest<'_> {
    fn valid(&self) -> bool {
        true
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.exchange.code))
    }

    /// Client credentials were checked at our edge; the flow sees an identified client.
    fn authorization(&self) -> BasicAuthorization<'_> {
        BasicAuthorization::None
    }

    fn client_id(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.client_id))
    }

    fn redirect_uri(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.exchange.redirect_uri))
    }

    fn grant_type(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed("authorization_code"))
    }

    fn extension(&self, key: &str) -> Option<Cow<'_, str>> {
        (key == "code_verifier").then_some(self.exchange.code_verifier).flatten().map(Cow::Borrowed)
    }
}

/// How an authorization request ends once the user has decided.
pub enum Decided {
    /// Redirect the user agent here (`code` and `state`, or `error` and `state`; the caller
    /// adds `iss`).
    Redirect(Url),
    /// The server refused the approval; tell the user.
    Refused(OpError),
}

fn run_authorization<'a, 'c>(
    bridge: &mut Bridge<'a, 'c>,
    params: &AuthorizationParams,
) -> Result<Pending, OAuthFlowError> {
    authorization::authorization_code(bridge, params).map_err(|error| match error {
        authorization::Error::Redirect(url) => OAuthFlowError::Redirect(url.into()),
        authorization::Error::Ignore => OAuthFlowError::Rejected,
        authorization::Error::PrimitiveError => OAuthFlowError::Rejected,
    })
}

/// The request failed inside oxide-auth after our validation (which should make this
/// unreachable in practice).
pub enum OAuthFlowError {
    Redirect(Url),
    Rejected,
}

/// Runs the validated request through oxide-auth's authorization state machine (checking the
/// client, the redirect URI and PKCE once more), then applies the user's decision.
pub fn decide(
    conn: &mut DbConnection,
    app: &App,
    redirect_uris: &[RedirectUri],
    policy: &GrantPolicy,
    params: &AuthorizationParams,
    consent: Option<ConsentChoice<'_>>,
) -> Result<Decided, OAuthFlowError> {
    let approve = consent.is_some();
    let mut bridge = Bridge::new(conn, app, redirect_uris, policy, &params.redirect_uri);
    bridge.consent = consent;
    bridge.resources = params.resources.as_ref();
    let pending = run_authorization(&mut bridge, params)?;
    if !approve {
        return match pending.deny() {
            Err(authorization::Error::Redirect(url)) => Ok(Decided::Redirect(url.into())),
            _ => Err(OAuthFlowError::Rejected),
        };
    }
    let owner = bridge.consent.as_ref().map(|c| c.user_id.to_string()).unwrap_or_default();
    match pending.authorize(&mut bridge, Cow::Owned(owner)) {
        Ok(url) => Ok(Decided::Redirect(url)),
        Err(_) => Ok(Decided::Refused(
            bridge.failure.take().unwrap_or_else(|| OpError::Internal(anyhow::anyhow!("authorization failed"))),
        )),
    }
}

/// Only validates (the consent page is about to be shown).
pub fn check(
    conn: &mut DbConnection,
    app: &App,
    redirect_uris: &[RedirectUri],
    policy: &GrantPolicy,
    params: &AuthorizationParams,
) -> Result<(), OAuthFlowError> {
    run_authorization(&mut Bridge::new(conn, app, redirect_uris, policy, &params.redirect_uri), params).map(drop)
}

/// `grant_type=authorization_code` (RFC 6749 §4.1.3) for an authenticated client.
pub fn exchange_code(
    conn: &mut DbConnection,
    app: &App,
    policy: &GrantPolicy,
    exchange: &CodeExchange,
    client_ip: Option<String>,
) -> Result<IssuedTokens, OAuthError> {
    let mut bridge = Bridge::new(conn, app, &[], policy, exchange.redirect_uri);
    bridge.client_ip = client_ip;
    bridge.resources = exchange.resources;
    let request = TokenRequest { client_id: &app.client_id, exchange };
    let result = accesstoken::access_token(&mut bridge, &request);
    if let Some(tokens) = bridge.issued.take() {
        return Ok(tokens);
    }
    if let Some(failure) = bridge.failure.take() {
        return Err(OAuthError::server_error(failure));
    }
    if let Some(refused) = bridge.untargeted.take() {
        return Err(OAuthError::invalid_target(refused));
    }
    let problem = bridge.grant_problem.unwrap_or("the authorization code is invalid");
    match result {
        Err(accesstoken::Error::Invalid(mut description)) => {
            let kind = description.description().kind();
            match kind {
                AccessTokenErrorType::InvalidRequest | AccessTokenErrorType::InvalidGrant => {
                    Err(OAuthError::invalid_grant(problem))
                }
                AccessTokenErrorType::InvalidScope => Err(OAuthError::invalid_scope(problem)),
                other => Err(OAuthError::invalid_request(format!("{other:?}"))),
            }
        }
        Err(accesstoken::Error::Unauthorized(..)) => {
            Err(OAuthError::invalid_client("client authentication failed", false))
        }
        Err(accesstoken::Error::Primitive(_)) | Ok(_) => Err(OAuthError::invalid_grant(problem)),
    }
}
