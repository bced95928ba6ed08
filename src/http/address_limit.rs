//! Sliding-window limits per client address, counted by each instance in memory: for things
//! that cost a row or an outbound request rather than a guess at a secret (those are throttled
//! in the database, so every instance sees every attempt).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `max` events per address in any `window`.
pub struct AddressLimit {
    max: usize,
    window: Duration,
    recent: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl AddressLimit {
    /// Addresses remembered at once; past that, the ones with nothing in the window are dropped.
    const CAPACITY: usize = 10_000;

    pub fn new(max: usize, window: Duration) -> AddressLimit {
        AddressLimit { max, window, recent: Mutex::default() }
    }

    /// Takes a slot for `address` (`None`: a socket without a peer address, all counted as one)
    /// at `now`, or says how long until one frees.
    pub fn take(&self, address: Option<&str>, now: Instant) -> Result<(), Duration> {
        let Ok(mut recent) = self.recent.lock() else {
            return Err(self.window);
        };
        if recent.len() >= Self::CAPACITY {
            recent.retain(|_, times| times.back().is_some_and(|last| now.duration_since(*last) < self.window));
        }
        let times = recent.entry(address.unwrap_or("unknown").to_owned()).or_default();
        while times.front().is_some_and(|first| now.duration_since(*first) >= self.window) {
            times.pop_front();
        }
        if times.len() >= self.max {
            let oldest = times.front().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_max_events_per_window_and_others_their_own() {
        let window = Duration::from_secs(3600);
        let limit = AddressLimit::new(10, window);
        let start = Instant::now();
        for _ in 0..10 {
            assert!(limit.take(Some("192.0.2.1"), start).is_ok());
        }
        let wait = limit.take(Some("192.0.2.1"), start + Duration::from_secs(60)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(3540), "until the oldest leaves the window");
        assert!(limit.take(Some("192.0.2.2"), start).is_ok(), "another address has its own window");
        assert!(limit.take(Some("192.0.2.1"), start + window).is_ok(), "the window moves on");
    }
}
