//! Verification answers kept in memory, never stale.
//!
//! The promise, on both backends: no answer is stale with respect to any change committed
//! before the request arrived, on any instance.
//!
//! Every write that can end or alter a live credential appends a row to the credential change
//! log from a trigger, with ids in commit order (SQLite: one writer at a time,
//! `migrations/sqlite/2026-12-01-000001_credential_changes`; PostgreSQL: a counter row locked
//! until commit, `migrations/postgres/2026-12-03-000001_credential_change_log`). A [`Verifier`]
//! keeps live answers and the id of the last change it has applied. Before answering from
//! memory it makes sure it has applied every change committed before the request arrived,
//! whichever process made it. How it knows differs by backend; what is kept, and how the log is
//! applied ([`Cache`]), does not.
//!
//! **SQLite: the commit mark, on use.**
//! 1. It reads the database's commit mark ([`CommitWatch`]: one `pread`, no transaction). If
//!    the mark is the one seen when the log was last read, nothing has committed since.
//! 2. Otherwise it reads the newest change id (one indexed read) and applies what happened
//!    since: it drops the credentials named, or everything when a change is not about one
//!    credential (a user, a membership, a role, a project, an app).
//!
//! **PostgreSQL: the freshness barrier, before use** ([`super::barrier`]). A request may
//! answer from memory only after a round of the barrier that started after it arrived has read
//! the change counter and applied the log up to it. Why that is enough:
//! - Each change takes its number from `UPDATE credential_change_counter SET n = n + 1`. The
//!   row lock it takes is held until its transaction ends, and a second transaction wanting the
//!   next number waits on it, then (READ COMMITTED) re-reads the row as committed. So if `T`
//!   holds `n` and `T'` holds `n + 1`, `T'` got its number after `T` committed — it cannot commit
//!   before `T` — and a number rolled back is taken again. Numbers are dense and in commit order.
//! - PostgreSQL makes a commit visible to new snapshots before it releases the transaction's
//!   locks and before `COMMIT` returns to the client. A change "committed before the request
//!   arrived" has therefore bumped the counter to some `m` visible to every snapshot taken
//!   after the request arrived — the round's counter read is one (a single statement, READ
//!   COMMITTED, taken after the round started) and returns `n ≥ m`.
//! - Every change up to `n` is then committed and visible to the round's later read of the
//!   log, which applies them (pruned past what was applied, or too many: forget everything).
//! - Answers found in memory afterwards were either kept before those changes and survived
//!   them, or computed later (from a snapshot newer than the counter read).
//!
//! Answers computed on a miss read the database in a snapshot taken after the newest applied
//! change `h` was read; they are kept only if no later change has been applied meanwhile (it
//! could be about this credential). A change committed after that snapshot and not yet applied
//! is applied by the round of the next request that may use the kept answer. Its limits: every
//! instance must read the primary (a replica lags, and its counter with it), and a round that
//! fails or takes longer than [`super::barrier::WAIT`] sends the request to the database, as
//! without a cache.
//!
//! What is kept: live answers only (anything else, garbage included, goes to the database), up
//! to a fixed number of credentials, least recently used first out. Expiry is checked against
//! the request's clock on every use.
//!
//! Metrics: hits, misses and invalidations (`portcullis_verification_cache_total`), barrier
//! rounds (`portcullis_verification_barrier_rounds_total`), and
//! `portcullis_revocation_visible_seconds`. The log records no commit time, so that histogram
//! measures what can be measured without one: when the log names a credential whose live
//! answer was kept and the next request for it finds it inactive in the database, the time
//! from the `revoked_at` its grant or deploy key records (the revoking process's clock, within
//! its transaction, just before commit) to that answer (this request's clock). Not observed:
//! credentials ended otherwise (expiry, deletion, a disabled user whose grants were not
//! revoked), changes the log records as "anything may have changed", and answers nobody had
//! kept or asks for again within [`DROPPED_WATCHED`] drops.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};

use diesel::QueryResult;
use lru::LruCache;
use time::PrimitiveDateTime;

use super::barrier::Barrier;
use super::{Verified, revoked_at, verify_credential};
use crate::db::commit_watch::{CommitMark, CommitWatch};
use crate::db::models::credential_changes;
use crate::db::{DatabaseUrl, DbConnection, pool};
use crate::telemetry::metrics::{self, CacheOutcome};
use crate::tokens::{Credential, SecretDigest};

/// Catching up on more changes than this costs more than forgetting everything.
const MAX_REPLAY: i64 = 1_000;

