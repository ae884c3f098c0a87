//! All SQL about the library: `tracks` (one row per distinct content, with tags and analysis)
//! and how scan results are written to them (`files.rs` reads the `files` table).
use super::{Store, StoreError};
use crate::analysis::FEATURES_VERSION;
use crate::model::{Analysis, Tags, Track, TrackId, TAGS_VERSION};
use crate::model::{BeatGrid, Ends, Features};
use crate::units::{Db, Frames};
use rusqlite::{params, OptionalExtension, Row};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// A file as the scanner saw it on disk: what tells an unchanged file from a changed one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileStat {
    pub path: PathBuf,
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
}

/// A `files` row: the file as last scanned, and what came of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRecord {
    pub stat: FileStat,
    /// The track this file's content is, if it could be analysed.
    pub track_id: Option<TrackId>,
    /// Why the file is not playable, if it is not.
    pub error: Option<String>,
}

/// One result of a scan, written by [`Store::apply`].
#[derive(Clone, Debug, PartialEq)]
pub enum FileChange {
    /// New content, analysed: the track is stored (or refreshed) and the file points at it.
    Analysed {
        file: FileStat,
        id: TrackId,
        tags: Tags,
        analysis: Analysis,
    },
    /// Content already analysed (a renamed, moved or copied file, or an unchanged one whose
    /// tags an older Drift read): the file points at the track and the track takes this file's
    /// tags, which may come from its new name.
    Reused {
        file: FileStat,
        id: TrackId,
        tags: Tags,
    },
    /// The file cannot be played; `reason` is shown to the user.
    Failed { file: FileStat, reason: String },
    /// A file found on disk and not analysed yet (new, changed, or left over from a scan that
    /// stopped): it counts as known, and the next scan analyses it.
    Pending { file: FileStat },
    /// What a file's headers say (the first pass reads them for every file it records):
    /// its tags, and its length when stated.
    Described {
        path: PathBuf,
        tags: Tags,
        duration: Option<Frames>,
    },
    /// The file is gone from disk. Its track's analysis is kept (it is returned again as soon
    /// as a file with that content reappears) but the track is no longer playable.
    Removed { path: PathBuf },
}

/// The schema change for audio features: JSON of [`Features`] (NULL until a track is analysed
/// for them) and the [`FEATURES_VERSION`] that computed it (0: none). Tracks analysed by an
/// older Drift keep their row and are analysed again by the next scan.
pub(super) const FEATURES_MIGRATION: &str = "
    ALTER TABLE tracks ADD COLUMN features TEXT NULL;
    ALTER TABLE tracks ADD COLUMN features_version INTEGER NOT NULL DEFAULT 0;";

/// The schema change for transitions: JSON of each track's [`Ends`] and [`BeatGrid`] (NULL when
/// not measured: tracks analysed before [`FEATURES_VERSION`] 4, silence, or no steady beat).
pub(super) const ENDS_MIGRATION: &str = "
    ALTER TABLE tracks ADD COLUMN ends TEXT NULL;
    ALTER TABLE tracks ADD COLUMN beats TEXT NULL;";

const TRACK_COLUMNS: &str = "t.id, t.title, t.artist, t.album, t.duration_frames, t.loudness, \
     t.true_peak, t.loudness_range, t.cue_in, t.cue_out, MIN(f.path), t.features, t.disc, \
     t.track_number, t.ends, t.beats, t.album_artist";

impl Store {
    /// Ids of every track analysed completely by this Drift (features of the current
    /// [`FEATURES_VERSION`]), playable or not: content with one of these ids needs no analysis.
    pub fn analysed_ids(&self) -> Result<HashSet<TrackId>, StoreError> {
        self.track_ids("features_version = ?1", FEATURES_VERSION)
    }

    /// Ids of every track whose tags an older Drift read (before [`TAGS_VERSION`]): the next
    /// scan reads their tags again, without analysing their audio.
    pub fn tracks_with_old_tags(&self) -> Result<HashSet<TrackId>, StoreError> {
        self.track_ids("tags_version < ?1", TAGS_VERSION)
    }

    /// Ids of the tracks whose row meets `condition` (SQL, with `?1` for `version`).
    fn track_ids(&self, condition: &str, version: i64) -> Result<HashSet<TrackId>, StoreError> {
        let sql = format!("SELECT id FROM tracks WHERE {condition}");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let ids = stmt.query_map([version], |row| row.get(0).map(TrackId))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }

    /// Writes a batch of scan results in one transaction: all of it or none of it. A failure
    /// is also noted in the store's [`StorageHealth`](super::StorageHealth).
    pub fn apply(&mut self, changes: &[FileChange]) -> Result<(), StoreError> {
        let result = self.apply_batch(changes);
        self.health.record("recording the library scan", &result);
        result
    }

