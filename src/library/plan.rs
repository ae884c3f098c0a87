//! The first, fast pass of a scan: walk the library folders, compare every file's size and
//! mtime with the store, and decide what to do — nothing (unchanged), record a removal, link a
//! moved or copied file to the track it already is, or analyse it. Reading whole files is
//! left to the analysis workers, except for moves: a new file whose size matches a file that
//! disappeared (or an existing one) is hashed now, so a rename is applied in the same
//! transaction as the removal of its old path and the track never leaves the catalog. An
//! unchanged file whose tags an older Drift read (an older
//! [`TAGS_VERSION`](crate::model::TAGS_VERSION)) has them read again here: a look at its
//! headers, not an analysis.
use super::tags::read_tags;
use super::walk::{walk, Found};
use crate::model::TrackId;
use crate::store::{FileChange, FileRecord, FileStat, Store, StoreError};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Hex characters of the blake3 content hash kept as the [`TrackId`]: 128 bits, plenty to
/// never collide in one library, short enough for URLs.
pub const ID_HEX_CHARS: usize = 32;

/// A file to analyse, and its content id when already known (an unchanged file whose track
/// needs analysing again, or one hashed while planning).
#[derive(Clone, Debug)]
pub struct Job {
    pub file: FileStat,
    pub id: Option<TrackId>,
    /// The track the file pointed at before (its old content), to leave the catalog.
    pub was: Option<TrackId>,
}

/// What the walk and the comparison found.
#[derive(Debug, Default)]
pub struct Plan {
    /// The library folders as absolute, resolved paths.
    pub roots: Vec<PathBuf>,
    /// Audio files seen (including those whose name cannot be stored).
    pub seen: usize,
    pub unchanged: usize,
    /// Of the unchanged files, those whose tags were read again (written as `Reused`).
    pub retagged: usize,
    /// Written at once, in one transaction: removals, moves and copies, failures found while
    /// planning, and every file still to analyse recorded as pending.
    pub changes: Vec<FileChange>,
    /// Tracks that may have lost their last file (the catalog drops those that did).
    pub touched: Vec<TrackId>,
    pub removed: usize,
    pub reused: usize,
    /// Folders (or files) the walk could not read: their audio is neither found nor removed.
    pub unreadable: Vec<PathBuf>,
    pub failed: usize,
    /// Files to analyse, spread over the library (see [`spread`]).
    pub jobs: Vec<Job>,
}

/// A new file, the track its path held before, and its content id if it was hashed now.
type Candidate = (FileStat, Option<TrackId>, Option<Result<TrackId, String>>);

