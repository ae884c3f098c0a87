//! How the engine plans what plays next: skipping, starting the next track as its transition
//! says, planning the transition after it (chosen from the two tracks by
//! `station::transition`), re-planning after a steer, and recording every transition.
use super::{Engine, EngineEvent, OUTPUT_LATENCY, SKIP_CROSSFADE};
use crate::audio::crossfade::Fade;
use crate::model::TrackId;
use crate::station::deck::DeckPlan;
use crate::station::transition::{self, TransitionKind, TransitionRecord};
use crate::units::{Frames, StreamPos};
use serde::{Deserialize, Serialize};

/// Transitions kept for [`Engine::take_transitions`]. A live session never drains them, so
/// only the latest are kept.
pub const KEPT_TRANSITIONS: usize = 16;

/// The next transition: which track comes, when it starts to sound and how it enters (the
/// outgoing deck's fade-out is planned with it). The fields after `crossfade` default to the
/// plain crossfade every transition was before they existed, so older checkpoints restore.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub next: TrackId,
    /// Mix position at which the incoming track starts to sound.
    pub at: StreamPos,
    /// How long both sound together.
    pub crossfade: Frames,
    /// The incoming track's file frame heard at `at` (`None`: its cue-in).
    #[serde(default)]
    pub entry: Option<Frames>,
    /// The incoming track's fade-in from `at` (`None`: over the whole crossfade).
    #[serde(default)]
    pub fade_in: Option<Frames>,
    #[serde(default)]
    pub kind: TransitionKind,
    /// See `TransitionPlan::beat_offset`.
    #[serde(default)]
    pub beat_offset: Option<f64>,
}

/// How a track enters: a [`Transition`] without the track.
#[derive(Clone, Copy, Debug)]
pub(super) struct Entry {
    overlap: Frames,
    entry: Option<Frames>,
    fade_in: Frames,
    kind: TransitionKind,
    beat_offset: Option<f64>,
}

