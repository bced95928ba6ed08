//! "Last used" bookkeeping without a database write per request: uses are noted in memory and
//! written in one transaction every few seconds (and at shutdown). Losing the last few seconds
//! of "last used" in a crash is harmless; adding a write to every introspection is not.

use std::collections::HashMap;
use std::sync::Mutex;

use time::PrimitiveDateTime;

use crate::db::models::{deploy_keys, grants};
use crate::db::{DbConnection, DbPool};
use crate::ops::verify::Verified;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Used {
    Grant(i64),
    DeployKey(i64),
}

#[derive(Default)]
pub struct UsageTracker {
    pending: Mutex<HashMap<Used, PrimitiveDateTime>>,
}

impl UsageTracker {
    /// Notes a use of a live credential now (admin keys keep no "last used").
    pub fn note_use(&self, verified: &Verified) {
        let used = match verified {
            Verified::AppToken(token) => Used::Grant(token.grant_id),
            Verified::DeployKey(key) => Used::DeployKey(key.id),
            Verified::AdminKey(_) => return,
        };
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(used, crate::db::now());
        }
    }

    fn take(&self) -> HashMap<Used, PrimitiveDateTime> {
        self.pending.lock().map(|mut pending| std::mem::take(&mut *pending)).unwrap_or_default()
    }

    /// Writes everything noted so far; returns how many rows were touched.
    pub fn flush(&self, pool: &DbPool) -> anyhow::Result<usize> {
        let batch = self.take();
        if batch.is_empty() {
            return Ok(0);
        }
        let mut conn = pool.get()?;
        let written = conn.write_transaction(|conn: &mut DbConnection| {
            let mut written = 0;
            for (used, at) in &batch {
                written += match used {
                    Used::Grant(id) => grants::set_last_used(conn, *id, *at)?,
                    Used::DeployKey(id) => deploy_keys::set_last_used(conn, *id, *at)?,
                };
            }
            Ok::<_, diesel::result::Error>(written)
        })?;
        Ok(written)
    }
}
