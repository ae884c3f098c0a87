//! A session's Opus stage: an encoder on the engine thread that runs only while someone
//! listens to an Opus stream, fed the same PCM as LAME, into a ring of 20 ms packets indexed
//! by packet number (packet n starts at stream position n × 882, see `audio::opus_encode`).
//!
//! The lead rendered before the stage started (or re-rendered after a splice) is not kept as
//! PCM: the stage re-renders it from the last checkpoint early enough, following the session's
//! checkpoints (an engine rebuilt from one renders the same PCM from its position on), and
//! switching to a later checkpoint where the future changed (a splice or a steer). It costs
//! one render of that span (about the lead, 15 s of audio) when the first Opus listener comes,
//! and a few seconds after each splice; no PCM is held.
use super::inner::Inner;
use super::{Codec, Control, ListenError, Listener, Session, FROM_SLACK};
use crate::audio::opus_encode::{
    first_exact_packet, packet_index, packet_pos, OpusStream, PACKET_FRAMES,
};
use crate::station::broadcast::Ring;
use crate::station::broadcast::{frame_index, frame_pos};
use crate::station::engine::Engine;
use crate::units::{Frames, StreamPos};
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Packets of pre-roll before the first audible one of an Ogg join (RFC 7845: 80 ms).
pub const OGG_PREROLL: u64 = 4;
/// The encoder keeps running this long (clock time) after the last Opus listener left, so a
/// reconnection does not re-render the lead.
const LINGER: Duration = Duration::from_secs(10);

/// The Opus side of a session's state (under its lock).
pub struct OpusRing {
    pub(super) ring: Ring,
    /// The earliest packet a listener waits for that the ring cannot get without (re)starting
    /// the encoder there; the engine thread takes it.
    pub(super) want: Option<u64>,
}

impl OpusRing {
    /// A ring holding as much audio as the MP3 ring (`keep`).
    pub(super) fn new(keep: Frames) -> OpusRing {
        OpusRing {
            ring: Ring::with_capacity(keep.0.div_ceil(PACKET_FRAMES) as usize, 0),
            want: None,
        }
    }

    /// Asks for packets from `first` on (a splice replaced them, or a listener joins there).
    pub(super) fn ask(&mut self, first: u64) {
        self.want = Some(self.want.map_or(first, |w| w.min(first)));
    }
}

impl Session {
    /// An Opus listener from `from` (the packet containing it) or, without one, from the play
    /// point, sent up to `preroll` packets before it. Starts the session's Opus encoder when
    /// the packets are not encoded yet. Errors as [`Session::listen`].
    pub fn listen_opus(
        &self,
        from: Option<StreamPos>,
        preroll: u64,
    ) -> Result<Listener, ListenError> {
        let mut st = self.inner.lock();
        let play = st.play_pos(self.inner.clock.now());
        let oldest = oldest_packet(&self.inner, &st);
        let start = match from {
            None => packet_index(play).max(oldest + preroll),
            Some(from) if frame_index(from) < st.ring.tail() || packet_index(from) < oldest => {
                return Err(ListenError::Gone {
                    from: from.secs(),
                    oldest: packet_pos(oldest.max(packet_index(frame_pos(st.ring.tail())) + 1))
                        .secs(),
                })
            }
            Some(from) if from > play + self.inner.params.lead + FROM_SLACK => {
                return Err(ListenError::TooFarAhead {
                    from: from.secs(),
                    play: play.secs(),
                })
            }
            Some(from) => packet_index(from),
        };
        let preroll = preroll.min(start - oldest);
        let first = start - preroll;
        let running = self.inner.opus_running.load(Ordering::Relaxed);
        let wake = !running || first < st.opus.ring.tail();
        if wake {
            st.opus.ask(first);
        }
        // Counted before the lock is released, so the engine thread cannot stop the encoder
        // between the look above and this listener being there.
        let listener = Listener::new(
            self.inner.clone(),
            Codec::Opus,
            start,
            preroll,
            st.generation,
        );
        drop(st);
        if wake {
            self.send(Control::Opus);
        }
        Ok(listener)
    }
}

/// The first packet the session can still encode: from its oldest checkpoint.
pub(super) fn oldest_packet(inner: &Inner, st: &super::inner::State) -> u64 {
    let from_checkpoint = st
        .checkpoints
        .front()
        .map_or(0, |c| first_exact_packet(c.pos));
    if inner.opus_running.load(Ordering::Relaxed) {
        from_checkpoint.min(st.opus.ring.tail())
    } else {
        from_checkpoint
    }
}

/// The engine thread's Opus encoder and when it was last listened to.
pub(super) struct Stage {
    stream: OpusStream,
    idle_since: Option<Duration>,
}

