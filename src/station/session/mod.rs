//! A listening session: one type with a handle. Its engine thread renders a lead ahead of the
//! play point into a ring of MP3 frames; callers send commands (skip, steer, restart, stop) and
//! ask questions (now and next, an overview, a listener cursor, an events subscription, a clip
//! to save, metrics). Its state is private: nothing outside this module locks or reads it.
mod clip;
mod inner;
mod listener;
mod opus;
mod runner;
mod snapshot;
#[cfg(test)]
mod tests;

pub use listener::{Codec, ListenEnd, Listener};
pub use opus::OGG_PREROLL;
pub use runner::Persist;
pub use snapshot::{Snapshot, SnapshotError};

use crate::catalog::LiveCatalog;
use crate::config::MixConfig;
use crate::model::TrackId;
use crate::station::broadcast::{frame_index, frame_pos};
use crate::station::clock::Clock;
use crate::station::directions::Direction;
use crate::station::engine::EngineError;
use crate::station::events::{NowPlaying, StationEvent, TrackInfo};
use crate::station::plan_queue::Plan;
use crate::units::{Frames, StreamPos};
use bytes::Bytes;
use inner::Inner;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{broadcast, oneshot};

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
    /// Opus bitrate in kbps (`--opus-bitrate`).
    pub opus_bitrate: u32,
}

/// Where a skip lands: this far after the play point, so clients can cut their buffers there.
pub const SPLICE_MARGIN: Frames = Frames(22_050);
/// How far past the rendered lead a `from` may ask (a player that ran a little ahead).
pub(super) const FROM_SLACK: Frames = Frames(44_100 * 30);

/// What the listener chose for the next track.
#[derive(Clone, Debug, PartialEq)]
pub enum Choice {
    /// Go this way (and keep heading that way).
    Direction(Direction),
    /// Play this track next.
    Track(TrackId),
    /// Play an album or go on a journey from the next track on (`None` cancels it).
    Plan(Option<Plan>),
}

pub(super) enum Control {
    Skip,
    /// The reply carries the planned next track once the choice is applied.
    Steer(Choice, oneshot::Sender<Option<TrackId>>),
    Stop,
    /// An Opus listener waits for packets the engine thread must encode.
    Opus,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("cannot start the session's engine thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// A `from` the session cannot serve.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ListenError {
    #[error("position {from:.3} s is no longer held (the oldest is {oldest:.3} s)")]
    Gone { from: f64, oldest: f64 },
    #[error("position {from:.3} s is too far ahead of the session ({play:.3} s)")]
    TooFarAhead { from: f64, play: f64 },
}

/// The play point, what is audible there and what comes next.
pub struct NowNext {
    pub position: StreamPos,
    pub now_playing: Option<NowPlaying>,
    pub next: Option<TrackInfo>,
}

/// What the session page shows.
pub struct Overview {
    pub now: NowNext,
    pub listeners: usize,
    /// Audio rendered beyond the play point.
    pub rendered_ahead: Frames,
    /// Tracks that have started, oldest first, each with its start.
    pub history: Vec<TrackInfo>,
}

/// Events after a client's `Last-Event-ID` still in the log, then the live feed.
pub struct Subscription {
    pub missed: Vec<(u64, StationEvent)>,
    /// Events with an id up to this were in `missed`: skip them in `live`.
    pub seen: u64,
    pub live: broadcast::Receiver<(u64, StationEvent)>,
}

/// The last seconds of a session, for "save": its frames and a file name from its tracks.
pub struct Clip {
    pub frames: Vec<Bytes>,
    pub file_name: String,
}

/// Figures for `/metrics`.
pub struct SessionMetrics {
    pub listeners: usize,
    pub opus_listeners: usize,
    /// Whether the session's Opus encoder runs.
    pub opus_encoding: bool,
    pub ring_bytes: usize,
    pub underruns: u64,
    pub realtime_factor: f64,
}

pub struct Session {
    inner: Arc<Inner>,
    /// Token whose bearer may control the session.
    owner: String,
    control: Mutex<mpsc::Sender<Control>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Everything a session is made from.
pub struct Start {
    pub fingerprint: String,
    pub owner: String,
    pub params: SessionParams,
    pub catalog: Arc<LiveCatalog>,
    pub clock: Arc<dyn Clock>,
    pub restore: Option<Snapshot>,
    pub seed: u64,
    pub persist: Persist,
}

impl Session {
    /// Builds the session, places its first track (so callers never see a session with no
    /// track) and starts its engine thread. Blocking: it opens and decodes the first track.
    pub fn start(s: Start) -> Result<Session, SessionError> {
        let (inner, mut engine) = inner::prepare(
            s.fingerprint,
            s.params,
            s.catalog,
            s.clock,
            s.restore,
            s.seed,
        )?;
        let (chunk, events) = engine.render_block()?;
        runner::publish_block(&inner, &engine, chunk, events);
        inner.wake_listeners(inner.lock());
        let (tx, rx) = mpsc::channel();
        let for_thread = inner.clone();
        let short: String = inner.fingerprint.chars().take(6).collect();
        let thread = std::thread::Builder::new()
            .name(format!("engine-{short}"))
            .spawn(move || runner::run(for_thread, engine, rx, s.persist))
            .map_err(SessionError::Thread)?;
        Ok(Session {
            inner,
            owner: s.owner,
            control: Mutex::new(tx),
            thread: Mutex::new(Some(thread)),
        })
    }

    pub fn fingerprint(&self) -> &str {
        &self.inner.fingerprint
    }

    /// The owner's token (told once, to the creator).
    pub fn owner_token(&self) -> &str {
        &self.owner
    }

    pub fn is_owner(&self, token: Option<&str>) -> bool {
        token.is_some_and(|t| constant_time_eq(t.as_bytes(), self.owner.as_bytes()))
    }

