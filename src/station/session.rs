//! A listening session: the engine on its own OS thread, rendering a lead ahead of the play
//! point into the broadcast ring, and the shared state listeners and event streams read.
use super::broadcast::{frame_index, frame_pos, Ring};
use super::clock::Clock;
use super::engine::{Checkpoint, Engine, EngineEvent};
use super::events::{NowPlaying, StationEvent, TrackInfo};
use crate::config::MixConfig;
use crate::library::{Catalog, TrackId};
use crate::units::{Frames, StreamPos};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, RwLock};
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
/// Keep an engine checkpoint every this much audio (splices re-render from the one before).
const CHECKPOINT_EVERY: u64 = 38;
/// Events kept for `Last-Event-ID` resumption.
const EVENT_LOG: usize = 256;
const HEARTBEAT: Duration = Duration::from_secs(1);
const PERSIST_EVERY: Duration = Duration::from_secs(3);

/// What survives a restart: enough to continue the same stream.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Snapshot {
    pub checkpoint: Checkpoint,
    /// The play point when the snapshot was taken.
    pub play_pos: StreamPos,
    /// Track starts in the kept history and rendered future.
    pub timeline: Vec<(StreamPos, TrackId)>,
}

pub enum Control {
    Skip,
    Stop,
}

/// The mutable part, behind one lock.
pub struct State {
    pub ring: Ring,
    pub timeline: VecDeque<(StreamPos, TrackId)>,
    anchor_pos: StreamPos,
    anchor_time: Duration,
    pub listeners: usize,
    pub next: Option<TrackId>,
    log: VecDeque<(u64, StationEvent)>,
    next_event_id: u64,
    announced: StreamPos,
    checkpoints: VecDeque<Checkpoint>,
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
    render_nanos: AtomicU64,
    rendered_frames: AtomicU64,
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
    pub catalog: Arc<RwLock<Arc<Catalog>>>,
    pub clock: Arc<dyn Clock>,
    pub params: SessionParams,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
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
        })
    }
}

