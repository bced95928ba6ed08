//! `portcullis serve --demo`: seeds the demo data ([`crate::ops::demo`]), prints how to try
//! the flow, and serves the demo app's callback page, which shows the code and the command that
//! exchanges it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::db::DbConnection;
use crate::ops::demo::{EMAIL, PASSWORD, PROJECT, TEAM};

/// A fixed PKCE verifier, so the printed URL and token command match (demo only!).
const VERIFIER: &str = "demo-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";

fn challenge() -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()))
}

/// What the callback page needs to know about the seeded demo app.
#[derive(Clone)]
pub struct Demo {
    client_id: String,
    callback: String,
    token_endpoint: String,
}

/// Creates whatever of the demo data is missing and prints how to try the flow.
pub fn seed(conn: &mut DbConnection, settings: &Settings) -> anyhow::Result<Demo> {
    let callback = settings.url("/demo/callback");
    let client_id = crate::ops::demo::seed(conn, &callback)?;
    let mut authorize = url::form_urlencoded::Serializer::new(String::new());
    authorize
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", &callback)
        .append_pair("scope", "project")
        .append_pair("state", "demo")
        .append_pair("code_challenge", &challenge())
        .append_pair("code_challenge_method", "S256");
    println!(
        "\nDemo data is ready.\n  1. Open {}/oauth/authorize?{}\n  2. Log in as {EMAIL} with password {PASSWORD}\n  3. Pick team \"{TEAM}\" and project \"{PROJECT}\", approve; the callback page shows the code and the command that exchanges it.\n",
        settings.issuer,
        authorize.finish()
    );
    println!(
        "Or as a device (RFC 8628), the way a command-line tool logs in:\n  1. curl -s {} -d client_id={client_id} -d device_name=my-laptop\n  2. Open the verification_uri_complete it prints, log in as above, compare the code, approve.\n  3. curl -s {} -d grant_type={} -d client_id={client_id} -d device_code=DEVICE_CODE\n     (before you approve it answers authorization_pending; poll no faster than its interval)\n",
        settings.url("/oauth/device_authorization"),
        settings.url("/oauth/token"),
        crate::oauth::DEVICE_CODE_GRANT,
    );
    Ok(Demo { client_id, callback, token_endpoint: settings.url("/oauth/token") })
}

pub fn configure(cfg: &mut web::ServiceConfig, demo: &Demo) {
    cfg.app_data(web::Data::new(demo.clone())).service(web::resource("/demo/callback").get(callback));
}

#[derive(Template)]
#[template(path = "demo_callback.html")]
struct CallbackPage {
    code: Option<String>,
    error: Option<String>,
    command: String,
}

#[derive(serde::Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    error: Option<String>,
}

/// Our codes are 43 base64url characters. Anything else came from someone else's link and is
/// never put into a command that the page tells people to paste into a shell.
fn is_code(code: &str) -> bool {
    code.len() == 43 && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn callback(demo: web::Data<Demo>, query: web::Query<CallbackQuery>) -> HttpResponse {
    let (code, error) = match query.code.as_deref() {
        Some(code) if is_code(code) => (Some(code.to_owned()), None),
        Some(_) => (None, Some("the code in this link is not one this server issues".to_owned())),
        None => (None, query.error.clone()),
    };
    let command = format!(
        "curl -s '{}' -d grant_type=authorization_code -d client_id={} --data-urlencode 'redirect_uri={}' -d code_verifier={VERIFIER} -d code={}",
        demo.token_endpoint,
        demo.client_id,
        demo.callback,
        code.as_deref().unwrap_or("CODE"),
    );
    crate::ui::render(StatusCode::OK, &CallbackPage { code, error, command })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_code_shaped_values_reach_the_command() {
        assert!(is_code("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        for hostile in ["x; rm -rf ~", "$(id)", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c`", "", "a b"] {
            assert!(!is_code(hostile), "{hostile:?}");
        }
    }
}
