//! The freshness barrier: one read of the database at a time, shared by every request that
//! arrived before it started (the batched ReadIndex of etcd/Raft, for linearizable reads).
//!
//! A request passes the barrier once a round that *started after the request arrived* has
//! finished: a round is one call of the `read` given to [`Barrier::start`] (for the
//! verification cache: read the PostgreSQL change counter, apply the changes since). Rounds run
//! one after another on a thread of their own, holding one connection of their own, and only
//! while someone waits:
//!
//! - a request arriving while no round is in flight asks for the next one, which starts at once;
//! - a request arriving while round `k` is in flight cannot use it (it may have read the
//!   counter before the request arrived), so it waits for round `k + 1`, which starts as soon as
//!   `k` ends and serves every request that arrived during `k`.
//!
//! So under load there is one read per round, whatever the number of requests, rounds start at
//! least [`BUSY_SPACING`] apart, and a request waits between one and two rounds; a request that
//! finds the barrier idle starts its round at once. Waiting is a `watch` receiver on the async side:
//! no worker thread, blocking thread or pool connection is held by a waiting request. A round
//! that fails, or a wait longer than [`WAIT`] (the database unreachable or stuck), does not pass
//! the barrier: the caller then asks the database itself, as without a cache. While a round has
//! been in flight longer than [`WAIT`], arriving requests do not wait at all: they go to the
//! database at once until the round ends (its connection's keepalives end a silent one, see
//! `db::url`), so a stuck read costs the requests waiting on it, not every later one.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// How long a request waits for its round before it asks the database itself.
pub(super) const WAIT: Duration = Duration::from_secs(2);

/// Under load, the least time from the start of one round to the start of the next. Rounds
/// back to back would read the counter once per round trip (≈ 0.15 ms on loopback), about 7,000
/// reads a second at full load on 2 cores, which PostgreSQL and the server then share; spaced,
/// one read serves two to three times as many requests, for at most this much more waiting.
/// Measured in bench/README.md (2026-12-03): +29 % throughput and a lower p99 at 64
/// connections; an idle barrier is not slowed at all.
pub(super) const BUSY_SPACING: Duration = Duration::from_micros(300);

/// One instance's barrier; dropping it stops its thread after the round in flight.
pub(super) struct Barrier {
    rounds: Arc<Rounds>,
    finished: watch::Receiver<Finished>,
}

/// The rounds asked for and started, shared with the reading thread.
struct Rounds {
    state: Mutex<RoundState>,
    asked: Condvar,
}

#[derive(Default)]
struct RoundState {
    /// The newest round started (0: none yet).
    started: u64,
    /// The newest round some request waits for: `started` or `started + 1`.
    wanted: u64,
    /// When the round in flight started; `None` between rounds.
    in_flight_since: Option<Instant>,
    stopped: bool,
}

/// The newest round finished, and whether its read succeeded.
#[derive(Debug, Clone, Copy)]
struct Finished {
    round: u64,
    ok: bool,
}

impl Barrier {
    /// Starts the reading thread; `read` performs one round and says why it failed if it did.
    pub(super) fn start<R>(mut read: R) -> std::io::Result<Barrier>
    where
        R: FnMut() -> Result<(), String> + Send + 'static,
    {
        let rounds = Arc::new(Rounds { state: Mutex::new(RoundState::default()), asked: Condvar::new() });
        let (publish, finished) = watch::channel(Finished { round: 0, ok: false });
        let shared = rounds.clone();
        std::thread::Builder::new().name("verify-barrier".into()).spawn(move || {
            let mut failing = false;
            let mut previous = None;
            while let Some((round, started)) = shared.next(previous) {
                previous = Some(started);
                let outcome = read();
                lock(&shared.state).in_flight_since = None;
                crate::telemetry::metrics::barrier_round();
                match (&outcome, failing) {
                    (Err(reason), false) => tracing::warn!(%reason, "freshness barrier: reading the change log failed"),
                    (Ok(()), true) => tracing::info!("freshness barrier: reading the change log again"),
                    _ => {}
                }
                failing = outcome.is_err();
                if publish.send(Finished { round, ok: outcome.is_ok() }).is_err() {
                    return;
                }
            }
        })?;
        Ok(Barrier { rounds, finished })
    }

    /// Waits for a round that starts after this call; `true` once it has finished well.
    /// `false` at once while the round in flight is older than [`WAIT`]: it is stuck.
    pub(super) async fn pass(&self) -> bool {
        let (needed, newly_wanted) = {
            let mut state = lock(&self.rounds.state);
            if state.in_flight_since.is_some_and(|since| since.elapsed() > WAIT) {
                return false;
            }
            let needed = state.started + 1;
            let newly_wanted = state.wanted < needed;
            state.wanted = needed;
            (needed, newly_wanted)
        };
        // Only the request that first wants a round wakes the thread (a futex call each);
        // later ones find it already asked for, and the thread reads `wanted` before it sleeps.
        if newly_wanted {
            self.rounds.asked.notify_one();
        }
        let mut finished = self.finished.clone();
        match tokio::time::timeout(WAIT, finished.wait_for(|f| f.round >= needed)).await {
            Ok(Ok(finished)) => finished.ok,
            _ => false,
        }
    }
}

