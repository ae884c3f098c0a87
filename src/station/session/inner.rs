//! The private state of a session, shared by its handle, its listeners and its engine thread:
//! the ring of rendered frames, the timeline of track starts, the play point's anchor, the event
//! log and the checkpoints. Nothing outside `session` sees these fields.
use super::snapshot::{unix_ms, Snapshot};
use super::SessionParams;
use crate::catalog::{Catalog, LiveCatalog};
use crate::model::TrackId;
use crate::station::broadcast::{frame_index, Ring};
use crate::station::clock::Clock;
use crate::station::engine::{Checkpoint, Engine, EngineError, OUTPUT_LATENCY};
use crate::station::events::{NowPlaying, StationEvent, TrackInfo};
use crate::station::scheduler::Scheduler;
use crate::units::{Frames, StreamPos};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// A restored session's ring starts this far before the saved play point (or earlier).
const RESUME_SLACK: Frames = Frames(5 * 44_100);
/// Events kept for `Last-Event-ID` resumption.
const EVENT_LOG: usize = 256;

/// The mutable part, behind one lock.
pub(super) struct State {
    pub(super) ring: Ring,
    /// Track starts, oldest first, from the ring's tail to the rendered future.
    pub(super) timeline: VecDeque<(StreamPos, TrackId)>,
    pub(super) anchor_pos: StreamPos,
    pub(super) anchor_time: Duration,
    /// The track the engine plans after the one it is mixing now.
    pub(super) next: Option<TrackId>,
    pub(super) log: VecDeque<(u64, StationEvent)>,
    pub(super) next_event_id: u64,
    pub(super) announced: StreamPos,
    pub(super) checkpoints: VecDeque<Checkpoint>,
    /// Bumped when listeners are told to reconnect: audio responses of an older one end.
    pub(super) generation: u64,
    /// The engine scheduler's album or journey, as of its last pass (see runner::sync_plan).
    pub(super) plan: Option<crate::station::plan_queue::Plan>,
    pub(super) opus: super::opus::OpusRing,
}

impl State {
    /// The stream position the session's listeners hear now.
    pub(super) fn play_pos(&self, now: Duration) -> StreamPos {
        self.anchor_pos + Frames::from_secs(now.saturating_sub(self.anchor_time).as_secs_f64())
    }

    /// The track audible at `pos` and when it started.
    pub(super) fn track_at(&self, pos: StreamPos) -> Option<&(StreamPos, TrackId)> {
        self.timeline.iter().rev().find(|(p, _)| *p <= pos)
    }

    /// Takes the engine's plan for the next track (the one place it is copied from).
    pub(super) fn follow(&mut self, engine: &Engine) {
        self.next = engine.transition().map(|t| t.next.clone());
    }
}

/// Engine health figures for `/metrics`.
#[derive(Default)]
pub(super) struct Stats {
    /// Times the play point overtook what the engine had rendered.
    pub(super) underruns: AtomicU64,
    pub(super) render_nanos: AtomicU64,
    pub(super) rendered_frames: AtomicU64,
}

impl Stats {
    /// Audio seconds rendered per second spent rendering.
    pub(super) fn realtime_factor(&self) -> f64 {
        let secs = self.render_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let audio = Frames(self.rendered_frames.load(Ordering::Relaxed)).secs();
        if secs > 0.0 {
            audio / secs
        } else {
            0.0
        }
    }
}

pub(super) struct Inner {
    pub(super) fingerprint: String,
    pub(super) stats: Stats,
    state: Mutex<State>,
    /// Open audio responses.
    pub(super) listeners: AtomicUsize,
    /// Open Opus responses (also counted in `listeners`).
    pub(super) opus_listeners: AtomicUsize,
    /// Whether the engine thread runs an Opus encoder.
    pub(super) opus_running: std::sync::atomic::AtomicBool,
    /// (ring head, generation): listeners wait for either to change.
    pub(super) head: watch::Sender<(u64, u64)>,
    pub(super) events: broadcast::Sender<(u64, StationEvent)>,
    pub(super) catalog: Arc<LiveCatalog>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) params: SessionParams,
}

impl Inner {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn catalog(&self) -> Arc<Catalog> {
        self.catalog.current()
    }

