//! The library as the station sees it: an immutable snapshot of the playable tracks (a
//! `Catalog`) with its derived index (the feature space, built once per snapshot on first
//! use), and the `LiveCatalog` slot through which the scanner publishes each new snapshot.
//! A growing library replaces the snapshot; nothing ever mutates one in place, so an engine
//! holding an old snapshot keeps a consistent view until its next pick.
pub mod albums;
pub mod marks;
pub mod space;
pub mod synthetic;

use crate::model::{Track, TrackId};
use space::FeatureSpace;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock, RwLock};

/// Immutable set of playable tracks, sorted by id so that every run sees the same order.
#[derive(Default)]
pub struct Catalog {
    tracks: Vec<Arc<Track>>,
    by_id: HashMap<TrackId, usize>,
    /// The tracks as points in feature space, built on first use: a snapshot that no session
    /// walks through (say, one of many published during a scan) never pays for it.
    space: OnceLock<FeatureSpace>,
    /// How many artists and albums the snapshot holds, counted on first use.
    kinds: OnceLock<Kinds>,
}

/// How many distinct artists and albums a catalog holds (`Track::artist_key`,
/// `Track::album_key`), and whether every track has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kinds {
    pub artists: usize,
    pub every_track_has_artist: bool,
    pub albums: usize,
    pub every_track_has_album: bool,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("tracks", &self.tracks.len())
            .finish()
    }
}

impl Catalog {
    pub fn new(tracks: Vec<Track>) -> Catalog {
        Catalog::from_shared(tracks.into_iter().map(Arc::new).collect())
    }

    fn from_shared(mut tracks: Vec<Arc<Track>>) -> Catalog {
        tracks.sort_by(|a, b| a.id.cmp(&b.id));
        tracks.dedup_by(|a, b| a.id == b.id);
        let by_id = tracks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.clone(), i))
            .collect();
        Catalog {
            tracks,
            by_id,
            space: OnceLock::new(),
            kinds: OnceLock::new(),
        }
    }

    /// A new snapshot: this one without `removed`, with `added` (an added track replaces the
    /// one with the same id, e.g. with a new path or tags). Unchanged tracks are shared.
    pub fn updated(&self, added: Vec<Track>, removed: &HashSet<TrackId>) -> Catalog {
        let replaced: HashSet<TrackId> = added.iter().map(|t| t.id.clone()).collect();
        let kept = self
            .tracks
            .iter()
            .filter(|t| !removed.contains(&t.id) && !replaced.contains(&t.id))
            .cloned();
        let fresh: Vec<Arc<Track>> = added
            .into_iter()
            .filter(|t| !removed.contains(&t.id))
            .map(Arc::new)
            .collect();
        Catalog::from_shared(kept.chain(fresh).collect())
    }

    pub fn tracks(&self) -> &[Arc<Track>] {
        &self.tracks
    }
    pub fn len(&self) -> usize {
        self.tracks.len()
    }
    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }
    pub fn get(&self, id: &TrackId) -> Option<&Track> {
        self.by_id.get(id).map(|&i| &*self.tracks[i])
    }
    pub fn index_of(&self, id: &TrackId) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The feature space of this snapshot (built by the first caller, shared by all).
    pub fn space(&self) -> &FeatureSpace {
        self.space.get_or_init(|| FeatureSpace::build(self))
    }

    /// Its artists and albums (counted by the first caller, shared by all).
    pub fn kinds(&self) -> Kinds {
        *self.kinds.get_or_init(|| {
            let artists: Vec<Option<String>> = self.tracks.iter().map(|t| t.artist_key()).collect();
            let albums: Vec<Option<String>> = self.tracks.iter().map(|t| t.album_key()).collect();
            let distinct =
                |keys: &[Option<String>]| keys.iter().flatten().collect::<HashSet<_>>().len();
            Kinds {
                artists: distinct(&artists),
                every_track_has_artist: artists.iter().all(Option::is_some),
                albums: distinct(&albums),
                every_track_has_album: albums.iter().all(Option::is_some),
            }
        })
    }
}

/// The current snapshot, shared by the scanner (which publishes) and every session and
/// handler (which read). Readers take an `Arc` and never hold the lock.
#[derive(Default)]
pub struct LiveCatalog {
    current: RwLock<Arc<Catalog>>,
    /// Love, ban and the counts of every track, library-wide (see `marks`).
    pub marks: marks::MarkBook,
}

impl LiveCatalog {
    pub fn new(catalog: Catalog) -> LiveCatalog {
        LiveCatalog {
            current: RwLock::new(Arc::new(catalog)),
            marks: marks::MarkBook::default(),
        }
    }

    pub fn current(&self) -> Arc<Catalog> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn publish(&self, catalog: Catalog) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(catalog);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Analysis, Tags};
    use crate::units::{Db, Frames};

    fn track(id: &str, title: &str) -> Track {
        Track {
            id: TrackId(id.into()),
            path: format!("/m/{id}.flac").into(),
            tags: Tags {
                title: title.into(),
                ..Tags::default()
            },
            analysis: Analysis {
                duration: Frames(44_100),
                loudness: Db(-16.0),
                true_peak: Db(-1.0),
                loudness_range: 3.0,
                cue_in: Frames::ZERO,
                cue_out: Frames(44_100),
                features: None,
                ends: None,
                beats: None,
            },
        }
    }

    #[test]
    fn an_update_adds_replaces_and_removes_and_shares_the_rest() {
        let old = Catalog::new(vec![track("b", "B"), track("a", "A"), track("c", "C")]);
        let removed = HashSet::from([TrackId("c".into())]);
        let new = old.updated(vec![track("d", "D"), track("a", "A2")], &removed);
        let ids: Vec<&str> = new.tracks().iter().map(|t| t.id.0.as_str()).collect();
        assert_eq!(ids, ["a", "b", "d"]);
        assert_eq!(new.get(&TrackId("a".into())).unwrap().tags.title, "A2");
        assert_eq!(new.index_of(&TrackId("d".into())), Some(2));
        assert!(new.get(&TrackId("c".into())).is_none());
        let b = |c: &Catalog| c.tracks().iter().find(|t| t.id.0 == "b").unwrap().clone();
        assert!(
            Arc::ptr_eq(&b(&old), &b(&new)),
            "unchanged tracks are shared"
        );
        assert_eq!(old.len(), 3, "the old snapshot is untouched");
    }

    #[test]
    fn the_space_is_built_once_per_snapshot() {
        let cat = Catalog::new(vec![track("a", "A")]);
        let first: *const FeatureSpace = cat.space();
        assert!(std::ptr::eq(first, cat.space()));
    }
}
