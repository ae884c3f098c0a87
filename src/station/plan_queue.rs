//! Planned tracks the drift plays before it walks on by itself: an album in disc and track
//! order, or a journey's path to a destination track. The plan lives in the walk's state (plain
//! data, carried in checkpoints); the scheduler calls the hooks here around each pick, so the
//! walk itself only sees its ordinary "queued" track.
//!
//! A steer during an album ends the album (the listener chose another way); a steer during a
//! journey plans the rest of the journey again from the track the steer picked, with as many
//! tracks as were left.
use super::journey::{plan_path, steps_for};
use super::variety::{Level, Preferences, Rules};
use super::walk::WalkState;
use crate::catalog::Catalog;
use crate::model::TrackId;
use serde::{Deserialize, Serialize};

/// Why tracks are planned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlanReason {
    /// An album the owner asked for (its id as `catalog::albums` gives it).
    Album { id: String },
    /// A journey to `destination` in about `minutes`.
    Journey { destination: TrackId, minutes: f64 },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub reason: PlanReason,
    /// The planned tracks in order, those already picked included. A journey's path is planned
    /// at its first pick, from the track before it.
    pub tracks: Vec<TrackId>,
    /// How many of `tracks` the scheduler has picked.
    pub picked: usize,
    /// A steer picked the next track: a journey plans the rest again after that pick.
    #[serde(default)]
    pub replan: bool,
}

impl Plan {
    /// An album's tracks, in the order they are to play.
    pub fn album(id: String, tracks: Vec<TrackId>) -> Plan {
        Plan {
            reason: PlanReason::Album { id },
            tracks,
            picked: 0,
            replan: false,
        }
    }

    /// A journey to `destination`; its path is planned at the next pick.
    pub fn journey(destination: TrackId, minutes: f64) -> Plan {
        Plan {
            reason: PlanReason::Journey {
                destination,
                minutes,
            },
            tracks: Vec::new(),
            picked: 0,
            replan: false,
        }
    }

    /// Every planned track was picked.
    pub fn is_done(&self) -> bool {
        !self.tracks.is_empty() && self.picked >= self.tracks.len()
    }

    /// Planned tracks not audible yet: those not picked, and the picked ones still ahead of
    /// the play point (`ahead`: placed after it; `next`: the engine's planned next track).
    pub fn tracks_left(&self, ahead: &[TrackId], next: Option<&TrackId>) -> usize {
        let picked = &self.tracks[..self.picked.min(self.tracks.len())];
        let pending = ahead.iter().chain(next).filter(|id| picked.contains(id));
        self.tracks.len() - picked.len() + pending.count().min(picked.len())
    }
}

/// Before the walk picks: the next planned track becomes its queued pick (unless the listener
/// queued one, or a steer is to pick). A journey not planned yet is planned now, from `last`.
pub(super) fn before_pick(
    w: &mut WalkState,
    catalog: &Catalog,
    last: Option<&TrackId>,
    prefs: &Preferences,
) {
    let Some(mut plan) = w.plan.take() else {
        return;
    };
    if w.queued.is_none() && !plan.replan {
        if plan.tracks.is_empty() {
            if let PlanReason::Journey {
                destination,
                minutes,
            } = &plan.reason
            {
                let from = last.and_then(|id| catalog.index_of(id));
                let steps = steps_for(*minutes, typical_secs(catalog));
                plan.tracks = path(w, catalog, from, destination, steps, &[], prefs);
            }
        }
        while plan.picked < plan.tracks.len() {
            let id = plan.tracks[plan.picked].clone();
            plan.picked += 1;
            // Gone from the library, or banned since the plan was made: the plan goes on
            // without it.
            if catalog.get(&id).is_some() && !prefs.banned.contains(&id) {
                w.queued = Some(id);
                break;
            }
        }
    }
    w.plan = Some(plan);
}

/// After the walk picked `picked`: when a steer chose it during a journey, the rest of the
/// journey is planned again from it, with as many tracks as were left.
pub(super) fn after_pick(
    w: &mut WalkState,
    catalog: &Catalog,
    picked: &TrackId,
    prefs: &Preferences,
) {
    let Some(mut plan) = w.plan.take() else {
        return;
    };
    if plan.replan && plan.is_done() {
        // The steer came after the destination was placed: the journey is over.
        return;
    }
    if plan.replan {
        plan.replan = false;
        let left = plan.tracks.len().saturating_sub(plan.picked);
        let unplanned = plan.tracks.is_empty();
        plan.tracks.truncate(plan.picked);
        plan.tracks.push(picked.clone());
        plan.picked = plan.tracks.len();
        if let PlanReason::Journey {
            destination,
            minutes,
        } = &plan.reason
        {
            if destination != picked {
                let steps = if unplanned {
                    steps_for(*minutes, typical_secs(catalog))
                } else {
                    left
                };
                let from = catalog.index_of(picked);
                let rest = path(
                    w,
                    catalog,
                    from,
                    destination,
                    steps.saturating_sub(1).max(1),
                    &plan.tracks,
                    prefs,
                );
                plan.tracks.extend(rest);
            }
        }
    }
    w.plan = Some(plan);
}

/// The listener steered (a direction or an explicit track): an album ends, a journey is planned
/// again after the next pick (or ends, if its destination was already placed).
pub(super) fn on_steer(w: &mut WalkState) {
    match &mut w.plan {
        Some(p) if matches!(p.reason, PlanReason::Journey { .. }) => p.replan = true,
        _ => w.plan = None,
    }
}

/// The pick of `id` was taken back (replaced before it played): if it was the plan's last
/// pick, it is planned again.
pub(super) fn on_retract(w: &mut WalkState, id: &TrackId) {
    if let Some(p) = &mut w.plan {
        if p.picked > 0 && p.tracks.get(p.picked - 1) == Some(id) {
            p.picked -= 1;
        }
    }
}

/// A journey's path from catalog track `from` to `destination` (ids), avoiding banned tracks,
/// `also`, and the walk's recent tracks (as much of its horizon as leaves a third of the
/// library open: a journey's waypoints are not held to the artist and album spacing).
fn path(
    w: &WalkState,
    catalog: &Catalog,
    from: Option<usize>,
    destination: &TrackId,
    steps: usize,
    also: &[TrackId],
    prefs: &Preferences,
) -> Vec<TrackId> {
    let Some(to) = catalog.index_of(destination) else {
        return Vec::new();
    };
    let Some(from) = from else {
        return vec![destination.clone()];
    };
    let waypoints = Level {
        full_horizon: false,
        artist: false,
        album: false,
    };
    let mut exclude = Rules::new(catalog, w.history(), Some(from), prefs).excluded(waypoints);
    exclude.extend(also.iter().filter_map(|id| catalog.index_of(id)));
    exclude.remove(&to);
    plan_path(catalog.space(), from, to, steps, &exclude)
        .into_iter()
        .map(|i| catalog.tracks()[i].id.clone())
        .collect()
}

/// The mean audible length of the library's tracks (s), for turning minutes into steps.
pub fn typical_secs(catalog: &Catalog) -> f64 {
    let n = catalog.len().max(1) as f64;
    let total: f64 = catalog
        .tracks()
        .iter()
        .map(|t| t.analysis.playable().secs())
        .sum();
    (total / n).max(1.0)
}

#[cfg(test)]
#[path = "plan_queue_tests.rs"]
mod tests;
