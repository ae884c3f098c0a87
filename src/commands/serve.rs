//! `drift serve`: open the store, start the HTTP server at once, scan the library in the
//! background (publishing tracks as they are ready), and shut down cleanly on SIGINT/SIGTERM,
//! telling clients to reconnect and saving every session.
use super::{data_dir, ensure_demo_library, mix_config, scan_libraries, CommandError};
use crate::catalog::{Catalog, LiveCatalog};
use crate::cli::ServeArgs;
use crate::http::conn::DeadlineListener;
use crate::http::{router, AppState, Metrics};
use crate::station::clock::{Clock, ScaledClock};
use crate::station::events::StationEvent;
use crate::station::registry::{random_id, Registry};
use crate::station::session::SessionParams;
use crate::store::Store;
use crate::units::Frames;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
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
    let catalog = Arc::new(LiveCatalog::new(Catalog::new(store.tracks()?)));
    let clock: Arc<dyn Clock> = Arc::new(ScaledClock::new(a.time_scale));
    let params = SessionParams {
        lead: Frames::from_secs(a.lead),
        history: Frames::from_secs(a.history),
        mix: mix.clone(),
        idle_timeout: Duration::from_secs_f64(a.idle_timeout.max(1.0)),
    };
    let metrics = Arc::new(Metrics::default());
    let app = Arc::new(AppState {
        instance_id: random_id(),
        registry: Registry::new(
            catalog.clone(),
            clock.clone(),
            params,
            Arc::new(Mutex::new(store)),
        ),
        catalog: catalog.clone(),
        clock,
        metrics: metrics.clone(),
        bitrate: mix.bitrate.kbps(),
        scan_done: Default::default(),
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
    println!("Drift is on the air: open http://{addr}/");
    let _ = std::io::stdout().flush();

    let scan_app = app.clone();
    let libraries = a.library.libraries.clone();
    tokio::task::spawn_blocking(move || background_scan(&scan_app, &dir, libraries));

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let shutdown_app = app.clone();
    // A listener that takes no data for this long is dropped: by then it has fallen out of the
    // ring's history anyway (in real time), but never sooner than a few seconds.
    let history_real = clock_real(a.history, a.time_scale);
    let listener = DeadlineListener {
        inner: listener,
        limit: Duration::from_secs_f64((history_real / 2.0).clamp(5.0, 60.0)),
        metrics,
    };
    let server = axum::serve(listener, router(app.clone())).with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: telling listeners to reconnect");
        for h in shutdown_app.registry.running() {
            h.shared.publish(StationEvent::Restart {
                reason: "shutdown".into(),
                retry_after: 2.0,
            });
            h.shared.end_audio_responses();
        }
        let _ = stop_tx.send(true);
    });
    let mut stop_rx2 = stop_rx.clone();
    tokio::select! {
        r = server => r.map_err(|source| CommandError::Io { context: "server failed".into(), source })?,
        // Event streams never end on their own: give them a moment after the signal, then go.
        _ = async move {
            let _ = stop_rx2.wait_for(|s| *s).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        } => {}
    }
    drop(stop_rx);
    let registry_app = app.clone();
    tokio::task::spawn_blocking(move || registry_app.registry.shutdown())
        .await
        .ok();
    tracing::info!("sessions saved; bye");
    Ok(())
}

/// Scans the libraries (the demo one if none) on its own store connection and publishes the
/// new catalog; sessions pick it up for their next pick.
fn background_scan(app: &AppState, dir: &std::path::Path, libraries: Vec<PathBuf>) {
    let result = (|| -> Result<(), CommandError> {
        let libraries = if libraries.is_empty() {
            vec![ensure_demo_library(dir)?]
        } else {
            libraries
        };
        let mut store = Store::open(dir)?;
        let report = scan_libraries(&libraries, &mut store)?;
        tracing::info!("{}", super::report_line(&report));
        let tracks = store.tracks()?;
        app.catalog.publish(Catalog::new(tracks));
        Ok(())
    })();
    if let Err(e) = result {
        tracing::error!("library scan failed: {e}");
    }
    app.scan_done.store(true, Ordering::Relaxed);
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