/// Kept answers the log dropped by name, remembered until the credential is asked for again
/// (to time its revocation's visibility) or crowded out by newer drops.
const DROPPED_WATCHED: NonZeroUsize = NonZeroUsize::new(4_096).unwrap();

/// Verifies credentials for a running server: from memory when it can prove the answer fresh,
/// from the database otherwise (and always when the cache is turned off).
pub struct Verifier {
    kept: Option<Kept>,
}

/// The answers kept, and what proves them fresh: there is no cache without a proof.
struct Kept {
    cache: Arc<Mutex<Cache>>,
    proof: Proof,
}

enum Proof {
    /// SQLite: the commit mark, proven to move ([`CommitWatch::open`]), checked on each use.
    CommitMark(CommitWatch),
    /// PostgreSQL: the barrier a request passes before it may use memory.
    Barrier(Barrier),
}

/// What a request has proven before it verifies: see [`Verifier::fresh`].
#[derive(Debug, Clone, Copy)]
pub struct Freshness {
    barrier_passed: bool,
}

impl Freshness {
    /// Nothing proven: PostgreSQL answers come from the database; SQLite's cache checks its
    /// commit mark on use, so it needs nothing more.
    pub const UNPROVEN: Freshness = Freshness { barrier_passed: false };
}

struct Cache {
    /// The newest change applied to `live`; `None` until the log is first read.
    applied: Option<i64>,
    /// SQLite: the commit mark read just before the log was found to end at `applied`.
    seen: Option<CommitMark>,
    /// Bumped to forget everything at once: answers of an older generation are not used.
    /// (Dropping 100k answers one by one, under the lock, on every role change would cost
    /// milliseconds each time; stale ones are overwritten or evicted in their own time.)
    generation: u64,
    /// Live answers by the SHA-256 of the credential, with the generation they belong to.
    live: LruCache<SecretDigest, (u64, Arc<Verified>)>,
    /// Credentials whose kept answers the log dropped by name, not asked for since.
    dropped: LruCache<SecretDigest, ()>,
}

impl Verifier {
    /// A verifier for `database` keeping up to `capacity` answers (0: none).
    pub fn new(database: &DatabaseUrl, capacity: usize) -> Verifier {
        let Some(capacity) = NonZeroUsize::new(capacity) else {
            return Verifier { kept: None };
        };
        let cache = Arc::new(Mutex::new(Cache::new(capacity)));
        let proof = match database {
            DatabaseUrl::Sqlite(path) => pool::open(database)
                .map_err(|e| e.to_string())
                .and_then(|holder| CommitWatch::open(path, holder))
                .map(Proof::CommitMark)
                .map_err(|reason| format!("the SQLite commit mark cannot be trusted: {reason}")),
            DatabaseUrl::Postgres(_) => Barrier::start(barrier_round(database.clone(), cache.clone()))
                .map(Proof::Barrier)
                .map_err(|e| format!("cannot start the freshness barrier: {e}")),
        };
        match proof {
            Ok(proof) => Verifier { kept: Some(Kept { cache, proof }) },
            Err(reason) => {
                tracing::warn!(%reason, "verification cache off");
                Verifier { kept: None }
            }
        }
    }

    /// Called when a request arrives, before [`Self::recall`] or [`Self::verify`]: on
    /// PostgreSQL, waits (without holding a thread or a connection) for the barrier, which
    /// proves memory fresh as of this moment. Elsewhere there is nothing to wait for.
    pub async fn fresh(&self) -> Freshness {
        match &self.kept {
            Some(Kept { proof: Proof::Barrier(barrier), .. }) => Freshness { barrier_passed: barrier.pass().await },
            _ => Freshness::UNPROVEN,
        }
    }

    /// The answer for `presented` from memory alone, when `fresh` proves it current: `None`
    /// when it takes the database ([`Self::verify`]). Only PostgreSQL answers here, where
    /// going to the database means a hop to the blocking pool; SQLite checks on use.
    pub fn recall(&self, fresh: Freshness, presented: &str, now: PrimitiveDateTime) -> Option<Option<Arc<Verified>>> {
        let Some(Kept { cache, proof: Proof::Barrier(_) }) = &self.kept else {
            return None;
        };
        if !fresh.barrier_passed {
            return None;
        }
        let credential = Credential::parse(presented)?;
        let known = lock(cache).known(&credential.digest())?;
        metrics::cache(CacheOutcome::Hit, 1);
        Some((!known.expired(now)).then_some(known))
    }

