//! Picks the next track: the drift walk (by how tracks sound, see `walk`) or a shuffle without
//! repeats until the library is exhausted. The state is plain data, so a checkpoint can carry
//! it and resume the same sequence.
use super::directions::Direction;
use super::plan_queue::{self, Plan};
use super::variety::Preferences;
use super::walk::WalkState;
use crate::catalog::Catalog;
use crate::model::TrackId;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Everything needed to continue a scheduler's sequence exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SchedulerState {
    /// Round `round` is a seeded permutation of the catalog; `index` picks were made from it.
    /// `swap_first` is set when the round's first track is the one that just played: the first
    /// two then swap, so a round boundary never repeats a track back to back.
    Shuffle {
        seed: u64,
        round: u64,
        index: usize,
        #[serde(default)]
        swap_first: bool,
    },
    /// The drift walk through feature space.
    Drift(WalkState),
}

/// The track picker. An enum so that later pickers (the similarity walk) slot in beside it.
#[derive(Clone, Debug)]
pub struct Scheduler {
    state: SchedulerState,
    /// The station's bans, loves and horizon (not part of the state: read fresh each pick).
    prefs: Arc<Preferences>,
}

impl Scheduler {
    pub fn shuffle(seed: u64) -> Scheduler {
        Scheduler {
            state: SchedulerState::Shuffle {
                seed,
                round: 0,
                index: 0,
                swap_first: false,
            },
            prefs: Arc::default(),
        }
    }

    /// The drift walk: near neighbours, momentum, steerable; deterministic for a seed.
    pub fn drift(seed: u64) -> Scheduler {
        Scheduler {
            state: SchedulerState::Drift(WalkState::new(seed)),
            prefs: Arc::default(),
        }
    }

    /// The next pick goes `dir` (and the walk keeps heading that way). False for a shuffle.
    pub fn steer(&mut self, dir: Direction) -> bool {
        match &mut self.state {
            SchedulerState::Drift(w) => {
                w.steer = Some(dir);
                plan_queue::on_steer(w);
                true
            }
            SchedulerState::Shuffle { .. } => false,
        }
    }

    /// The next pick is `id`. False for a shuffle.
    pub fn queue(&mut self, id: TrackId) -> bool {
        match &mut self.state {
            SchedulerState::Drift(w) => {
                w.queued = Some(id);
                plan_queue::on_steer(w);
                true
            }
            SchedulerState::Shuffle { .. } => false,
        }
    }

    /// Plays `plan` (an album, a journey) from the next pick on; `None` cancels the plan and
    /// the walk goes on from where it is. False for a shuffle.
    pub fn plan(&mut self, plan: Option<Plan>) -> bool {
        match &mut self.state {
            SchedulerState::Drift(w) => {
                w.plan = plan;
                true
            }
            SchedulerState::Shuffle { .. } => false,
        }
    }

    /// The album or journey being played, if any.
    pub fn planned(&self) -> Option<&Plan> {
        match &self.state {
            SchedulerState::Drift(w) => w.plan.as_ref(),
            SchedulerState::Shuffle { .. } => None,
        }
    }

    /// Forgets the pick of `id` (it was planned but replaced before it played), so the
    /// no-repeat window does not hold a track nobody heard.
    pub fn retract(&mut self, id: &TrackId) {
        if let SchedulerState::Drift(w) = &mut self.state {
            plan_queue::on_retract(w, id);
            w.retract(id);
        }
    }

    /// `secs` of the latest play of `id` were heard before the next track started (see
    /// `WalkState::heard`).
    pub fn heard(&mut self, id: &TrackId, secs: f64) {
        if let SchedulerState::Drift(w) = &mut self.state {
            w.heard(id, secs as f32);
        }
    }

    pub fn from_state(state: SchedulerState) -> Scheduler {
        Scheduler {
            state,
            prefs: Arc::default(),
        }
    }

    /// The station's bans, loves and no-repeat horizon, for the picks from now on.
    pub fn set_prefs(&mut self, prefs: Arc<Preferences>) {
        self.prefs = prefs;
    }
    pub fn prefs(&self) -> &Arc<Preferences> {
        &self.prefs
    }

    pub fn state(&self) -> SchedulerState {
        self.state.clone()
    }