    fn apply_batch(&mut self, changes: &[FileChange]) -> Result<(), StoreError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let tx = self.conn.transaction()?;
        // Tracks first, so files later in the batch (copies of new content) can refer to them.
        for change in changes {
            if let FileChange::Analysed {
                id, tags, analysis, ..
            } = change
            {
                let features = json(id, "features", &analysis.features)?;
                let ends = json(id, "ends", &analysis.ends)?;
                let beats = json(id, "beat grid", &analysis.beats)?;
                let version = if features.is_some() {
                    FEATURES_VERSION
                } else {
                    0
                };
                tx.prepare_cached(
                    "INSERT INTO tracks (id, title, artist, album, duration_frames, loudness,
                         true_peak, loudness_range, cue_in, cue_out, analysed_at, features,
                         features_version, disc, track_number, ends, beats, album_artist,
                         tags_version)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                         ?17, ?18, ?19)
                     ON CONFLICT (id) DO UPDATE SET title = excluded.title,
                         artist = excluded.artist, album = excluded.album,
                         album_artist = excluded.album_artist,
                         tags_version = excluded.tags_version,
                         disc = excluded.disc, track_number = excluded.track_number,
                         duration_frames = excluded.duration_frames,
                         loudness = excluded.loudness, true_peak = excluded.true_peak,
                         loudness_range = excluded.loudness_range, cue_in = excluded.cue_in,
                         cue_out = excluded.cue_out, analysed_at = excluded.analysed_at,
                         features = excluded.features,
                         features_version = excluded.features_version,
                         ends = excluded.ends, beats = excluded.beats",
                )?
                .execute(params![
                    id.0,
                    tags.title,
                    tags.artist,
                    tags.album,
                    frames_int(analysis.duration)?,
                    analysis.loudness.0,
                    analysis.true_peak.0,
                    analysis.loudness_range,
                    frames_int(analysis.cue_in)?,
                    frames_int(analysis.cue_out)?,
                    now,
                    features,
                    version,
                    tags.disc,
                    tags.number,
                    ends,
                    beats,
                    tags.album_artist,
                    TAGS_VERSION,
                ])?;
            }
        }
        for change in changes {
            let (file, track, error) = match change {
                FileChange::Analysed { file, id, .. } => (file, Some(id), None),
                FileChange::Reused { file, id, tags } => {
                    tx.prepare_cached(
                        "UPDATE tracks SET title = ?2, artist = ?3, album = ?4, disc = ?5,
                             track_number = ?6, album_artist = ?7, tags_version = ?8
                         WHERE id = ?1",
                    )?
                    .execute(params![
                        id.0,
                        tags.title,
                        tags.artist,
                        tags.album,
                        tags.disc,
                        tags.number,
                        tags.album_artist,
                        TAGS_VERSION,
                    ])?;
                    (file, Some(id), None)
                }
                FileChange::Failed { file, reason } => (file, None, Some(reason.as_str())),
                FileChange::Pending { file } => (file, None, None),
                FileChange::Described {
                    path,
                    tags,
                    duration,
                } => {
                    tx.prepare_cached(
                        "UPDATE files SET title = ?2, artist = ?3, album = ?4, header_frames = ?5,
                             disc = ?6, track_number = ?7, album_artist = ?8
                         WHERE path = ?1",
                    )?
                    .execute(params![
                        path_text(path)?,
                        tags.title,
                        tags.artist,
                        tags.album,
                        duration.map(frames_int).transpose()?,
                        tags.disc,
                        tags.number,
                        tags.album_artist,
                    ])?;
                    continue;
                }
                FileChange::Removed { path } => {
                    tx.prepare_cached("DELETE FROM files WHERE path = ?1")?
                        .execute([path_text(path)?])?;
                    continue;
                }
            };
            tx.prepare_cached(
                "INSERT INTO files (path, size, mtime_ns, track_id, error)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (path) DO UPDATE SET size = excluded.size,
                     mtime_ns = excluded.mtime_ns, track_id = excluded.track_id,
                     error = excluded.error",
            )?
            .execute(params![
                path_text(&file.path)?,
                i64::try_from(file.size).unwrap_or(i64::MAX),
                file.mtime_ns,
                track.map(|id| id.0.as_str()),
                error,
            ])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The playable tracks among `ids` (those with a file left), ordered by id: what a batch
    /// of scan results changed, for updating the catalog without reading all of it.
    pub fn tracks_by_ids(&self, ids: &[TrackId]) -> Result<Vec<Track>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(self.track(id)?);
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Every playable track (one with at least one file on disk), ordered by id. A track with
    /// several files (copies) is given the first path in sort order.
    pub fn tracks(&self) -> Result<Vec<Track>, StoreError> {
        let sql = format!(
            "SELECT {TRACK_COLUMNS} FROM tracks t JOIN files f ON f.track_id = t.id
             GROUP BY t.id ORDER BY t.id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], track_from_row)?;
        rows.map(|r| r?).collect()
    }

    /// One playable track by id; `None` if unknown or no file of it is left.
    pub fn track(&self, id: &TrackId) -> Result<Option<Track>, StoreError> {
        let sql = format!(
            "SELECT {TRACK_COLUMNS} FROM tracks t JOIN files f ON f.track_id = t.id
             WHERE t.id = ?1 GROUP BY t.id"
        );
        self.conn
            .query_row(&sql, [&id.0], track_from_row)
            .optional()?
            .transpose()
    }
}