    /// Whether `presented` is a live credential at `now`: the answer [`super::verify`] would
    /// give at this moment. `fresh` is what this request got from [`Self::fresh`].
    pub fn verify(
        &self,
        conn: &mut DbConnection,
        fresh: Freshness,
        presented: &str,
        now: PrimitiveDateTime,
    ) -> QueryResult<Option<Arc<Verified>>> {
        let Some(credential) = Credential::parse(presented) else {
            return Ok(None);
        };
        let digest = credential.digest();
        let Some(Kept { cache, proof }) = &self.kept else {
            return Ok(verify_credential(conn, &credential, &digest.to_hash(), now)?.map(Arc::new));
        };
        let on_sqlite = matches!(conn, DbConnection::Sqlite(_));
        let (head, mut guard) = match proof {
            Proof::CommitMark(watch) if on_sqlite => {
                // The mark comes first: whatever it vouches for was committed before it was read.
                let mark = watch.mark();
                let guard = lock(cache);
                match guard.head_if_unchanged(mark) {
                    Some(head) => (Some(head), guard),
                    None => {
                        // Not under the lock: the other workers need not wait for this read.
                        drop(guard);
                        let head = credential_changes::head(conn)?;
                        let mut guard = lock(cache);
                        guard.catch_up(conn, head, mark)?;
                        (Some(head), guard)
                    }
                }
            }
            Proof::Barrier(_) if fresh.barrier_passed => {
                let guard = lock(cache);
                (guard.applied, guard)
            }
            _ => (None, lock(cache)),
        };
        let known = head.and_then(|_| guard.known(&digest));
        drop(guard);
        if let Some(known) = known {
            metrics::cache(CacheOutcome::Hit, 1);
            return Ok((!known.expired(now)).then_some(known));
        }
        metrics::cache(CacheOutcome::Miss, 1);
        let hash = digest.to_hash();
        let verified = verify_credential(conn, &credential, &hash, now)?.map(Arc::new);
        let mut guard = lock(cache);
        let was_dropped = guard.dropped.pop(&digest).is_some();
        match (&verified, head) {
            (Some(verified), Some(head)) => guard.remember(head, digest, verified.clone()),
            (None, _) if was_dropped => {
                drop(guard);
                if let Some(at) = revoked_at(conn, &credential, &hash)? {
                    metrics::revocation_visible((now - at).try_into().unwrap_or_default());
                }
            }
            _ => {}
        }
        Ok(verified)
    }
}

/// One round of the PostgreSQL barrier, on a connection of its own (opened again after an
/// error): read the counter, then apply the log up to it.
fn barrier_round(database: DatabaseUrl, cache: Arc<Mutex<Cache>>) -> impl FnMut() -> Result<(), String> + Send {
    let mut conn: Option<DbConnection> = None;
    move || {
        let open = match &mut conn {
            Some(open) => open,
            None => conn.insert(pool::open(&database).map_err(|e| e.to_string())?),
        };
        let result = credential_changes::head(open).and_then(|head| lock(&cache).catch_up(open, head, None));
        if result.is_err() {
            conn = None;
        }
        result.map_err(|e| e.to_string())
    }
}

/// The cache, emptied if a panic left it half-updated.
fn lock(cache: &Mutex<Cache>) -> MutexGuard<'_, Cache> {
    cache.lock().unwrap_or_else(|poisoned| {
        cache.clear_poison();
        let mut cache = poisoned.into_inner();
        cache.forget_all(None);
        cache
    })
}

impl Cache {
    fn new(capacity: NonZeroUsize) -> Cache {
        Cache {
            applied: None,
            seen: None,
            generation: 0,
            live: LruCache::new(capacity),
            dropped: LruCache::new(DROPPED_WATCHED),
        }
    }

    /// The newest change, known without asking the database: when `mark` is the one read just
    /// before the log was last found to end where it was applied, nothing has committed since.
    fn head_if_unchanged(&self, mark: Option<CommitMark>) -> Option<i64> {
        match (mark, self.seen) {
            (Some(mark), Some(seen)) if mark == seen => self.applied,
            _ => None,
        }
    }