    /// The next track to play after `last`, or `None` for an empty catalog.
    pub fn next(&mut self, catalog: &Catalog, last: Option<&TrackId>) -> Option<TrackId> {
        if catalog.is_empty() {
            return None;
        }
        let (seed, round, index, swap_first) = match &mut self.state {
            SchedulerState::Drift(w) => {
                plan_queue::before_pick(w, catalog, last, &self.prefs);
                let pick = w.next_with(catalog, last, &self.prefs)?;
                plan_queue::after_pick(w, catalog, &pick, &self.prefs);
                return Some(pick);
            }
            SchedulerState::Shuffle {
                seed,
                round,
                index,
                swap_first,
            } => (seed, round, index, swap_first),
        };
        if *index >= catalog.len() {
            *round += 1;
            *index = 0;
            let first = permutation(*seed, *round, catalog.len(), false)[0];
            *swap_first = last.and_then(|l| catalog.index_of(l)) == Some(first);
        }
        let order = permutation(*seed, *round, catalog.len(), *swap_first);
        let pick = order[*index];
        *index += 1;
        Some(catalog.tracks()[pick].id.clone())
    }

    /// The next `n` picks, without advancing.
    pub fn peek(&self, catalog: &Catalog, last: Option<&TrackId>, n: usize) -> Vec<TrackId> {
        let mut probe = self.clone();
        let mut last = last.cloned();
        (0..n)
            .map_while(|_| {
                let id = probe.next(catalog, last.as_ref())?;
                last = Some(id.clone());
                Some(id)
            })
            .collect()
    }
}

/// The order of one round over `n` tracks.
fn permutation(seed: u64, round: u64, n: usize, swap_first: bool) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    if swap_first && n > 1 {
        order.swap(0, 1);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Analysis, Tags, Track};
    use crate::units::{Db, Frames};

    pub(crate) fn catalog(n: usize) -> Catalog {
        Catalog::new(
            (0..n)
                .map(|i| Track {
                    id: TrackId(format!("t{i:02}")),
                    path: format!("/music/{i}.flac").into(),
                    tags: Tags::default(),
                    analysis: Analysis {
                        duration: Frames::from_secs(60.0),
                        loudness: Db(-16.0),
                        true_peak: Db(-1.0),
                        loudness_range: 5.0,
                        cue_in: Frames::ZERO,
                        cue_out: Frames::from_secs(60.0),
                        features: None,
                        ends: None,
                        beats: None,
                    },
                })
                .collect(),
        )
    }

    #[test]
    fn no_repeats_until_the_library_is_exhausted_and_none_back_to_back() {
        let cat = catalog(7);
        let mut s = Scheduler::shuffle(42);
        let mut last: Option<TrackId> = None;
        let mut picks = Vec::new();
        for _ in 0..70 {
            let id = s.next(&cat, last.as_ref()).unwrap();
            assert_ne!(Some(&id), last.as_ref(), "back-to-back repeat");
            picks.push(id.clone());
            last = Some(id);
        }
        for round in picks.chunks(7) {
            let mut r = round.to_vec();
            r.sort();
            r.dedup();
            assert_eq!(r.len(), 7, "a round repeated a track");
        }
    }

    #[test]
    fn same_seed_same_sequence_and_state_resumes_it() {
        let cat = catalog(5);
        let mut a = Scheduler::shuffle(7);
        let first: Vec<_> = (0..8).map(|_| a.next(&cat, None).unwrap()).collect();
        let mut b = Scheduler::shuffle(7);
        let again: Vec<_> = (0..8).map(|_| b.next(&cat, None).unwrap()).collect();
        assert_eq!(first, again);
        let mut c = Scheduler::shuffle(8);
        let other: Vec<_> = (0..8).map(|_| c.next(&cat, None).unwrap()).collect();
        assert_ne!(first, other);

        let saved = a.state();
        let json = serde_json::to_string(&saved).unwrap();
        let mut resumed = Scheduler::from_state(serde_json::from_str(&json).unwrap());
        let peeked = a.peek(&cat, None, 3);
        let cont: Vec<_> = (0..3).map(|_| a.next(&cat, None).unwrap()).collect();
        let cont2: Vec<_> = (0..3).map(|_| resumed.next(&cat, None).unwrap()).collect();
        assert_eq!(cont, cont2);
        assert_eq!(peeked, cont);
    }

    #[test]
    fn empty_catalog_gives_nothing_and_single_track_repeats() {
        let mut s = Scheduler::shuffle(1);
        assert_eq!(s.next(&Catalog::default(), None), None);
        let one = catalog(1);
        let id = s.next(&one, None).unwrap();
        assert_eq!(s.next(&one, Some(&id)), Some(id));
    }
}
