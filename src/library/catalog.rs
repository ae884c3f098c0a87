//! A snapshot of the playable tracks, in a stable order, with lookup by id. The engine and the
//! scheduler see the library only through this.
use super::track::{Track, TrackId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

static GENERATIONS: AtomicU64 = AtomicU64::new(1);

/// Immutable set of playable tracks, sorted by id so that every run sees the same order.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    tracks: Vec<Track>,
    by_id: HashMap<TrackId, usize>,
    /// Unique per constructed catalog, so derived indexes (the feature space) can be cached
    /// and rebuilt when the library changes.
    generation: u64,
}

impl Catalog {
    pub fn new(mut tracks: Vec<Track>) -> Catalog {
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
            generation: GENERATIONS.fetch_add(1, Ordering::Relaxed),
        }
    }
    pub fn generation(&self) -> u64 {
        self.generation
    }
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }
    pub fn len(&self) -> usize {
        self.tracks.len()
    }
    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }
    pub fn get(&self, id: &TrackId) -> Option<&Track> {
        self.by_id.get(id).map(|&i| &self.tracks[i])
    }
    pub fn index_of(&self, id: &TrackId) -> Option<usize> {
        self.by_id.get(id).copied()
    }
}
