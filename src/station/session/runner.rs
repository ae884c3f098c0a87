//! The engine thread of a session: render a lead ahead of the play point into the ring,
//! announce what becomes audible, obey skip/stop, keep checkpoints and persist snapshots.
use super::inner::Inner;
use super::opus;
use super::snapshot::Snapshot;
use super::{Choice, Control, SPLICE_MARGIN};
use crate::model::TrackId;
use crate::station::broadcast::{frame_index, frame_pos};
use crate::station::engine::{self, Chunk, Engine, EngineEvent};
use crate::station::events::StationEvent;
use crate::units::{Frames, StreamPos};
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Keep an engine checkpoint every this many MP3 frames (splices re-render from the one before).
const CHECKPOINT_EVERY: u64 = 38;
const HEARTBEAT: Duration = Duration::from_secs(1);
const PERSIST_EVERY: Duration = Duration::from_secs(3);
/// Once behind its lead, the engine renders this much beyond it before it rests: listeners at
/// the head are woken a few times a second with a batch of frames, not for every 26 ms frame.
const BATCH: Frames = Frames(8_820);
/// Frames rendered per pass at most, so controls are answered during a long catch-up.
const MAX_PER_PASS: u64 = 64;

/// Persists a snapshot; called from the engine thread every few seconds and when it stops.
pub type Persist = Arc<dyn Fn(&Snapshot) + Send + Sync>;

fn save(inner: &Inner, persist: &Persist) {
    if let Some(s) = inner.snapshot() {
        persist(&s);
    }
}

