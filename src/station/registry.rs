//! All sessions of a server: creating them, finding them (in memory or saved in the store),
//! starting their engine threads, and stopping them at shutdown with their state saved.
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
        }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new session with a new owner token. Blocking (SQLite, the first track).
    pub fn create(&self) -> Result<Arc<Session>, RegistryError> {
        // Nothing to play yet (a first scan under way): make no session that cannot start.
        if self.catalog.current().is_empty() {
            return Err(SessionError::Engine(EngineError::EmptyLibrary).into());
        }
        let fp = random_id();
        let owner = random_id();
        self.store().save_session(&SessionRow {
            fingerprint: fp.clone(),
            owner: owner.clone(),
            snapshot: None,
        })?;
        self.start(fp, owner, None)
    }

    /// The session with this fingerprint: running, or restored from the store. `None` if
    /// unknown. Blocking when it must be restored (SQLite, the first track).
    pub fn get(&self, fp: &str) -> Result<Option<Arc<Session>>, RegistryError> {
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
        self.start(row.fingerprint, row.owner, snapshot).map(Some)
    }

    /// The session with this fingerprint if its engine is running: no store, no blocking.
    pub fn find_running(&self, fp: &str) -> Option<Arc<Session>> {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.get(fp).filter(|h| !h.is_parked()).cloned()
    }

    /// The session players get when they name none; made on first use and kept.
    pub fn default_session(&self) -> Result<Arc<Session>, RegistryError> {
        let existing = self.store().default_session()?;
        if let Some(fp) = existing {
            if let Some(h) = self.get(&fp)? {
                return Ok(h);
            }
        }
        let h = self.create()?;
        self.store().set_default_session(h.fingerprint())?;
        Ok(h)
    }

    fn start(
        &self,
        fp: String,
        owner: String,
        restore: Option<Snapshot>,
    ) -> Result<Arc<Session>, RegistryError> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = sessions.get(&fp) {
            return Ok(h.clone());
        }
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