/// Builds the shared state and the engine for a new or restored session.
pub fn prepare(
    fingerprint: String,
    params: SessionParams,
    catalog: Arc<RwLock<Arc<Catalog>>>,
    clock: Arc<dyn Clock>,
    restore: Option<Snapshot>,
    seed: u64,
) -> Result<(Arc<Shared>, Engine), super::engine::EngineError> {
    let cat = catalog.read().unwrap_or_else(|p| p.into_inner()).clone();
    let keep = params.history + params.lead + Frames::from_secs(5.0);
    let (engine, ring, anchor, timeline) = match restore {
        Some(s) => {
            let engine = Engine::from_checkpoint(params.mix.clone(), cat, &s.checkpoint)?;
            let ring = Ring::new(keep, frame_index(s.checkpoint.pos));
            let timeline = s
                .timeline
                .into_iter()
                .filter(|(p, _)| *p < s.checkpoint.mix_pos)
                .collect();
            (engine, ring, s.play_pos.max(s.checkpoint.pos), timeline)
        }
        None => {
            let engine = Engine::new(
                params.mix.clone(),
                cat,
                super::scheduler::Scheduler::shuffle(seed),
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

/// Persists a snapshot; called from the engine thread every few seconds and when it stops.
pub type Persist = Arc<dyn Fn(&Shared) + Send + Sync>;

/// The engine thread: render ahead of the play point, publish what becomes audible, obey
/// controls, persist. Returns when told to stop or when the control channel closes.
pub fn run(
    shared: Arc<Shared>,
    mut engine: Engine,
    control: mpsc::Receiver<Control>,
    persist: Persist,
) {
    let clock = shared.clock.clone();
    let lead = shared.params.lead;
    let mut last_heartbeat = Duration::ZERO;
    let mut last_persist = clock.now();
    let mut wait = Duration::ZERO;
    let mut idle_since: Option<Duration> = None;
    loop {
        match control.recv_timeout(wait) {
            Ok(Control::Skip) => engine = splice(&shared, engine),
            Ok(Control::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let latest = shared.catalog();
        if !Arc::ptr_eq(&latest, engine.catalog()) {
            engine.set_catalog(latest);
        }
        let now = clock.now();
        let play = shared.lock().play_pos(now);
        let mut rendered = 0;
        if engine.position() < play {
            shared.stats.underruns.fetch_add(1, Ordering::Relaxed);
        }
        let started = std::time::Instant::now();
        while engine.position() < play + lead && rendered < 64 {
            match engine.render_block() {
                Ok((chunk, events)) => publish_block(&shared, &engine, chunk, events),
                Err(e) => {
                    tracing::error!(session = %shared.fingerprint, "engine stopped: {e}");
                    return;
                }
            }
            rendered += 1;
        }
        if rendered > 0 {
            let st = &shared.stats;
            st.render_nanos
                .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
            st.rendered_frames
                .fetch_add(rendered * super::engine::BLOCK.0, Ordering::Relaxed);
        }
        announce(&shared, play);
        if now >= last_heartbeat + HEARTBEAT {
            last_heartbeat = now;
            let (position, now_playing, next) = shared.now_and_next();
            let listeners = shared.lock().listeners;
            shared.publish(StationEvent::Heartbeat {
                position: position.secs(),
                now_playing,
                next,
                listeners,
            });
        }
        let busy = shared.lock().listeners > 0 || shared.events.receiver_count() > 0;
        if busy {
            idle_since = None;
        } else if now.saturating_sub(*idle_since.get_or_insert(now)) >= shared.params.idle_timeout {
            tracing::info!(session = %shared.fingerprint, "nobody listening: parking the session");
            break;
        }
        if now >= last_persist + PERSIST_EVERY {
            last_persist = now;
            persist(&shared);
        }
        let ahead = engine.position().secs() - (play + lead).secs();
        wait = if rendered == 64 {
            Duration::ZERO
        } else {
            clock.real(Duration::from_secs_f64(ahead.clamp(0.005, 0.25)))
        };
    }
    persist(&shared);
}

/// Puts a rendered block into the ring and the timeline, and keeps checkpoints.
fn publish_block(
    shared: &Shared,
    engine: &Engine,
    chunk: Option<super::engine::Chunk>,
    events: Vec<EngineEvent>,
) {
    let mut st = shared.lock();
    for e in events {
        match e {
            EngineEvent::TrackStarted { pos, track } => st.timeline.push_back((pos, track)),
            EngineEvent::TrackFailed { track, reason, .. } => {
                tracing::warn!(session = %shared.fingerprint, %track, "track skipped: {reason}")
            }
        }
    }
    if let Some(chunk) = chunk {
        for f in chunk.frames {
            st.ring.push(Bytes::from(f.data));
        }
    }
    let tail = frame_pos(st.ring.tail());
    while st.timeline.len() > 1 && st.timeline[1].0 <= tail {
        st.timeline.pop_front();
    }
    let pos = engine.position();
    if frame_index(pos).is_multiple_of(CHECKPOINT_EVERY)
        && st.checkpoints.back().is_none_or(|c| c.pos < pos)
    {
        st.checkpoints.push_back(engine.checkpoint());
        while st.checkpoints.len() > 2 && st.checkpoints[1].pos <= tail {
            st.checkpoints.pop_front();
        }
    }
    st.next = engine.transition().map(|t| t.next.clone());
    let v = (st.ring.head(), st.generation);
    drop(st);
    shared.head.send_replace(v);
}

/// Sends `track` events for track starts the play point has reached.
fn announce(shared: &Shared, play: StreamPos) {
    let due: Vec<(StreamPos, TrackId)> = {
        let mut st = shared.lock();
        let from = st.announced;
        st.announced = play;
        st.timeline
            .iter()
            .filter(|(p, _)| *p > from && *p <= play)
            .cloned()
            .collect()
    };
    for (pos, id) in due {
        if let Some(track) = shared.info(&id, Some(pos)) {
            shared.publish(StationEvent::Track {
                position: pos.secs(),
                track,
            });
        }
    }
}

/// Skip: re-render from just after the play point, replacing the buffered future.
fn splice(shared: &Shared, mut engine: Engine) -> Engine {
    let play = shared.lock().play_pos(shared.clock.now());
    let target = frame_pos(frame_index(play + SPLICE_MARGIN) + 1);
    let cp = {
        let st = shared.lock();
        st.checkpoints
            .iter()
            .rev()
            .find(|c| c.pos <= target)
            .cloned()
    };
    if let Some(cp) = cp.filter(|_| target < engine.position()) {
        match Engine::from_checkpoint(shared.params.mix.clone(), shared.catalog(), &cp) {
            Ok(mut fresh) => {
                let mut ok = true;
                while fresh.position() < target && ok {
                    ok = fresh.render_block().is_ok();
                }
                if ok {
                    engine = fresh;
                }
            }
            Err(e) => tracing::warn!("splice could not rebuild the engine: {e}"),
        }
    }
    engine.skip();
    let at = engine.position();
    {
        let mut st = shared.lock();
        st.ring.truncate_from(frame_index(at));
        st.timeline.retain(|(p, _)| *p < at);
        st.checkpoints.retain(|c| c.pos <= at);
        let v = (st.ring.head(), st.generation);
        drop(st);
        shared.head.send_replace(v);
    }
    shared.publish(StationEvent::Splice {
        position: at.secs(),
        reason: "skip".into(),
    });
    engine
}
