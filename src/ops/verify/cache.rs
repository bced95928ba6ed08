//! Verification answers kept in memory, never stale (SQLite).
//!
//! On SQLite every write that can end or alter a live credential appends a row to the
//! credential change log from a trigger, and ids grow in commit order (one writer at a time; see
//! `migrations/sqlite/2026-12-01-000001_credential_changes`). A [`Verifier`] keeps live answers
//! and the id of the last change it has applied. Before answering from memory it makes sure it
//! has applied every change committed before the request began, whichever process made it:
//!
//! 1. It reads the database's commit mark ([`CommitWatch`]: one `pread`, no transaction). If
//!    the mark is the one seen when the log was last read, nothing has committed since.
//! 2. Otherwise it reads the newest change id (one indexed read) and applies what happened
//!    since: it drops the credentials named, or everything when a change is not about one
//!    credential (a user, a membership, a role, a project, an app).
//!
//! Only then does it answer from memory, so the answer is the one the full join would give at
//! that moment. What is kept: live answers only (anything else, garbage included, goes to the
//! database), up to a fixed number of credentials, least recently used first out. Expiry is
//! checked against the request's clock on every use. An answer computed while the log moved on
//! is not kept, since the change it missed may already have been applied to the cache.
//!
//! Metrics: hits, misses and invalidations (`portcullis_verification_cache_total`), and
//! `portcullis_revocation_visible_seconds`. The log records no commit time (and gets none: no
//! migration for a metric), so that histogram measures what can be measured without one: when
//! the log names a credential whose live answer was kept and the next request for it finds it
//! inactive in the database, the time from the `revoked_at` its grant or deploy key records
//! (the revoking process's clock, within its transaction, just before commit) to that answer
//! (this request's clock). Not observed: credentials ended otherwise (expiry, deletion, a
//! disabled user whose grants were not revoked), changes the log records as "anything may
//! have changed", and answers nobody had kept or asks for again within [`DROPPED_WATCHED`]
//! drops.
//!
//! PostgreSQL keeps no such log (concurrent transactions do not take ids in commit order), so
//! there every answer comes from the database.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};

use diesel::{QueryResult, SqliteConnection};
use lru::LruCache;
use time::PrimitiveDateTime;

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

/// Verifies credentials for a running server: with the cache on SQLite, from the database
/// alone on PostgreSQL or when the cache is turned off.
pub struct Verifier {
    /// The answers kept, with the commit mark that says when they may be used: there is no
    /// cache without a mark proven to move ([`CommitWatch::open`]).
    cache: Option<(CommitWatch, Mutex<Cache>)>,
}

struct Cache {
    /// The newest change applied to `live`; `None` until the first request reads the log.
    applied: Option<i64>,
    /// The commit mark read just before the log was found to end at `applied`.
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
        let (DatabaseUrl::Sqlite(path), Some(capacity)) = (database, NonZeroUsize::new(capacity)) else {
            return Verifier { cache: None };
        };
        let watch = pool::open(database).map_err(|e| e.to_string()).and_then(|holder| CommitWatch::open(path, holder));
        match watch {
            Ok(watch) => {
                let cache = Cache::new(capacity);
                Verifier { cache: Some((watch, Mutex::new(cache))) }
            }
            Err(reason) => {
                tracing::warn!(%reason, "the SQLite commit mark cannot be trusted: verification cache off");
                Verifier { cache: None }
            }
        }
    }

    /// Whether `presented` is a live credential at `now`: the answer [`super::verify`] would
    /// give at this moment.
    pub fn verify(
        &self,
        conn: &mut DbConnection,
        presented: &str,
        now: PrimitiveDateTime,
    ) -> QueryResult<Option<Arc<Verified>>> {
        let Some(credential) = Credential::parse(presented) else {
            return Ok(None);
        };
        let digest = credential.digest();
        let (Some((watch, cache)), DbConnection::Sqlite(sqlite)) = (&self.cache, &mut *conn) else {
            return Ok(verify_credential(conn, &credential, &digest.to_hash(), now)?.map(Arc::new));
        };
        // The mark comes first: whatever it vouches for was committed before it was read.
        let mark = watch.mark();
        let mut guard = lock(cache);
        let head = match guard.head_if_unchanged(mark) {
            Some(head) => head,
            None => {
                // Not under the lock: the other workers need not wait for this read.
                drop(guard);
                let head = credential_changes::head(sqlite)?;
                guard = lock(cache);
                guard.catch_up(sqlite, head, mark)?;
                head
            }
        };
        let known = guard.known(&digest);
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
        match &verified {
            Some(verified) => guard.remember(head, digest, verified.clone()),
            None if was_dropped => {
                drop(guard);
                if let Some(at) = revoked_at(conn, &credential, &hash)? {
                    metrics::revocation_visible((now - at).try_into().unwrap_or_default());
                }
            }
            None => {}
        }
        Ok(verified)
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

    /// Applies the log up to (at least) `head`, the newest id a request read after `mark`.
    fn catch_up(&mut self, conn: &mut SqliteConnection, head: i64, mark: Option<CommitMark>) -> QueryResult<()> {
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
        verifier.verify(&mut f.conn, credential, at(1)).unwrap().is_some()
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
        let verified = verifier.verify(&mut f.conn, DEPLOY_KEY, at(1)).unwrap().expect("live key");
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
        assert!(verifier.verify(&mut f.conn, PROJECT_TOKEN, at(1)).unwrap().is_some());
        revoke_silently(&mut f);
        assert!(verifier.verify(&mut f.conn, PROJECT_TOKEN, at(4)).unwrap().is_some(), "from memory");
        assert!(verifier.verify(&mut f.conn, PROJECT_TOKEN, at(5)).unwrap().is_none(), "expired, even from memory");
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
