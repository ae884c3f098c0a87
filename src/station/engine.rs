//! The mixing engine: asks the scheduler for tracks, places them on the stream timeline with
//! the transition `station::transition` chooses for each pair, normalises loudness, limits peaks and encodes
//! whole MP3 frames. It renders one MP3 frame's worth of audio per call and never sleeps: the
//! caller paces it (see `pacer`). It can describe itself as a [`Checkpoint`] at any chunk, and
//! an engine built from that checkpoint renders the same audio from there on.
use super::deck::{Deck, DeckPlan};
use super::scheduler::{Scheduler, SchedulerState};
use crate::audio::crossfade::Fade;
use crate::audio::dsp::Limiter;
use crate::audio::encode::{EncodeError, Mp3Encoder};
use crate::audio::mp3_frames::Mp3Frame;
use crate::catalog::Catalog;
use crate::config::MixConfig;
use crate::model::{Track, TrackId};
use crate::units::{Db, Frames, StreamPos, CHANNELS, MP3_FRAME_SAMPLES};
use plan::Entry;
pub use plan::{Transition, KEPT_TRANSITIONS};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;

/// Frames mixed per call: one MP3 frame, so every checkpoint falls on a frame boundary.
pub const BLOCK: Frames = Frames(MP3_FRAME_SAMPLES);
/// How far ahead of the mix head decks decode, so a file that fails mid-way is noticed early
/// enough to fade it out over [`FAILURE_FADE`].
const READ_AHEAD: Frames = Frames(44_100);
/// Fade used when a track's audio runs out early.
const FAILURE_FADE: Frames = Frames(22_050);
/// Audio an engine rebuilt from a checkpoint mixes and encodes before the checkpoint and then
/// throws away: the limiter's memory, its latency and two frames of encoder warm-up, rounded
/// up to whole MP3 frames.
pub const PREROLL: Frames = Frames(8 * MP3_FRAME_SAMPLES);
/// From mixing a sample to hearing it decoded: limiter look-ahead plus LAME's encoder (576) and
/// decoder (529) delays. Event positions include it, so titles change when the audio does.
pub const OUTPUT_LATENCY: Frames = Frames(Limiter::LATENCY as u64 + 576 + 529);

/// Longest crossfade of a skip: the listener asked for something else, so it should come soon.
pub const SKIP_CROSSFADE: Frames = Frames(2 * 44_100);

/// Whole MP3 frames and the stream position of the first one.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    pub pos: StreamPos,
    pub frames: Vec<Mp3Frame>,
}

impl Chunk {
    pub fn duration(&self) -> Frames {
        Frames(self.frames.len() as u64 * MP3_FRAME_SAMPLES)
    }
    pub fn bytes(&self) -> impl Iterator<Item = &u8> {
        self.frames.iter().flat_map(|f| f.data.iter())
    }
}

/// Something listeners should hear about, at the stream position where it becomes audible.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EngineEvent {
    /// A track starts to be heard (the start of its crossfade).
    TrackStarted { pos: StreamPos, track: TrackId },
    /// A track could not be played (or stopped early); the mix moved on.
    TrackFailed {
        pos: StreamPos,
        track: TrackId,
        reason: String,
    },
}

/// Everything needed to rebuild an engine that continues exactly where this one is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Stream position of the next MP3 frame the engine will emit.
    pub pos: StreamPos,
    /// Where the mixer was when the checkpoint was taken (ahead of `pos`).
    pub mix_pos: StreamPos,
    pub scheduler: SchedulerState,
    /// Every deck still sounding at `pos - PREROLL` or later, oldest first.
    pub decks: Vec<DeckPlan>,
    pub transition: Option<Transition>,
}

/// The engine must stop (the caller restarts the session or gives up).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the library has no playable tracks")]
    EmptyLibrary,
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

pub struct Engine {
    cfg: MixConfig,
    catalog: Arc<Catalog>,
    scheduler: Scheduler,
    decks: Vec<Deck>,
    /// Decks that finished recently; a checkpoint still needs them for its pre-roll.
    recent: Vec<DeckPlan>,
    transition: Option<Transition>,
    /// Next stream position to mix.
    mix_pos: StreamPos,
    limiter: Limiter,
    encoder: Mp3Encoder,
    /// Index of the next MP3 frame out of the encoder.
    frames_out: u64,
    /// Encoder output frames before this index are pre-roll and are dropped.
    first_frame: u64,
    events: Vec<EngineEvent>,
    /// The latest transitions, for `take_transitions` (not part of a checkpoint).
    transitions: VecDeque<crate::station::transition::TransitionRecord>,
    block: Vec<f32>,
    encoded: Vec<Mp3Frame>,
    /// Each deck's share of the mix, kept only for `drift render --report` (see `tap`).
    tap: Option<super::tap::DeckTap>,
}

