//! The SQLite store: opens `DATA_DIR/drift.sqlite`, sets the connection's pragmas and brings the
//! schema up to date. All of Drift's SQL lives under this module (`tracks.rs` and `files.rs`:
//! the library; `sessions.rs`: listening sessions; `health.rs`: whether writes succeed).
pub mod files;
pub mod health;
pub mod marks;
pub mod sessions;
pub mod tracks;

pub use files::FileCounts;
pub use health::{StorageHealth, StorageStatus};
pub use sessions::SessionRow;
pub use tracks::{FileChange, FileRecord, FileStat};

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "drift.sqlite";

/// How long a statement waits for another connection's write lock before failing: long enough
/// to ride out a scan's batch commit, short enough that a stuck lock is reported.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema migrations, applied in order; `PRAGMA user_version` counts those already applied.
/// Never edit a released entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: tracks (one per distinct content) and files (one per path seen, ok or failed).
    "CREATE TABLE tracks (
        id              TEXT PRIMARY KEY NOT NULL,
        title           TEXT NOT NULL,
        artist          TEXT NOT NULL,
        album           TEXT NOT NULL,
        duration_frames INTEGER NOT NULL,
        loudness        REAL NOT NULL,
        true_peak       REAL NOT NULL,
        loudness_range  REAL NOT NULL,
        cue_in          INTEGER NOT NULL,
        cue_out         INTEGER NOT NULL,
        analysed_at     INTEGER NOT NULL
    );
    CREATE TABLE files (
        path     TEXT PRIMARY KEY NOT NULL,
        size     INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        track_id TEXT NULL REFERENCES tracks(id),
        error    TEXT NULL,
        CHECK ((track_id IS NULL) <> (error IS NULL))
    );
    CREATE INDEX files_by_track ON files(track_id);",
    // 2: listening sessions and their resume snapshots.
    sessions::MIGRATION,
    // 3: each track's audio features and the extractor version that computed them.
    tracks::FEATURES_MIGRATION,
    // 4: a file may be pending (known, not analysed yet): neither a track nor an error.
    files::PENDING_MIGRATION,
    // 5: tags and stated length of every file, read by the first pass.
    files::HEADER_MIGRATION,
    // 6: love, ban and play/skip/love counts of each track, library-wide.
    marks::MIGRATION,
    // 7: disc and track number of tracks and files.
    files::ALBUM_MIGRATION,
    // 8: each track's ends and beat grid, for transitions.
    tracks::ENDS_MIGRATION,
    // 9: album artist of tracks and files, and the tag reader's version of each track.
    files::ALBUM_ARTIST_MIGRATION,
];

/// Why the store failed. Every variant but `DiskFull` means "stop": the database is unusable
/// or the query is wrong, and retrying the same call will not help. `DiskFull` means the write
/// was lost but the database is intact: carry on without it, and writes succeed again once
/// space is freed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the database {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("schema migration {version} failed")]
    Migration {
        version: usize,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the database has schema version {found}, newer than this Drift knows ({known}); upgrade Drift")]
    TooNew { found: i64, known: usize },
    #[error("the disk holding the database is full ({0})")]
    DiskFull(#[source] rusqlite::Error),
    #[error("database error: {0}")]
    Sql(#[source] rusqlite::Error),
    #[error("unexpected data in the database: {0}")]
    BadData(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => StoreError::DiskFull(e),
            _ => StoreError::Sql(e),
        }
    }
}

impl StoreError {
    /// The disk is full: nothing is wrong with the database, the write just did not fit.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::DiskFull(_) => true,
            StoreError::Open { source: e, .. } | StoreError::Migration { source: e, .. } => {
                e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
            }
            StoreError::CreateDir { source, .. } => {
                source.kind() == std::io::ErrorKind::StorageFull
            }
            _ => false,
        }
    }
}

