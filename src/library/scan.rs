//! The library scan: a fast first pass records every audio file (walk, stat, compare with the
//! store: see `plan`), then the new files are analysed on all cores while the catalog grows
//! batch by batch (see `workers`). A scan that stops half-way (a restart, a change on disk)
//! leaves the rest recorded as pending, and the next scan goes on from there.
use super::plan::{plan, PlanError};
use super::progress::Progress;
use super::status::Phase;
use super::workers::{self, Hooks};
use crate::store::{Store, StoreError};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use super::measure::MIN_DURATION;
pub use super::plan::ID_HEX_CHARS;

/// How to run a scan.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    /// Show progress: a bar if stderr is a terminal, else an `info` line every few files.
    pub progress: bool,
    /// Analysis threads; 0 means one per core.
    pub threads: usize,
}

/// What a scan did. Every audio file seen lands in exactly one of `unchanged`, `analysed`,
/// `reused`, `failed` and `pending`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScanReport {
    /// Audio files found on disk.
    pub seen: usize,
    /// Same path, size and mtime as last time, and nothing left to analyse: not read at all
    /// (but for `retagged` of them).
    pub unchanged: usize,
    /// Of the unchanged files, those whose tags were read again because an older Drift read
    /// them (one file per track; the audio is not analysed again).
    pub retagged: usize,
    /// New content, decoded and analysed.
    pub analysed: usize,
    /// Content already analysed (renamed, moved or copied file): recorded without analysis.
    pub reused: usize,
    /// Not playable; the reason is in [`Store::failures`].
    pub failed: usize,
    /// Left for the next scan (this one was interrupted).
    pub pending: usize,
    /// Files recorded before and gone now.
    pub removed: usize,
    /// Folders (or files) that could not be read; what they held before is kept.
    pub unreadable: Vec<PathBuf>,
    pub elapsed: Duration,
    /// Analysis throughput (analysed files per second of the analysis phase); 0 if none.
    pub tracks_per_sec: f64,
}

/// Why a scan stopped. A single bad file never stops it; these do.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A library folder is missing or unreadable (or went away during the scan). The scan
    /// refuses to go on rather than treat every file in it as deleted (an unmounted drive is
    /// not an empty library).
    #[error("cannot read the library folder {path}")]
    Library {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot record the scan: {0}")]
    Store(#[from] StoreError),
    #[error("cannot start the analysis threads: {0}")]
    Threads(String),
}

impl From<PlanError> for ScanError {
    fn from(e: PlanError) -> ScanError {
        match e {
            PlanError::Library { path, source } => ScanError::Library { path, source },
            PlanError::Store(e) => ScanError::Store(e),
        }
    }
}

/// Brings the store up to date with the files under `libraries`.
pub fn scan(
    libraries: &[PathBuf],
    store: &mut Store,
    opts: &ScanOptions,
) -> Result<ScanReport, ScanError> {
    scan_with(libraries, store, opts, Hooks::default())
}

/// [`scan`], publishing each batch to the catalog and progress board in `hooks`.
pub fn scan_with(
    libraries: &[PathBuf],
    store: &mut Store,
    opts: &ScanOptions,
    hooks: Hooks<'_>,
) -> Result<ScanReport, ScanError> {
    let started = Instant::now();
    if let Some(s) = hooks.status {
        s.set_phase(Phase::Walking);
    }
    let plan = plan(libraries, store)?;
    let mut report = ScanReport {
        seen: plan.seen,
        unchanged: plan.unchanged,
        retagged: plan.retagged,
        reused: plan.reused,
        failed: plan.failed,
        removed: plan.removed,
        unreadable: plan.unreadable.clone(),
        ..ScanReport::default()
    };
    tracing::info!(
        seen = report.seen,
        unchanged = report.unchanged,
        tags_read_again = report.retagged,
        to_analyse = plan.jobs.len(),
        moved_or_copied = report.reused,
        removed = report.removed,
        "library walked"
    );
    // Removals go in the same transaction as moves, so a moved track never looks gone.
    store.apply(&plan.changes)?;
    workers::publish(store, hooks, &plan.touched)?;

    let analysing = Instant::now();
    let progress = Progress::new("analysing", plan.jobs.len(), opts.progress);
    let result = workers::run(
        plan.jobs,
        &plan.roots,
        store,
        opts.threads,
        hooks,
        &progress,
        &mut report,
    );
    progress.finish();
    result?;
    if report.analysed > 0 {
        report.tracks_per_sec = report.analysed as f64 / analysing.elapsed().as_secs_f64();
    }
    report.elapsed = started.elapsed();
    tracing::info!(
        analysed = report.analysed,
        reused = report.reused,
        failed = report.failed,
        removed = report.removed,
        pending = report.pending,
        "scan done in {:.1} s ({:.1} tracks/s)",
        report.elapsed.as_secs_f64(),
        report.tracks_per_sec
    );
    Ok(report)
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
