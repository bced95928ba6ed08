//! Reading request bodies with a hard size bound.

use actix_web::http::header;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpMessage, HttpRequest};
use futures_util::StreamExt;

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    TooLarge,
    Broken,
}

/// Reads the whole body, refusing more than `limit` bytes. Reading (rather than ignoring) the
/// body also keeps the connection reusable: actix closes a connection whose request body was
/// left unread. A body whose declared `Content-Length` is over the limit is refused before
/// any of it is read (that connection then closes: nobody should wait for gigabytes).
pub async fn read(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> Result<Bytes, BodyError> {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| BodyError::Broken)?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Whether the request declares a form body (`application/x-www-form-urlencoded`,
/// parameters such as `charset` allowed).
pub fn is_form(req: &HttpRequest) -> bool {
    req.content_type().eq_ignore_ascii_case("application/x-www-form-urlencoded")
}