    /// Applies the log up to (at least) `head`, the newest id a request read after `mark`
    /// (SQLite; `None` on PostgreSQL, which has no mark).
    fn catch_up(&mut self, conn: &mut DbConnection, head: i64, mark: Option<CommitMark>) -> QueryResult<()> {
        match self.applied {
            // Nothing is kept yet, so nothing can be out of date.
            None => self.forget_all(Some(head)),
            // Another request already applied as much or more.
            Some(applied) if head <= applied => {}
            Some(applied) if head - applied > MAX_REPLAY => self.invalidate_all(Some(head)),
            Some(applied) => {
                let changes = credential_changes::after(conn, applied)?;
                // Pruned past what we applied: what the missing changes touched is unknown.
                let complete = changes.first().is_some_and(|change| change.id == applied + 1);
                let newest = changes.last().map_or(head, |change| change.id.max(head));
                // A change about one credential names it by its stored hash; NULL (or, were a
                // row ever written by hand, anything unreadable) may concern any.
                let named: Option<Vec<SecretDigest>> = changes
                    .iter()
                    .map(|change| change.token_hash.as_deref().and_then(SecretDigest::from_stored))
                    .collect();
                match named {
                    Some(named) if complete => {
                        for digest in named {
                            if self.live.pop(&digest).is_some() {
                                metrics::cache(CacheOutcome::Invalidation, 1);
                                self.dropped.put(digest, ());
                            }
                        }
                        self.applied = Some(newest);
                    }
                    _ => self.invalidate_all(Some(newest)),
                }
            }
        }
        // `mark` was read before `head`: it vouches for `head` only if that is where we stand.
        if self.applied == Some(head) {
            self.seen = mark;
        }
        Ok(())
    }

    /// The answer kept for `digest`, if it is of the current generation.
    fn known(&mut self, digest: &SecretDigest) -> Option<Arc<Verified>> {
        let generation = self.generation;
        self.live.get(digest).filter(|(of, _)| *of == generation).map(|(_, verified)| verified.clone())
    }

    /// Keeps an answer computed from a state at least as new as `head` — unless a later change
    /// has been applied meanwhile: it could have been about this very credential.
    fn remember(&mut self, head: i64, digest: SecretDigest, verified: Arc<Verified>) {
        if self.applied == Some(head) {
            self.live.put(digest, (self.generation, verified));
        }
    }

    /// Forgets everything because of what the log says: one invalidation.
    fn invalidate_all(&mut self, applied: Option<i64>) {
        metrics::cache(CacheOutcome::Invalidation, 1);
        self.forget_all(applied);
    }

