//! The library as a long-lived service of `drift serve`: one thread that scans the library
//! folders, publishes each batch of analysed tracks into the live catalog, then waits for a
//! change (the watcher), a periodic rescan or shutdown, and scans again. Callers hold a
//! `Library` handle: they ask for its status, a rescan, or a stop.
use super::scan::{scan_with, ScanError, ScanOptions};
use super::status::{LibraryProgress, LibraryStatus, Phase};
use super::watch::{watch, LibraryWatcher};
use super::workers::Hooks;
use crate::catalog::LiveCatalog;
use crate::store::{StorageHealth, Store};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// After a change, wait until the disk has been quiet this long (a copy in progress sends
/// many events) …
const QUIET: Duration = Duration::from_secs(1);
/// … but never longer than this before looking.
const QUIET_AT_MOST: Duration = Duration::from_secs(10);
/// A scan that failed (a library folder missing) is tried again after this long.
const RETRY_FAILED: Duration = Duration::from_secs(30);

/// How the service scans.
#[derive(Clone, Debug)]
pub struct LibraryConfig {
    pub roots: Vec<PathBuf>,
    pub data_dir: PathBuf,
    /// Analysis threads; 0 means one per core.
    pub threads: usize,
    /// Look at the whole library again this often, for mounts that send no change events.
    pub rescan_every: Duration,
    /// Watch the folders for changes.
    pub watch: bool,
    /// How the store's writes go, shared with the server's other connections (`/health`).
    pub storage: Arc<StorageHealth>,
}

/// Wake-ups for the scanner thread.
#[derive(Default)]
struct Wake {
    /// The first and the latest change on disk (or rescan asked for) since the last scan began.
    first_change: Option<Instant>,
    last_change: Option<Instant>,
    stop: bool,
}

struct Shared {
    wake: Mutex<Wake>,
    bell: Condvar,
    /// Asks a running scan to stop after the files in hand (it resumes on the next pass).
    interrupt: AtomicBool,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Wake> {
        self.wake.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self) {
        let now = Instant::now();
        let mut wake = self.lock();
        wake.first_change.get_or_insert(now);
        wake.last_change = Some(now);
        drop(wake);
        self.interrupt.store(true, Ordering::Relaxed);
        self.bell.notify_all();
    }
}

/// Handle to the scanner thread.
pub struct Library {
    progress: Arc<LibraryProgress>,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    _watcher: Option<LibraryWatcher>,
}

impl Library {
    /// Starts scanning at once. `catalog` already holds what the store knew at startup; each
    /// batch of newly analysed tracks is published into it, and `progress` follows the scan.
    pub fn start(
        cfg: LibraryConfig,
        catalog: Arc<LiveCatalog>,
        progress: Arc<LibraryProgress>,
    ) -> std::io::Result<Library> {
        let shared = Arc::new(Shared {
            wake: Mutex::default(),
            bell: Condvar::new(),
            interrupt: AtomicBool::new(false),
        });
        let watcher = if cfg.watch {
            let s = shared.clone();
            let roots: Vec<PathBuf> = cfg
                .roots
                .iter()
                .map(|r| std::fs::canonicalize(r).unwrap_or_else(|_| r.clone()))
                .collect();
            let ignore = std::fs::canonicalize(&cfg.data_dir).unwrap_or(cfg.data_dir.clone());
            watch(&roots, ignore, move || s.changed())
        } else {
            None
        };
        let thread = {
            let (progress, shared) = (progress.clone(), shared.clone());
            std::thread::Builder::new()
                .name("library".into())
                .spawn(move || run(&cfg, &catalog, &progress, &shared))?
        };
        Ok(Library {
            progress,
            shared,
            thread: Mutex::new(Some(thread)),
            _watcher: watcher,
        })
    }

    pub fn status(&self) -> LibraryStatus {
        self.progress.snapshot()
    }

    /// The progress board (for handlers that only read it).
    pub fn progress(&self) -> Arc<LibraryProgress> {
        self.progress.clone()
    }

    /// Looks at the library again soon (as if something had changed on disk).
    pub fn rescan(&self) {
        self.shared.changed();
    }

    /// Stops the thread after the files in hand; what is left stays pending in the store.
    pub fn stop(&self) {
        self.shared.lock().stop = true;
        self.shared.interrupt.store(true, Ordering::Relaxed);
        self.shared.bell.notify_all();
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}

fn run(cfg: &LibraryConfig, catalog: &LiveCatalog, progress: &LibraryProgress, shared: &Shared) {
    let mut store = match Store::open_sharing(&cfg.data_dir, cfg.storage.clone()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("the library scanner cannot open the store: {e}");
            progress.set_error(Some(format!("cannot open the store: {e}")));
            return;
        }
    };
    let opts = ScanOptions {
        progress: false,
        threads: cfg.threads,
    };
    // The last failure told: a scan that keeps failing the same way (a full disk, a folder
    // gone) is told once, not at every retry; the progress board shows it meanwhile.
    let mut told: Option<String> = None;
    loop {
        shared.interrupt.store(false, Ordering::Relaxed);
        {
            let mut wake = shared.lock();
            wake.first_change = None;
            wake.last_change = None;
        }
        let hooks = Hooks {
            catalog: Some(catalog),
            status: Some(progress),
            interrupt: Some(&shared.interrupt),
        };
        let wait = match scan_with(&cfg.roots, &mut store, &opts, hooks) {
            Ok(report) => {
                progress.set_error(None);
                told = None;
                if report.pending == 0 {
                    progress.finished_scan();
                }
                cfg.rescan_every
            }
            Err(e) => {
                let message = match &e {
                    ScanError::Library { path, source } => {
                        format!(
                            "cannot read the library folder {}: {source}",
                            path.display()
                        )
                    }
                    e => e.to_string(),
                };
                if told.as_ref() != Some(&message) {
                    tracing::error!("library scan stopped: {message}");
                    told = Some(message.clone());
                }
                progress.set_error(Some(message));
                progress.finished_scan();
                RETRY_FAILED.min(cfg.rescan_every)
            }
        };
        progress.set_phase(Phase::Idle);
        if !wait_for_change(shared, wait) {
            return;
        }
    }
}

/// Sleeps until a change has settled, `wait` has passed, or the service stops (false).
fn wait_for_change(shared: &Shared, wait: Duration) -> bool {
    let periodic = Instant::now() + wait;
    let mut wake = shared.lock();
    loop {
        if wake.stop {
            return false;
        }
        // After a change: once quiet for a moment, or once waited long enough.
        let due = match (wake.first_change, wake.last_change) {
            (Some(first), Some(last)) => (last + QUIET).min(first + QUIET_AT_MOST),
            _ => periodic,
        };
        let now = Instant::now();
        if now >= due {
            return true;
        }
        wake = shared
            .bell
            .wait_timeout(wake, due - now)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}
