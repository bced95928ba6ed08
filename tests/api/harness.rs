//! The test harness: a fresh database per test (a SQLite file, or a PostgreSQL database when
//! `TEST_DATABASE_URL` is set), the real `portcullis` binary serving it on a free port, its
//! operator CLI, and cookie-keeping HTTP clients that never follow redirects.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::blocking::{Client, Response};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const PASSWORD: &str = "correct-horse-battery";
const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// A unique suffix for names within one test run.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_drop: Option<(String, String)>,
}

impl TestDb {
    pub fn new() -> TestDb {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("pt_{}", portcullis::tokens::secret::generate_hex_id::<8>());
                psql(&admin_url, &format!("CREATE DATABASE {name}"));
                let url = match admin_url.rfind('/') {
                    Some(slash) => format!("{}/{name}", &admin_url[..slash]),
                    None => panic!("TEST_DATABASE_URL must end with /<database>"),
                };
                TestDb { url, _dir: None, pg_drop: Some((admin_url, name)) }
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("portcullis.db").display());
                TestDb { url, _dir: Some(dir), pg_drop: None }
            }
        }
    }
}

/// Whether this run's databases are SQLite files (no `TEST_DATABASE_URL`).
pub fn on_sqlite() -> bool {
    std::env::var("TEST_DATABASE_URL").map_or(true, |url| url.is_empty())
}

fn psql(admin_url: &str, sql: &str) {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let mut conn = diesel::PgConnection::establish(admin_url).expect("connect to TEST_DATABASE_URL");
    conn.batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.pg_drop {
            psql(admin_url, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Runs `portcullis --database-url URL <args>`: `Ok(json)` on success, `Err(stderr)` on failure.
pub fn cli(db_url: &str, args: &[&str]) -> Result<Value, String> {
    let output = Command::new(BIN)
        .arg("--database-url")
        .arg(db_url)
        .args(args)
        .env("PORTCULLIS_LOG", "warn")
        .output()
        .expect("run portcullis");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    if output.status.success() {
        Ok(serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {stdout}")))
    } else {
        Err(stderr)
    }
}

/// A running `portcullis serve`.
pub struct Server {
    pub base: String,
    /// What it printed on stdout before it was ready.
    pub banner: Vec<String>,
    child: Child,
}

impl Server {
    pub fn start(db_url: &str, env: &[(&str, &str)]) -> Server {
        Server::start_with(db_url, env, &[])
    }

    /// Starts with extra `serve` flags.
    pub fn start_with(db_url: &str, env: &[(&str, &str)], flags: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(["--database-url", db_url, "serve", "--bind", "127.0.0.1:0"])
            .args(flags)
            .env("PORTCULLIS_LOG", std::env::var("TEST_SERVER_LOG").unwrap_or_else(|_| "warn".into()))
            .env("PORTCULLIS_WORKERS", "2")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start portcullis serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut banner = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("portcullis listening on ") {
                    let base = rest.split_whitespace().next().unwrap_or_default().to_owned();
                    let _ = tx.send((base, std::mem::take(&mut banner)));
                } else {
                    banner.push(line);
                }
            }
        });
        let (base, banner) = rx.recv_timeout(Duration::from_secs(60)).expect("server did not report its address");
        Server { base, banner, child }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited cleanly.
    pub fn terminate(&mut self) -> bool {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A user agent: keeps cookies, never follows redirects.
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A plain HTTP client for API calls.
pub fn http() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location on {}", response.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// The query parameters of a URL.
pub fn query_of(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url).expect("absolute URL").query_pairs().into_owned().collect()
}

pub fn param(url: &str, name: &str) -> Option<String> {
    query_of(url).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// A PKCE pair: (verifier, S256 challenge).
pub fn pkce() -> (String, String) {
    let verifier = format!("{}{}", portcullis::tokens::generate_secret(), "-verifier");
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Undoes askama's HTML escaping.
pub fn unescape(html: &str) -> String {
    html.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// `name → value` of the hidden inputs of a page (the consent form's protocol fields). The
/// CSRF token that each form of a page carries (the account block's logout form, the page's
/// own form) is listed once, as a browser submitting one of those forms would send it.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for chunk in html.split("<input").skip(1) {
        let tag = &chunk[..chunk.find('>').unwrap_or(chunk.len())];
        if !tag.contains(r#"type="hidden""#) {
            continue;
        }
        let attr = |name: &str| {
            let start = tag.find(&format!(r#"{name}=""#))? + name.len() + 2;
            let end = start + tag[start..].find('"')?;
            Some(unescape(&tag[start..end]))
        };
        if let (Some(name), Some(value)) = (attr("name"), attr("value")) {
            if !fields.contains(&(name.clone(), value.clone())) {
                fields.push((name, value));
            }
        }
    }
    fields
}

/// The `value`s of the `<option>`s of the `<select name=...>` on a page.
/// The CSRF token of a page's forms.
pub fn csrf(html: &str) -> String {
    hidden_inputs(html).into_iter().find(|(k, _)| k == "csrf_token").expect("a CSRF token").1
}

pub fn select_options(html: &str, name: &str) -> Vec<String> {
    let Some(start) = html.find(&format!(r#"name="{name}""#)) else {
        return Vec::new();
    };
    let end = start + html[start..].find("</select>").unwrap_or(html.len() - start);
    html[start..end]
        .split("<option value=\"")
        .skip(1)
        .map(|rest| unescape(&rest[..rest.find('"').unwrap_or(0)]))
        .filter(|v| !v.is_empty())
        .collect()
}

/// Waits until `check` holds (for effects that are asynchronous by design, like the
/// coalesced "last used" write), failing after `timeout`.
pub fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    check()
}
