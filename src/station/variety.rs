//! The variety rules of the drift walk, pure: no track again within a horizon of the session's
//! audio time (default 12 hours), no artist within the last 3 tracks, no album within the last
//! 10, and banned tracks never. When the library is too small to obey them all, they relax one
//! step at a time — the album rule first, then the artist rule, then the horizon (down to what
//! leaves a third of the library open) — so a walk never gets stuck.
pub use crate::catalog::marks::{Preferences, DEFAULT_HORIZON_SECS};
use crate::catalog::Catalog;
use crate::model::TrackId;
use serde::{Deserialize, Serialize};
use std::collections::{HashSet, VecDeque};

/// No artist again within this many tracks (the current one included).
pub const ARTIST_GAP: usize = 3;
/// No album again within this many tracks (the current one included).
pub const ALBUM_GAP: usize = 10;
/// Plays remembered at most: 12 hours of tracks 86 s long on average; a library of shorter
/// tracks gets a horizon of this many tracks instead.
pub const PLAYED_MAX: usize = 500;

/// One pick of the walk: the track and how long it was heard (s): its audible length when
/// picked, then from its start to the next track's once that starts (an overlap or a skip
/// shortens it). Newest last in the history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Played(pub TrackId, pub f32);

/// How strictly one attempt at a pick obeys the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level {
    /// The whole horizon (else only as much as leaves a third of the library open).
    pub full_horizon: bool,
    pub artist: bool,
    pub album: bool,
}

/// The levels tried in order, strictest first.
pub const LEVELS: [Level; 7] = [
    Level::new(true, true, true),
    Level::new(true, true, false),
    Level::new(true, false, false),
    Level::new(false, true, true),
    Level::new(false, true, false),
    Level::new(false, false, false),
    // Only the current track (and banned ones) excluded: a library of one or two tracks.
    Level {
        full_horizon: false,
        artist: false,
        album: false,
    },
];

impl Level {
    const fn new(full_horizon: bool, artist: bool, album: bool) -> Level {
        Level {
            full_horizon,
            artist,
            album,
        }
    }

    /// The rules this level drops (bits of [`RELAXED_ALBUM`] …), for the log.
    pub fn relaxed(self) -> u8 {
        let mut bits = 0;
        if !self.album {
            bits |= RELAXED_ALBUM;
        }
        if !self.artist {
            bits |= RELAXED_ARTIST;
        }
        if !self.full_horizon {
            bits |= RELAXED_HORIZON;
        }
        bits
    }
}

pub const RELAXED_ALBUM: u8 = 1;
pub const RELAXED_ARTIST: u8 = 2;
pub const RELAXED_HORIZON: u8 = 4;

/// Says once per walk (per rule) that a rule had to be relaxed and why. `told` is the walk's
/// record of what it already said.
pub fn tell_relaxed(told: &mut u8, level: Level, catalog: &Catalog, horizon_secs: f64) {
    let new = level.relaxed() & !*told;
    if new == 0 {
        return;
    }
    *told |= new;
    let tracks = catalog.len();
    if new & RELAXED_ALBUM != 0 {
        tracing::info!(
            tracks,
            "variety: an album may come back within {ALBUM_GAP} tracks — no near track from another album is left in this library"
        );
    }
    if new & RELAXED_ARTIST != 0 {
        tracing::info!(
            tracks,
            "variety: an artist may come back within {ARTIST_GAP} tracks — no track by another artist is left in this library"
        );
    }
    if new & RELAXED_HORIZON != 0 {
        tracing::info!(
            tracks,
            hours = horizon_secs / 3600.0,
            "variety: tracks come back sooner than the no-repeat horizon — the library holds less music than the horizon; the oldest plays are eligible again"
        );
    }
}

/// Which catalog tracks a pick may take at each level, from the walk's history.
pub struct Rules<'a> {
    catalog: &'a Catalog,
    banned: HashSet<usize>,
    current: Option<usize>,
    /// Tracks within the whole horizon / within the shortened one.
    horizon: HashSet<usize>,
    short: HashSet<usize>,
    artists: HashSet<String>,
    albums: HashSet<String>,
}

