//! Reading the `files` table: every audio file the scanner has seen, whether it plays, failed
//! (and why) or waits for analysis, and the counts the library's progress is made of.
use super::tracks::{file_from_row, path_text};
use super::{FileRecord, Store, StoreError};
use rusqlite::OptionalExtension;
use std::path::{Path, PathBuf};

/// The library by files: how many are known, and how far their analysis is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileCounts {
    /// Audio files found on disk (every row).
    pub known: u64,
    /// Files whose content was analysed and plays.
    pub analysed: u64,
    /// Files that cannot be played.
    pub failed: u64,
    /// Files still to analyse.
    pub pending: u64,
    /// Music the pending files hold, as their headers state (none counted where not read yet).
    pub pending_audio: crate::units::Frames,
}

/// Files that can no longer hold a track id and an error at once, and may hold neither (a
/// pending file). SQLite cannot change a CHECK constraint, so the table is rebuilt.
pub(super) const PENDING_MIGRATION: &str = "
    CREATE TABLE files_new (
        path     TEXT PRIMARY KEY NOT NULL,
        size     INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        track_id TEXT NULL REFERENCES tracks(id),
        error    TEXT NULL,
        CHECK (track_id IS NULL OR error IS NULL)
    );
    INSERT INTO files_new SELECT path, size, mtime_ns, track_id, error FROM files;
    DROP TABLE files;
    ALTER TABLE files_new RENAME TO files;
    CREATE INDEX files_by_track ON files(track_id);";

/// What the first pass reads from every file's headers before analysis: its tags and stated
/// length, so the library is known (and counted in hours) long before it is analysed.
pub(super) const HEADER_MIGRATION: &str = "
    ALTER TABLE files ADD COLUMN title TEXT NULL;
    ALTER TABLE files ADD COLUMN artist TEXT NULL;
    ALTER TABLE files ADD COLUMN album TEXT NULL;
    ALTER TABLE files ADD COLUMN header_frames INTEGER NULL;";

/// Disc and track number of every track and file (NULL when the tags have none), so albums
/// play in order and consecutive album tracks join gaplessly.
pub(super) const ALBUM_MIGRATION: &str = "
    ALTER TABLE tracks ADD COLUMN disc INTEGER NULL;
    ALTER TABLE tracks ADD COLUMN track_number INTEGER NULL;
    ALTER TABLE files ADD COLUMN disc INTEGER NULL;
    ALTER TABLE files ADD COLUMN track_number INTEGER NULL;";

/// The album artist of every track and file (empty when the tags have none; NULL in `files`
/// until the headers are read), and which [`TAGS_VERSION`](crate::model::TAGS_VERSION) read
/// each track's tags: 0 for tracks known before, whose tags the next scan reads again.
pub(super) const ALBUM_ARTIST_MIGRATION: &str = "
    ALTER TABLE tracks ADD COLUMN album_artist TEXT NOT NULL DEFAULT '';
    ALTER TABLE tracks ADD COLUMN tags_version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE files ADD COLUMN album_artist TEXT NULL;";

impl Store {
    /// Every file row, in path order (the scanner loads them all once per scan).
    pub fn files(&self) -> Result<Vec<FileRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT path, size, mtime_ns, track_id, error FROM files ORDER BY path")?;
        let rows = stmt.query_map([], file_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The row for one path, if that path was seen before.
    pub fn file(&self, path: &Path) -> Result<Option<FileRecord>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT path, size, mtime_ns, track_id, error FROM files WHERE path = ?1",
                [path_text(path)?],
                file_from_row,
            )
            .optional()?)
    }

    /// Files that could not be played, with the reason, in path order.
    pub fn failures(&self) -> Result<Vec<(PathBuf, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT path, error FROM files WHERE error IS NOT NULL ORDER BY path")?;
        let rows = stmt.query_map([], |row| {
            Ok((PathBuf::from(row.get::<_, String>(0)?), row.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Files waiting for analysis, in path order.
    pub fn pending_files(&self) -> Result<Vec<FileRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT path, size, mtime_ns, track_id, error FROM files
             WHERE track_id IS NULL AND error IS NULL ORDER BY path",
        )?;
        let rows = stmt.query_map([], file_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many files are known, analysed, failed and pending.
    pub fn file_counts(&self) -> Result<FileCounts, StoreError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*), COUNT(track_id), COUNT(error),
                 SUM(track_id IS NULL AND error IS NULL),
                 SUM(CASE WHEN track_id IS NULL AND error IS NULL THEN header_frames END)
             FROM files",
            [],
            |row| {
                let n = |i| {
                    row.get::<_, Option<i64>>(i)
                        .map(|v| v.unwrap_or(0).max(0) as u64)
                };
                Ok(FileCounts {
                    known: n(0)?,
                    analysed: n(1)?,
                    failed: n(2)?,
                    pending: n(3)?,
                    pending_audio: crate::units::Frames(n(4)?),
                })
            },
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Tags;
    use crate::store::{FileChange, FileStat};
    use crate::units::Frames;

    #[test]
    fn pending_files_are_counted_with_what_their_headers_say() {
        let mut store = Store::open_in_memory().unwrap();
        let file = |p: &str| FileStat {
            path: PathBuf::from(p),
            size: 10,
            mtime_ns: 1,
        };
        store
            .apply(&[
                FileChange::Pending {
                    file: file("/m/a.flac"),
                },
                FileChange::Pending {
                    file: file("/m/b.flac"),
                },
                FileChange::Failed {
                    file: file("/m/c.wma"),
                    reason: "Windows Media Audio is not supported".into(),
                },
            ])
            .unwrap();
        let tags = Tags {
            title: "A".into(),
            artist: "Someone".into(),
            album: "First".into(),
            album_artist: String::new(),
            disc: None,
            number: None,
        };
        store
            .apply(&[
                FileChange::Described {
                    path: PathBuf::from("/m/a.flac"),
                    tags,
                    duration: Some(Frames::from_secs(180.0)),
                },
                // A file gone meanwhile: nothing to describe, nothing fails.
                FileChange::Described {
                    path: PathBuf::from("/m/gone.flac"),
                    tags: Tags::default(),
                    duration: None,
                },
            ])
            .unwrap();
        let counts = store.file_counts().unwrap();
        assert_eq!(
            (counts.known, counts.analysed, counts.failed, counts.pending),
            (3, 0, 1, 2)
        );
        assert_eq!(counts.pending_audio, Frames::from_secs(180.0));
        assert_eq!(store.pending_files().unwrap().len(), 2);
    }
}
