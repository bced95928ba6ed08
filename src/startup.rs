//! `portcullis serve`: open and migrate the database, bind, compose the areas, run until
//! SIGINT/SIGTERM (graceful: in-flight requests finish), then write pending bookkeeping.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, ResponseError, web};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::api::ApiError;
use crate::config::{ServeArgs, Settings};
use crate::db::models::{codes, device_codes, login_failures, sessions};
use crate::db::{self, DatabaseUrl, DbPool};
use crate::http::usage::UsageTracker;
use crate::http::{AppState, middleware};
use crate::oauth::client_auth::BackendCache;
use crate::oauth::error::OAuthError;
use crate::oauth::{client_metadata, register};
use crate::ops::verify::Verifier;
use crate::telemetry::metrics;
use crate::ui::consent::ticket::TicketKey;
use crate::{api, demo, oauth, ops, passwords, ui};

pub fn serve(url: &DatabaseUrl, args: ServeArgs) -> anyhow::Result<()> {
    // First: a metric handle taken before the recorder exists counts nothing.
    let exporter = web::Data::new(metrics::install()?);
    let workers = args.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from)).max(1);
    let pool_size = args.db_pool_size.unwrap_or_else(|| (workers as u32 * 4).max(8));

    let (mut conn, applied) = db::pool::connect_and_migrate(url)?;
    if !applied.is_empty() {
        tracing::info!(?applied, database = %url, "applied migrations");
    }
    // A signing key exists from the start, so the JWK Set is never empty.
    conn.write_transaction(|conn| ops::signing::current_key(conn).map(drop))?;
    let consent_tickets = TicketKey::new(&ops::secrets::consent_ticket_key(&mut conn)?)?;

    let listener = TcpListener::bind(args.bind)?;
    let bound = listener.local_addr()?;
    let metrics_listener = args.metrics_bind.map(TcpListener::bind).transpose()?;
    let settings = Settings::new(&args, bound)?;
    let demo = if args.demo { Some(demo::seed(&mut conn, &settings)?) } else { None };
    drop(conn);

    let pool = db::pool::build(url, pool_size)?;
    passwords::warm_up();
    let state = web::Data::new(AppState {
        pool,
        database: url.clone(),
        settings,
        usage: Arc::new(UsageTracker::default()),
        backends: Arc::new(BackendCache::default()),
        verifier: Arc::new(Verifier::new(url, args.verify_cache_entries as usize)),
        consent_tickets,
        registrations: Arc::new(register::registration_limit()),
        document_fetches: Arc::new(client_metadata::fetch_limit(args.client_metadata_fetches_per_hour)),
    });
    tracing::info!(address = %bound, issuer = %state.settings.issuer, database = %url, workers, "listening");
    // Machine-readable for scripts and tests that start the server on port 0.
    if let Some(metrics_listener) = &metrics_listener {
        let address = metrics_listener.local_addr()?;
        tracing::info!(%address, "serving /metrics");
        println!("portcullis metrics on http://{address}");
    }
    println!("portcullis listening on http://{bound} (issuer {})", state.settings.issuer);

    let blocking_threads = (pool_size as usize / workers).max(2);
    let listeners = Listeners { main: listener, metrics: metrics_listener };
    actix_web::rt::System::new().block_on(run(listeners, state, exporter, workers, blocking_threads, demo))
}

/// The main listener, and the one `/metrics` moved to if it did.
struct Listeners {
    main: TcpListener,
    metrics: Option<TcpListener>,
}