/// Why planning stopped.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A library folder is missing or unreadable. The scan refuses to run rather than treat
    /// every file in it as deleted (an unmounted drive is not an empty library).
    #[error("cannot read the library folder {path}")]
    Library {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the store")]
    Store(#[from] StoreError),
}

/// Walks `roots` and compares what is there with the store.
pub fn plan(roots: &[PathBuf], store: &Store) -> Result<Plan, PlanError> {
    let (roots, found) = find_files(roots)?;
    let known: HashMap<PathBuf, FileRecord> = store
        .files()?
        .into_iter()
        .map(|f| (f.stat.path.clone(), f))
        .collect();
    // Tracks analysed completely; those analysed by an older Drift (no features, or features
    // of an older version) are analysed again even where their files have not changed.
    let analysed = store.analysed_ids()?;
    let old_tags = store.tracks_with_old_tags()?;
    let mut plan = Plan {
        roots,
        seen: found.files.len() + found.unnamable.len(),
        ..Plan::default()
    };
    for path in &found.unnamable {
        let file = FileStat {
            path: PathBuf::from(path.to_string_lossy().into_owned()),
            size: 0,
            mtime_ns: 0,
        };
        if known.get(&file.path).is_some_and(|k| k.error.is_some()) {
            plan.unchanged += 1;
            continue;
        }
        tracing::warn!(
            "cannot play {}: the file name is not valid UTF-8",
            path.display()
        );
        plan.failed += 1;
        plan.changes.push(FileChange::Failed {
            file,
            reason: "the file name is not valid UTF-8 (rename the file to play it)".into(),
        });
    }
    let lossy: HashSet<PathBuf> = found
        .unnamable
        .iter()
        .map(|p| PathBuf::from(p.to_string_lossy().into_owned()))
        .collect();

    // Gone from disk, unless under a folder that could not be read this time (a folder that
    // went away mid-walk is not a deletion) or a root that vanished since the walk.
    let gone: Vec<&FileRecord> = known
        .values()
        .filter(|k| !found.files.contains_key(&k.stat.path) && !lossy.contains(&k.stat.path))
        .filter(|k| !found.unreadable.iter().any(|d| k.stat.path.starts_with(d)))
        .collect();
    let mut new_files = Vec::new();
    let mut retag = Vec::new();
    for stat in found.files.into_values() {
        match known.get(&stat.path) {
            Some(k) if k.stat == stat => match &k.track_id {
                Some(id) if analysed.contains(id) => {
                    plan.unchanged += 1;
                    if old_tags.contains(id) {
                        retag.push((stat, id.clone()));
                    }
                }
                Some(id) => plan.jobs.push(Job {
                    file: stat,
                    id: Some(id.clone()),
                    was: None,
                }),
                None if k.error.is_some() => plan.unchanged += 1,
                None => plan.jobs.push(Job {
                    file: stat,
                    id: None,
                    was: None,
                }),
            },
            k => new_files.push((stat, k.and_then(|k| k.track_id.clone()))),
        }
    }
    plan.unreadable = found.unreadable.clone();
    if plan.roots.iter().any(|r| !r.is_dir()) {
        return Err(PlanError::Library {
            path: plan
                .roots
                .iter()
                .find(|r| !r.is_dir())
                .cloned()
                .unwrap_or_default(),
            source: std::io::Error::other("the folder went away during the scan"),
        });
    }
    for k in &gone {
        plan.changes.push(FileChange::Removed {
            path: k.stat.path.clone(),
        });
        plan.touched.extend(k.track_id.clone());
    }
    plan.removed = gone.len();
    retag_tracks(&mut plan, retag);

    // A new file as long as one that went away or one still there may be a move or a copy.
    let sizes: HashSet<u64> = known.values().map(|k| k.stat.size).collect();
    let hashed: Vec<Candidate> = new_files
        .into_par_iter()
        .map(|(stat, was)| {
            let id = sizes.contains(&stat.size).then(|| identify(&stat));
            (stat, was, id)
        })
        .collect();
    for (file, was, id) in hashed {
        plan.touched.extend(was.clone());
        match id {
            Some(Ok(id)) if analysed.contains(&id) => {
                plan.reused += 1;
                let tags = read_tags(&file.path);
                plan.touched.push(id.clone());
                plan.changes.push(FileChange::Reused { file, id, tags });
            }
            Some(Err(reason)) => {
                tracing::warn!("cannot play {}: {reason}", file.path.display());
                plan.failed += 1;
                plan.changes.push(FileChange::Failed { file, reason });
            }
            id => {
                plan.changes
                    .push(FileChange::Pending { file: file.clone() });
                plan.jobs.push(Job {
                    file,
                    id: id.and_then(Result::ok),
                    was,
                });
            }
        }
    }
    spread(&mut plan.jobs);
    Ok(plan)
}

/// Reads again the tags of `files` (unchanged, of analysed tracks whose tags an older Drift
/// read), one file per track: the first path, the one the track is shown with.
fn retag_tracks(plan: &mut Plan, mut files: Vec<(FileStat, TrackId)>) {
    files.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    let mut seen = HashSet::new();
    files.retain(|(_, id)| seen.insert(id.clone()));
    let tagged: Vec<_> = files
        .into_par_iter()
        .map(|(file, id)| (read_tags(&file.path), file, id))
        .collect();
    plan.retagged = tagged.len();
    for (tags, file, id) in tagged {
        plan.touched.push(id.clone());
        plan.changes.push(FileChange::Reused { file, id, tags });
    }
}

/// Orders jobs by a hash of their path: the first tracks ready come from all over the library
/// (a radio that starts on twenty tracks of one album is not much of a radio), and the order
/// is the same on every run, so a scan resumed after a restart goes on where it stopped.
fn spread(jobs: &mut [Job]) {
    let key = |j: &Job| {
        let h = blake3::hash(j.file.path.as_os_str().as_encoded_bytes());
        u64::from_le_bytes(h.as_bytes()[..8].try_into().expect("8 bytes"))
    };
    jobs.sort_by_cached_key(key);
}

/// Walks every library folder. Each must be an existing folder (see [`PlanError::Library`]);
/// paths are made absolute so the store does not depend on the working directory.
fn find_files(libraries: &[PathBuf]) -> Result<(Vec<PathBuf>, Found), PlanError> {
    let mut found = Found::default();
    let mut roots = Vec::new();
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
            .map_err(|source| PlanError::Library {
                path: root.clone(),
                source,
            })?;
        walk(&root, &mut found);
        roots.push(root);
    }
    Ok((roots, found))
}

/// The file's content id (see [`ID_HEX_CHARS`]), or why it cannot be a track.
pub fn identify(stat: &FileStat) -> Result<TrackId, String> {
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

/// The library folder `path` lies in, if any.
pub fn root_of<'a>(roots: &'a [PathBuf], path: &Path) -> Option<&'a PathBuf> {
    roots.iter().find(|r| path.starts_with(r))
}
