//! The "raw lookup" reference of bench/introspect.sh, rebuilt on whatever machine runs it.
//!
//! ARCHITECTURE.md's reference row — HTTP Basic + form parse + SHA-256 + one indexed SQLite
//! lookup joined to memberships, inline on the worker — was measured on another machine. This
//! is that handler, against the same seeded database, so that Portcullis's full re-check can be
//! compared with it on the same hardware, in the same run. It checks nothing else (no caller
//! secret, user, team, project, app, expiry or last-used), so it is a yardstick, not a server.
//! On PostgreSQL the lookup goes through a pool of `PORTCULLIS_DB_POOL_SIZE` (8) connections on
//! the blocking threads, as Portcullis's misses do: "one query per request", to set beside
//! Portcullis's answers from memory behind the freshness barrier.
//!
//! ```sh
//! cargo run --release --example baseline -- sqlite://bench.sqlite 127.0.0.1:8081
//! cargo run --release --example baseline -- postgres://postgres@127.0.0.1/bench 127.0.0.1:8081
//! ```

use std::cell::RefCell;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use diesel::prelude::*;
use portcullis::db::pool::DbPool;
use portcullis::db::schema::{grants, members};
use portcullis::db::{DatabaseUrl, DbConnection};
use sha2::{Digest, Sha256};

thread_local! {
    /// Each worker's own connection, opened with Portcullis's pragmas (as the real hot path).
    static CONN: RefCell<Option<DbConnection>> = const { RefCell::new(None) };
}

/// Where the lookup runs: SQLite inline on the worker, PostgreSQL through the pool.
enum Database {
    Sqlite(DatabaseUrl),
    Postgres(DbPool),
}

/// The one query: the grant by its token's hash, joined to the membership it was issued under.
fn query(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<(i64, String)>> {
    grants::table
        .inner_join(members::table.on(members::id.nullable().eq(grants::member_id)))
        .filter(grants::access_token_hash.eq(hash))
        .filter(grants::revoked_at.is_null())
        .select((grants::id, members::role))
        .get_result(conn)
        .optional()
}

async fn lookup(database: &Database, hash: String) -> QueryResult<Option<(i64, String)>> {
    let broken = |e: &dyn std::fmt::Display| diesel::result::Error::QueryBuilderError(e.to_string().into());
    match database {
        Database::Sqlite(url) => CONN.with(|slot| {
            let mut slot = slot.borrow_mut();
            if slot.is_none() {
                *slot = Some(portcullis::db::pool::open(url).map_err(|e| broken(&e))?);
            }
            query(slot.as_mut().expect("opened above"), &hash)
        }),
        Database::Postgres(pool) => {
            let pool = pool.clone();
            web::block(move || query(&mut *pool.get().map_err(|e| broken(&e))?, &hash)).await.map_err(|e| broken(&e))?
        }
    }
}

async fn introspect(req: HttpRequest, body: web::Bytes, database: web::Data<Database>) -> HttpResponse {
    let basic = req.headers().get("authorization").and_then(|h| h.to_str().ok()?.strip_prefix("Basic "));
    let decoded = basic.and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
    if !decoded.is_some_and(|d| d.contains(&b':')) {
        return HttpResponse::Unauthorized().finish();
    }
    let Some(token) = url::form_urlencoded::parse(&body).find(|(k, _)| k == "token").map(|(_, v)| v) else {
        return HttpResponse::BadRequest().finish();
    };
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    match lookup(&database, hash).await {
        Ok(Some((id, role))) => HttpResponse::Ok().json(serde_json::json!({"active": true, "sub": id, "role": role})),
        Ok(None) => HttpResponse::Ok().json(serde_json::json!({"active": false})),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(bind)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: baseline sqlite://<file> | postgres://<url> <address:port>");
    };
    let url: DatabaseUrl = url.parse().map_err(anyhow::Error::msg)?;
    let pool_size = std::env::var("PORTCULLIS_DB_POOL_SIZE").ok().and_then(|n| n.parse().ok()).unwrap_or(8);
    let database = match url {
        DatabaseUrl::Sqlite(_) => Database::Sqlite(url),
        _ => Database::Postgres(portcullis::db::pool::build(&url, pool_size)?),
    };
    let data = web::Data::new(database);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/oauth/introspect", web::post().to(introspect))
            .route("/healthz", web::get().to(|| async { HttpResponse::Ok().json(serde_json::json!({"status": "ok"})) }))
    })
    .worker_max_blocking_threads(pool_size as usize)
    .bind(bind)?;
    for address in server.addrs() {
        println!("listening on http://{address}");
    }
    server.run().await?;
    Ok(())
}
