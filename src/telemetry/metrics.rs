//! Prometheus metrics (SPEC §4, `/metrics`): every series the server exports, its help text,
//! and the recorder behind the `metrics` facade.
//!
//! Names are `portcullis_`-prefixed and end in their unit (Prometheus naming conventions).
//! Label values come from closed sets only — route patterns, a fixed list of methods, status
//! codes and the enums below — never a raw path, credential, email or client id: a label an
//! outsider can choose is a series an outsider can create (memory exhaustion).
//!
//! Cost on the hot path: one relaxed atomic add per counter and a lock-free push per histogram
//! sample. Handles are resolved once (statics for fixed labels, a per-thread map for the
//! request series), never through the recorder's locked registry per event. The recorder is
//! installed by `serve` before anything is counted; a handle resolved before that (operator
//! commands, unit tests) is a no-op.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use ::metrics::{
    Counter, Histogram, Label, Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

const HTTP_REQUESTS: &str = "portcullis_http_requests_total";
const HTTP_DURATION: &str = "portcullis_http_request_duration_seconds";
const INTROSPECTIONS: &str = "portcullis_introspections_total";
const VERIFICATION_CACHE: &str = "portcullis_verification_cache_total";
const TOKENS_ISSUED: &str = "portcullis_tokens_issued_total";
const TOKENS_REVOKED: &str = "portcullis_tokens_revoked_total";
const LOGIN_FAILURES: &str = "portcullis_login_failures_total";
const LOGIN_THROTTLED: &str = "portcullis_login_throttled_total";
const DB_POOL: &str = "portcullis_db_pool_connections";
const REVOCATION_VISIBLE: &str = "portcullis_revocation_visible_seconds";
const BARRIER_ROUNDS: &str = "portcullis_verification_barrier_rounds_total";
const DOCUMENT_FETCHES: &str = "portcullis_client_metadata_fetches_total";

/// Request latencies: introspection answers in tens of microseconds, a login hashes for tens
/// of milliseconds.
const DURATION_BUCKETS: [f64; 14] =
    [0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];
/// From a revocation's commit to the first inactive answer: the cache applies the log on the
/// next request, so this is as long as the credential goes unused.
const VISIBLE_BUCKETS: [f64; 12] = [0.001, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0];

/// Installs the process-wide recorder and describes every series; `serve` calls it once, first.
/// The handle renders the exposition; [`PrometheusHandle::run_upkeep`] must run every few
/// seconds (housekeeping does), or histogram samples pile up between scrapes.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &DURATION_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(REVOCATION_VISIBLE.into()), &VISIBLE_BUCKETS)?
        .install_recorder()?;
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by matched route pattern, method and status.");
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time from receiving a request to its response head, by route pattern, method and status."
    );
    describe_counter!(INTROSPECTIONS, "Token introspections (RFC 7662) answered, by result.");
    describe_counter!(
        VERIFICATION_CACHE,
        "Verification cache: answers from memory (hit), from the database (miss), and kept answers dropped because the change log named them, or all of them at once (invalidation)."
    );
    describe_counter!(
        BARRIER_ROUNDS,
        "PostgreSQL: reads of the credential change counter by this instance's freshness barrier, each shared by every request that arrived before it started."
    );
    describe_counter!(
        DOCUMENT_FETCHES,
        "Client ID Metadata Documents not in the cache: fetched and stored, refused (unreachable or invalid), or not fetched because the requester's address reached its hourly limit (throttled)."
    );
    describe_counter!(TOKENS_ISSUED, "Credentials issued, by kind, counted once committed.");
    describe_counter!(
        TOKENS_REVOKED,
        "Live credentials revoked, by kind, counted once committed (refresh tokens and codes end with their grant, counted as its access token)."
    );
    describe_counter!(LOGIN_FAILURES, "Sign-in attempts refused for a wrong email or password.");
    describe_counter!(LOGIN_THROTTLED, "Sign-in attempts refused because too many recent ones failed.");
    describe_gauge!(DB_POOL, "Connections of the database pool, in use or idle, as of the scrape.");
    describe_histogram!(
        REVOCATION_VISIBLE,
        Unit::Seconds,
        "From a revocation's recorded time to the first inactive answer this instance gave for a credential it had kept in memory."
    );
    // Registered now, so every fixed series is exported from the start, at zero: a rate needs
    // the value before the first event.
    LazyLock::force(&ISSUED);
    LazyLock::force(&REVOKED);
    LazyLock::force(&INTROSPECTION);
    LazyLock::force(&CACHE);
    LazyLock::force(&LOGIN);
    LazyLock::force(&VISIBLE);
    LazyLock::force(&BARRIER);
    LazyLock::force(&FETCHES);
    // Publishes the descriptions to the renderer.
    handle.run_upkeep();
    Ok(handle)
}

/// The kinds of credential counted as issued and revoked (SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    ProjectToken,
    TeamToken,
    RefreshToken,
    DeployKey,
    AuthorizationCode,
}

impl TokenKind {
    const ALL: [TokenKind; 5] = [
        TokenKind::ProjectToken,
        TokenKind::TeamToken,
        TokenKind::RefreshToken,
        TokenKind::DeployKey,
        TokenKind::AuthorizationCode,
    ];

    /// The access token of a grant: scoped to a project or to the whole team (SPEC §1).
    pub fn access(project_scoped: bool) -> TokenKind {
        if project_scoped { TokenKind::ProjectToken } else { TokenKind::TeamToken }
    }

