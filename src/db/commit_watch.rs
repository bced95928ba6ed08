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
//!
//! The watch must read the `-shm` file SQLite itself uses. SQLite resolves symbolic links in the
//! database path and keeps `-wal` and `-shm` beside the real file, so the watch does the same;
//! and before it is trusted it proves, with a commit of its own, that the mark it reads moves.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;

use diesel::connection::SimpleConnection;
use diesel::{QueryableByName, RunQueryDsl, sql_query};

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
    /// mode. Fails, saying why, when the `-shm` file cannot be read as the format above or when
    /// a commit through `holder` does not change the mark read from it (a file SQLite does not
    /// use, a filesystem without shared memory): such a watch would vouch for stale answers.
    pub fn open(path: &Path, mut holder: DbConnection) -> Result<CommitWatch, String> {
        let real = std::fs::canonicalize(path).map_err(|e| format!("cannot resolve {}: {e}", path.display()))?;
        let mut shm_path = real.into_os_string();
        shm_path.push("-shm");
        let shm_path = std::path::PathBuf::from(shm_path);
        let shm = File::open(&shm_path).map_err(|e| format!("cannot open {}: {e}", shm_path.display()))?;
        let unreadable = || format!("{} is not a WAL index this build can read", shm_path.display());
        let before = mark_of(&shm).ok_or_else(unreadable)?;
        commit_nothing(&mut holder).map_err(|e| format!("cannot commit to prove the mark moves: {e}"))?;
        match mark_of(&shm) {
            Some(after) if after != before => Ok(CommitWatch { shm, _holder: Mutex::new(holder) }),
            Some(_) => Err(format!("a commit did not change {}: it is not the file SQLite uses", shm_path.display())),
            None => Err(unreadable()),
        }
    }

    /// The current mark, or `None` when the header could not be read consistently.
    pub fn mark(&self) -> Option<CommitMark> {
        mark_of(&self.shm)
    }
}

fn mark_of(shm: &File) -> Option<CommitMark> {
    let mut both = [0u8; 2 * HEADER];
    shm.read_exact_at(&mut both, 0).ok()?;
    let (first, second) = both.split_at(HEADER);
    let version = u32::from_ne_bytes([first[0], first[1], first[2], first[3]]);
    if first != second || version != WALINDEX_VERSION || first[IS_INIT] != 1 {
        return None;
    }
    let mut mark = [0u8; HEADER];
    mark.copy_from_slice(first);
    Some(CommitMark(mark))
}

#[derive(QueryableByName)]
struct UserVersion {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    user_version: i32,
}

/// A commit that changes no data: the header's `user_version` rewritten with its own value
/// (the application field of the database header, which nothing of ours uses).
fn commit_nothing(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    let DbConnection::Sqlite(sqlite) = conn else {
        return Err(diesel::result::Error::NotFound);
    };
    let current = sql_query("PRAGMA user_version").get_result::<UserVersion>(sqlite)?.user_version;
    sqlite.batch_execute(&format!("PRAGMA user_version = {current}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::fixture::Fixture;
    use crate::db::{DatabaseUrl, pool};

    fn watch(f: &Fixture) -> CommitWatch {
        let DatabaseUrl::Sqlite(path) = &f.url else { panic!("the fixture is SQLite") };
        CommitWatch::open(path, pool::open(&f.url).unwrap()).expect("a WAL database")
    }

    #[test]
    fn a_symlinked_database_is_watched_through_the_file_sqlite_uses() {
        let mut f = Fixture::seeded();
        let DatabaseUrl::Sqlite(real) = f.url.clone() else { panic!("the fixture is SQLite") };
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.db");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        // A stale `-shm` beside the link: a copy of the real header, which no commit will touch.
        std::fs::write(dir.path().join("link.db-shm"), std::fs::read(format!("{}-shm", real.display())).unwrap())
            .unwrap();
        let url: DatabaseUrl = format!("sqlite://{}", link.display()).parse().unwrap();
        let watch = CommitWatch::open(&link, pool::open(&url).unwrap()).expect("the real -shm is found");
        let before = watch.mark().unwrap();
        f.exec("UPDATE grants SET revoked_at = '2026-02-01 00:00:00'");
        assert_ne!(watch.mark().unwrap(), before, "a revocation must move the mark the cache trusts");
    }

    #[test]
    fn a_mark_that_does_not_move_on_our_own_commit_is_refused() {
        let f = Fixture::seeded();
        let dir = tempfile::tempdir().unwrap();
        // A database path whose `-shm` is a plain copy SQLite never writes: a rollback-journal
        // database (no WAL) next to a frozen WAL index.
        let DatabaseUrl::Sqlite(real) = &f.url else { panic!("the fixture is SQLite") };
        let header = std::fs::read(format!("{}-shm", real.display())).unwrap();
        let other = dir.path().join("journal.db");
        let url: DatabaseUrl = format!("sqlite://{}", other.display()).parse().unwrap();
        let mut holder = pool::open(&url).unwrap();
        holder.batch_execute("PRAGMA journal_mode = DELETE").unwrap();
        std::fs::write(dir.path().join("journal.db-shm"), &header).unwrap();
        let refused = CommitWatch::open(&other, holder).err().expect("a frozen mark is refused");
        assert!(refused.contains("did not change"), "{refused}");
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
            mark_of(&File::open(&fake).unwrap()).is_none()
        };
        assert!(!unknown(&real[..2 * HEADER]), "a copy of the real header reads");
        let mut torn = real[..2 * HEADER].to_vec();
        torn[8] ^= 1; // iChange of the first copy, as if a writer were halfway through
        assert!(unknown(&torn));
        assert!(unknown(&[7u8; 2 * HEADER]), "not the WAL-index format");
        assert!(unknown(&real[..HEADER]), "too short");
    }
}
