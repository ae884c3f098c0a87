//! SQL for listening sessions: who owns them and the snapshot that resumes them.
use super::{Store, StoreError};
use rusqlite::{params, OptionalExtension};

/// The schema this module needs (applied by the store's migrations).
pub const MIGRATION: &str = "
CREATE TABLE sessions (
    fingerprint TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    snapshot TEXT,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at INTEGER NOT NULL DEFAULT (unixepoch())
);";

/// One saved session.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionRow {
    pub fingerprint: String,
    pub owner: String,
    /// JSON of the engine snapshot; `None` before the first save.
    pub snapshot: Option<String>,
}

impl Store {
    /// Inserts or updates a session (a `None` snapshot keeps the saved one).
    /// A failure is also noted in the store's [`StorageHealth`](super::StorageHealth), which
    /// tells the user (once, not at every save).
    pub fn save_session(&self, row: &SessionRow) -> Result<(), StoreError> {
        let result = self
            .conn
            .execute(
                "INSERT INTO sessions (fingerprint, owner, snapshot) VALUES (?1, ?2, ?3)
                 ON CONFLICT(fingerprint) DO UPDATE SET
                    snapshot = COALESCE(excluded.snapshot, snapshot), updated_at = unixepoch()",
                params![row.fingerprint, row.owner, row.snapshot],
            )
            .map(|_| ())
            .map_err(StoreError::from);
        self.health.record("saving a session", &result);
        result
    }

    pub fn load_session(&self, fingerprint: &str) -> Result<Option<SessionRow>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT fingerprint, owner, snapshot FROM sessions WHERE fingerprint = ?1",
                [fingerprint],
                |r| {
                    Ok(SessionRow {
                        fingerprint: r.get(0)?,
                        owner: r.get(1)?,
                        snapshot: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn default_session(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT fingerprint FROM sessions WHERE is_default = 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn set_default_session(&self, fingerprint: &str) -> Result<(), StoreError> {
        let result = self.mark_default(fingerprint);
        self.health.record("saving the default session", &result);
        result
    }

    fn mark_default(&self, fingerprint: &str) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "UPDATE sessions SET is_default = 0 WHERE is_default = 1",
            [],
        )?;
        tx.execute(
            "UPDATE sessions SET is_default = 1 WHERE fingerprint = ?1",
            [fingerprint],
        )?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_round_trip_and_one_is_default() {
        let store = Store::open_in_memory().unwrap();
        let row = SessionRow {
            fingerprint: "fp1".into(),
            owner: "tok".into(),
            snapshot: None,
        };
        store.save_session(&row).unwrap();
        assert_eq!(store.load_session("fp1").unwrap(), Some(row.clone()));
        store
            .save_session(&SessionRow {
                snapshot: Some("{}".into()),
                ..row.clone()
            })
            .unwrap();
        store.save_session(&row).unwrap();
        assert_eq!(
            store
                .load_session("fp1")
                .unwrap()
                .unwrap()
                .snapshot
                .as_deref(),
            Some("{}")
        );
        assert_eq!(store.load_session("nope").unwrap(), None);
        assert_eq!(store.default_session().unwrap(), None);
        store.set_default_session("fp1").unwrap();
        assert_eq!(store.default_session().unwrap().as_deref(), Some("fp1"));
    }
}