    fn as_str(self) -> &'static str {
        match self {
            TokenKind::ProjectToken => "project_token",
            TokenKind::TeamToken => "team_token",
            TokenKind::RefreshToken => "refresh_token",
            TokenKind::DeployKey => "deploy_key",
            TokenKind::AuthorizationCode => "authorization_code",
        }
    }
}

/// One counter per kind, in [`TokenKind::ALL`]'s order.
fn per_kind(name: &'static str) -> [Counter; 5] {
    TokenKind::ALL.map(|kind| counter!(name, "kind" => kind.as_str()))
}

static ISSUED: LazyLock<[Counter; 5]> = LazyLock::new(|| per_kind(TOKENS_ISSUED));
static REVOKED: LazyLock<[Counter; 5]> = LazyLock::new(|| per_kind(TOKENS_REVOKED));

/// `count` credentials of `kind` issued; call after the transaction that stored them committed.
pub fn issued(kind: TokenKind, count: u64) {
    ISSUED[kind as usize].increment(count);
}

/// `count` live credentials of `kind` ended; call after the transaction that ended them committed.
pub fn revoked(kind: TokenKind, count: u64) {
    REVOKED[kind as usize].increment(count);
}

static INTROSPECTION: LazyLock<[Counter; 2]> = LazyLock::new(|| {
    [counter!(INTROSPECTIONS, "result" => "inactive"), counter!(INTROSPECTIONS, "result" => "active")]
});

/// One introspection answered (RFC 7662 §2.2 `active`).
pub fn introspection(active: bool) {
    INTROSPECTION[usize::from(active)].increment(1);
}

/// What the verification cache did with one request, or with the change log.
#[derive(Debug, Clone, Copy)]
pub enum CacheOutcome {
    Hit,
    Miss,
    Invalidation,
}

static CACHE: LazyLock<[Counter; 3]> =
    LazyLock::new(|| ["hit", "miss", "invalidation"].map(|outcome| counter!(VERIFICATION_CACHE, "outcome" => outcome)));

pub fn cache(outcome: CacheOutcome, count: u64) {
    CACHE[outcome as usize].increment(count);
}

static LOGIN: LazyLock<[Counter; 2]> = LazyLock::new(|| [counter!(LOGIN_FAILURES), counter!(LOGIN_THROTTLED)]);

/// A sign-in refused for a wrong email or password.
pub fn login_failed() {
    LOGIN[0].increment(1);
}

/// A sign-in refused without checking the password: too many recent failures.
pub fn login_throttled() {
    LOGIN[1].increment(1);
}

static VISIBLE: LazyLock<Histogram> = LazyLock::new(|| histogram!(REVOCATION_VISIBLE));

/// A revocation's delay until this instance answered "inactive" (see `ops::verify::cache`).
pub fn revocation_visible(delay: Duration) {
    VISIBLE.record(delay.as_secs_f64());
}

static BARRIER: LazyLock<Counter> = LazyLock::new(|| counter!(BARRIER_ROUNDS));

/// One read of the change counter by the freshness barrier (see `ops::verify::barrier`).
pub fn barrier_round() {
    BARRIER.increment(1);
}

/// What became of a Client ID Metadata Document that was not in the cache.
#[derive(Debug, Clone, Copy)]
pub enum FetchOutcome {
    Stored,
    Refused,
    Throttled,
}

static FETCHES: LazyLock<[Counter; 3]> = LazyLock::new(|| {
    ["stored", "refused", "throttled"].map(|outcome| counter!(DOCUMENT_FETCHES, "outcome" => outcome))
});

pub fn document_fetch(outcome: FetchOutcome) {
    FETCHES[outcome as usize].increment(1);
}

/// The pool's connections as of now: r2d2 counts those open and, among them, the idle ones.
pub fn db_pool(state: diesel::r2d2::State) {
    gauge!(DB_POOL, "state" => "in_use").set(f64::from(state.connections - state.idle_connections));
    gauge!(DB_POOL, "state" => "idle").set(f64::from(state.idle_connections));
}

type RequestSeries = HashMap<String, HashMap<(&'static str, u16), (Counter, Histogram)>>;

thread_local! {
    /// Each worker thread's handles for the request series it has seen: bounded by routes ×
    /// methods × statuses, and no lock shared with other workers.
    static REQUESTS: RefCell<RequestSeries> = RefCell::new(HashMap::new());
}

/// One request answered: `route` is a route pattern (or `unmatched`), `method` one of a fixed
/// set of names.
pub fn http_request(route: &str, method: &'static str, status: u16, elapsed: Duration) {
    REQUESTS.with(|series| {
        let mut series = series.borrow_mut();
        if !series.contains_key(route) {
            series.insert(route.to_owned(), HashMap::new());
        }
        let Some(by_route) = series.get_mut(route) else { return };
        let (requests, duration) = by_route.entry((method, status)).or_insert_with(|| {
            let labels = vec![
                Label::new("route", route.to_owned()),
                Label::new("method", method),
                Label::new("status", status.to_string()),
            ];
            (counter!(HTTP_REQUESTS, labels.clone()), histogram!(HTTP_DURATION, labels))
        });
        requests.increment(1);
        duration.record(elapsed.as_secs_f64());
    });
}