impl Engine {
    /// A new stream starting at position zero with the scheduler's first pick.
    pub fn new(
        cfg: MixConfig,
        catalog: Arc<Catalog>,
        scheduler: Scheduler,
    ) -> Result<Engine, EngineError> {
        let mut engine = Engine::empty(cfg, catalog, scheduler, StreamPos::START)?;
        engine.start_next(
            StreamPos::START,
            Entry::plain(Frames::ZERO, Default::default()),
            None,
        );
        Ok(engine)
    }

    /// An engine that continues from `cp`: it re-mixes the pre-roll before `cp.pos`, discards
    /// it, and from then on emits what the original engine emitted.
    pub fn from_checkpoint(
        cfg: MixConfig,
        catalog: Arc<Catalog>,
        cp: &Checkpoint,
    ) -> Result<Engine, EngineError> {
        let start = StreamPos(cp.pos.0.saturating_sub(PREROLL));
        let mut engine = Engine::empty(
            cfg,
            catalog,
            Scheduler::from_state(cp.scheduler.clone()),
            start,
        )?;
        engine.first_frame = cp.pos.mp3_frame_index();
        engine.frames_out = start.mp3_frame_index();
        for plan in &cp.decks {
            if plan.fade_out.end() > start {
                engine.open_deck(plan.clone(), start);
            }
        }
        engine.transition = cp.transition.clone();
        if engine.decks.is_empty() && engine.transition.is_none() {
            engine.start_next(start, Entry::plain(Frames::ZERO, Default::default()), None);
        }
        Ok(engine)
    }

    fn empty(
        cfg: MixConfig,
        catalog: Arc<Catalog>,
        scheduler: Scheduler,
        at: StreamPos,
    ) -> Result<Engine, EngineError> {
        if catalog.is_empty() {
            return Err(EngineError::EmptyLibrary);
        }
        let encoder = Mp3Encoder::new(cfg.bitrate, cfg.lame_quality)?;
        Ok(Engine {
            limiter: Limiter::new(cfg.peak_ceiling),
            cfg,
            catalog,
            scheduler,
            decks: Vec::new(),
            recent: Vec::new(),
            transition: None,
            mix_pos: at,
            encoder,
            frames_out: at.mp3_frame_index(),
            first_frame: 0,
            events: Vec::new(),
            transitions: VecDeque::new(),
            block: vec![0.0; BLOCK.samples()],
            encoded: Vec::new(),
            tap: None,
        })
    }

    /// Mixes, limits and encodes one block; returns the whole MP3 frames that completed (often
    /// one, sometimes none or two) and the events that happened in the block.
    pub fn render_block(&mut self) -> Result<(Option<Chunk>, Vec<EngineEvent>), EngineError> {
        let at = self.mix_pos;
        let end = at + BLOCK;
        if let Some(t) = self.transition.clone() {
            if t.at < end {
                self.start_next(t.at.max(at), Entry::of(&t), Some(t.next));
            }
        }
        self.handle_early_ends(at);
        self.block.iter_mut().for_each(|s| *s = 0.0);
        for deck in &mut self.decks {
            deck.fill(at, end + READ_AHEAD);
            match &mut self.tap {
                None => deck.mix_into(&mut self.block, at),
                Some(tap) => tap.mix(deck, &mut self.block, at),
            }
        }
        self.retire_decks(end);
        self.mix_pos = end;
        self.limiter.process(&mut self.block);
        self.encoded.clear();
        self.encoder.encode(&self.block, &mut self.encoded)?;
        Ok((self.take_chunk(), std::mem::take(&mut self.events)))
    }

    /// The limited PCM of the block just rendered and the mix position it started at (what
    /// went into the encoder; checkpoint tests compare it sample for sample).
    pub fn last_pcm(&self) -> (StreamPos, &[f32]) {
        (StreamPos(self.mix_pos.0.saturating_sub(BLOCK)), &self.block)
    }

    /// Keeps each deck's share of the mix from now on, for the transition report.
    pub fn tap_decks(&mut self) {
        self.tap.get_or_insert_with(Default::default);
    }
    /// What the tap kept (and stops keeping).
    pub fn take_deck_tap(&mut self) -> Option<super::tap::DeckTap> {
        self.tap.take()
    }

    /// Ends the stream: flushes the encoder's last frames.
    pub fn finish(&mut self) -> Result<Option<Chunk>, EngineError> {
        self.encoded.clear();
        self.encoder.finish(&mut self.encoded)?;
        Ok(self.take_chunk())
    }

    fn take_chunk(&mut self) -> Option<Chunk> {
        let mut frames = Vec::new();
        for f in self.encoded.drain(..) {
            if self.frames_out >= self.first_frame {
                frames.push(f);
            }
            self.frames_out += 1;
        }
        let pos = StreamPos(Frames(
            (self.frames_out - frames.len() as u64) * MP3_FRAME_SAMPLES,
        ));
        (!frames.is_empty()).then_some(Chunk { pos, frames })
    }

