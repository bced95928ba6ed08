//! Errors on pages: an HTML page with a message and the request id that also appears in the
//! log line of the request.

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};

use super::pages::ErrorPage;
use crate::http::middleware::RequestId;
use crate::http::text::Malformed;
use crate::http::{DbError, set_retry_after};
use crate::ops::OpError;

/// Why a page is not shown: an error page, or (`login`) the way to the login page.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub title: &'static str,
    pub message: String,
    pub request_id: String,
    /// Set for [`PageError::login`]: answered with a 303 to it instead of an error page.
    see_other: Option<String>,
    /// Set for [`PageError::too_many_requests`]: the seconds sent as `Retry-After`.
    retry_after: Option<u64>,
}

impl PageError {
    pub fn new(req: &HttpRequest, status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string()).unwrap_or_default();
        PageError { status, title, message: message.into(), request_id, see_other: None, retry_after: None }
    }

    /// Not signed in: 303 to the login page, which comes back to this request's path.
    pub fn login(req: &HttpRequest) -> Self {
        let next = url::form_urlencoded::byte_serialize(req.uri().to_string().as_bytes()).collect::<String>();
        let mut error = Self::new(req, StatusCode::SEE_OTHER, "Sign in", "Sign in to see this page.");
        error.see_other = Some(format!("/login?next={next}"));
        error
    }

    /// 429 with `Retry-After`: this address asked too often.
    pub fn too_many_requests(req: &HttpRequest, message: impl Into<String>, retry_after: std::time::Duration) -> Self {
        let mut error = Self::new(req, StatusCode::TOO_MANY_REQUESTS, "Too many requests", message);
        error.retry_after = Some(retry_after.as_secs());
        error
    }

    pub fn bad_request(req: &HttpRequest, message: impl Into<String>) -> Self {
        Self::new(req, StatusCode::BAD_REQUEST, "Bad request", message)
    }

    pub fn forbidden(req: &HttpRequest, message: impl Into<String>) -> Self {
        Self::new(req, StatusCode::FORBIDDEN, "Forbidden", message)
    }

    pub fn not_found(req: &HttpRequest) -> Self {
        Self::new(req, StatusCode::NOT_FOUND, "Not found", "There is nothing here.")
    }

    /// A server fault: the cause goes to the log (under this request's id), not to the page.
    pub fn server(req: &HttpRequest, cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "page failed");
        Self::new(
            req,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The server could not complete the request. Try again; if it keeps failing, report the reference below.",
        )
    }

    /// Adapter for `map_err` on request input refused at the text boundary: 400.
    pub fn malformed(req: &HttpRequest) -> impl FnOnce(Malformed) -> PageError + '_ {
        move |malformed| PageError::bad_request(req, malformed.0)
    }

    /// Adapter for `map_err` on use cases: what the caller may not see is not found, what they
    /// may not do is forbidden (with the reason), anything else is a server fault.
    pub fn op(req: &HttpRequest) -> impl FnOnce(OpError) -> PageError + '_ {
        move |error| match error {
            OpError::NotFound(_) => PageError::not_found(req),
            OpError::Forbidden(reason) => {
                PageError::forbidden(req, format!("You are not allowed to do that: {reason}."))
            }
            OpError::Invalid(message) | OpError::Conflict(message) => PageError::bad_request(req, message),
            OpError::Internal(cause) => PageError::server(req, cause),
        }
    }

    /// Adapter for `map_err` on database calls.
    pub fn db(req: &HttpRequest) -> impl FnOnce(DbError) -> PageError + '_ {
        move |error| PageError::server(req, error)
    }
}

/// The answer of a page's database work: a failure to run it is a server fault, a use case's
/// refusal is judged by [`PageError::op`].
pub trait ForPage<T> {
    fn for_page(self, req: &HttpRequest) -> Result<T, PageError>;
}

impl<T> ForPage<T> for Result<crate::ops::OpResult<T>, DbError> {
    fn for_page(self, req: &HttpRequest) -> Result<T, PageError> {
        self.map_err(PageError::db(req))?.map_err(PageError::op(req))
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(location) = &self.see_other {
            return super::see_other(location);
        }
        let mut response = super::render(
            self.status,
            &ErrorPage { title: self.title, message: &self.message, request_id: &self.request_id },
        );
        if let Some(seconds) = self.retry_after {
            set_retry_after(&mut response, seconds);
        }
        response
    }
}
