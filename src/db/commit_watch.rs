//! Noticing that a SQLite database has not changed, without a transaction.
//!
//! In WAL mode every connection, in every process, finds the current state of the database
//! through the WAL-index header at the start of the `-shm` file (documented in SQLite's
//! "WAL-mode File Format", §2.1: two copies of a 48-byte `WalIndexHdr`, written second copy
//! first; among its fields `iChange`, "incremented with each transaction", and `mxFrame`, the
//! last valid frame). A commit is visible to readers exactly when it has rewritten that header,
//! before the writer's `COMMIT` returns. So if the header reads the same as it did at some
//! earlier moment, nothing has committed since. SQLite reads it the same way, lock-free, at the
//! start of each read transaction; the format is shared by every SQLite version that opens the
//! file at once, which is why it has not changed since WAL mode appeared (3.7.0).
//!
//! Reading it costs one `pread` instead of a read transaction (shared-memory lock, two `fcntl`
//! calls, statement step and reset): the price of asking the database whether anything changed
//! on every request (bench/README.md). Any doubt — a torn read while a writer rewrites the
//! header, a file that is not in this format — answers "don't know", and callers then ask the
//! database itself.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;

use super::DbConnection;

/// `iVersion` of the WAL-index format this reads (SQLite 3.7.0 and every version since).
const WALINDEX_VERSION: u32 = 3_007_000;
/// Size of one copy of the header.
const HEADER: usize = 48;
/// Offset of `isInit` within a copy.
const IS_INIT: usize = 12;

/// The WAL-index header at one moment: equal marks mean no commit in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitMark([u8; HEADER]);

/// Watches one SQLite database file in WAL mode.
pub struct CommitWatch {
    shm: File,
    /// A connection held open for as long as the watch lives: while any connection is open,
    /// SQLite never deletes or re-creates the `-shm` file, so `shm` stays the one every
    /// process writes.
    _holder: Mutex<DbConnection>,
}

impl CommitWatch {
    /// Watches the database at `path`, through `holder`, a connection to it already in WAL
    /// mode. `None` if its `-shm` file cannot be read as the format above.
    pub fn open(path: &Path, holder: DbConnection) -> Option<CommitWatch> {
        let mut shm_path = path.as_os_str().to_owned();
        shm_path.push("-shm");
        let shm = File::open(shm_path).ok()?;
        let watch = CommitWatch { shm, _holder: Mutex::new(holder) };
        watch.mark().map(|_| watch)
    }

    /// The current mark, or `None` when the header could not be read consistently.
    pub fn mark(&self) -> Option<CommitMark> {
        let mut both = [0u8; 2 * HEADER];
        self.shm.read_exact_at(&mut both, 0).ok()?;
        let (first, second) = both.split_at(HEADER);
        let version = u32::from_ne_bytes([first[0], first[1], first[2], first[3]]);
        if first != second || version != WALINDEX_VERSION || first[IS_INIT] != 1 {
            return None;
        }
        let mut mark = [0u8; HEADER];
        mark.copy_from_slice(first);
        Some(CommitMark(mark))
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;

    use super::*;
    use crate::db::fixture::Fixture;
    use crate::db::{DatabaseUrl, pool};

    fn watch(f: &Fixture) -> CommitWatch {
        let DatabaseUrl::Sqlite(path) = &f.url else { panic!("the fixture is SQLite") };
        CommitWatch::open(path, pool::open(&f.url).unwrap()).expect("a WAL database")
    }

    #[test]
    fn every_commit_changes_the_mark_and_reads_do_not() {
        let mut f = Fixture::seeded();
        let watch = watch(&f);
        let before = watch.mark().unwrap();
        f.exec("SELECT count(*) FROM grants");
        assert_eq!(watch.mark(), Some(before), "a read commits nothing");
        // From another connection, as another process would.
        let mut other = pool::open(&f.url).unwrap();
        other.batch_execute("UPDATE grants SET last_used_at = '2026-02-01 00:00:00'").unwrap();
        let after_one = watch.mark().unwrap();
        assert_ne!(after_one, before);
        f.exec("UPDATE grants SET last_used_at = '2026-02-02 00:00:00'");
        assert_ne!(watch.mark().unwrap(), after_one);
        // A rolled-back transaction leaves the database, and the mark, as they were.
        let settled = watch.mark().unwrap();
        f.exec("BEGIN IMMEDIATE; UPDATE grants SET last_used_at = NULL; ROLLBACK");
        assert_eq!(watch.mark(), Some(settled));
    }

    #[test]
    fn survives_checkpoints_by_changing_or_not_but_never_missing_a_commit() {
        let mut f = Fixture::seeded();
        let watch = watch(&f);
        for round in 0..20 {
            let before = watch.mark().unwrap();
            f.exec(&format!("UPDATE grants SET last_used_at = '2026-02-01 00:00:{round:02}'"));
            assert_ne!(watch.mark().unwrap(), before, "round {round}");
            f.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        }
    }

    #[test]
    fn a_header_that_is_torn_or_not_a_wal_index_reads_as_unknown() {
        let f = Fixture::seeded();
        let DatabaseUrl::Sqlite(path) = &f.url else { panic!("the fixture is SQLite") };
        let real = std::fs::read(format!("{}-shm", path.display())).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let unknown = |bytes: &[u8]| {
            let fake = dir.path().join("fake-shm");
            std::fs::write(&fake, bytes).unwrap();
            let watch =
                CommitWatch { shm: File::open(&fake).unwrap(), _holder: Mutex::new(pool::open(&f.url).unwrap()) };
            watch.mark().is_none()
        };
        assert!(!unknown(&real[..2 * HEADER]), "a copy of the real header reads");
        let mut torn = real[..2 * HEADER].to_vec();
        torn[8] ^= 1; // iChange of the first copy, as if a writer were halfway through
        assert!(unknown(&torn));
        assert!(unknown(&[7u8; 2 * HEADER]), "not the WAL-index format");
        assert!(unknown(&real[..HEADER]), "too short");
    }
}
