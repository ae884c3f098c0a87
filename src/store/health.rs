//! Whether the store can write, as its writes found it. A full disk (or any failing write) is
//! logged once when it starts, reminded at most every few minutes while it lasts, and its end
//! is logged too — never once per write, because sessions persist every few seconds and a
//! full disk lasts until someone frees space. `/health` shows the same state.
use super::StoreError;
use serde::Serialize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// While writes keep failing, say so again at most this often.
const REMIND_EVERY: Duration = Duration::from_secs(300);

/// The writes of every connection to one database, shared by the server's stores.
#[derive(Debug, Default)]
pub struct StorageHealth {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The current spell of failing writes, if any.
    failing: Option<Spell>,
}

#[derive(Debug)]
struct Spell {
    disk_full: bool,
    /// The latest error, as shown to the user.
    error: String,
    since: Instant,
    failed_writes: u64,
    last_told: Instant,
}

/// What `/health` shows under `storage`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageStatus {
    /// `ok`, `full` (the disk holding the data dir is full) or `failing` (another error).
    pub status: &'static str,
    /// The latest error while writes fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Writes that failed in the current spell (sessions and scan results not saved).
    pub failed_writes: u64,
    /// For how long writes have been failing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_seconds: Option<f64>,
}

impl StorageHealth {
    /// Notes how a write (`what`: "saving a session", …) went, logging what the user should
    /// hear: the first failure of a spell, a reminder now and then, and the recovery.
    pub fn record<T>(&self, what: &str, result: &Result<T, StoreError>) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match (result, &mut st.failing) {
            (Ok(_), None) => {}
            (Ok(_), Some(spell)) => {
                tracing::warn!(
                    "the database can be written again: saving resumed ({} writes had failed \
                     over {:.0} s)",
                    spell.failed_writes,
                    now.duration_since(spell.since).as_secs_f64()
                );
                st.failing = None;
            }
            (Err(e), None) => {
                tracing::error!("{what} failed: {}", explain(e));
                st.failing = Some(Spell {
                    disk_full: e.is_disk_full(),
                    error: e.to_string(),
                    since: now,
                    failed_writes: 1,
                    last_told: now,
                });
            }
            (Err(e), Some(spell)) => {
                spell.failed_writes += 1;
                spell.disk_full = e.is_disk_full();
                spell.error = e.to_string();
                if now.duration_since(spell.last_told) >= REMIND_EVERY {
                    spell.last_told = now;
                    tracing::error!(
                        "still cannot write the database ({} writes failed over {:.0} s): {}",
                        spell.failed_writes,
                        now.duration_since(spell.since).as_secs_f64(),
                        explain(e)
                    );
                }
            }
        }
    }

    pub fn status(&self) -> StorageStatus {
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match &st.failing {
            None => StorageStatus {
                status: "ok",
                error: None,
                failed_writes: 0,
                failing_seconds: None,
            },
            Some(spell) => StorageStatus {
                status: if spell.disk_full { "full" } else { "failing" },
                error: Some(spell.error.clone()),
                failed_writes: spell.failed_writes,
                failing_seconds: Some(spell.since.elapsed().as_secs_f64()),
            },
        }
    }
}

/// The error and what it means for the user.
fn explain(e: &StoreError) -> String {
    if e.is_disk_full() {
        format!(
            "{e}. Drift keeps streaming, but sessions and library changes are not saved \
             until space is freed"
        )
    } else {
        format!("{e}. Drift keeps streaming, but sessions and library changes are not saved")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::ffi;

    fn full() -> Result<(), StoreError> {
        Err(StoreError::from(rusqlite::Error::SqliteFailure(
            ffi::Error::new(ffi::SQLITE_FULL),
            Some("database or disk is full".into()),
        )))
    }

    #[test]
    fn a_spell_of_failures_is_counted_and_ends_with_a_good_write() {
        let h = StorageHealth::default();
        assert_eq!(h.status().status, "ok");
        h.record("saving a session", &full());
        h.record("saving a session", &full());
        let s = h.status();
        assert_eq!((s.status, s.failed_writes), ("full", 2));
        assert!(s.error.unwrap().contains("disk is full"));
        h.record("saving a session", &Ok(()));
        assert_eq!(h.status().status, "ok");
        let other = Err::<(), _>(StoreError::BadData("x".into()));
        h.record("recording the scan", &other);
        assert_eq!(h.status().status, "failing");
    }
}