    fn forget_all(&mut self, applied: Option<i64>) {
        self.generation += 1;
        self.applied = applied;
        self.seen = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::{Action, ProjectRef, Resource, decide};
    use crate::db::fixture::{DEPLOY_KEY, Fixture, PROJECT_TOKEN};
    use crate::tokens::SecretHash;

    fn at(day: u8) -> PrimitiveDateTime {
        PrimitiveDateTime::new(
            time::Date::from_calendar_date(2026, time::Month::March, day).unwrap(),
            time::Time::MIDNIGHT,
        )
    }

    fn live(verifier: &Verifier, f: &mut Fixture, credential: &str) -> bool {
        verifier.verify(&mut f.conn, Freshness::UNPROVEN, credential, at(1)).unwrap().is_some()
    }

    /// Revokes the fixture's grant without the log hearing of it, which only a test would do:
    /// the way to see whether an answer came from memory.
    fn revoke_silently(f: &mut Fixture) {
        f.exec("DROP TRIGGER grants_changed; UPDATE grants SET revoked_at = '2026-01-02 00:00:00'");
    }

    fn log(f: &mut Fixture, hash: Option<&str>) {
        let value = hash.map_or("NULL".to_owned(), |h| format!("'{h}'"));
        f.exec(&format!("INSERT INTO credential_changes (token_hash) VALUES ({value})"));
    }

    #[test]
    fn answers_from_memory_until_the_log_names_the_credential() {
        let mut f = Fixture::seeded();
        let verifier = Verifier::new(&f.url, 16);
        assert!(live(&verifier, &mut f, PROJECT_TOKEN));
        revoke_silently(&mut f);
        assert!(live(&verifier, &mut f, PROJECT_TOKEN), "unlogged, so still the cached answer");
        log(&mut f, Some(SecretHash::of("some-other-credential").as_str()));
        assert!(live(&verifier, &mut f, PROJECT_TOKEN), "a change about another credential keeps it");
        log(&mut f, Some(SecretHash::of(PROJECT_TOKEN).as_str()));
        assert!(!live(&verifier, &mut f, PROJECT_TOKEN), "the database's answer once the log names it");
    }

    #[test]
    fn a_change_about_anything_forgets_everything() {
        let mut f = Fixture::seeded();
        let verifier = Verifier::new(&f.url, 16);
        assert!(live(&verifier, &mut f, PROJECT_TOKEN));
        assert!(live(&verifier, &mut f, DEPLOY_KEY));
        revoke_silently(&mut f);
        log(&mut f, None);
        assert!(!live(&verifier, &mut f, PROJECT_TOKEN));
        assert!(!live(&verifier, &mut f, DEPLOY_KEY), "the deploy key dies with its grant");
    }

    /// What the decision about `action` on the fixture key's own deployment says, from the
    /// verifier's answer.
    fn key_reason(verifier: &Verifier, f: &mut Fixture, action: Action) -> String {
        let verified = verifier.verify(&mut f.conn, Freshness::UNPROVEN, DEPLOY_KEY, at(1)).unwrap().expect("live key");
        let subject = crate::ops::verify::subject(&mut f.conn, &verified).unwrap();
        let Verified::DeployKey(key) = &*verified else { panic!("a deploy key") };
        let project = ProjectRef { id: key.project_id, slug: key.project_slug.clone() };
        let own = Resource::Deployment { team_id: 1, project, deployment: key.deployment.clone().unwrap() };
        decide(&subject, action, &own, None).reason.to_string()
    }

    #[test]
    fn a_deploy_keys_role_travels_with_the_kept_answer_and_its_edits_are_seen() {
        let mut f = Fixture::seeded();
        f.exec(
            r#"UPDATE custom_roles SET statements = '[{"effect":"allow","actions":["env:view"],"resource":"project:*:deployment:*"}]';
               UPDATE deploy_keys SET custom_role_id = 1"#,
        );
        let verifier = Verifier::new(&f.url, 16);
        assert_eq!(key_reason(&verifier, &mut f, Action::EnvView), "allowed_by_role:auditor");
        assert_eq!(key_reason(&verifier, &mut f, Action::DeploymentView), "allowed_by_key_actions");
        f.exec(
            r#"DROP TRIGGER custom_roles_changed;
               UPDATE custom_roles SET statements = '[{"effect":"deny","actions":"*","resource":"project:*:deployment:*"}]'"#,
        );
        assert_eq!(
            key_reason(&verifier, &mut f, Action::EnvView),
            "allowed_by_role:auditor",
            "the role kept in memory"
        );
        log(&mut f, None);
        assert_eq!(key_reason(&verifier, &mut f, Action::EnvView), "denied_by_role:auditor", "the edited role");
        assert_eq!(key_reason(&verifier, &mut f, Action::DeploymentView), "denied_by_role:auditor");
    }

    #[test]
    fn a_gap_in_the_log_forgets_everything() {
        let mut f = Fixture::seeded();
        let verifier = Verifier::new(&f.url, 16);
        assert!(live(&verifier, &mut f, PROJECT_TOKEN));
        revoke_silently(&mut f);
        let (a, b) = (SecretHash::of("a"), SecretHash::of("b"));
        log(&mut f, Some(a.as_str()));
        log(&mut f, Some(b.as_str()));
        // As if the oldest unapplied change had been pruned: what it touched is unknown.
        f.exec(&format!("DELETE FROM credential_changes WHERE token_hash = '{}'", a.as_str()));
        assert!(!live(&verifier, &mut f, PROJECT_TOKEN));
    }

    #[test]
    fn expiry_is_checked_on_every_use() {
        let mut f = Fixture::seeded();
        f.exec("UPDATE grants SET access_token_expires_at = '2026-03-05 00:00:00'");
        let verifier = Verifier::new(&f.url, 16);
        assert!(verifier.verify(&mut f.conn, Freshness::UNPROVEN, PROJECT_TOKEN, at(1)).unwrap().is_some());
        revoke_silently(&mut f);
        assert!(
            verifier.verify(&mut f.conn, Freshness::UNPROVEN, PROJECT_TOKEN, at(4)).unwrap().is_some(),
            "from memory"
        );
        assert!(
            verifier.verify(&mut f.conn, Freshness::UNPROVEN, PROJECT_TOKEN, at(5)).unwrap().is_none(),
            "expired, even from memory"
        );
    }

    #[test]
    fn turned_off_every_answer_comes_from_the_database() {
        let mut f = Fixture::seeded();
        let verifier = Verifier::new(&f.url, 0);
        assert!(live(&verifier, &mut f, PROJECT_TOKEN));
        revoke_silently(&mut f);
        assert!(!live(&verifier, &mut f, PROJECT_TOKEN));
    }

    #[test]
    fn an_answer_computed_before_an_applied_change_is_not_kept() {
        let mut f = Fixture::seeded();
        let answer = Arc::new(super::super::verify(&mut f.conn, PROJECT_TOKEN, at(1)).unwrap().unwrap());
        let mut cache = Cache { applied: Some(7), ..Cache::new(NonZeroUsize::MIN) };
        // Another request applied change 7 while this answer was being computed at head 6.
        let digest = SecretDigest::of(PROJECT_TOKEN);
        cache.remember(6, digest, answer.clone());
        assert!(cache.live.is_empty());
        cache.remember(7, digest, answer);
        assert_eq!(cache.live.len(), 1);
    }
}
