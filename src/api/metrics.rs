//! `GET /metrics` (SPEC §4): the Prometheus text exposition, version 0.0.4. Unauthenticated:
//! it names no credential, email or client; `--metrics-bind` moves it off the main listener.

use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::http::AppState;
use crate::telemetry::metrics;

/// Serves `/metrics`; needs the handle from [`metrics::install`] as app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/metrics").get(scrape));
}

async fn scrape(state: web::Data<AppState>, exporter: web::Data<PrometheusHandle>) -> HttpResponse {
    metrics::db_pool(state.pool.state());
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(exporter.render())
}
