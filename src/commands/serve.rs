//! `drift serve`: open the store, start the HTTP server at once, run the library service in
//! the background (the catalog grows as tracks are analysed; changes on disk are picked up),
//! tell the terminal how far it is, and shut down cleanly on SIGINT/SIGTERM, telling clients
//! to reconnect and saving every session.
use super::{data_dir, ensure_demo_library, mix_config, repeat_horizon, CommandError};
use crate::catalog::{Catalog, LiveCatalog};
use crate::cli::ServeArgs;
use crate::http::admission::CreateLimiter;
use crate::http::{front, router, AppState, Metrics};
use crate::library::announce::Announcer;
use crate::library::service::{Library, LibraryConfig};
use crate::library::status::LibraryProgress;
use crate::output::{IcecastUrl, Outputs, Resolver, StreamInfo};
use crate::station::admission;
use crate::station::clock::{Clock, ScaledClock};
use crate::station::registry::{random_id, Registry};
use crate::station::session::SessionParams;
use crate::store::Store;
use crate::units::Frames;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub fn run(a: ServeArgs) -> Result<(), CommandError> {
    super::runtime()?.block_on(serve(a))
}

async fn serve(a: ServeArgs) -> Result<(), CommandError> {
    let mix = mix_config(&a.mix)?;
    if !(1.0..=120.0).contains(&a.lead) || !(10.0..=3600.0).contains(&a.history) {
        return Err(CommandError::Usage(
            "--lead must be 1–120 s and --history 10–3600 s".into(),
        ));
    }
    if !(a.time_scale > 0.0 && a.time_scale <= 100.0) {
        return Err(CommandError::Usage(
            "--time-scale must be in (0, 100]".into(),
        ));
    }
    let dir = data_dir(&a.library.data_dir);
    let store = Store::open(&dir)?;
    let storage = store.health();
    let catalog = Arc::new(LiveCatalog::new(Catalog::new(store.tracks()?)));
    let marks = store.marks()?;
    let store = Arc::new(Mutex::new(store));
    let writer = store.clone();
    catalog.marks.load(
        marks,
        repeat_horizon(&a.mix)?,
        // A failed write is told by the store's StorageHealth; the mark holds in memory.
        Some(Arc::new(move |id, mark| {
            let _ = writer
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .save_mark(id, mark);
        })),
    );
    let progress = Arc::new(LibraryProgress::default());
    let counts = store
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .file_counts()?;
    progress.set_counts(counts, catalog.current().len());
    let clock: Arc<dyn Clock> = Arc::new(ScaledClock::new(a.time_scale));
    let params = SessionParams {
        lead: Frames::from_secs(a.lead),
        history: Frames::from_secs(a.history),
        mix: mix.clone(),
        idle_timeout: Duration::from_secs_f64(a.idle_timeout.max(1.0)),
        opus_bitrate: a.opus_bitrate,
    };
    let (max_sessions, why) = session_limit(&a, &mix);
    let icecast_out = a
        .icecast_out
        .iter()
        .map(|u| IcecastUrl::parse(u))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CommandError::Usage(format!("--icecast-out: {e}")))?;
    let info = StreamInfo {
        name: "Drift".into(),
        description: "A radio that drifts through a music library".into(),
        genre: "Various".into(),
        bitrate_kbps: mix.bitrate.kbps(),
        sample_rate: crate::units::SAMPLE_RATE,
        channels: crate::units::CHANNELS as u8,
    };
    let metrics = Arc::new(Metrics::default());
    let app = Arc::new_cyclic(|me: &std::sync::Weak<AppState>| AppState {
        outputs: Outputs::new(info, find_session(me.clone())),
        instance_id: random_id(),
        registry: Registry::new(catalog.clone(), clock.clone(), params, store)
            .with_max_sessions(max_sessions),
        catalog: catalog.clone(),
        clock,
        metrics: metrics.clone(),
        bitrate: mix.bitrate.kbps(),
        opus_bitrate: a.opus_bitrate,
        library: progress.clone(),
        storage: storage.clone(),
        creates: CreateLimiter::new(a.sessions_per_minute),
    });

    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .map_err(|source| CommandError::Io {
            context: format!("cannot listen on {}", a.listen),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| CommandError::Io {
        context: "no local address".into(),
        source,
    })?;
    // Outputs start once the server could start: none pushes from a process about to fail.
    for url in icecast_out {
        app.outputs.add(url);
    }
    println!("Drift is listening: open http://{addr}/");
    let plural = if max_sessions == 1 { "" } else { "s" };
    println!("At most {max_sessions} session{plural} at once ({why})");
    let _ = std::io::stdout().flush();

    let config = LibraryConfig {
        roots: a.library.libraries.clone(),
        data_dir: dir,
        threads: a.library.scan_threads,
        rescan_every: Duration::from_secs_f64(
            a.rescan_minutes.clamp(1.0, 7.0 * 24.0 * 60.0) * 60.0,
        ),
        watch: true,
        storage,
    };
    // Generating the demo library takes seconds: the server answers meanwhile.
    let library = Arc::new(Mutex::new(None::<Library>));
    let slot = library.clone();
    tokio::task::spawn_blocking(move || match start_library(config, catalog, progress) {
        Ok(l) => *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(l),
        Err(e) => tracing::error!("the library scanner did not start: {e}"),
    });
    tokio::spawn(announce(app.library.clone()));

    let shutdown_app = app.clone();
    // A listener that takes no data for this long is dropped: by then it has fallen out of the
    // ring's history anyway (in real time), but never sooner than a few seconds.
    let history_real = clock_real(a.history, a.time_scale);
    let write_limit = Duration::from_secs_f64((history_real / 2.0).clamp(5.0, 60.0));
    let shutdown = async move {
        shutdown_signal().await;
        tracing::info!("shutting down: telling listeners to reconnect");
        // Outputs stop first: one left running would resume a session after it was saved.
        shutdown_app.outputs.stop_all();
        for h in shutdown_app.registry.running() {
            h.restart_listeners("shutdown", 2.0);
        }
    };
    front::serve(
        listener,
        app.clone(),
        router(app.clone()),
        write_limit,
        shutdown,
    )
    .await;
    // The restart events and the ends of audio responses go out; event streams never end on
    // their own, so they get a moment, then the process goes.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let registry_app = app.clone();
    tokio::task::spawn_blocking(move || {
        if let Some(l) = library.lock().unwrap_or_else(|p| p.into_inner()).take() {
            l.stop();
        }
        registry_app.registry.shutdown()
    })
    .await
    .ok();
    tracing::info!("sessions saved; bye");
    Ok(())
}