impl Rounds {
    /// Blocks until a round is wanted and returns its number and when it started; `None` once
    /// stopped. Under load — a request arrived while the previous round was in flight — the
    /// round starts no sooner than [`BUSY_SPACING`] after the previous one started; requests
    /// arriving meanwhile are served by it all the same (it starts after they arrived). A
    /// request arriving at an idle barrier starts its round at once.
    fn next(&self, previous: Option<Instant>) -> Option<(u64, Instant)> {
        let mut state = lock(&self.state);
        let busy = state.wanted > state.started;
        while state.wanted <= state.started && !state.stopped {
            state = self.asked.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        if let Some(wait) = previous.filter(|_| busy).and_then(|at| BUSY_SPACING.checked_sub(at.elapsed())) {
            drop(state);
            std::thread::sleep(wait);
            state = lock(&self.state);
        }
        if state.stopped {
            return None;
        }
        state.started += 1;
        let now = Instant::now();
        state.in_flight_since = Some(now);
        Some((state.started, now))
    }
}

impl Drop for Barrier {
    fn drop(&mut self) {
        lock(&self.rounds.state).stopped = true;
        self.rounds.asked.notify_one();
    }
}

/// The counters hold no invariant a panic could break halfway.
fn lock(state: &Mutex<RoundState>) -> MutexGuard<'_, RoundState> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::mpsc;

    use super::*;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        actix_web::rt::System::new().block_on(future)
    }

    #[test]
    fn concurrent_requests_share_one_read_per_round_trip() {
        let reads = Arc::new(AtomicU64::new(0));
        let counted = reads.clone();
        let barrier = Arc::new(
            Barrier::start(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
                Ok(())
            })
            .unwrap(),
        );
        block_on(async {
            let waits: Vec<_> = (0..200)
                .map(|_| {
                    let barrier = barrier.clone();
                    actix_web::rt::spawn(async move { barrier.pass().await })
                })
                .collect();
            for wait in waits {
                assert!(wait.await.unwrap());
            }
        });
        // All 200 arrive within the first round: that round and the one after it serve them.
        let reads = reads.load(Ordering::SeqCst);
        assert!((1..=2).contains(&reads), "{reads} reads for 200 concurrent requests");
    }

    #[test]
    fn a_request_arriving_during_a_read_waits_for_the_next_one() {
        let (entered, in_read) = mpsc::channel();
        let (release, go) = mpsc::channel::<()>();
        let rounds = Arc::new(AtomicU64::new(0));
        let counted = rounds.clone();
        let barrier = Arc::new(
            Barrier::start(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                entered.send(()).unwrap();
                go.recv().unwrap();
                Ok(())
            })
            .unwrap(),
        );
        let first = barrier.clone();
        let first = std::thread::spawn(move || block_on(first.pass()));
        in_read.recv().unwrap(); // round 1 is in flight
        let second = barrier.clone();
        let second = std::thread::spawn(move || block_on(second.pass()));
        // Let the second request register before round 1 ends.
        std::thread::sleep(Duration::from_millis(50));
        release.send(()).unwrap(); // round 1 ends
        assert!(first.join().unwrap());
        in_read.recv().unwrap(); // the second request made round 2 start...
        assert!(!second.is_finished(), "...and waits for it, not for round 1, which began before it");
        release.send(()).unwrap();
        assert!(second.join().unwrap());
        assert_eq!(rounds.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_failed_read_does_not_pass_and_the_next_one_may() {
        let calls = Arc::new(AtomicU64::new(0));
        let counted = calls.clone();
        let barrier = Barrier::start(move || match counted.fetch_add(1, Ordering::SeqCst) {
            0 => Err("connection refused".into()),
            _ => Ok(()),
        })
        .unwrap();
        assert!(!block_on(barrier.pass()));
        assert!(block_on(barrier.pass()));
    }

    #[test]
    fn while_a_read_is_stuck_past_the_wait_requests_go_to_the_database_without_waiting() {
        let (release, go) = mpsc::channel::<()>();
        let mut first_read = true;
        let barrier = Barrier::start(move || {
            if std::mem::take(&mut first_read) {
                go.recv().map_err(|e| e.to_string())?;
            }
            Ok(())
        })
        .unwrap();
        let waited = Instant::now();
        assert!(!block_on(barrier.pass()), "the read never returned");
        assert!(waited.elapsed() >= WAIT);
        let later = Instant::now();
        assert!(!block_on(barrier.pass()));
        assert!(later.elapsed() < WAIT / 10, "a request after the wait ran out waited {:?}", later.elapsed());
        // Once the stuck read returns, requests pass again.
        release.send(()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        // The thread may not have marked the stuck round over yet when the first one asks.
        while !block_on(barrier.pass()) {
            assert!(Instant::now() < deadline, "the barrier did not recover");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn no_request_no_read() {
        let reads = Arc::new(AtomicU64::new(0));
        let counted = reads.clone();
        let barrier = Barrier::start(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(reads.load(Ordering::SeqCst), 0);
        assert!(block_on(barrier.pass()));
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(reads.load(Ordering::SeqCst), 1, "the thread sleeps again once nobody waits");
    }
}