impl Entry {
    /// From its cue-in, faded in over the whole overlap.
    pub(super) fn plain(overlap: Frames, kind: TransitionKind) -> Entry {
        Entry {
            overlap,
            entry: None,
            fade_in: overlap,
            kind,
            beat_offset: None,
        }
    }
    pub(super) fn of(t: &Transition) -> Entry {
        Entry {
            overlap: t.crossfade,
            entry: t.entry,
            fade_in: t.fade_in.unwrap_or(t.crossfade),
            kind: t.kind,
            beat_offset: t.beat_offset,
        }
    }
}

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
        self.start_next(
            self.mix_pos,
            Entry::plain(crossfade, TransitionKind::Skip),
            next,
        );
    }

    /// Picks the planned next track again (after a steer or an explicit choice) if its
    /// crossfade has not begun in the mix; false when it has (the choice then applies to the
    /// pick after it).
    pub fn replan_next(&mut self) -> bool {
        let Some(t) = &self.transition else {
            return false;
        };
        if t.at <= self.mix_pos || self.decks.is_empty() {
            return false;
        }
        let replaced = t.next.clone();
        self.scheduler.retract(&replaced);
        self.plan_after();
        true
    }

    /// The transitions since the last call (at most [`KEPT_TRANSITIONS`], the latest), oldest
    /// first.
    pub fn take_transitions(&mut self) -> Vec<TransitionRecord> {
        self.transitions.drain(..).collect()
    }

    /// Starts the next track at `at` as `how` says (decks still sounding after the overlap
    /// fade out over it), picks its successor and plans that transition.
    pub(super) fn start_next(&mut self, at: StreamPos, how: Entry, wanted: Option<TrackId>) {
        self.transition = None;
        let from = self.decks.last().map(|d| d.track.id.clone());
        let from_start = self.decks.last().map(|d| d.plan.start);
        let mut candidate = wanted.clone();
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
            // The planned entry (a beat, frame 0) belongs to the planned track: a stand-in
            // enters at its cue-in.
            let how = if wanted.as_ref() == Some(&id) {
                how
            } else {
                Entry::plain(how.overlap, TransitionKind::Crossfade)
            };
            let entry = how.entry.unwrap_or(track.analysis.cue_in);
            let gain = match how.kind {
                TransitionKind::Gapless => self.decks.last().map(|d| d.gain),
                _ => None,
            };
            let plan = DeckPlan {
                track: id.clone(),
                start: at,
                entry: Some(entry),
                fade_in: Fade::fade_in(at, how.fade_in),
                fade_out: Fade::fade_out(
                    at + track.analysis.cue_out.saturating_sub(entry),
                    Frames::ZERO,
                ),
                gain,
            };
            if !self.open_deck(plan, at) {
                continue;
            }
            for deck in self.decks.iter_mut().rev().skip(1) {
                if deck.end() > at + how.overlap {
                    deck.plan.fade_out = Fade::fade_out(at, how.overlap);
                }
            }
            self.events.push(EngineEvent::TrackStarted {
                pos: at + OUTPUT_LATENCY,
                track: id.clone(),
            });
            if let Some(from) = from {
                if let Some(start) = from_start.filter(|&s| s < at) {
                    self.scheduler.heard(&from, (at - start).secs());
                }
                if self.transitions.len() >= KEPT_TRANSITIONS {
                    self.transitions.pop_front();
                }
                self.transitions.push_back(TransitionRecord {
                    from,
                    to: id,
                    at: at + OUTPUT_LATENCY,
                    entry,
                    overlap: how.overlap,
                    kind: how.kind,
                    beat_offset: how.beat_offset,
                });
            }
            self.plan_after();
            return;
        }
    }

    /// Picks the track after the newest deck's and plans the transition into it: as
    /// `transition::plan` chooses, or, when that cannot be placed (a re-plan after its start
    /// has passed, a next track gone from the catalog), the ordinary crossfade as late as the
    /// outgoing track allows.
    pub(super) fn plan_after(&mut self) {
        let Some(deck) = self.decks.last() else {
            return;
        };
        let out = deck.track.clone();
        let Some(next) = self.scheduler.next(&self.catalog, Some(&out.id)) else {
            return;
        };
        // Not in the past, and not before this deck has faded in.
        let earliest = self.mix_pos.max(deck.plan.fade_in.end());
        let planned = self
            .catalog
            .get(&next)
            .map(|inc| transition::plan(&out, inc, &self.cfg))
            .filter(|p| p.start >= deck.entry() && deck.stream_pos(p.start) >= earliest);
        let (t, fade_out) = match planned {
            Some(p) => {
                let at = deck.stream_pos(p.start);
                let stop = at + p.overlap;
                let t = Transition {
                    next,
                    at,
                    crossfade: p.overlap,
                    entry: Some(p.entry),
                    fade_in: Some(p.fade_in),
                    kind: p.kind,
                    beat_offset: p.beat_offset,
                };
                (
                    t,
                    Fade::fade_out(StreamPos(stop.0 - p.fade_out), p.fade_out),
                )
            }
            None => {
                let end = deck.stream_pos(out.analysis.cue_out);
                let len = (self.cfg.crossfade).min(Frames(out.analysis.playable().0 / 2));
                let at = StreamPos(end.0.saturating_sub(len)).max(earliest);
                let len = end.0.saturating_sub(at.0).min(len);
                let t = Transition {
                    next,
                    at,
                    crossfade: len,
                    entry: None,
                    fade_in: None,
                    kind: TransitionKind::Crossfade,
                    beat_offset: None,
                };
                (t, Fade::fade_out(at, len))
            }
        };
        if let Some(deck) = self.decks.last_mut() {
            deck.plan.fade_out = fade_out;
        }
        self.transition = Some(t);
    }

    /// The lead deck's audio runs out early at `fade_start`: the next track comes in with a
    /// plain crossfade from its cue-in as the lead fades out over what it still has.
    pub(super) fn hurry_transition(&mut self, fade_start: StreamPos, len: Frames) {
        if let Some(t) = &mut self.transition {
            if t.at > fade_start {
                *t = Transition {
                    next: t.next.clone(),
                    at: fade_start,
                    crossfade: len,
                    entry: None,
                    fade_in: None,
                    kind: TransitionKind::Crossfade,
                    beat_offset: None,
                };
            }
        }
    }
}
