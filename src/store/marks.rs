//! SQL for love and ban: one row per track that was loved, banned, played or skipped, kept
//! when the track leaves the library (a banned file that comes back stays banned).
use super::{Store, StoreError};
use crate::model::{Mark, TrackId};
use rusqlite::params;

/// The schema this module needs (applied by the store's migrations).
pub const MIGRATION: &str = "
CREATE TABLE marks (
    track_id  TEXT PRIMARY KEY NOT NULL,
    loved     INTEGER NOT NULL DEFAULT 0,
    banned_at INTEGER NULL,
    plays     INTEGER NOT NULL DEFAULT 0,
    skips     INTEGER NOT NULL DEFAULT 0,
    loves     INTEGER NOT NULL DEFAULT 0
);";

impl Store {
    /// Every stored mark.
    pub fn marks(&self) -> Result<Vec<(TrackId, Mark)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT track_id, loved, banned_at, plays, skips, loves FROM marks")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                TrackId(r.get(0)?),
                Mark {
                    loved: r.get(1)?,
                    banned_at: r.get(2)?,
                    plays: r.get::<_, i64>(3)?.max(0) as u64,
                    skips: r.get::<_, i64>(4)?.max(0) as u64,
                    loves: r.get::<_, i64>(5)?.max(0) as u64,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Writes a track's mark (replacing the stored one). A failure is also noted in the
    /// store's `StorageHealth`.
    pub fn save_mark(&self, id: &TrackId, m: &Mark) -> Result<(), StoreError> {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let result = self
            .conn
            .execute(
                "INSERT INTO marks (track_id, loved, banned_at, plays, skips, loves)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(track_id) DO UPDATE SET loved = excluded.loved,
                    banned_at = excluded.banned_at, plays = excluded.plays,
                    skips = excluded.skips, loves = excluded.loves",
                params![
                    id.0,
                    m.loved,
                    m.banned_at,
                    count(m.plays),
                    count(m.skips),
                    count(m.loves)
                ],
            )
            .map(|_| ())
            .map_err(StoreError::from);
        self.health.record("saving a track's love or ban", &result);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_written_replaced_and_read_back_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(store.marks().unwrap().is_empty());
        let a = TrackId("a".into());
        let mut m = Mark {
            loved: true,
            banned_at: None,
            plays: 3,
            skips: 1,
            loves: 1,
        };
        store.save_mark(&a, &m).unwrap();
        m.banned_at = Some(1_700_000_000_000);
        m.plays = 4;
        store.save_mark(&a, &m).unwrap();
        store
            .save_mark(&TrackId("b".into()), &Mark::default())
            .unwrap();
        drop(store);
        let mut got = Store::open(dir.path()).unwrap().marks().unwrap();
        got.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(got, vec![(a, m), (TrackId("b".into()), Mark::default())]);
    }
}