impl<'a> Rules<'a> {
    /// The rules for the pick after `current`, given the plays so far (newest last).
    pub fn new(
        catalog: &'a Catalog,
        played: &VecDeque<Played>,
        current: Option<usize>,
        prefs: &Preferences,
    ) -> Rules<'a> {
        let banned: HashSet<usize> = prefs
            .banned
            .iter()
            .filter_map(|id| catalog.index_of(id))
            .collect();
        // Newest first, the current track first of all even when the history lacks it.
        let mut newest: Vec<(usize, f64)> = Vec::new();
        if let Some(c) = current {
            if played.back().and_then(|p| catalog.index_of(&p.0)) != Some(c) {
                let secs = catalog.tracks()[c].analysis.playable().secs();
                newest.push((c, secs));
            }
        }
        newest.extend(
            played
                .iter()
                .rev()
                .filter_map(|p| catalog.index_of(&p.0).map(|i| (i, p.1 as f64))),
        );
        // A track played `gap` seconds of audio before the next pick starts is within the
        // horizon while `gap` is shorter than it.
        let mut horizon = HashSet::new();
        let mut gap = 0.0;
        for &(i, secs) in &newest {
            gap += secs;
            if gap >= prefs.horizon_secs {
                break;
            }
            horizon.insert(i);
        }
        let reachable = catalog.len().saturating_sub(banned.len());
        let open_cap = reachable * 2 / 3;
        let mut short = HashSet::new();
        for &(i, _) in &newest {
            if short.len() >= open_cap || !horizon.contains(&i) {
                break;
            }
            short.insert(i);
        }
        let track = |i: usize| &catalog.tracks()[i];
        let artists = newest
            .iter()
            .take(ARTIST_GAP)
            .filter_map(|&(i, _)| track(i).artist_key())
            .collect();
        let albums = newest
            .iter()
            .take(ALBUM_GAP)
            .filter_map(|&(i, _)| track(i).album_key())
            .collect();
        Rules {
            catalog,
            banned,
            current,
            horizon,
            short,
            artists,
            albums,
        }
    }

    /// False when no track can pass `level` because its artist or album spacing excludes
    /// every artist or album of the library (one artist's library, say): the pick goes on to
    /// the next level at once instead of searching the whole library for nothing.
    pub fn may_pass(&self, level: Level) -> bool {
        let kinds = self.catalog.kinds();
        let all_artists = kinds.every_track_has_artist && self.artists.len() >= kinds.artists;
        let all_albums = kinds.every_track_has_album && self.albums.len() >= kinds.albums;
        !((level.artist && all_artists) || (level.album && all_albums))
    }

    /// Whether catalog track `i` may be picked at `level`.
    pub fn allows(&self, level: Level, i: usize) -> bool {
        if Some(i) == self.current || self.banned.contains(&i) {
            return false;
        }
        let recent = if level.full_horizon {
            &self.horizon
        } else {
            &self.short
        };
        if recent.contains(&i) {
            return false;
        }
        let t = &self.catalog.tracks()[i];
        if level.artist && t.artist_key().is_some_and(|a| self.artists.contains(&a)) {
            return false;
        }
        if level.album && t.album_key().is_some_and(|a| self.albums.contains(&a)) {
            return false;
        }
        true
    }

    /// Tracks the horizon holds at `level` (to size a neighbour search beyond them).
    pub fn held(&self, level: Level) -> usize {
        if level.full_horizon {
            self.horizon.len() + self.banned.len()
        } else {
            self.short.len() + self.banned.len()
        }
    }

    /// Every catalog index `level` excludes (a scan of the catalog: for the rare steered pick).
    pub fn excluded(&self, level: Level) -> HashSet<usize> {
        (0..self.catalog.len())
            .filter(|&i| !self.allows(level, i))
            .collect()
    }

    /// Every catalog index `level` allows (a scan of the catalog).
    pub fn open(&self, level: Level) -> Vec<usize> {
        (0..self.catalog.len())
            .filter(|&i| self.allows(level, i))
            .collect()
    }
}

/// Appends a pick to the history, keeping at most [`PLAYED_MAX`] entries.
pub fn remember(played: &mut VecDeque<Played>, id: TrackId, secs: f32) {
    played.push_back(Played(id, secs));
    while played.len() > PLAYED_MAX {
        played.pop_front();
    }
}

#[cfg(test)]
#[path = "variety_tests.rs"]
mod tests;
