//! All sessions of a server: creating them, finding them (in memory or saved in the store),
//! starting their engine threads (within the station's capacity: see `admission`), and
//! stopping them at shutdown with their state saved.
use super::admission::{self, Claim};
use super::clock::Clock;
use super::engine::EngineError;
use super::session::{Persist, Session, SessionError, SessionParams, Snapshot, Start};
use crate::catalog::LiveCatalog;
use crate::store::{SessionRow, Store, StoreError};
use base64::Engine as _;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Session(#[from] SessionError),
    /// `playing` sessions render already (the limit is `limit`): try again in `retry_after`
    /// seconds.
    #[error("the station is full: {playing} sessions are playing (at most {limit})")]
    Full {
        limit: usize,
        playing: usize,
        retry_after: u32,
    },
}

impl RegistryError {
    /// Nothing to play yet (a first scan under way).
    pub fn is_empty_library(&self) -> bool {
        matches!(
            self,
            RegistryError::Session(SessionError::Engine(EngineError::EmptyLibrary))
        )
    }
}

/// A random URL-safe identifier with 128 bits of entropy.
pub fn random_id() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

pub struct Registry {
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    catalog: Arc<LiveCatalog>,
    clock: Arc<dyn Clock>,
    params: SessionParams,
    store: Arc<Mutex<Store>>,
    /// Saved sessions whose snapshot could not be read (a Drift that wrote another shape, a
    /// damaged row): each resumed as a new stream, logged, and counted for `/metrics`.
    unreadable_snapshots: AtomicU64,
    /// Sessions rendering at once at most (`--max-sessions`); see `admission::admits`.
    max_sessions: usize,
    /// The default session's fingerprint once known, so players naming `default` (most of
    /// them) find it without reading the store.
    default_fp: Mutex<Option<String>>,
}

impl Registry {
    pub fn new(
        catalog: Arc<LiveCatalog>,
        clock: Arc<dyn Clock>,
        params: SessionParams,
        store: Arc<Mutex<Store>>,
    ) -> Registry {
        Registry {
            sessions: Mutex::new(HashMap::new()),
            catalog,
            clock,
            params,
            store,
            unreadable_snapshots: AtomicU64::new(0),
            max_sessions: usize::MAX,
            default_fp: Mutex::new(None),
        }
    }

    /// The same registry, starting at most `limit` sessions at once (see `admission`).
    pub fn with_max_sessions(mut self, limit: usize) -> Registry {
        self.max_sessions = limit.max(1);
        self
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new session with a new owner token. Blocking (SQLite, the first track).
    pub fn create(&self) -> Result<Arc<Session>, RegistryError> {
        self.create_as(Claim::New)
    }

    fn create_as(&self, claim: Claim) -> Result<Arc<Session>, RegistryError> {
        // Nothing to play yet (a first scan under way): make no session that cannot start.
        if self.catalog.current().is_empty() {
            return Err(SessionError::Engine(EngineError::EmptyLibrary).into());
        }
        // Refused before its row is written, so a flood leaves nothing behind in the store
        // (`start` checks again under the lock: that check is the one that holds).
        self.admit(
            &self.sessions.lock().unwrap_or_else(|p| p.into_inner()),
            claim,
        )?;
        let fp = random_id();
        let owner = random_id();
        self.store().save_session(&SessionRow {
            fingerprint: fp.clone(),
            owner: owner.clone(),
            snapshot: None,
        })?;
        self.start(fp, owner, None, claim)
    }

    /// The session with this fingerprint: running, or restored from the store. `None` if
    /// unknown. Blocking when it must be restored (SQLite, the first track).
    pub fn get(&self, fp: &str) -> Result<Option<Arc<Session>>, RegistryError> {
        self.get_as(fp, Claim::Resume)
    }

    fn get_as(&self, fp: &str, claim: Claim) -> Result<Option<Arc<Session>>, RegistryError> {
        {
            let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
            match sessions.get(fp) {
                Some(h) if !h.is_parked() => return Ok(Some(h.clone())),
                // Parked: it saved itself; resume it from the store below.
                Some(_) => {
                    sessions.remove(fp);
                }
                None => {}
            }
        }
        let Some(row) = self.store().load_session(fp)? else {
            return Ok(None);
        };
        let snapshot = row.snapshot.as_deref().and_then(|s| {
            Snapshot::parse(s)
                .inspect_err(|e| {
                    self.unreadable_snapshots.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        session = fp,
                        "cannot read the saved session ({e}): it starts a new stream"
                    );
                })
                .ok()
        });
        self.start(row.fingerprint, row.owner, snapshot, claim)
            .map(Some)
    }

