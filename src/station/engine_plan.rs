//! How the engine plans what plays next: skipping, starting the next track with its
//! crossfade, planning the transition after it, and re-planning after a steer.
use super::{Engine, EngineEvent, Transition, OUTPUT_LATENCY, SKIP_CROSSFADE};
use crate::audio::crossfade::Fade;
use crate::model::{Track, TrackId};
use crate::station::deck::DeckPlan;
use crate::units::{Frames, StreamPos};

impl Engine {
    /// Crossfades into the next track now (over at most [`SKIP_CROSSFADE`]), keeping the
    /// scheduler's order: the planned next track is the one that comes.
    pub fn skip(&mut self) {
        let next = self.transition.take().map(|t| t.next);
        let remaining = self
            .decks
            .last()
            .map_or(Frames::ZERO, |d| d.end().0.saturating_sub(self.mix_pos.0));
        let crossfade = Frames(self.cfg.crossfade.0.min(SKIP_CROSSFADE.0).min(remaining.0));
        self.start_next(self.mix_pos, crossfade, next);
    }

    /// Picks the planned next track again (after a steer or an explicit choice) if its
    /// crossfade has not begun in the mix; false when it has (the choice then applies to the
    /// pick after it).
    pub fn replan_next(&mut self) -> bool {
        let (Some(t), Some(deck)) = (&self.transition, self.decks.last()) else {
            return false;
        };
        if t.at <= self.mix_pos {
            return false;
        }
        let replaced = t.next.clone();
        let (track, start) = (deck.track.clone(), deck.plan.start);
        self.scheduler.retract(&replaced);
        self.plan_after(&track, start);
        true
    }

    /// Starts the next track at `at` with a fade-in of `crossfade` (the decks sounding now fade
    /// out over the same span), picks its successor and plans that transition.
    pub(super) fn start_next(&mut self, at: StreamPos, crossfade: Frames, wanted: Option<TrackId>) {
        self.transition = None;
        let mut candidate = wanted;
        for _attempt in 0..self.catalog.len().max(1) * 2 {
            let last = self.decks.last().map(|d| d.track.id.clone());
            let id = match candidate.take() {
                Some(id) => id,
                None => match self.scheduler.next(&self.catalog, last.as_ref()) {
                    Some(id) => id,
                    None => return,
                },
            };
            let Some(track) = self.catalog.get(&id).cloned() else {
                continue;
            };
            let playable = track.analysis.playable();
            let fade_in = Fade::fade_in(at, crossfade);
            let plan = DeckPlan {
                track: id.clone(),
                start: at,
                fade_in,
                fade_out: Fade::fade_out(at + playable, Frames::ZERO),
            };
            if !self.open_deck(plan, at) {
                continue;
            }
            for deck in self.decks.iter_mut().rev().skip(1) {
                if deck.end() > at + crossfade {
                    deck.plan.fade_out = Fade::fade_out(at, crossfade);
                }
            }
            self.events.push(EngineEvent::TrackStarted {
                pos: at + OUTPUT_LATENCY,
                track: id.clone(),
            });
            self.plan_after(&track, at);
            return;
        }
    }

    /// Picks the track after `track` (which starts at `start`) and when to crossfade into it.
    pub(super) fn plan_after(&mut self, track: &Track, start: StreamPos) {
        let Some(next) = self.scheduler.next(&self.catalog, Some(&track.id)) else {
            return;
        };
        let next_playable = self
            .catalog
            .get(&next)
            .map_or(Frames::ZERO, |t| t.analysis.playable());
        let playable = track.analysis.playable();
        let crossfade = Frames(
            self.cfg
                .crossfade
                .0
                .min(playable.0 / 2)
                .min(next_playable.0 / 2),
        );
        let at = start + (playable - crossfade);
        if let Some(deck) = self.decks.last_mut() {
            deck.plan.fade_out = Fade::fade_out(at, crossfade);
        }
        self.transition = Some(Transition {
            next,
            at,
            crossfade,
        });
    }
}
