//! "Last used" bookkeeping without a database write per request: uses are noted in memory and
//! written every few seconds (and at shutdown) as one `UPDATE … WHERE id IN (…)` per few hundred
//! credentials, in one transaction, skipping rows marked within the last minute. "Last used" is
//! therefore precise to about a minute, a busy token costs at most one row write a minute, and a
//! crash loses at most one interval; a write per introspection would cost far more
//! (bench/README.md).

use std::sync::Mutex;

use crate::db::models::{deploy_keys, grants};
use crate::db::{DbConnection, DbPool};
use crate::ops::verify::Verified;

/// Ids per `UPDATE`: well under SQLite's bound-parameter limit.
const CHUNK: usize = 500;
/// A row marked used this recently is not rewritten.
const PRECISION: time::Duration = time::Duration::minutes(1);
/// Noted ids are appended as they come (cheaper per request than a set) and deduplicated when
/// written — or in place, should the writer fall behind, whenever the list reaches a power of
/// two from this size on (so memory stays bounded and compacting amortised).
const COMPACT_FROM: usize = 1 << 20;

#[derive(Default)]
struct Pending {
    grants: Vec<i64>,
    deploy_keys: Vec<i64>,
}

fn note(ids: &mut Vec<i64>, id: i64) {
    ids.push(id);
    if ids.len() >= COMPACT_FROM && ids.len().is_power_of_two() {
        dedup(ids);
    }
}

fn dedup(ids: &mut Vec<i64>) {
    ids.sort_unstable();
    ids.dedup();
}

#[derive(Default)]
pub struct UsageTracker {
    pending: Mutex<Pending>,
}

impl UsageTracker {
    /// Notes a use of a live credential (admin keys keep no "last used").
    pub fn note_use(&self, verified: &Verified) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        match verified {
            Verified::AppToken(token) => note(&mut pending.grants, token.grant_id),
            Verified::DeployKey(key) => note(&mut pending.deploy_keys, key.id),
            Verified::AdminKey(_) => {}
        }
    }

    fn take(&self) -> Pending {
        self.pending.lock().map(|mut pending| std::mem::take(&mut *pending)).unwrap_or_default()
    }

    /// Writes everything noted so far, stamped with the current time; returns the rows touched.
    pub fn flush(&self, pool: &DbPool) -> anyhow::Result<usize> {
        let Pending { grants: mut grant_ids, deploy_keys: mut key_ids } = self.take();
        if grant_ids.is_empty() && key_ids.is_empty() {
            return Ok(0);
        }
        dedup(&mut grant_ids);
        dedup(&mut key_ids);
        let now = crate::db::now();
        let mut conn = pool.get()?;
        let written = conn.write_transaction(|conn: &mut DbConnection| {
            let mut written = 0;
            for ids in grant_ids.chunks(CHUNK) {
                written += grants::set_last_used(conn, ids, now, now - PRECISION)?;
            }
            for ids in key_ids.chunks(CHUNK) {
                written += deploy_keys::set_last_used(conn, ids, now, now - PRECISION)?;
            }
            Ok::<_, diesel::result::Error>(written)
        })?;
        Ok(written)
    }
}
