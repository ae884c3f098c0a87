//! The drift walk: the next track is a near neighbour of the current one in feature space that
//! obeys the variety rules (see `variety`: no repeat within hours, no artist or album again
//! soon, never a banned track), chosen with a little seeded randomness (loved tracks weigh
//! more), and biased by momentum — the walk keeps drifting the way it was going until the
//! listener steers it elsewhere.
//! Its whole state is plain data, so a checkpoint carries it and a rebuilt engine continues.
use super::directions::{candidates_where, Direction};
use super::variety::{remember, tell_relaxed, Level, Played, Preferences, Rules, LEVELS};
use crate::catalog::space::{dist2, FeatureSpace, Point, DIMS};
use crate::catalog::Catalog;
use crate::model::TrackId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;

/// Neighbours considered for an unsteered pick.
const CHOICES: usize = 8;
/// Neighbours asked of the index at most before a pick scans the whole library for the
/// nearest tracks the rules allow.
const PROBE_MAX: usize = 4096;
/// How strongly the last step keeps the heading (the rest comes from the new step).
const MOMENTUM: f32 = 0.6;
/// Length of the heading: how far ahead of the current track the walk aims.
const HEADING: f32 = 0.5;
/// Temperature of the random choice among neighbours (squared-distance units).
const TEMPERATURE: f32 = 0.5;
/// How much more likely a loved neighbour is picked than another at the same distance.
pub const LOVED_WEIGHT: f32 = 4.0;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WalkState {
    pub seed: u64,
    /// Picks made so far (each pick draws from its own seeded generator).
    pub picks: u64,
    /// Momentum, in the space's weighted units (empty until the first step).
    pub heading: Vec<f32>,
    /// What an older Drift remembered (ids only); read once into `played`, never written.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub recent: VecDeque<TrackId>,
    /// Every pick with its audible length (s), newest last, at most `variety::PLAYED_MAX`:
    /// the variety rules look back through it. Shared by the checkpoints that hold it (a
    /// pick copies it once).
    #[serde(default)]
    pub played: Arc<VecDeque<Played>>,
    /// Rules this walk already said it relaxed (bits of `variety::RELAXED_*`).
    #[serde(default)]
    pub told: u8,
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

    /// The plays so far, newest last (an older Drift's ids count as tracks of 3 minutes).
    pub fn history(&self) -> &VecDeque<Played> {
        &self.played
    }

    /// Sets the length of the latest play of `id` to what was heard of it: from its start to
    /// the next track's (a skip or an overlap makes that shorter than the track), so the
    /// no-repeat horizon counts the session's audio, not the tracks' lengths.
    pub fn heard(&mut self, id: &TrackId, secs: f32) {
        if let Some(i) = self.played.iter().rposition(|p| &p.0 == id) {
            if self.played[i].1 != secs {
                Arc::make_mut(&mut self.played)[i].1 = secs;
            }
        }
    }

    /// Forgets the latest pick of `id` (planned, then replaced before it played).
    pub fn retract(&mut self, id: &TrackId) {
        if let Some(i) = self.played.iter().rposition(|p| &p.0 == id) {
            Arc::make_mut(&mut self.played).remove(i);
        }
    }

    /// The next track after `last` with no preferences but the default horizon.
    pub fn next(&mut self, catalog: &Catalog, last: Option<&TrackId>) -> Option<TrackId> {
        self.next_with(catalog, last, &Preferences::default())
    }

    /// The next track after `last`: the queued one, or a near neighbour that obeys the variety
    /// rules and `prefs` (bans, loves, horizon).
    pub fn next_with(
        &mut self,
        catalog: &Catalog,
        last: Option<&TrackId>,
        prefs: &Preferences,
    ) -> Option<TrackId> {
        if catalog.is_empty() {
            return None;
        }
        if !self.recent.is_empty() {
            let old = std::mem::take(&mut self.recent);
            let played = Arc::make_mut(&mut self.played);
            for id in old {
                remember(played, id, 180.0);
            }
        }
        let current = last.and_then(|id| catalog.index_of(id));
        let space = catalog.space();
        let pick = match self.queued.take().and_then(|id| catalog.index_of(&id)) {
            Some(i) => i,
            None => self.choose(catalog, space, current, prefs),
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
        let track = &catalog.tracks()[pick];
        let secs = track.analysis.playable().secs() as f32;
        remember(Arc::make_mut(&mut self.played), track.id.clone(), secs);
        Some(track.id.clone())
    }

    /// The catalog index of the next track (without recording it): at the strictest level of
    /// the variety rules any track passes, a near neighbour of where the walk is heading.
    fn choose(
        &mut self,
        catalog: &Catalog,
        space: &FeatureSpace,
        current: Option<usize>,
        prefs: &Preferences,
    ) -> usize {
        let rules = Rules::new(catalog, &self.played, current, prefs);
        let mut rng = self.rng();
        for level in LEVELS.into_iter().filter(|&l| rules.may_pass(l)) {
            if let Some(i) = self.choose_at(catalog, space, current, prefs, &rules, level, &mut rng)
            {
                tell_relaxed(&mut self.told, level, catalog, prefs.horizon_secs);
                return i;
            }
        }
        // Everything is banned: play on rather than fall silent.
        let open: Vec<usize> = (0..catalog.len()).filter(|&i| Some(i) != current).collect();
        match open.len() {
            0 => current.unwrap_or(0),
            n => open[rng.gen_range(0..n)],
        }
    }

    /// A pick that obeys `level`, or `None` when no track in the library does.
    #[allow(clippy::too_many_arguments)]
    fn choose_at(
        &self,
        catalog: &Catalog,
        space: &FeatureSpace,
        current: Option<usize>,
        prefs: &Preferences,
        rules: &Rules,
        level: Level,
        rng: &mut ChaCha8Rng,
    ) -> Option<usize> {
        let origin = current.and_then(|c| space.point(c));
        let Some(origin) = origin else {
            // No features to walk by (not analysed yet): any track the rules allow.
            let open = rules.open(level);
            return (!open.is_empty()).then(|| open[rng.gen_range(0..open.len())]);
        };
        let from = current.expect("a point implies a current track");
        if let Some(dir) = self.steer {
            let excluded = |i: usize| !rules.allows(level, i);
            let found = candidates_where(space, from, dir, excluded, rules.held(level), 3);
            if !found.is_empty() {
                return Some(found[rng.gen_range(0..found.len())]);
            }
        }
        let target: Point =
            std::array::from_fn(|d| origin[d] + self.heading.get(d).copied().unwrap_or(0.0));
        let near = nearest_allowed(space, &target, rules, level);
        if near.is_empty() {
            // No track with features passes: one without features may.
            let open: Vec<usize> = rules
                .open(level)
                .into_iter()
                .filter(|&i| space.point(i).is_none())
                .collect();
            return (!open.is_empty()).then(|| open[rng.gen_range(0..open.len())]);
        }
        let best = near[0].1;
        let weights: Vec<f32> = near
            .iter()
            .map(|&(i, d)| {
                let loved = prefs.loved.contains(&catalog.tracks()[i].id);
                (-(d - best) / TEMPERATURE).exp() * if loved { LOVED_WEIGHT } else { 1.0 }
            })
            .collect();
        let mut x = rng.gen::<f32>() * weights.iter().sum::<f32>();
        for (k, w) in weights.iter().enumerate() {
            if x < *w {
                return Some(near[k].0);
            }
            x -= w;
        }
        Some(near[near.len() - 1].0)
    }
}

/// The [`CHOICES`] tracks nearest `target` that `level` allows, nearest first, as (catalog
/// index, squared distance). The search widens step by step (doubling the neighbours asked
/// for) so that rules excluding the nearest tracks move the pick only as far as it must.
fn nearest_allowed(
    space: &FeatureSpace,
    target: &Point,
    rules: &Rules,
    level: Level,
) -> Vec<(usize, f32)> {
    let total = space.len();
    let mut k = (CHOICES * 2 + rules.held(level)).min(total);
    loop {
        let near: Vec<(usize, f32)> = space
            .nearest(target, k)
            .into_iter()
            .filter(|&(i, _)| rules.allows(level, i))
            .take(CHOICES)
            .collect();
        if near.len() >= CHOICES || k >= total {
            return near;
        }
        if k >= PROBE_MAX {
            break;
        }
        k = (k * 2).min(total);
    }
    // The rules exclude most of a large neighbourhood: scan every track once.
    let mut all: Vec<(usize, f32)> = space
        .members()
        .filter(|&(i, _)| rules.allows(level, i))
        .map(|(i, p)| (i, dist2(p, target)))
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    all.truncate(CHOICES);
    all
}

#[cfg(test)]
#[path = "walk_tests.rs"]
mod tests;
