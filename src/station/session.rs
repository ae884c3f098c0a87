//! A listening session: the engine on its own OS thread, rendering a lead ahead of the play
//! point into the broadcast ring, and the shared state listeners and event streams read.
use super::broadcast::{frame_index, Ring};
use super::clock::Clock;
use super::engine::{Checkpoint, Engine};
use super::events::{NowPlaying, StationEvent, TrackInfo};
use crate::catalog::{Catalog, LiveCatalog};
use crate::config::MixConfig;
use crate::model::TrackId;
use crate::units::{Frames, StreamPos};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Session policy, shared by all sessions of a server.
#[derive(Clone, Debug)]
pub struct SessionParams {
    /// Audio rendered ahead of the play point; a new listener gets it at once.
    pub lead: Frames,
    /// Audio kept behind the play point, for "save" and for slow listeners.
    pub history: Frames,
    pub mix: MixConfig,
    /// With no listener and no events client for this long (clock time), the engine thread
    /// saves the session and stops; the next request resumes it from the store.
    pub idle_timeout: Duration,
}

/// Where a skip lands: this far after the play point, so clients can cut their buffers there.
pub const SPLICE_MARGIN: Frames = Frames(22_050);
/// Events kept for `Last-Event-ID` resumption.
const EVENT_LOG: usize = 256;

/// What survives a restart: enough to continue the same stream.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Snapshot {
    pub checkpoint: Checkpoint,
    /// The play point when the snapshot was taken.
    pub play_pos: StreamPos,
    /// Track starts in the kept history and rendered future.
    pub timeline: Vec<(StreamPos, TrackId)>,
    /// Wall-clock time of the snapshot (ms since the UNIX epoch; 0 when unknown), so a
    /// restarted server puts the play point where its listeners' players are by now.
    #[serde(default)]
    pub saved_at_ms: u64,
    /// Whether anyone was listening: only then did players go on playing from their buffers
    /// while the server was away (a parked session resumes exactly where it stopped).
    #[serde(default)]
    pub listening: bool,
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Where a restored session's play point is now: where it was saved, plus the time that has
/// passed since — players kept playing from their buffers meanwhile — but never more than a
/// lead, because a player cannot have played past the audio it held.
fn caught_up(s: &Snapshot, clock: &dyn Clock, lead: Frames) -> StreamPos {
    let saved = s.play_pos.max(s.checkpoint.pos);
    let now = unix_ms();
    if !s.listening || s.saved_at_ms == 0 || now <= s.saved_at_ms {
        return saved;
    }
    let passed = clock.advance_in(Duration::from_millis(now - s.saved_at_ms));
    saved + Frames::from_secs(passed.as_secs_f64()).min(lead)
}

/// What the listener chose for the next track.
#[derive(Clone, Debug, PartialEq)]
pub enum Choice {
    /// Go this way (and keep heading that way).
    Direction(crate::station::directions::Direction),
    /// Play this track next.
    Track(TrackId),
}

pub enum Control {
    Skip,
    /// The reply carries the planned next track once the choice is applied.
    Steer(Choice, tokio::sync::oneshot::Sender<Option<TrackId>>),
    Stop,
}

/// The mutable part, behind one lock.
pub struct State {
    pub ring: Ring,
    pub timeline: VecDeque<(StreamPos, TrackId)>,
    pub(super) anchor_pos: StreamPos,
    pub(super) anchor_time: Duration,
    pub listeners: usize,
    pub next: Option<TrackId>,
    pub(super) log: VecDeque<(u64, StationEvent)>,
    pub(super) next_event_id: u64,
    pub(super) announced: StreamPos,
    pub(super) checkpoints: VecDeque<Checkpoint>,
    /// Bumped by refresh: audio responses of an older generation end.
    pub generation: u64,
}

impl State {
    /// The stream position the session's listeners hear now.
    pub fn play_pos(&self, now: Duration) -> StreamPos {
        self.anchor_pos + Frames::from_secs(now.saturating_sub(self.anchor_time).as_secs_f64())
    }

    /// The track audible at `pos` and when it started.
    pub fn track_at(&self, pos: StreamPos) -> Option<&(StreamPos, TrackId)> {
        self.timeline.iter().rev().find(|(p, _)| *p <= pos)
    }

    /// Events after `last_id` still in the log (for `Last-Event-ID`).
    pub fn events_after(&self, last_id: u64) -> Vec<(u64, StationEvent)> {
        self.log
            .iter()
            .filter(|(id, _)| *id > last_id)
            .cloned()
            .collect()
    }
}

/// Engine health figures for `/metrics`.
#[derive(Default)]
pub struct Stats {
    /// Times the play point overtook what the engine had rendered.
    pub underruns: AtomicU64,
    pub(super) render_nanos: AtomicU64,
    pub(super) rendered_frames: AtomicU64,
}

