//! All sessions of a server: creating them, finding them (in memory or saved in the store),
//! starting their engine threads (within the station's capacity: see `admission`), and
//! stopping them at shutdown with their state saved.
use super::admission::{self, Claim};
use super::clock::Clock;
use super::engine::EngineError;
use super::session::{self, Control, Persist, SessionParams, Shared, Snapshot};
use crate::catalog::LiveCatalog;
use crate::store::{SessionRow, Store, StoreError};
use base64::Engine as _;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("cannot start the session's engine thread: {0}")]
    Thread(#[source] std::io::Error),
    /// `playing` sessions render already (the limit is `limit`): try again in `retry_after`
    /// seconds.
    #[error("the station is full: {playing} sessions are playing (at most {limit})")]
    Full {
        limit: usize,
        playing: usize,
        retry_after: u32,
    },
}

/// A running session.
pub struct Handle {
    pub shared: Arc<Shared>,
    /// Token whose bearer may control the session.
    pub owner: String,
    control: Mutex<mpsc::Sender<Control>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Handle {
    pub fn fingerprint(&self) -> &str {
        &self.shared.fingerprint
    }
    pub fn is_owner(&self, token: Option<&str>) -> bool {
        token.is_some_and(|t| constant_time_eq(t.as_bytes(), self.owner.as_bytes()))
    }
    /// The engine thread ended (parked after being idle, or stopped).
    pub fn is_parked(&self) -> bool {
        self.thread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_none_or(|t| t.is_finished())
    }

    /// Steers the session's next pick; the engine thread answers with the planned next track.
    pub fn steer(
        &self,
        choice: session::Choice,
    ) -> tokio::sync::oneshot::Receiver<Option<crate::model::TrackId>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let _ = self
            .control
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(Control::Steer(choice, tx));
        rx
    }

    pub fn skip(&self) {
        let _ = self
            .control
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(Control::Skip);
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A random URL-safe identifier with 128 bits of entropy.
pub fn random_id() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

pub struct Registry {
    sessions: Mutex<HashMap<String, Arc<Handle>>>,
    catalog: Arc<LiveCatalog>,
    clock: Arc<dyn Clock>,
    params: SessionParams,
    store: Arc<Mutex<Store>>,
    /// Saved sessions whose snapshot could not be read (a Drift that wrote another shape, a
    /// damaged row): each resumed as a new stream, logged, and counted for `/metrics`.
    unreadable_snapshots: AtomicU64,
    /// Sessions rendering at once at most (`--max-sessions`); see `admission::admits`.
    max_sessions: usize,
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

    /// A new session with a new owner token.
    pub fn create(&self) -> Result<Arc<Handle>, RegistryError> {
        self.create_as(Claim::New)
    }

    fn create_as(&self, claim: Claim) -> Result<Arc<Handle>, RegistryError> {
        // Nothing to play yet (a first scan under way): make no session that cannot start.
        if self.catalog.current().is_empty() {
            return Err(EngineError::EmptyLibrary.into());
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

    /// The session with this fingerprint: running, or restored from the store. `None` if unknown.
    pub fn get(&self, fp: &str) -> Result<Option<Arc<Handle>>, RegistryError> {
        self.get_as(fp, Claim::Resume)
    }

    fn get_as(&self, fp: &str, claim: Claim) -> Result<Option<Arc<Handle>>, RegistryError> {
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
            serde_json::from_str::<Snapshot>(s)
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

    /// The session players get when they name none; made on first use and kept.
    pub fn default_session(&self) -> Result<Arc<Handle>, RegistryError> {
        let existing = self.store().default_session()?;
        if let Some(fp) = existing {
            if let Some(h) = self.get_as(&fp, Claim::Station)? {
                return Ok(h);
            }
        }
        let h = self.create_as(Claim::Station)?;
        self.store().set_default_session(h.fingerprint())?;
        Ok(h)
    }

    fn start(
        &self,
        fp: String,
        owner: String,
        restore: Option<Snapshot>,
        claim: Claim,
    ) -> Result<Arc<Handle>, RegistryError> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        // A session already on air is never refused.
        if let Some(h) = sessions.get(&fp) {
            return Ok(h.clone());
        }
        self.admit(&sessions, claim)?;
        let seed = rand::random();
        let (shared, engine) = session::prepare(
            fp.clone(),
            self.params.clone(),
            self.catalog.clone(),
            self.clock.clone(),
            restore,
            seed,
        )?;
        let (tx, rx) = mpsc::channel();
        let store = self.store.clone();
        let owner_for_save = owner.clone();
        let persist: Persist = Arc::new(move |s: &Shared| {
            let Some(snapshot) = s.snapshot() else { return };
            let row = SessionRow {
                fingerprint: s.fingerprint.clone(),
                owner: owner_for_save.clone(),
                snapshot: serde_json::to_string(&snapshot).ok(),
            };
            if let Err(e) = store
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .save_session(&row)
            {
                tracing::warn!(session = %s.fingerprint, "cannot save the session: {e}");
            }
        });
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("engine-{}", &fp[..6.min(fp.len())]))
            .spawn(move || session::run(thread_shared, engine, rx, persist))
            .map_err(RegistryError::Thread)?;
        let handle = Arc::new(Handle {
            shared,
            owner,
            control: Mutex::new(tx),
            thread: Mutex::new(Some(thread)),
        });
        sessions.insert(fp, handle.clone());
        Ok(handle)
    }

    /// Whether one more engine may start beside the running ones (parked ones cost nothing).
    fn admit(
        &self,
        sessions: &HashMap<String, Arc<Handle>>,
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

    pub fn running(&self) -> Vec<Arc<Handle>> {
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
            let _ = h
                .control
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .send(Control::Stop);
            if let Some(t) = h.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
                let _ = t.join();
            }
        }
    }
}
