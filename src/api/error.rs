//! Errors of the JSON API: `{"error": {"code", "message", "details"?}}` with the matching
//! status. Server faults get a generic message and the request id in `details` (the same id
//! as the `X-Request-Id` header and the log line); their cause is logged once.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::DbError;
use crate::http::middleware::RequestId;
use crate::http::text::Malformed;
use crate::ops::OpError;

/// The one error envelope of `/v1`: `{"error": {"code", "message", "details"?}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
struct ErrorDetail {
    /// Stable: `bad_request`, `unauthorized`, `forbidden`, `not_found`, `method_not_allowed`,
    /// `conflict`, `invalid`, `payload_too_large`, `internal`.
    code: &'static str,
    /// For people.
    message: String,
    /// For programs, where there is more to say: `request_id` on 500.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    details: Option<serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    /// 401, with the `WWW-Authenticate` challenge to send.
    #[error("{0}")]
    Unauthorized(String, &'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// 422: the request was well-formed but what it asks for is invalid.
    #[error("{0}")]
    Unprocessable(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(..) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::Unprocessable(_) => "invalid",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "API request failed");
        ApiError::Internal(cause.to_string())
    }
}

impl From<Malformed> for ApiError {
    fn from(malformed: Malformed) -> Self {
        ApiError::BadRequest(malformed.0)
    }
}

/// The one mapping from a use case's refusal to the API's answer.
impl From<OpError> for ApiError {
    fn from(error: OpError) -> Self {
        match error {
            OpError::Invalid(message) => ApiError::Unprocessable(message),
            OpError::NotFound(message) => ApiError::NotFound(message),
            OpError::Conflict(message) => ApiError::Conflict(message),
            OpError::Forbidden(message) => ApiError::Forbidden(message),
            OpError::Internal(cause) => ApiError::internal(format!("{cause:#}")),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        ApiError::internal(error)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(..) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if let ApiError::Unauthorized(_, challenge) = self {
            response.insert_header((header::WWW_AUTHENTICATE, *challenge));
        }
        let details = matches!(self, ApiError::Internal(_))
            .then(RequestId::current)
            .flatten()
            .map(|id| serde_json::json!({ "request_id": id.to_string() }));
        let message = match self {
            ApiError::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        response.json(ErrorBody { error: ErrorDetail { code: self.code(), message, details } })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::{App, test, web};

    use super::*;
    use crate::http::middleware;

    #[actix_web::test]
    async fn a_server_fault_answers_generically_with_the_request_id_of_its_log_line() {
        let app = test::init_service(App::new().wrap(from_fn(middleware::observe)).route(
            "/v1/fault",
            web::get().to(|| async { Err::<HttpResponse, _>(ApiError::internal("the disk is on fire")) }),
        ))
        .await;
        let response = test::call_service(&app, test::TestRequest::get().uri("/v1/fault").to_request()).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let id = response.headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
        let body: serde_json::Value = test::read_body_json(response).await;
        assert_eq!(
            body,
            serde_json::json!({ "error": { "code": "internal", "message": "internal error", "details": { "request_id": id } } })
        );
    }
}
