//! The second pass of a scan: analyse the planned files on a pool of threads while this thread
//! writes their results in batches and, after each batch, publishes the grown catalog and the
//! new counts. Music starts with the first tracks analysed and the library grows under it.
//! Beside the pool, one thread reads every planned file's headers (tags, stated length) — the
//! cheap part of the first pass, done alongside so it never delays the first music.
//! Workers never touch the store: only the writer does, between their results.
use super::measure::analyse_file;
use super::plan::{identify, root_of, Job};
use super::progress::Progress;
use super::scan::{ScanError, ScanReport};
use super::status::{LibraryProgress, Phase};
use super::tags::{read_header, read_tags};
use crate::catalog::LiveCatalog;
use crate::model::{Analysis, Tags, TrackId};
use crate::store::{FileChange, Store};
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, RwLock};
use std::time::{Duration, Instant};

/// Results written per transaction at most: a crash loses at most this much work.
const BATCH: usize = 16;
/// Results wait at most this long before they are written and published.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Where a scan reports to, besides the store: the catalog sessions draw from, the progress
/// board, and a flag that asks it to stop after the files in hand (a change on disk, shutdown).
#[derive(Clone, Copy, Default)]
pub struct Hooks<'a> {
    pub catalog: Option<&'a LiveCatalog>,
    pub status: Option<&'a LibraryProgress>,
    pub interrupt: Option<&'a AtomicBool>,
}

/// What a worker made of one file.
enum Outcome {
    Analysed(Job, TrackId, Tags, Analysis),
    /// Its content is a track already analysed (a copy, or analysed meanwhile).
    Reused(Job, TrackId, Tags),
    Failed(Job, String),
    /// The file went away before it could be read.
    Gone(Job),
    /// What the file's headers say (not a result: the file is still to analyse).
    Described(PathBuf, Tags, Option<crate::units::Frames>),
}

