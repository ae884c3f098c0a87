//! The library scan: find audio files, skip those unchanged since the last scan, hash the rest,
//! analyse new content on all cores, and record every file (playable or not) in the store.
use super::progress::Progress;
use super::tags::read_tags;
use super::walk::{walk, Found};
use super::{Tags, TrackId};
use crate::library::Analysis;
use crate::store::{FileChange, FileRecord, FileStat, Store, StoreError};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
#[cfg(test)]
use {crate::units::SAMPLE_RATE, std::path::Path};

pub use super::measure::MIN_DURATION;
/// Hex characters of the blake3 content hash kept as the [`TrackId`]: 128 bits, plenty to
/// never collide in one library, short enough for URLs.
pub const ID_HEX_CHARS: usize = 32;
/// Analysed tracks written per transaction: a crash loses at most this much work, and the
/// database is not locked for the whole scan.
const BATCH: usize = 16;

/// How to run a scan.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    /// Show progress: a bar if stderr is a terminal, else an `info` line every few files.
    pub progress: bool,
}

/// What a scan did. Every audio file seen lands in exactly one of `unchanged`, `analysed`,
/// `reused` and `failed`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScanReport {
    /// Audio files found on disk.
    pub seen: usize,
    /// Same path, size and mtime as last time, and nothing left to analyse: not read at all.
    pub unchanged: usize,
    /// New content, decoded and analysed.
    pub analysed: usize,
    /// Content already analysed (renamed, moved or copied file): recorded without analysis.
    pub reused: usize,
    /// Not playable; the reason is in [`Store::failures`].
    pub failed: usize,
    /// Files recorded before and gone now.
    pub removed: usize,
    pub elapsed: Duration,
    /// Analysis throughput (analysed files per second of the analysis phase); 0 if none.
    pub tracks_per_sec: f64,
}