    /// The session with this fingerprint if its engine is running: no store, no blocking.
    /// `default` names the default session.
    pub fn find_running(&self, fp: &str) -> Option<Arc<Session>> {
        let default = (fp == "default").then(|| {
            self.default_fp
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
        });
        let fp = match &default {
            Some(Some(known)) => known.as_str(),
            Some(None) => return None,
            None => fp,
        };
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.get(fp).filter(|h| !h.is_parked()).cloned()
    }

    /// The session players get when they name none; made on first use and kept.
    pub fn default_session(&self) -> Result<Arc<Session>, RegistryError> {
        let existing = self.store().default_session()?;
        let h = match existing {
            Some(fp) => self.get_as(&fp, Claim::Station)?,
            None => None,
        };
        let h = match h {
            Some(h) => h,
            None => {
                let h = self.create_as(Claim::Station)?;
                self.store().set_default_session(h.fingerprint())?;
                h
            }
        };
        *self.default_fp.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(h.fingerprint().to_string());
        Ok(h)
    }

    fn start(
        &self,
        fp: String,
        owner: String,
        restore: Option<Snapshot>,
        claim: Claim,
    ) -> Result<Arc<Session>, RegistryError> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        // A session already on air is never refused.
        if let Some(h) = sessions.get(&fp) {
            return Ok(h.clone());
        }
        self.admit(&sessions, claim)?;
        let store = self.store.clone();
        let (fp_saved, owner_saved) = (fp.clone(), owner.clone());
        let persist: Persist = Arc::new(move |snapshot: &Snapshot| {
            let row = SessionRow {
                fingerprint: fp_saved.clone(),
                owner: owner_saved.clone(),
                snapshot: Some(snapshot.to_json()),
            };
            // A failure is told by the store's StorageHealth, once per spell, not every 3 s.
            let _ = store
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .save_session(&row);
        });
        let session = Arc::new(Session::start(Start {
            fingerprint: fp.clone(),
            owner,
            params: self.params.clone(),
            catalog: self.catalog.clone(),
            clock: self.clock.clone(),
            restore,
            seed: rand::random(),
            persist,
        })?);
        sessions.insert(fp, session.clone());
        Ok(session)
    }

    /// Whether one more engine may start beside the running ones (parked ones cost nothing).
    fn admit(
        &self,
        sessions: &HashMap<String, Arc<Session>>,
        claim: Claim,
    ) -> Result<(), RegistryError> {
        let running = sessions.values().filter(|h| !h.is_parked()).count();
        if admission::admits(claim, running, self.max_sessions) {
            return Ok(());
        }
        Err(RegistryError::Full {
            limit: self.max_sessions,
            playing: running,
            retry_after: admission::FULL_RETRY_AFTER_SECS,
        })
    }

    /// Saved sessions whose snapshot could not be read since the server started.
    pub fn unreadable_snapshots(&self) -> u64 {
        self.unreadable_snapshots.load(Ordering::Relaxed)
    }

    pub fn running(&self) -> Vec<Arc<Session>> {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|h| !h.is_parked())
            .cloned()
            .collect()
    }

    /// Stops every engine thread; each saves its state on the way out.
    pub fn shutdown(&self) {
        for h in self.running() {
            h.stop();
        }
    }
}