    /// Stream position of the next MP3 frame this engine will emit.
    pub fn position(&self) -> StreamPos {
        StreamPos(Frames(
            self.frames_out.max(self.first_frame) * MP3_FRAME_SAMPLES,
        ))
    }

    /// The mix position of the next block to render (where the PCM fed to the encoder ends).
    pub fn mix_position(&self) -> StreamPos {
        self.mix_pos
    }

    pub fn checkpoint(&self) -> Checkpoint {
        let keep_from = self.position().0.saturating_sub(PREROLL);
        let decks = self
            .recent
            .iter()
            .chain(self.decks.iter().map(|d| &d.plan))
            .filter(|p| p.fade_out.end().0 > keep_from)
            .cloned()
            .collect();
        Checkpoint {
            pos: self.position(),
            mix_pos: self.mix_pos,
            scheduler: self.scheduler.state(),
            decks,
            transition: self.transition.clone(),
        }
    }

    /// The track picker, for steering it.
    pub fn scheduler_mut(&mut self) -> &mut Scheduler {
        &mut self.scheduler
    }

    /// Uses a newer snapshot of the library for the picks still to come.
    pub fn set_catalog(&mut self, catalog: Arc<Catalog>) {
        self.catalog = catalog;
    }
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// The tracks sounding now (oldest first) and the one coming next.
    pub fn playing(&self) -> Vec<&Track> {
        self.decks.iter().map(|d| &d.track).collect()
    }
    pub fn transition(&self) -> Option<&Transition> {
        self.transition.as_ref()
    }

    fn gain_for(&self, track: &Track) -> f32 {
        let want = self.cfg.target_loudness.0 - track.analysis.loudness.0;
        Db(want.min(self.cfg.max_boost.0)).amplitude()
    }

    /// Opens a deck for `plan`, positioned for stream position `from`. False if it cannot play.
    fn open_deck(&mut self, plan: DeckPlan, from: StreamPos) -> bool {
        let Some(track) = self.catalog.get(&plan.track).cloned() else {
            return false;
        };
        let gain = plan.gain.unwrap_or_else(|| self.gain_for(&track));
        match Deck::open(track, plan.clone(), gain, from) {
            Ok(deck) => {
                self.decks.push(deck);
                true
            }
            Err(e) => {
                tracing::warn!(track = %plan.track, "skipping a track that cannot be played: {e}");
                self.events.push(EngineEvent::TrackFailed {
                    pos: from + OUTPUT_LATENCY,
                    track: plan.track,
                    reason: e.to_string(),
                });
                false
            }
        }
    }

    /// A deck whose audio runs out before its planned end fades out over what it still has,
    /// and if it was the newest deck, the next track starts crossfading in at once.
    fn handle_early_ends(&mut self, now: StreamPos) {
        let Some(lead) = self.decks.len().checked_sub(1) else {
            return;
        };
        let mut hurry = None;
        for (i, deck) in self.decks.iter_mut().enumerate() {
            let Some(end) = deck.early_end() else {
                continue;
            };
            if end >= deck.end() {
                continue;
            }
            let fade_start = StreamPos(end.0.saturating_sub(FAILURE_FADE))
                .max(now)
                .max(deck.plan.start);
            deck.plan.fade_out = Fade::fade_out(fade_start, end.0.saturating_sub(fade_start.0));
            tracing::warn!(track = %deck.track.id, "track stopped early: {}", deck.failure.as_deref().unwrap_or("?"));
            self.events.push(EngineEvent::TrackFailed {
                pos: fade_start + OUTPUT_LATENCY,
                track: deck.track.id.clone(),
                reason: deck.failure.clone().unwrap_or_default(),
            });
            if i == lead {
                hurry = Some((fade_start, deck.plan.fade_out.len));
            }
        }
        if let Some((at, len)) = hurry {
            self.hurry_transition(at, len);
        }
    }

    fn retire_decks(&mut self, now: StreamPos) {
        let (done, live): (Vec<Deck>, Vec<Deck>) =
            self.decks.drain(..).partition(|d| d.end() <= now);
        self.decks = live;
        self.recent.extend(done.into_iter().map(|d| d.plan));
        let horizon = now.0.saturating_sub(Frames(4 * PREROLL.0 + READ_AHEAD.0));
        self.recent.retain(|p| p.fade_out.end().0 > horizon);
        if self.decks.is_empty() && self.transition.is_none() {
            // Everything failed or ended: start whatever comes next right away.
            self.start_next(now, Entry::plain(Frames::ZERO, Default::default()), None);
        }
    }

    /// Samples per block, for callers sizing buffers.
    pub fn block_samples() -> usize {
        BLOCK.0 as usize * CHANNELS
    }
}

#[path = "engine_plan.rs"]
mod plan;

#[cfg(test)]
#[path = "engine_tests.rs"]
pub(crate) mod tests;

#[cfg(test)]
#[path = "engine_transition_tests.rs"]
mod transition_tests;

#[cfg(test)]
#[path = "engine_beat_tests.rs"]
mod beat_tests;