/// Drift's database. Owns one connection; `Send`, so a server can share it behind a `Mutex`.
pub struct Store {
    conn: Connection,
    /// How this database's writes go, shared with the other connections of the same server.
    health: Arc<StorageHealth>,
}

impl Store {
    /// Opens (creating if needed) `data_dir/drift.sqlite` and migrates it to the current schema.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_sharing(data_dir, Arc::default())
    }

    /// [`Store::open`], noting how writes go in `health` (shared with the server's other
    /// connections, so `/health` sees the scanner's writes and the sessions' alike).
    pub fn open_sharing(data_dir: &Path, health: Arc<StorageHealth>) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::CreateDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        let conn = Connection::open(&path).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        // WAL lets readers (the web API) run while a scan writes.
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %path.display(), mode, "SQLite could not switch to WAL mode");
        }
        // With WAL, NORMAL is durable across application crashes and much faster than FULL.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Store::prepare(conn, health)
    }

    /// A private database in memory, for tests.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Store::prepare(Connection::open_in_memory()?, Arc::default())
    }

    /// How this database's writes are going (for `/health`).
    pub fn health(&self) -> Arc<StorageHealth> {
        self.health.clone()
    }

    /// The schema version the database is at (the number of migrations applied).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?)
    }

    fn prepare(conn: Connection, health: Arc<StorageHealth>) -> Result<Store, StoreError> {
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mut store = Store { conn, health };
        store.migrate()?;
        Ok(store)
    }

    /// Applies the migrations the database has not seen, each in its own transaction together
    /// with the version bump, so a failure leaves the database at the previous version.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let found = self.schema_version()?;
        let applied = usize::try_from(found)
            .map_err(|_| StoreError::BadData(format!("negative schema version {found}")))?;
        if applied > MIGRATIONS.len() {
            return Err(StoreError::TooNew {
                found,
                known: MIGRATIONS.len(),
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
            let version = index + 1;
            let wrap = |source| StoreError::Migration { version, source };
            let tx = self.conn.transaction().map_err(wrap)?;
            tx.execute_batch(sql).map_err(wrap)?;
            tx.pragma_update(None, "user_version", version as i64)
                .map_err(wrap)?;
            tx.commit().map_err(wrap)?;
            tracing::debug!(version, "applied schema migration");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_database_is_migrated_and_reopening_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("nested").join("data");
        let store = Store::open(&data).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert!(store.tracks().unwrap().is_empty());
        drop(store);
        assert!(data.join(DB_FILE).is_file());
        let again = Store::open(&data).unwrap();
        assert_eq!(again.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let mode: String = again
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode.to_lowercase(), "wal");
    }

    #[test]
    fn a_database_from_a_newer_drift_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.conn.pragma_update(None, "user_version", 99).unwrap();
        drop(store);
        assert!(matches!(
            Store::open(dir.path()),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }

    #[test]
    fn a_database_from_before_features_keeps_its_tracks_and_needs_analysis() {
        let dir = tempfile::tempdir().unwrap();
        // What Drift wrote before features existed: schema version 2, one track, one file.
        let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute_batch(
            "INSERT INTO tracks VALUES ('aaa', 'A', 'Artist', '', 441000, -14.5, -1.0, 6.0,
                 0, 441000, 1700000000);
             INSERT INTO files VALUES ('/m/a.flac', 1234, 5678, 'aaa', NULL);",
        )
        .unwrap();
        drop(conn);

        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let tracks = store.tracks().unwrap();
        assert_eq!(tracks.len(), 1);
        assert_eq!(tracks[0].tags.title, "A");
        assert_eq!(tracks[0].analysis.duration.0, 441_000);
        assert_eq!(tracks[0].analysis.features, None);
        assert!(
            store.analysed_ids().unwrap().is_empty(),
            "the next scan analyses it again"
        );
    }

    #[test]
    fn store_can_move_to_another_thread() {
        fn is_send<T: Send>() {}
        is_send::<Store>();
    }
}