    pub(super) fn info(&self, id: &TrackId, start: Option<StreamPos>) -> Option<TrackInfo> {
        let catalog = self.catalog();
        catalog
            .get(id)
            .map(|t| TrackInfo::new(t, start.map(|p| p.secs())))
    }

    pub(super) fn play_pos(&self) -> StreamPos {
        self.lock().play_pos(self.clock.now())
    }

    /// Now playing (with elapsed time) and next up, at the current play point.
    pub(super) fn now_and_next(&self) -> (StreamPos, Option<NowPlaying>, Option<TrackInfo>) {
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
    pub(super) fn publish(&self, event: StationEvent) {
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

    /// Wakes listeners waiting at the head (after new frames, a splice or a new generation).
    pub(super) fn wake_listeners(&self, st: MutexGuard<'_, State>) {
        let v = (st.ring.head(), st.generation);
        drop(st);
        self.head.send_replace(v);
    }

    pub(super) fn snapshot(&self) -> Option<Snapshot> {
        let st = self.lock();
        let play = st.play_pos(self.clock.now());
        // From a little before the play point, so a player whose buffer ran out just before
        // it (a busy machine, a slow network) still resumes exactly after a restart.
        let resume_from = StreamPos(Frames(play.frames().saturating_sub(RESUME_SLACK.0)));
        let checkpoint = st
            .checkpoints
            .iter()
            .rev()
            .find(|c| c.pos <= resume_from)
            .or(st.checkpoints.front())?
            .clone();
        Some(Snapshot {
            checkpoint,
            play_pos: play,
            timeline: st.timeline.iter().cloned().collect(),
            saved_at_ms: unix_ms(),
            listening: self.listeners.load(Ordering::Relaxed) > 0,
        })
    }
}

/// Builds the shared state and the engine for a new or restored session.
pub(super) fn prepare(
    fingerprint: String,
    params: SessionParams,
    catalog: Arc<LiveCatalog>,
    clock: Arc<dyn Clock>,
    restore: Option<Snapshot>,
    seed: u64,
) -> Result<(Arc<Inner>, Engine), EngineError> {
    let cat = catalog.current();
    let keep = params.history + params.lead + Frames::from_secs(5.0);
    let (engine, ring, anchor, timeline) = match restore {
        Some(s) => {
            let engine = Engine::from_checkpoint(params.mix.clone(), cat, &s.checkpoint)?;
            let ring = Ring::new(keep, frame_index(s.checkpoint.pos));
            let anchor = s.caught_up(clock.as_ref(), params.lead);
            // Tracks placed up to the checkpoint's mix position are restored with it and not
            // announced again (a start is heard OUTPUT_LATENCY after it was placed); one
            // announced again anyway is not added twice (see runner::publish_block).
            let announced_until = s.checkpoint.mix_pos + OUTPUT_LATENCY;
            let timeline = s
                .timeline
                .into_iter()
                .filter(|(p, _)| *p <= announced_until);
            (engine, ring, anchor, timeline.collect())
        }
        None => {
            let mut scheduler = Scheduler::drift(seed);
            scheduler.set_prefs(catalog.marks.prefs());
            let engine = Engine::new(params.mix.clone(), cat, scheduler)?;
            (
                engine,
                Ring::new(keep, 0),
                StreamPos::START,
                VecDeque::new(),
            )
        }
    };
    let mut state = State {
        ring,
        timeline,
        anchor_pos: anchor,
        anchor_time: clock.now(),
        next: None,
        log: VecDeque::new(),
        next_event_id: 1,
        announced: anchor,
        checkpoints: VecDeque::from([engine.checkpoint()]),
        generation: 0,
        plan: None,
        opus: super::opus::OpusRing::new(keep),
    };
    state.follow(&engine);
    let head = watch::channel((state.ring.head(), 0)).0;
    let inner = Arc::new(Inner {
        fingerprint,
        stats: Stats::default(),
        state: Mutex::new(state),
        listeners: AtomicUsize::new(0),
        opus_listeners: AtomicUsize::new(0),
        opus_running: Default::default(),
        head,
        events: broadcast::channel(64).0,
        catalog,
        clock,
        params,
    });
    Ok((inner, engine))
}