/// Analyses `jobs` on `threads` threads (0: one per core), writing as results come.
pub(super) fn run(
    jobs: Vec<Job>,
    roots: &[PathBuf],
    store: &mut Store,
    threads: usize,
    hooks: Hooks<'_>,
    progress: &Progress,
    report: &mut ScanReport,
) -> Result<(), ScanError> {
    if jobs.is_empty() {
        return Ok(());
    }
    if let Some(s) = hooks.status {
        s.set_phase(Phase::Analysing);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("analysis-{i}"))
        .build()
        .map_err(|e| ScanError::Threads(e.to_string()))?;
    let analysed = RwLock::new(store.analysed_ids()?);
    let cancel = AtomicBool::new(false);
    let stop = || {
        cancel.load(Ordering::Relaxed) || hooks.interrupt.is_some_and(|i| i.load(Ordering::Relaxed))
    };
    let (tx, rx) = mpsc::channel();
    let total = jobs.len();
    let unread: Vec<PathBuf> = jobs
        .iter()
        .filter(|j| j.id.is_none())
        .map(|j| j.file.path.clone())
        .collect();
    std::thread::scope(|scope| {
        let (analysed, stop) = (&analysed, &stop);
        let pool = &pool;
        let headers = tx.clone();
        scope.spawn(move || {
            for path in unread {
                if stop() {
                    return;
                }
                let h = read_header(&path);
                if headers
                    .send(Outcome::Described(path, h.tags, h.duration))
                    .is_err()
                {
                    return;
                }
            }
        });
        scope.spawn(move || {
            pool.install(|| {
                jobs.into_par_iter().for_each_with(tx, |tx, job| {
                    if stop() {
                        return;
                    }
                    // The receiver only goes away when the scan has failed; nothing to do then.
                    let _ = tx.send(work(job, analysed));
                });
            });
        });
        let mut writer = Writer {
            store,
            hooks,
            batch: Vec::new(),
            touched: Vec::new(),
            last_flush: Instant::now(),
        };
        let outcome = (|| {
            let mut done = 0;
            loop {
                match rx.recv_timeout(FLUSH_EVERY / 4) {
                    Ok(Outcome::Described(path, tags, duration)) => {
                        writer.batch.push(FileChange::Described {
                            path,
                            tags,
                            duration,
                        });
                    }
                    Ok(result) => {
                        done += 1;
                        progress.step();
                        writer.take(result, roots, report, progress, analysed)?;
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
                let first = hooks.catalog.is_some_and(|c| c.current().is_empty());
                // The very first track goes out at once (nothing plays until it does); headers
                // alone wait for a full batch or the next second.
                if writer.batch.len() >= BATCH
                    || (first && !writer.touched.is_empty())
                    || (!writer.batch.is_empty() && writer.last_flush.elapsed() >= FLUSH_EVERY)
                {
                    writer.flush()?;
                }
            }
            report.pending = total - done;
            writer.flush()
        })();
        if outcome.is_err() {
            cancel.store(true, Ordering::Relaxed);
        }
        outcome
    })
}

/// Identifies and analyses one file.
fn work(job: Job, analysed: &RwLock<HashSet<TrackId>>) -> Outcome {
    let path = job.file.path.clone();
    let id = match job.id.clone().map_or_else(|| identify(&job.file), Ok) {
        Ok(id) => id,
        Err(_) if !path.exists() => return Outcome::Gone(job),
        Err(reason) => return Outcome::Failed(job, reason),
    };
    let tags = read_tags(&path);
    let known = analysed
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&id);
    if known {
        return Outcome::Reused(job, id, tags);
    }
    match analyse_file(&path) {
        Ok(analysis) => Outcome::Analysed(job, id, tags, analysis),
        Err(_) if !path.exists() => Outcome::Gone(job),
        Err(reason) => Outcome::Failed(job, reason),
    }
}

struct Writer<'a, 'h> {
    store: &'a mut Store,
    hooks: Hooks<'h>,
    batch: Vec<FileChange>,
    /// Tracks the batch adds, changes or may have emptied.
    touched: Vec<TrackId>,
    last_flush: Instant,
}

impl Writer<'_, '_> {
    fn take(
        &mut self,
        outcome: Outcome,
        roots: &[PathBuf],
        report: &mut ScanReport,
        progress: &Progress,
        analysed: &RwLock<HashSet<TrackId>>,
    ) -> Result<(), ScanError> {
        match outcome {
            Outcome::Analysed(job, id, tags, analysis) => {
                report.analysed += 1;
                self.touched.extend(job.was);
                self.touched.push(id.clone());
                analysed
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(id.clone());
                self.batch.push(FileChange::Analysed {
                    file: job.file,
                    id,
                    tags,
                    analysis,
                });
            }
            Outcome::Reused(job, id, tags) => {
                report.reused += 1;
                self.touched.extend(job.was);
                self.touched.push(id.clone());
                self.batch.push(FileChange::Reused {
                    file: job.file,
                    id,
                    tags,
                });
            }
            Outcome::Failed(job, reason) => {
                progress.warn(&format!(
                    "cannot play {}: {reason}",
                    job.file.path.display()
                ));
                report.failed += 1;
                self.touched.extend(job.was);
                self.batch.push(FileChange::Failed {
                    file: job.file,
                    reason,
                });
            }
            Outcome::Described(..) => {}
            Outcome::Gone(job) => {
                if let Some(root) = root_of(roots, &job.file.path).filter(|r| !r.is_dir()) {
                    // The whole folder went away (unmounted): stop, and keep what the store
                    // knows until it is back.
                    return Err(ScanError::Library {
                        path: root.clone(),
                        source: std::io::Error::other("the folder went away during the scan"),
                    });
                }
                report.removed += 1;
                self.touched.extend(job.was);
                self.batch.push(FileChange::Removed {
                    path: job.file.path,
                });
            }
        }
        Ok(())
    }

    /// Writes the batch, then publishes the catalog and the counts it changed.
    fn flush(&mut self) -> Result<(), ScanError> {
        self.last_flush = Instant::now();
        if self.batch.is_empty() {
            return Ok(());
        }
        self.store.apply(&std::mem::take(&mut self.batch))?;
        let touched = std::mem::take(&mut self.touched);
        publish(self.store, self.hooks, &touched)
    }
}

/// Brings the published catalog and the progress board up to date after `touched` tracks
/// changed in the store: each is added (or replaced) if it still plays, dropped if not.
pub(super) fn publish(
    store: &Store,
    hooks: Hooks<'_>,
    touched: &[TrackId],
) -> Result<(), ScanError> {
    let mut tracks = hooks.catalog.map(|c| c.current().len()).unwrap_or(0);
    if let Some(live) = hooks.catalog.filter(|_| !touched.is_empty()) {
        let mut ids = touched.to_vec();
        ids.sort();
        ids.dedup();
        let playing = store.tracks_by_ids(&ids)?;
        let present: HashSet<&TrackId> = playing.iter().map(|t| &t.id).collect();
        let removed: HashSet<TrackId> = ids
            .iter()
            .filter(|id| !present.contains(id))
            .cloned()
            .collect();
        let next = live.current().updated(playing, &removed);
        tracks = next.len();
        live.publish(next);
    }
    if let Some(status) = hooks.status {
        status.set_counts(store.file_counts()?, tracks);
    }
    Ok(())
}