    /// The engine thread ended (parked after being idle, stopped, or failed).
    pub fn is_parked(&self) -> bool {
        self.thread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_none_or(|t| t.is_finished())
    }

    pub(super) fn send(&self, c: Control) {
        let _ = self
            .control
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(c);
    }

    /// Skips to the next track from just after the play point.
    pub fn skip(&self) {
        self.send(Control::Skip);
    }

    /// Steers the next pick; the reply is the next track the engine then plans.
    pub fn steer(&self, choice: Choice) -> oneshot::Receiver<Option<TrackId>> {
        let (tx, rx) = oneshot::channel();
        self.send(Control::Steer(choice, tx));
        rx
    }

    /// Tells every client to reconnect: a `restart` event, and open audio responses end.
    pub fn restart_listeners(&self, reason: &str, retry_after: f64) {
        self.inner.publish(StationEvent::Restart {
            reason: reason.into(),
            retry_after,
        });
        let mut st = self.inner.lock();
        st.generation += 1;
        self.inner.wake_listeners(st);
    }

    /// Stops the engine thread, which saves the session on its way out, and waits for it.
    pub fn stop(&self) {
        self.send(Control::Stop);
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }

    pub fn position(&self) -> StreamPos {
        self.inner.play_pos()
    }

    /// Audio kept behind the play point (the longest clip).
    pub fn history_limit(&self) -> Frames {
        self.inner.params.history
    }

    pub fn now_and_next(&self) -> NowNext {
        let (position, now_playing, next) = self.inner.now_and_next();
        NowNext {
            position,
            now_playing,
            next,
        }
    }

    pub fn overview(&self) -> Overview {
        let now = self.now_and_next();
        let catalog = self.inner.catalog();
        let st = self.inner.lock();
        let history = st
            .timeline
            .iter()
            .filter(|(p, _)| *p <= now.position)
            .filter_map(|(p, id)| catalog.get(id).map(|t| TrackInfo::new(t, Some(p.secs()))))
            .collect();
        let head = frame_pos(st.ring.head());
        Overview {
            listeners: self.inner.listeners.load(Ordering::Relaxed),
            rendered_ahead: head - now.position.min(head),
            history,
            now,
        }
    }

    /// The track audible now (before the first is audible, the first), and every track the
    /// session played or plans, for steering away from what was heard.
    pub fn heard(&self) -> (Option<TrackId>, Vec<TrackId>) {
        let st = self.inner.lock();
        let play = st.play_pos(self.inner.clock.now());
        let current = st.track_at(play).or(st.timeline.front());
        let current = current.map(|(_, id)| id.clone());
        let mut all: Vec<TrackId> = st.timeline.iter().map(|(_, id)| id.clone()).collect();
        all.extend(st.next.clone());
        (current, all)
    }

    /// The album or journey the session plays, with how many of its tracks are not audible
    /// yet; `None` without one, or once its last track is no longer playing.
    pub fn plan(&self) -> Option<(Plan, usize)> {
        let st = self.inner.lock();
        let play = st.play_pos(self.inner.clock.now());
        let plan = st.plan.clone().filter(|p| !p.tracks.is_empty())?;
        let ahead: Vec<TrackId> = st
            .timeline
            .iter()
            .filter(|(p, _)| *p > play)
            .map(|(_, id)| id.clone())
            .collect();
        let left = plan.tracks_left(&ahead, st.next.as_ref());
        let current = st.track_at(play).map(|(_, id)| id);
        (left > 0 || current == plan.tracks.last()).then_some((plan, left))
    }

    /// A listener from `from` (the frame containing it) or, without one, from the play point.
    pub fn listen(&self, from: Option<StreamPos>) -> Result<Listener, ListenError> {
        let st = self.inner.lock();
        let play = st.play_pos(self.inner.clock.now());
        let cursor = match from {
            None => frame_index(play).clamp(st.ring.tail(), st.ring.head()),
            Some(from) if frame_index(from) < st.ring.tail() => {
                return Err(ListenError::Gone {
                    from: from.secs(),
                    oldest: frame_pos(st.ring.tail()).secs(),
                })
            }
            Some(from) if from > play + self.inner.params.lead + FROM_SLACK => {
                return Err(ListenError::TooFarAhead {
                    from: from.secs(),
                    play: play.secs(),
                })
            }
            Some(from) => frame_index(from),
        };
        let generation = st.generation;
        drop(st);
        Ok(Listener::new(
            self.inner.clone(),
            Codec::Mp3,
            cursor,
            0,
            generation,
        ))
    }

    /// Events since `last_id` (when the log still has them), then live ones.
    pub fn subscribe(&self, last_id: Option<u64>) -> Subscription {
        // Subscribe before reading the log, so nothing falls between the two.
        let live = self.inner.events.subscribe();
        let st = self.inner.lock();
        let missed: Vec<(u64, StationEvent)> = match last_id {
            Some(last) => st
                .log
                .iter()
                .filter(|(id, _)| *id > last)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        let seen = missed.last().map_or(0, |(id, _)| *id);
        Subscription { missed, seen, live }
    }

    pub fn metrics(&self) -> SessionMetrics {
        let ring_bytes = {
            let st = self.inner.lock();
            st.ring.bytes() + st.opus.ring.bytes()
        };
        let stats = &self.inner.stats;
        SessionMetrics {
            listeners: self.inner.listeners.load(Ordering::Relaxed),
            opus_listeners: self.inner.opus_listeners.load(Ordering::Relaxed),
            opus_encoding: self.inner.opus_running.load(Ordering::Relaxed),
            ring_bytes,
            underruns: stats.underruns.load(Ordering::Relaxed),
            realtime_factor: stats.realtime_factor(),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
