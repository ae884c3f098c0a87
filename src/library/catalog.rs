//! A snapshot of the playable tracks, in a stable order, with lookup by id. The engine and the
//! scheduler see the library only through this.
use super::track::{Track, TrackId};
use std::collections::HashMap;

/// Immutable set of playable tracks, sorted by id so that every run sees the same order.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    tracks: Vec<Track>,
    by_id: HashMap<TrackId, usize>,
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
        Catalog { tracks, by_id }
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