async fn run(
    listeners: Listeners,
    state: web::Data<AppState>,
    exporter: web::Data<PrometheusHandle>,
    workers: usize,
    blocking_threads: usize,
    demo: Option<demo::Demo>,
) -> anyhow::Result<()> {
    let background = actix_web::rt::spawn(housekeeping(state.clone(), exporter.clone()));
    let metrics_apart = listeners.metrics.is_some();
    let registration_open = state.settings.dynamic_registration;
    let metrics_server = match listeners.metrics {
        Some(listener) => {
            let (state, exporter) = (state.clone(), exporter.clone());
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(state.clone())
                    .app_data(exporter.clone())
                    .wrap(from_fn(middleware::observe))
                    .configure(api::metrics::configure)
            })
            .workers(1)
            .listen(listener)?
            .run();
            let handle = server.handle();
            actix_web::rt::spawn(server);
            Some(handle)
        }
        None => None,
    };
    let app_state = state.clone();
    HttpServer::new(move || {
        App::new()
            .app_data(app_state.clone())
            .app_data(exporter.clone())
            .app_data(web::QueryConfig::default().error_handler(|error, req| {
                ui::PageError::bad_request(req, format!("The query string is malformed: {error}")).into()
            }))
            // A path segment that does not parse (a grant id that is not a number) names nothing.
            .app_data(web::PathConfig::default().error_handler(|_, req| ui::PageError::not_found(req).into()))
            .wrap(ErrorHandlers::new().handler(StatusCode::METHOD_NOT_ALLOWED, method_not_allowed))
            .wrap(from_fn(middleware::observe))
            .configure(oauth::configure)
            .configure(|cfg| {
                if registration_open {
                    oauth::register::configure(cfg);
                }
            })
            .configure(api::configure)
            .configure(|cfg| {
                if !metrics_apart {
                    api::metrics::configure(cfg);
                }
            })
            .configure(ui::configure)
            .configure(|cfg| {
                if let Some(demo) = &demo {
                    demo::configure(cfg, demo);
                }
            })
            .default_service(web::to(not_found))
    })
    .workers(workers)
    // No more blocking threads than pooled connections: extra threads would only queue on
    // the pool's lock (measured: that contention costs more than it saves).
    .worker_max_blocking_threads(blocking_threads)
    .shutdown_timeout(10)
    .listen(listeners.main)?
    .run()
    .await?;
    if let Some(metrics_server) = metrics_server {
        metrics_server.stop(true).await;
    }
    background.abort();
    let pool = state.pool.clone();
    let usage = state.usage.clone();
    web::block(move || usage.flush(&pool)).await??;
    tracing::info!("stopped");
    Ok(())
}

/// Who reads a path's answers, and so the shape of its errors.
enum Area {
    /// The token, introspection and revocation endpoints: RFC 6749 error JSON.
    Protocol,
    /// `/v1`, `/.well-known` and other machine paths: `{"error": {"code", "message"}}`.
    Api,
    /// What people's browsers reach, `/oauth/authorize` included: an HTML page.
    Page,
}

fn area(path: &str) -> Area {
    match path {
        "/oauth/token" | "/oauth/introspect" | "/oauth/revoke" => Area::Protocol,
        _ if path.starts_with("/oauth/authorize") => Area::Page,
        _ if ["/v1/", "/oauth/", "/.well-known/"].iter().any(|prefix| path.starts_with(prefix)) => Area::Api,
        _ => Area::Page,
    }
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    match area(req.path()) {
        Area::Protocol | Area::Api => ApiError::NotFound("no such endpoint".into()).error_response(),
        Area::Page => ui::PageError::not_found(&req).error_response(),
    }
}

/// A known path asked with a method it does not serve. actix answers 405 with the `Allow`
/// header and no body; this gives it the body every other error in its [`Area`] has.
fn method_not_allowed<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let allow = res.headers().get(header::ALLOW).cloned();
    let (req, _) = res.into_parts();
    let mut response = match area(req.path()) {
        Area::Protocol => OAuthError::method_not_allowed().error_response(),
        Area::Api => ApiError::MethodNotAllowed.error_response(),
        Area::Page => ui::PageError::new(
            &req,
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            "This page cannot be used that way.",
        )
        .error_response(),
    };
    if let Some(allow) = allow {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_into_right_body()))
}

/// Writes coalesced "last used" times and folds histogram samples into their buckets every few
/// seconds; purges expired codes, device codes, sessions and login-failure records every ten minutes.
async fn housekeeping(state: web::Data<AppState>, exporter: web::Data<PrometheusHandle>) {
    let mut tick = actix_web::rt::time::interval(Duration::from_secs(5));
    let mut ticks: u64 = 0;
    loop {
        tick.tick().await;
        ticks += 1;
        let pool = state.pool.clone();
        let usage = state.usage.clone();
        let purge = ticks % 120 == 1;
        let exporter = exporter.clone();
        let result = web::block(move || -> anyhow::Result<()> {
            exporter.run_upkeep();
            usage.flush(&pool)?;
            if purge {
                purge_expired(&pool)?;
            }
            Ok(())
        })
        .await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "housekeeping failed"),
            Err(error) => tracing::warn!(%error, "housekeeping could not run"),
        }
    }
}

fn purge_expired(pool: &DbPool) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    let now = db::now();
    conn.write_transaction(|conn| -> diesel::QueryResult<()> {
        codes::purge_expired(conn, now - time::Duration::hours(1))?;
        device_codes::purge_expired(conn, now - time::Duration::hours(1))?;
        sessions::purge_expired(conn, now)?;
        login_failures::purge_before(conn, now - time::Duration::hours(1))?;
        Ok(())
    })?;
    Ok(())
}
