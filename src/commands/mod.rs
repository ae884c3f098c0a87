//! The thin shell behind each CLI command: resolve paths, open the store, call the core.
mod render;
mod render_report;
mod serve;

use crate::catalog::Catalog;
use crate::cli::{Cli, Command, LibraryArgs, MixArgs};
use crate::config::MixConfig;
use crate::library::demo::{write_demo_library, DemoOptions};
use crate::library::scan::{scan, ScanOptions, ScanReport};
use crate::store::Store;
use crate::units::{Db, Frames};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

/// A command failed; the message is meant for the person at the terminal.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Scan(#[from] crate::library::scan::ScanError),
    #[error(transparent)]
    Demo(#[from] crate::library::demo::DemoError),
    #[error(transparent)]
    Engine(#[from] crate::station::engine::EngineError),
    #[error(transparent)]
    Render(#[from] crate::station::render::RenderError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

pub fn run(cli: Cli) -> Result<(), CommandError> {
    match cli.command {
        Command::DemoLibrary(a) => {
            let opts = DemoOptions {
                tracks: a.tracks,
                seed: a.seed,
                ..DemoOptions::default()
            };
            let files = write_demo_library(&a.dir, &opts)?;
            println!("wrote {} tracks to {}", files.len(), a.dir.display());
            Ok(())
        }
        Command::Scan(a) => {
            let (mut store, libraries) = open_library(&a.library)?;
            let report = scan_libraries(&libraries, &mut store, a.library.scan_threads)?;
            println!("{}", report_line(&report));
            for (path, reason) in store.failures()? {
                println!("  skipped {}: {reason}", path.display());
            }
            for path in &report.unreadable {
                println!(
                    "  cannot read {} (its files are kept as they were)",
                    path.display()
                );
            }
            Ok(())
        }
        Command::Serve(a) => serve::run(a),
        Command::Render(a) => render::run(a),
    }
}

/// Logs to stderr, filtered by `DRIFT_LOG` (tracing's env-filter syntax); by default `info`,
/// with the decoders' chatter about damaged files kept down.
pub fn start_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DRIFT_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(
                    "info,lofty=error,symphonia=warn,symphonia_core=off,symphonia_bundle_mp3=error",
                )
            }),
        )
        .with_writer(std::io::stderr)
        .init();
}

/// The multi-threaded tokio runtime the server runs on (and `drift-bench`'s load generators).
pub fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| CommandError::Io {
            context: "cannot start the async runtime".into(),
            source,
        })
}

/// The data dir: the flag, else `$XDG_DATA_HOME/drift`, else `~/.local/share/drift`.
pub fn data_dir(arg: &Option<PathBuf>) -> PathBuf {
    if let Some(d) = arg {
        return d.clone();
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("drift");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".local/share/drift"),
        None => PathBuf::from("drift-data"),
    }
}

/// Opens the store and resolves the libraries; with none given, the demo library in the data
/// dir (generated on first use).
pub fn open_library(args: &LibraryArgs) -> Result<(Store, Vec<PathBuf>), CommandError> {
    let dir = data_dir(&args.data_dir);
    let store = Store::open(&dir)?;
    let libraries = if args.libraries.is_empty() {
        vec![ensure_demo_library(&dir)?]
    } else {
        for lib in &args.libraries {
            if !lib.is_dir() {
                return Err(CommandError::Usage(format!(
                    "the library {} is not a folder",
                    lib.display()
                )));
            }
        }
        args.libraries.clone()
    };
    Ok((store, libraries))
}

/// The demo library in `data_dir`, written on first use.
pub fn ensure_demo_library(data_dir: &std::path::Path) -> Result<PathBuf, CommandError> {
    let dir = data_dir.join("demo-library");
    let done = dir.join(".complete");
    if !done.exists() {
        tracing::info!("generating the demo library in {}", dir.display());
        write_demo_library(&dir, &DemoOptions::default())?;
        std::fs::write(&done, b"").map_err(|source| CommandError::Io {
            context: format!("cannot write {}", done.display()),
            source,
        })?;
    }
    Ok(dir)
}

pub fn scan_libraries(
    libraries: &[PathBuf],
    store: &mut Store,
    threads: usize,
) -> Result<ScanReport, CommandError> {
    let opts = ScanOptions {
        progress: std::io::stderr().is_terminal(),
        threads,
    };
    Ok(scan(libraries, store, &opts)?)
}

pub fn report_line(r: &ScanReport) -> String {
    format!(
        "scanned {} files in {:.1} s: {} analysed ({:.1} tracks/s), {} unchanged, {} renamed or copied, {} removed, {} skipped",
        r.seen,
        r.elapsed.as_secs_f64(),
        r.analysed,
        r.tracks_per_sec,
        r.unchanged,
        r.reused,
        r.removed,
        r.failed
    )
}

/// The playable tracks, or a clear message when there are none.
pub fn catalog(store: &Store) -> Result<Arc<Catalog>, CommandError> {
    let tracks = store.tracks()?;
    if tracks.is_empty() {
        return Err(CommandError::Usage(
            "the library has no playable tracks (run `drift scan` to see why)".into(),
        ));
    }
    Ok(Arc::new(Catalog::new(tracks)))
}

/// The no-repeat horizon of `--repeat-hours`, in seconds of a session's audio.
pub fn repeat_horizon(m: &MixArgs) -> Result<f64, CommandError> {
    if !(0.0..=24.0 * 365.0).contains(&m.repeat_hours) {
        return Err(CommandError::Usage(
            "--repeat-hours must be between 0 and 8760 (a year)".into(),
        ));
    }
    Ok(m.repeat_hours * 3600.0)
}

pub fn mix_config(m: &MixArgs) -> Result<MixConfig, CommandError> {
    if !(0.0..=crate::config::MAX_CROSSFADE_SECS).contains(&m.crossfade) {
        return Err(CommandError::Usage(format!(
            "--crossfade must be between 0 and {} seconds",
            crate::config::MAX_CROSSFADE_SECS
        )));
    }
    let max_overlap = m
        .max_overlap
        .unwrap_or(crate::config::DEFAULT_MAX_OVERLAP_SECS.max(m.crossfade));
    if !(0.0..=crate::config::MAX_CROSSFADE_SECS).contains(&max_overlap) {
        return Err(CommandError::Usage(format!(
            "--max-overlap must be between 0 and {} seconds",
            crate::config::MAX_CROSSFADE_SECS
        )));
    }
    let cfg = MixConfig {
        crossfade: Frames::from_secs(m.crossfade),
        max_overlap: Frames::from_secs(max_overlap),
        target_loudness: Db(m.target_lufs),
        bitrate: m.bitrate,
        lame_quality: m.encoder_quality,
        ..MixConfig::default()
    };
    cfg.validate().map_err(CommandError::Usage)?;
    Ok(cfg)
}