/// How outputs find their session: as a request for it would (the default session, or a
/// parked or saved one resumed), through the app they belong to.
fn find_session(app: std::sync::Weak<AppState>) -> Resolver {
    Arc::new(move |name: String| {
        let app = app.clone();
        Box::pin(async move {
            let app = app.upgrade().ok_or("the server is stopping")?;
            crate::http::api::session(&app, &name)
                .await
                .map_err(|e| e.message)
        })
    })
}

/// `--max-sessions`, or the default derived from this machine's cores and the measured cost
/// of a session at this bitrate and encoder quality; with the reason, for the start-up line.
fn session_limit(a: &ServeArgs, mix: &crate::config::MixConfig) -> (usize, String) {
    if a.max_sessions > 0 {
        return (a.max_sessions, "--max-sessions".into());
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cost = admission::session_cost(mix.bitrate, mix.lame_quality);
    let n = admission::default_max_sessions(cores, cost);
    let why = format!(
        "{cores} cores, {} kbps, LAME -q {}",
        mix.bitrate.kbps(),
        mix.lame_quality
    );
    (n, why)
}

/// Starts the library service on the given folders (the demo library, generated into the
/// data dir on first use, when none).
fn start_library(
    mut config: LibraryConfig,
    catalog: Arc<LiveCatalog>,
    progress: Arc<LibraryProgress>,
) -> Result<Library, CommandError> {
    if config.roots.is_empty() {
        config.roots = vec![ensure_demo_library(&config.data_dir)?];
    }
    Library::start(config, catalog, progress).map_err(|source| CommandError::Io {
        context: "cannot start the library scanner".into(),
        source,
    })
}

/// Prints what the library is doing (see `Announcer`) until the process ends.
async fn announce(library: Arc<LibraryProgress>) {
    let mut announcer = Announcer::default();
    let started = std::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        for line in announcer.lines(&library.snapshot(), started.elapsed().as_secs_f64()) {
            println!("{line}");
        }
        let _ = std::io::stdout().flush();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Real seconds that `secs` of station time take.
fn clock_real(secs: f64, time_scale: f64) -> f64 {
    secs / time_scale
}