/// Paths are stored as UTF-8 text; the scanner skips paths that are not.
pub(super) fn path_text(path: &Path) -> Result<&str, StoreError> {
    path.to_str()
        .ok_or_else(|| StoreError::BadData(format!("path is not UTF-8: {}", path.display())))
}

fn frames_int(frames: Frames) -> Result<i64, StoreError> {
    i64::try_from(frames.0).map_err(|_| StoreError::BadData(format!("{frames:?} is too long")))
}

fn frames_from(value: i64, column: &str) -> Result<Frames, StoreError> {
    u64::try_from(value)
        .map(Frames)
        .map_err(|_| StoreError::BadData(format!("negative {column}: {value}")))
}

pub(super) fn file_from_row(row: &Row<'_>) -> rusqlite::Result<FileRecord> {
    let size: i64 = row.get(1)?;
    Ok(FileRecord {
        stat: FileStat {
            path: PathBuf::from(row.get::<_, String>(0)?),
            size: size.max(0) as u64,
            mtime_ns: row.get(2)?,
        },
        track_id: row.get::<_, Option<String>>(3)?.map(TrackId),
        error: row.get(4)?,
    })
}

/// A measurement as JSON for its column (NULL for none).
fn json<T: serde::Serialize>(
    id: &TrackId,
    what: &str,
    value: &Option<T>,
) -> Result<Option<String>, StoreError> {
    value
        .as_ref()
        .map(|v| serde_json::to_string(v))
        .transpose()
        .map_err(|e| StoreError::BadData(format!("cannot store the {what} of {id}: {e}")))
}

/// A stored measurement (features, ends, beat grid), or `None` when it cannot be read (written
/// by a Drift whose type had other fields): the track plays without it (the drift walk passes
/// it by, transitions fall back to the cue points).
fn stored<T: serde::de::DeserializeOwned>(id: &TrackId, what: &str, json: &str) -> Option<T> {
    serde_json::from_str(json)
        .inspect_err(|e| tracing::warn!(track = %id, "unreadable stored {what}: {e}"))
        .ok()
}

/// Reads a row of [`TRACK_COLUMNS`]; the outer error is SQLite's, the inner one bad data.
fn track_from_row(row: &Row<'_>) -> rusqlite::Result<Result<Track, StoreError>> {
    let duration: i64 = row.get(4)?;
    let cue_in: i64 = row.get(8)?;
    let cue_out: i64 = row.get(9)?;
    let tags = Tags {
        title: row.get(1)?,
        artist: row.get(2)?,
        album: row.get(3)?,
        album_artist: row.get(16)?,
        disc: row.get(12)?,
        number: row.get(13)?,
    };
    let id = TrackId(row.get(0)?);
    let (loudness, true_peak, loudness_range) = (row.get(5)?, row.get(6)?, row.get(7)?);
    let path = PathBuf::from(row.get::<_, String>(10)?);
    let features: Option<Features> = row
        .get::<_, Option<String>>(11)?
        .and_then(|json| stored(&id, "features", &json));
    let ends: Option<Ends> = row
        .get::<_, Option<String>>(14)?
        .and_then(|json| stored(&id, "ends", &json));
    let beats: Option<BeatGrid> = row
        .get::<_, Option<String>>(15)?
        .and_then(|json| stored(&id, "beat grid", &json));
    Ok((|| {
        Ok(Track {
            id,
            path,
            tags,
            analysis: Analysis {
                duration: frames_from(duration, "duration")?,
                loudness: Db(loudness),
                true_peak: Db(true_peak),
                loudness_range,
                cue_in: frames_from(cue_in, "cue_in")?,
                cue_out: frames_from(cue_out, "cue_out")?,
                features,
                ends,
                beats,
            },
        })
    })())
}

#[cfg(test)]
#[path = "tracks_tests.rs"]
mod tests;
