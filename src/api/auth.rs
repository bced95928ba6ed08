//! Bearer authentication for `/v1` (RFC 6750): the presented credential is verified by the
//! same function as introspection, so one place decides whether a credential is live.

use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header;

use super::ApiError;
use crate::db::now;
use crate::http::{AppState, text};
use crate::ops::verify::Verified;

const CHALLENGE: &str = r#"Bearer realm="portcullis""#;
const INVALID: &str = r#"Bearer realm="portcullis", error="invalid_token""#;

/// The credential of `Authorization: Bearer …`, checked as text.
pub(super) fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let missing = || ApiError::Unauthorized("a bearer credential is required".into(), CHALLENGE);
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(missing());
    }
    // A credential with control characters can be no credential of ours: invalid_token (401,
    // RFC 6750 §3.1), like any other credential that does not verify.
    let malformed = |_| ApiError::Unauthorized("the bearer credential is malformed".into(), INVALID);
    Ok(text::checked(token.trim()).map_err(malformed)?.to_owned())
}

/// The live credential behind `Authorization: Bearer …`, or 401.
pub async fn bearer(req: &HttpRequest, state: &AppState) -> Result<Arc<Verified>, ApiError> {
    let token = bearer_token(req)?;
    let fresh = state.verifier.fresh().await;
    let verified = match state.verifier.recall(fresh, &token, now()) {
        Some(verified) => verified,
        None => {
            let verifier = state.verifier.clone();
            state.db_read(move |conn| verifier.verify(conn, fresh, &token, now())).await?.map_err(ApiError::internal)?
        }
    }
    .ok_or_else(|| ApiError::Unauthorized("the credential is invalid, expired or revoked".into(), INVALID))?;
    state.usage.note_use(&verified);
    Ok(verified)
}