/// The engine thread: render ahead of the play point, publish what becomes audible, obey
/// controls, persist. Returns when told to stop or when the control channel closes.
pub(super) fn run(
    shared: Arc<Inner>,
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
    let mut was_listening = false;
    let mut on_time = false;
    let mut opus_stage = None;
    // Saved at once, so even a session killed in its first seconds resumes where it was.
    save(&shared, &persist);
    loop {
        match control.recv_timeout(wait) {
            Ok(Control::Skip) => engine = splice(&shared, engine),
            Ok(Control::Steer(choice, reply)) => {
                engine = steer(&shared, engine, &choice);
                sync_plan(&shared, &mut engine);
                let _ = reply.send(engine.transition().map(|t| t.next.clone()));
            }
            Ok(Control::Opus) => {}
            Ok(Control::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let latest = shared.catalog();
        if !Arc::ptr_eq(&latest, engine.catalog()) {
            engine.set_catalog(latest);
        }
        let prefs = shared.catalog.marks.prefs();
        if !Arc::ptr_eq(&prefs, engine.scheduler_mut().prefs()) {
            engine.scheduler_mut().set_prefs(prefs);
            engine = avoid_banned(&shared, engine);
        }
        let now = clock.now();
        opus::tend(&shared, &engine, &mut opus_stage, now);
        let play = shared.lock().play_pos(now);
        let target = play + lead;
        let mut rendered = 0;
        // A new or restored engine starts behind its play point and catches up: only falling
        // behind after that is an underrun (listeners of a restored session play on from
        // their buffers meanwhile).
        if engine.position() < play {
            if on_time {
                shared.stats.underruns.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            on_time = true;
        }
        let started = std::time::Instant::now();
        if engine.position() < target {
            while engine.position() < target + BATCH && rendered < MAX_PER_PASS {
                match engine.render_block() {
                    Ok((chunk, events)) => {
                        opus::feed(&shared, &engine, &mut opus_stage);
                        publish_block(&shared, &engine, chunk, events)
                    }
                    Err(e) => {
                        tracing::error!(session = %shared.fingerprint, "engine stopped: {e}");
                        return;
                    }
                }
                rendered += 1;
            }
        }
        if rendered > 0 {
            sync_plan(&shared, &mut engine);
            shared.wake_listeners(shared.lock());
            let st = &shared.stats;
            st.render_nanos
                .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
            st.rendered_frames
                .fetch_add(rendered * engine::BLOCK.0, Ordering::Relaxed);
        }
        announce(&shared, play);
        if now >= last_heartbeat + HEARTBEAT {
            last_heartbeat = now;
            publish_heartbeat(&shared);
        }
        let listening = shared.listeners.load(Ordering::Relaxed) > 0;
        if listening && !was_listening {
            // A first listener: save now, so a crash in the next seconds still catches up.
            save(&shared, &persist);
        }
        was_listening = listening;
        let busy = listening || shared.events.receiver_count() > 0;
        if busy {
            idle_since = None;
        } else if now.saturating_sub(*idle_since.get_or_insert(now)) >= shared.params.idle_timeout {
            tracing::info!(session = %shared.fingerprint, "nobody listening: parking the session");
            break;
        }
        if now >= last_persist + PERSIST_EVERY {
            last_persist = now;
            save(&shared, &persist);
        }
        let ahead = engine.position().secs() - target.secs();
        wait = if rendered == MAX_PER_PASS {
            Duration::ZERO
        } else {
            clock.real(Duration::from_secs_f64(ahead.clamp(0.005, 0.25)))
        };
    }
    save(&shared, &persist);
}

/// Puts a rendered block into the ring and the timeline, and keeps checkpoints. Listeners
/// are woken by the caller once the batch is complete.
pub(super) fn publish_block(
    shared: &Inner,
    engine: &Engine,
    chunk: Option<Chunk>,
    events: Vec<EngineEvent>,
) {
    let mut st = shared.lock();
    for e in events {
        match e {
            EngineEvent::TrackStarted { pos, track } => {
                if st.timeline.back() != Some(&(pos, track.clone())) {
                    st.timeline.push_back((pos, track))
                }
            }
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
    st.follow(engine);
}

/// Copies the scheduler's album or journey for the session handle, when it changed.
fn sync_plan(shared: &Inner, engine: &mut Engine) {
    let plan = engine.scheduler_mut().planned();
    let mut st = shared.lock();
    if st.plan.as_ref() != plan {
        st.plan = plan.cloned();
    }
}

/// Sends `track` events for track starts the play point has reached.
fn announce(shared: &Inner, play: StreamPos) {
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
        shared.catalog.marks.played(&id);
        if let Some(track) = shared.info(&id, Some(pos)) {
            shared.publish(StationEvent::Track {
                position: pos.secs(),
                track,
            });
        }
    }
}

/// Now playing, next up and the listener count, to every events client.
fn publish_heartbeat(shared: &Inner) {
    let (position, now_playing, next) = shared.now_and_next();
    let listeners = shared.listeners.load(Ordering::Relaxed);
    shared.publish(StationEvent::Heartbeat {
        position: position.secs(),
        now_playing,
        next,
        listeners,
    });
}

/// An engine rebuilt from the last checkpoint before just after the play point and rendered
/// up to there, so the future can be changed from that point; `None` when the engine has not
/// rendered that far or cannot be rebuilt.
fn rebuilt_at_play_point(shared: &Inner, engine: &Engine) -> Option<Engine> {
    let play = shared.play_pos();
    let target = frame_pos(frame_index(play + SPLICE_MARGIN) + 1);
    if target >= engine.position() {
        return None;
    }
    let cp = {
        let st = shared.lock();
        st.checkpoints
            .iter()
            .rev()
            .find(|c| c.pos <= target)
            .cloned()
    }?;
    match Engine::from_checkpoint(shared.params.mix.clone(), shared.catalog(), &cp) {
        Ok(mut fresh) => {
            fresh
                .scheduler_mut()
                .set_prefs(shared.catalog.marks.prefs());
            while fresh.position() < target {
                fresh.render_block().ok()?;
            }
            Some(fresh)
        }
        Err(e) => {
            tracing::warn!("splice could not rebuild the engine: {e}");
            None
        }
    }
}

/// After the plan changed in place (beyond what is rendered): a checkpoint here, so an engine
/// rebuilt from the checkpoints (the Opus stage's) follows the new plan from this point.
fn replanned(shared: &Inner, engine: &Engine) {
    let mut st = shared.lock();
    let pos = engine.position();
    if st.checkpoints.back().is_some_and(|c| c.pos == pos) {
        st.checkpoints.pop_back();
    }
    st.checkpoints.push_back(engine.checkpoint());
    st.follow(engine);
}

/// Drops the rendered future from the engine's position on and tells listeners to refetch.
fn cut_future(shared: &Inner, engine: &Engine, reason: &str) {
    let at = engine.position();
    let mut st = shared.lock();
    st.ring.truncate_from(frame_index(at));
    st.timeline.retain(|(p, _)| *p < at);
    st.checkpoints.retain(|c| c.pos < at);
    // Opus packets from the one holding the splice on are encoded again from the new future.
    if shared.opus_running.load(Ordering::Relaxed) {
        let first = crate::audio::opus_encode::packet_index(at);
        st.opus.ring.truncate_from(first);
        st.opus.ask(first);
    }
    // The new future's first checkpoint: a skip or steer soon after rebuilds from this one,
    // not from one taken before the change (which would undo it).
    st.checkpoints.push_back(engine.checkpoint());
    st.follow(engine);
    shared.wake_listeners(st);
    shared.publish(StationEvent::Splice {
        position: at.secs(),
        reason: reason.into(),
    });
}

/// Skip: re-render from just after the play point, replacing the buffered future.
fn splice(shared: &Inner, engine: Engine) -> Engine {
    let mut engine = rebuilt_at_play_point(shared, &engine).unwrap_or(engine);
    engine.skip();
    cut_future(shared, &engine, "skip");
    engine
}

/// Steer or pick the next track. When the crossfade into the planned next track is not
/// rendered yet, the plan changes in place; when it is already in the lead, the future is
/// re-rendered from just after the play point; when it is already audible, the choice
/// applies to the pick after it.
fn steer(shared: &Inner, mut engine: Engine, choice: &Choice) -> Engine {
    let apply = |e: &mut Engine| match choice {
        Choice::Direction(d) => e.scheduler_mut().steer(*d),
        Choice::Track(id) => e.scheduler_mut().queue(id.clone()),
        Choice::Plan(p) => e.scheduler_mut().plan(p.clone()),
    };
    // An album or a journey replaces the rendered future from the play point at once.
    if matches!(choice, Choice::Plan(_)) {
        if let Some(mut fresh) = rebuilt_at_play_point(shared, &engine) {
            apply(&mut fresh);
            if fresh.replan_next() {
                cut_future(shared, &fresh, "plan");
                return fresh;
            }
        }
    }
    apply(&mut engine);
    if engine.replan_next() {
        replanned(shared, &engine);
        publish_heartbeat(shared);
        return engine;
    }
    if let Some(mut fresh) = rebuilt_at_play_point(shared, &engine) {
        apply(&mut fresh);
        if fresh.replan_next() {
            cut_future(shared, &fresh, "steer");
            return fresh;
        }
    }
    engine
}

/// After a ban: a banned track audible now is skipped; a banned track planned or rendered next
/// is replaced (in place when its crossfade is not in the mix yet, else by re-rendering from
/// just after the play point). The scheduler already holds the new bans.
fn avoid_banned(shared: &Inner, mut engine: Engine) -> Engine {
    let prefs = engine.scheduler_mut().prefs().clone();
    let banned = |id: &TrackId| prefs.banned.contains(id);
    let play = shared.play_pos();
    let (now_banned, ahead_banned) = {
        let st = shared.lock();
        let now = st.track_at(play).is_some_and(|(_, id)| banned(id));
        let ahead = st.timeline.iter().any(|(p, id)| *p > play && banned(id));
        (now, ahead)
    };
    let next_banned = |e: &Engine| e.transition().is_some_and(|t| banned(&t.next));
    if !now_banned && !ahead_banned {
        if next_banned(&engine) && engine.replan_next() {
            replanned(shared, &engine);
            publish_heartbeat(shared);
        }
        return engine;
    }
    let Some(mut fresh) = rebuilt_at_play_point(shared, &engine) else {
        // No checkpoint to rebuild from yet (a session just restored from a snapshot taken
        // before the ban): the engine is still catching up to the play point, so its own mix
        // changes from where it is — the banned track it plays is skipped, the one it plans
        // next replaced.
        if engine.playing().iter().any(|t| banned(&t.id)) {
            engine.skip();
        } else if !(next_banned(&engine) && engine.replan_next()) {
            return engine;
        }
        cut_future(shared, &engine, "ban");
        return engine;
    };
    if next_banned(&fresh) {
        fresh.replan_next();
    }
    if now_banned {
        fresh.skip();
    }
    cut_future(shared, &fresh, "ban");
    fresh
}