/// Why a scan stopped. A single bad file never stops it; these do.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A library folder is missing or unreadable. The scan refuses to run rather than treat
    /// every file in it as deleted (an unmounted drive is not an empty library).
    #[error("cannot read the library folder {path}")]
    Library {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot record the scan")]
    Store(#[from] StoreError),
}

/// Brings the store up to date with the files under `libraries`.
pub fn scan(
    libraries: &[PathBuf],
    store: &mut Store,
    opts: &ScanOptions,
) -> Result<ScanReport, ScanError> {
    let started = Instant::now();
    let found = find_files(libraries)?;
    let mut report = ScanReport {
        seen: found.files.len() + found.unnamable.len(),
        ..ScanReport::default()
    };
    for path in &found.unnamable {
        tracing::warn!(
            "cannot play {}: the path is not valid UTF-8",
            path.display()
        );
        report.failed += 1;
    }

    let known: HashMap<PathBuf, FileRecord> = store
        .files()?
        .into_iter()
        .map(|f| (f.stat.path.clone(), f))
        .collect();
    // Tracks analysed completely; those analysed by an older Drift (no features, or features
    // of an older version) are analysed again even where their files have not changed.
    let analysed_ids = store.analysed_ids()?;
    let removed: Vec<FileChange> = known
        .keys()
        .filter(|p| !found.files.contains_key(*p))
        .map(|p| FileChange::Removed { path: p.clone() })
        .collect();
    report.removed = removed.len();
    // Files to read, each with its content id when an unchanged file only needs analysis.
    let changed: Vec<(FileStat, Option<TrackId>)> = found
        .files
        .into_values()
        .filter_map(|stat| match known.get(&stat.path) {
            Some(k) if k.stat == stat => k
                .track_id
                .as_ref()
                .filter(|id| !analysed_ids.contains(*id))
                .map(|id| (stat, Some(id.clone()))),
            _ => Some((stat, None)),
        })
        .collect();
    report.unchanged = report.seen - report.failed - changed.len();
    tracing::info!(
        seen = report.seen,
        unchanged = report.unchanged,
        changed = changed.len(),
        to_analyse_again = changed.iter().filter(|(_, id)| id.is_some()).count(),
        removed = report.removed,
        "library walked"
    );

    // Hash every changed file (and read its tags: cheap) on all cores.
    let hashing = Progress::new("hashing", changed.len(), opts);
    let hashed: Vec<(FileStat, Identified)> = changed
        .into_par_iter()
        .map(|(stat, known_id)| {
            let result = known_id
                .map_or_else(|| identify(&stat), Ok)
                .map(|id| (id, read_tags(&stat.path)));
            hashing.step();
            (stat, result)
        })
        .collect();
    hashing.finish();
    // Removals go in the same transaction as reuses, so a moved track never looks gone.
    let mut immediate = removed;
    let mut jobs: BTreeMap<TrackId, Copies> = BTreeMap::new();
    for (file, result) in hashed {
        match result {
            Ok((id, tags)) if analysed_ids.contains(&id) => {
                report.reused += 1;
                immediate.push(FileChange::Reused { file, id, tags });
            }
            Ok((id, tags)) => jobs.entry(id).or_default().push((file, tags)),
            Err(reason) => {
                tracing::warn!("cannot play {}: {reason}", file.path.display());
                report.failed += 1;
                immediate.push(FileChange::Failed { file, reason });
            }
        }
    }
    store.apply(&immediate)?;

    let analysing = Instant::now();
    analyse_all(jobs, store, opts, &mut report)?;
    if report.analysed > 0 {
        report.tracks_per_sec = report.analysed as f64 / analysing.elapsed().as_secs_f64();
    }
    report.elapsed = started.elapsed();
    tracing::info!(
        analysed = report.analysed,
        reused = report.reused,
        failed = report.failed,
        removed = report.removed,
        "scan done in {:.1} s ({:.1} tracks/s)",
        report.elapsed.as_secs_f64(),
        report.tracks_per_sec
    );
    Ok(report)
}

/// Walks every library folder. Each must be an existing folder (see [`ScanError::Library`]);
/// paths are made absolute so the store does not depend on the working directory.
fn find_files(libraries: &[PathBuf]) -> Result<Found, ScanError> {
    let mut found = Found::default();
    for root in libraries {
        let not_a_folder = || std::io::Error::other("not a folder");
        let root = std::fs::canonicalize(root)
            .and_then(|p| {
                if p.is_dir() {
                    Ok(p)
                } else {
                    Err(not_a_folder())
                }
            })
            .map_err(|source| ScanError::Library {
                path: root.clone(),
                source,
            })?;
        walk(&root, &mut found);
    }
    Ok(found)
}

/// A changed file's content id and tags, or why it cannot be a track.
type Identified = Result<(TrackId, Tags), String>;

/// The files (and their tags) that share one new content, first in path order first.
type Copies = Vec<(FileStat, Tags)>;

/// The file's content id (see [`ID_HEX_CHARS`]), or why it cannot be a track.
fn identify(stat: &FileStat) -> Result<TrackId, String> {
    if stat.size == 0 {
        return Err("the file is empty".into());
    }
    let mut hasher = blake3::Hasher::new();
    std::fs::File::open(&stat.path)
        .and_then(|file| hasher.update_reader(file).map(|_| ()))
        .map_err(|e| format!("cannot read the file: {e}"))?;
    Ok(TrackId(
        hasher.finalize().to_hex()[..ID_HEX_CHARS].to_string(),
    ))
}

/// Decodes and analyses each new content once (on all cores), writing results in batches as
/// they come. Workers never touch the store: only this thread does, between their results.
fn analyse_all(
    jobs: BTreeMap<TrackId, Copies>,
    store: &mut Store,
    opts: &ScanOptions,
    report: &mut ScanReport,
) -> Result<(), ScanError> {
    let total = jobs.len();
    if total == 0 {
        return Ok(());
    }
    let progress = Progress::new("analysing", total, opts);
    let cancel = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        let cancel = &cancel;
        scope.spawn(move || {
            jobs.into_par_iter().for_each_with(tx, |tx, (id, files)| {
                if cancel.load(Ordering::Relaxed) {
                    return;
                }
                let result = super::measure::analyse_file(&files[0].0.path);
                // The receiver only goes away when the scan has failed; nothing to do then.
                let _ = tx.send((id, files, result));
            });
        });
        let mut batch = Vec::new();
        let outcome = (|| {
            for (id, files, result) in rx.iter() {
                record(id, files, result, &mut batch, report, &progress);
                progress.step();
                if batch.len() >= BATCH {
                    store.apply(&std::mem::take(&mut batch))?;
                }
            }
            store.apply(&batch)
        })();
        if outcome.is_err() {
            cancel.store(true, Ordering::Relaxed);
        }
        progress.finish();
        Ok(outcome?)
    })
}

/// Turns one analysis result into file changes: the first file of the content is analysed,
/// further copies reuse it; on failure every copy fails with the same reason.
fn record(
    id: TrackId,
    files: Copies,
    result: Result<Analysis, String>,
    batch: &mut Vec<FileChange>,
    report: &mut ScanReport,
    progress: &Progress,
) {
    match result {
        Ok(analysis) => {
            for (n, (file, tags)) in files.into_iter().enumerate() {
                let id = id.clone();
                batch.push(if n == 0 {
                    report.analysed += 1;
                    FileChange::Analysed {
                        file,
                        id,
                        tags,
                        analysis: analysis.clone(),
                    }
                } else {
                    report.reused += 1;
                    FileChange::Reused { file, id, tags }
                });
            }
        }
        Err(reason) => {
            for (file, _) in files {
                progress.warn(&format!("cannot play {}: {reason}", file.path.display()));
                report.failed += 1;
                batch.push(FileChange::Failed {
                    file,
                    reason: reason.clone(),
                });
            }
        }
    }
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