impl Stats {
    /// Audio seconds rendered per second spent rendering.
    pub fn realtime_factor(&self) -> f64 {
        let secs = self.render_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let audio = Frames(self.rendered_frames.load(Ordering::Relaxed)).secs();
        if secs > 0.0 {
            audio / secs
        } else {
            0.0
        }
    }
}

pub struct Shared {
    pub fingerprint: String,
    pub stats: Stats,
    pub state: Mutex<State>,
    /// (ring head, generation): listeners wait for either to change.
    pub head: watch::Sender<(u64, u64)>,
    pub events: broadcast::Sender<(u64, StationEvent)>,
    pub catalog: Arc<LiveCatalog>,
    pub clock: Arc<dyn Clock>,
    pub params: SessionParams,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.current()
    }

    pub fn info(&self, id: &TrackId, start: Option<StreamPos>) -> Option<TrackInfo> {
        let catalog = self.catalog();
        catalog
            .get(id)
            .map(|t| TrackInfo::new(t, start.map(|p| p.secs())))
    }

    /// Now playing (with elapsed time) and next up, at the current play point.
    pub fn now_and_next(&self) -> (StreamPos, Option<NowPlaying>, Option<TrackInfo>) {
        let st = self.lock();
        let play = st.play_pos(self.clock.now());
        let now = st.track_at(play).and_then(|(start, id)| {
            let track = self.info(id, Some(*start))?;
            Some(NowPlaying {
                track,
                elapsed: (play - *start).secs(),
            })
        });
        let next = st
            .timeline
            .iter()
            .find(|(p, _)| *p > play)
            .map(|(p, id)| (Some(*p), id.clone()))
            .or_else(|| st.next.clone().map(|id| (None, id)))
            .and_then(|(p, id)| self.info(&id, p));
        (play, now, next)
    }

    /// Logs an event and sends it to every events stream.
    pub fn publish(&self, event: StationEvent) {
        let mut st = self.lock();
        let id = st.next_event_id;
        st.next_event_id += 1;
        st.log.push_back((id, event.clone()));
        if st.log.len() > EVENT_LOG {
            st.log.pop_front();
        }
        drop(st);
        let _ = self.events.send((id, event));
    }

    /// Ends every open audio response (they see a new generation).
    pub fn end_audio_responses(&self) {
        let mut st = self.lock();
        st.generation += 1;
        let v = (st.ring.head(), st.generation);
        drop(st);
        self.head.send_replace(v);
    }

    pub fn snapshot(&self) -> Option<Snapshot> {
        let st = self.lock();
        let play = st.play_pos(self.clock.now());
        let checkpoint = st
            .checkpoints
            .iter()
            .rev()
            .find(|c| c.pos <= play)
            .or(st.checkpoints.front())?
            .clone();
        Some(Snapshot {
            checkpoint,
            play_pos: play,
            timeline: st.timeline.iter().cloned().collect(),
            saved_at_ms: unix_ms(),
            listening: st.listeners > 0,
        })
    }
}

/// Builds the shared state and the engine for a new or restored session.
pub fn prepare(
    fingerprint: String,
    params: SessionParams,
    catalog: Arc<LiveCatalog>,
    clock: Arc<dyn Clock>,
    restore: Option<Snapshot>,
    seed: u64,
) -> Result<(Arc<Shared>, Engine), super::engine::EngineError> {
    let cat = catalog.current();
    let keep = params.history + params.lead + Frames::from_secs(5.0);
    let (engine, ring, anchor, timeline) = match restore {
        Some(s) => {
            let engine = Engine::from_checkpoint(params.mix.clone(), cat, &s.checkpoint)?;
            let ring = Ring::new(keep, frame_index(s.checkpoint.pos));
            let anchor = caught_up(&s, clock.as_ref(), params.lead);
            let timeline = s
                .timeline
                .into_iter()
                .filter(|(p, _)| *p < s.checkpoint.mix_pos)
                .collect();
            (engine, ring, anchor, timeline)
        }
        None => {
            let engine = Engine::new(
                params.mix.clone(),
                cat,
                super::scheduler::Scheduler::drift(seed),
            )?;
            (
                engine,
                Ring::new(keep, 0),
                StreamPos::START,
                VecDeque::new(),
            )
        }
    };
    let first_cp = engine.checkpoint();
    let state = State {
        ring,
        timeline,
        anchor_pos: anchor,
        anchor_time: clock.now(),
        listeners: 0,
        next: engine.transition().map(|t| t.next.clone()),
        log: VecDeque::new(),
        next_event_id: 1,
        announced: anchor,
        checkpoints: VecDeque::from([first_cp]),
        generation: 0,
    };
    let head = watch::channel((state.ring.head(), 0)).0;
    let shared = Arc::new(Shared {
        fingerprint,
        stats: Stats::default(),
        state: Mutex::new(state),
        head,
        events: broadcast::channel(64).0,
        catalog,
        clock,
        params,
    });
    Ok((shared, engine))
}

pub use super::runner::{run, Persist};
