//! The drift walk: the next track is a near neighbour of the current one in feature space,
//! never one heard recently, chosen with a little seeded randomness, and biased by momentum —
//! the walk keeps drifting the way it was going until the listener steers it elsewhere.
//! Its whole state is plain data, so a checkpoint carries it and a rebuilt engine continues.
use super::directions::{candidates, Direction};
use crate::catalog::space::{FeatureSpace, Point, DIMS};
use crate::catalog::Catalog;
use crate::model::TrackId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{HashSet, VecDeque};

/// Longest no-repeat window (tracks); small libraries use two thirds of their size.
pub const RECENT_MAX: usize = 50;
/// Neighbours considered for an unsteered pick.
const CHOICES: usize = 8;
/// How strongly the last step keeps the heading (the rest comes from the new step).
const MOMENTUM: f32 = 0.6;
/// Length of the heading: how far ahead of the current track the walk aims.
const HEADING: f32 = 0.5;
/// Temperature of the random choice among neighbours (squared-distance units).
const TEMPERATURE: f32 = 0.5;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WalkState {
    pub seed: u64,
    /// Picks made so far (each pick draws from its own seeded generator).
    pub picks: u64,
    /// Momentum, in the space's weighted units (empty until the first step).
    pub heading: Vec<f32>,
    /// Recently picked tracks, newest last: none of them is picked again.
    pub recent: VecDeque<TrackId>,
    /// The listener's steer, applied to the next pick (then the heading keeps it).
    pub steer: Option<Direction>,
    /// A track the listener asked for explicitly: the next pick.
    pub queued: Option<TrackId>,
    /// An album or a journey the owner asked for: its tracks come before the walk's own picks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<super::plan_queue::Plan>,
}

impl WalkState {
    pub fn new(seed: u64) -> WalkState {
        WalkState {
            seed,
            ..WalkState::default()
        }
    }

    fn rng(&self) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(self.seed ^ self.picks.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// Catalog indices not to pick now: the no-repeat window and the current track.
    pub fn excluded(&self, catalog: &Catalog, current: Option<usize>) -> HashSet<usize> {
        let window = RECENT_MAX.min(catalog.len() * 2 / 3);
        let mut out: HashSet<usize> = self
            .recent
            .iter()
            .rev()
            .take(window)
            .filter_map(|id| catalog.index_of(id))
            .collect();
        out.extend(current);
        out
    }

    pub fn next(&mut self, catalog: &Catalog, last: Option<&TrackId>) -> Option<TrackId> {
        if catalog.is_empty() {
            return None;
        }
        let current = last.and_then(|id| catalog.index_of(id));
        let space = catalog.space();
        let pick = match self.queued.take().and_then(|id| catalog.index_of(&id)) {
            Some(i) => i,
            None => self.choose(catalog, space, current),
        };
        if let (Some(from), Some(to)) = (current.and_then(|c| space.point(c)), space.point(pick)) {
            let step: Point = std::array::from_fn(|d| to[d] - from[d]);
            let old: Point = if self.heading.len() == DIMS {
                std::array::from_fn(|d| self.heading[d])
            } else {
                [0.0; DIMS]
            };
            let mixed: Point = match self.steer.take() {
                Some(dir) => dir.vector(),
                None => std::array::from_fn(|d| MOMENTUM * old[d] + (1.0 - MOMENTUM) * step[d]),
            };
            let len = mixed.iter().map(|v| v * v).sum::<f32>().sqrt();
            self.heading = if len > 1e-6 {
                mixed.iter().map(|v| v / len * HEADING).collect()
            } else {
                Vec::new()
            };
        }
        self.steer = None;
        self.picks += 1;
        let id = catalog.tracks()[pick].id.clone();
        self.recent.push_back(id.clone());
        while self.recent.len() > RECENT_MAX {
            self.recent.pop_front();
        }
        Some(id)
    }

    /// The catalog index of the next track (without recording it).
    fn choose(&self, catalog: &Catalog, space: &FeatureSpace, current: Option<usize>) -> usize {
        let exclude = self.excluded(catalog, current);
        let mut rng = self.rng();
        let origin = current.and_then(|c| space.point(c));
        let Some(origin) = origin else {
            // No features to walk by (not analysed yet): any track outside the window.
            let open: Vec<usize> = (0..catalog.len())
                .filter(|i| !exclude.contains(i))
                .collect();
            return match open.len() {
                0 => current.unwrap_or(0),
                n => open[rng.gen_range(0..n)],
            };
        };
        let from = current.expect("a point implies a current track");
        if let Some(dir) = self.steer {
            let found = candidates(space, from, dir, &exclude, 3);
            if !found.is_empty() {
                return found[rng.gen_range(0..found.len())];
            }
        }
        let target: Point =
            std::array::from_fn(|d| origin[d] + self.heading.get(d).copied().unwrap_or(0.0));
        let near: Vec<(usize, f32)> = space
            .nearest(&target, CHOICES + exclude.len())
            .into_iter()
            .filter(|(i, _)| !exclude.contains(i))
            .take(CHOICES)
            .collect();
        if near.is_empty() {
            // Everything with features is in the window: fall back to any other track.
            let open: Vec<usize> = (0..catalog.len())
                .filter(|i| !exclude.contains(i))
                .collect();
            return if open.is_empty() {
                from
            } else {
                open[rng.gen_range(0..open.len())]
            };
        }
        let best = near[0].1;
        let weights: Vec<f32> = near
            .iter()
            .map(|(_, d)| (-(d - best) / TEMPERATURE).exp())
            .collect();
        let mut x = rng.gen::<f32>() * weights.iter().sum::<f32>();
        for (k, w) in weights.iter().enumerate() {
            if x < *w {
                return near[k].0;
            }
            x -= w;
        }
        near[near.len() - 1].0
    }
}

#[cfg(test)]
#[path = "walk_tests.rs"]
mod tests;
