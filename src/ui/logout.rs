//! `/logout` (SPEC §6): `GET` shows the logout button (a CSRF-protected form), `POST` ends the
//! session (its row deleted, the cookie cleared) and then shows that you are logged out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::pages::{Account, LogoutPage};
use super::{PageError, render, see_other, session};
use crate::http::params::Params;
use crate::http::{AppState, body};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/logout").get(show).post(submit));
}

/// `GET /logout`: the logout form for a signed-in user; otherwise, that nobody is logged in.
async fn show(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let user = session::current(&req, &state).await.map_err(PageError::db(&req))?;
    Ok(render(StatusCode::OK, &LogoutPage { account: user.as_ref().map(Account::from) }))
}

/// `POST /logout` with the session's CSRF token: ends the session, then 303 to `GET /logout`,
/// which now says you are logged out (so reloading that page posts nothing again).
async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let body = body::read(&req, payload, 4 * 1024)
        .await
        .map_err(|_| PageError::bad_request(&req, "The form could not be read."))?;
    let params = Params::parse(&body).map_err(PageError::malformed(&req))?;
    let Some(current) = session::current(&req, &state).await.map_err(PageError::db(&req))? else {
        return Ok(see_other("/logout"));
    };
    if !current.csrf_matches(params.get("csrf_token").ok().flatten()) {
        return Err(PageError::forbidden(&req, "This form has expired. Go back, reload the page and try again."));
    }
    let cookie = session::end(&req, &state).await.map_err(PageError::db(&req))?;
    let mut response = see_other("/logout");
    response.add_cookie(&cookie).map_err(|e| PageError::server(&req, e))?;
    Ok(response)
}