/// Starts, restarts or stops the stage, before the engine renders on (so every block it
/// renders next is the one the stage expects).
pub(super) fn tend(shared: &Inner, engine: &Engine, stage: &mut Option<Stage>, now: Duration) {
    let want = shared.lock().opus.want.take();
    if let Some(first) = want {
        *stage = start(shared, engine, first);
        shared
            .opus_running
            .store(stage.is_some(), Ordering::Relaxed);
        shared.wake_listeners(shared.lock());
        return;
    }
    let Some(s) = stage else { return };
    // Under the lock: a listener joining meanwhile is counted before it looks whether the
    // encoder runs (see `listen_opus`).
    let mut st = shared.lock();
    if shared.opus_listeners.load(Ordering::Relaxed) > 0 {
        s.idle_since = None;
    } else if now.saturating_sub(*s.idle_since.get_or_insert(now)) >= LINGER {
        tracing::info!(session = %shared.fingerprint, "no Opus listener: stopping the Opus encoder");
        *stage = None;
        shared.opus_running.store(false, Ordering::Relaxed);
        let head = st.opus.ring.head();
        st.opus.ring.reset(head);
    }
}

/// Feeds the block the engine just rendered to the stage and publishes the packets.
pub(super) fn feed(shared: &Inner, engine: &Engine, stage: &mut Option<Stage>) {
    let Some(s) = stage else { return };
    let (at, pcm) = engine.last_pcm();
    let mut packets = Vec::new();
    if let Err(e) = s.stream.push(at, pcm, &mut packets) {
        tracing::error!(session = %shared.fingerprint, "Opus encoder stopped: {e}");
        *stage = None;
        shared.opus_running.store(false, Ordering::Relaxed);
        return;
    }
    publish(shared, &packets);
}

fn publish(shared: &Inner, packets: &[(u64, Bytes)]) {
    if packets.is_empty() {
        return;
    }
    let mut st = shared.lock();
    for (n, p) in packets {
        if *n == st.opus.ring.head() {
            st.opus.ring.push(p.clone());
        }
    }
}

/// An encoder that hands out packets from `first` on (or the first it can make), fed with
/// the session's PCM up to where the engine is: re-rendered from the session's checkpoints.
/// The ring keeps the packets before `first` when it holds them.
fn start(shared: &Inner, engine: &Engine, first: u64) -> Option<Stage> {
    let started = std::time::Instant::now();
    // The checkpoints from the last one early enough on (not the whole history's).
    let cps: Vec<_> = {
        let st = shared.lock();
        let i = st
            .checkpoints
            .iter()
            .rposition(|c| first_exact_packet(c.pos) <= first)
            .unwrap_or(0);
        st.checkpoints.iter().skip(i).cloned().collect()
    };
    let first = first.max(first_exact_packet(cps.first()?.pos));
    let kbps = shared.params.opus_bitrate;
    let mut stream = match OpusStream::new(kbps, first) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(session = %shared.fingerprint, "cannot start the Opus encoder: {e}");
            return None;
        }
    };
    {
        let mut st = shared.lock();
        let ring = &mut st.opus.ring;
        if shared.opus_running.load(Ordering::Relaxed)
            && first >= ring.tail()
            && first <= ring.head()
        {
            ring.truncate_from(first);
        } else {
            ring.reset(first);
        }
        // Listeners from `first` on wait for this run instead of asking for another.
        shared.opus_running.store(true, Ordering::Relaxed);
    }
    let rebuild = |cp| {
        let mut e =
            Engine::from_checkpoint(shared.params.mix.clone(), shared.catalog(), cp).ok()?;
        e.scheduler_mut().set_prefs(shared.catalog.marks.prefs());
        Some(e)
    };
    let mut helper = rebuild(&cps[0])?;
    let mut next_cp = 1;
    let mut packets = Vec::new();
    let end = engine.mix_position();
    let mut rendered = Frames::ZERO;
    let mut switches = 0;
    let mut published = false;
    while helper.mix_position() < end {
        helper.render_block().ok()?;
        rendered += crate::station::engine::BLOCK;
        let (at, pcm) = helper.last_pcm();
        stream.push(at, pcm, &mut packets).ok()?;
        // Where the session's future changed, its checkpoint differs from the helper's: go
        // on from the session's.
        while next_cp < cps.len() && cps[next_cp].mix_pos <= helper.mix_position() {
            let cp = &cps[next_cp];
            if cp.mix_pos == helper.mix_position() && helper.checkpoint() != *cp {
                helper = rebuild(cp)?;
                switches += 1;
            }
            next_cp += 1;
        }
        // The listener waiting at `first` hears from the first 0.2 s on, not after the
        // whole lead is re-rendered (it would start that much behind the play point).
        if packets.len() >= if published { 50 } else { 10 } {
            publish(shared, &packets);
            shared.wake_listeners(shared.lock());
            packets.clear();
            published = true;
        }
    }
    publish(shared, &packets);
    tracing::info!(
        session = %shared.fingerprint,
        from = StreamPos(Frames(first * PACKET_FRAMES)).secs(),
        rerendered = rendered.secs(),
        switches,
        ms = started.elapsed().as_millis() as u64,
        "Opus encoder started"
    );
    Some(Stage {
        stream,
        idle_since: None,
    })
}
