//! Reading `/v1` requests: JSON bodies with a hard size bound, list queries (`limit`,
//! `cursor`, filters) parsed strictly (a repeated parameter is an error, not "take the
//! first"), and path segments that must name something.

use actix_web::{HttpRequest, web};
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::domain::{Invalid, Slug};
use crate::http::params::Params;
use crate::http::{body, text};
use crate::ops::page::PageRequest;

/// Management request bodies are small: names, emails, a few URIs or statements.
const BODY_LIMIT: usize = 64 * 1024;

/// The JSON body as `T`: 413 over the bound, 400 when it is not JSON of that shape.
pub async fn json<T: DeserializeOwned>(req: &HttpRequest, payload: web::Payload) -> Result<T, ApiError> {
    let body = body::read(req, payload, BODY_LIMIT).await.map_err(|error| match error {
        body::BodyError::TooLarge => ApiError::PayloadTooLarge("request body too large".into()),
        body::BodyError::Broken => ApiError::BadRequest("the request body could not be read".into()),
    })?;
    Ok(text::json::<T>(&body)?)
}

/// The query string, strictly: unknown parameters are refused, so a misspelt filter is an
/// error rather than a silently unfiltered list.
pub struct Query(Params);

impl Query {
    pub fn parse(req: &HttpRequest, known: &[&str]) -> Result<Query, ApiError> {
        let params = Params::parse(req.query_string().as_bytes())?;
        if let Some((name, _)) = params.pairs().find(|(name, _)| !known.contains(name)) {
            return Err(ApiError::BadRequest(format!("unknown query parameter {name:?}")));
        }
        Ok(Query(params))
    }

    /// The value of `name`, if given once; 400 if repeated.
    pub fn get(&self, name: &str) -> Result<Option<&str>, ApiError> {
        self.0.get(name).map_err(|repeated| ApiError::BadRequest(format!("{} is repeated", repeated.0)))
    }

    /// `limit` and `cursor` (known parameters of every list).
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let limit = self
            .get("limit")?
            .map(|limit| limit.parse::<i64>().map_err(|_| ApiError::BadRequest("limit must be a number".into())))
            .transpose()?;
        PageRequest::parse(limit, self.get("cursor")?).map_err(|Invalid(message)| ApiError::BadRequest(message))
    }
}

/// The query parameters of a plain list.
pub const PAGE: &[&str] = &["limit", "cursor"];

/// A free-form path segment (a client id): one with a control character names nothing (404),
/// and never reaches the database (PostgreSQL refuses NUL in text).
pub fn segment<'a>(segment: &'a str, what: &str) -> Result<&'a str, ApiError> {
    text::checked(segment).map_err(|_| ApiError::NotFound(format!("no such {what}")))
}

/// A slug from the path; one that cannot be a slug names nothing (404).
pub fn slug(segment: &str, what: &str) -> Result<Slug, ApiError> {
    Slug::parse(segment).map_err(|_| ApiError::NotFound(format!("no such {what}")))
}
