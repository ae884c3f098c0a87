//! A listener's cursor into a session's ring: where its stream is, the frames it has not been
//! sent yet (shared with every other listener, never copied), and waiting for more. It counts
//! as a listener of the session while it exists.
use super::inner::Inner;
use crate::audio::opus_encode::packet_pos;
use crate::framing::Title;
use crate::station::broadcast::frame_pos;
use crate::units::StreamPos;
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::watch;

/// Why a listener's stream ends.
#[derive(Debug, PartialEq, Eq)]
pub enum ListenEnd {
    /// Listeners were told to reconnect (refresh, shutdown): the client starts a new request.
    Restarted,
    /// The listener fell behind the oldest frame kept: it was too slow.
    Lagged { behind: u64 },
    /// The session stopped.
    Closed,
}

/// What a listener's ring holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// MP3 frames of 1152 stream frames.
    Mp3,
    /// Opus packets of 882 stream frames (20 ms).
    Opus,
}

impl Codec {
    /// Stream position at which entry `index` of this codec's ring starts.
    pub fn pos(self, index: u64) -> StreamPos {
        match self {
            Codec::Mp3 => frame_pos(index),
            Codec::Opus => packet_pos(index),
        }
    }
}

pub struct Listener {
    inner: Arc<Inner>,
    codec: Codec,
    /// Index of the next frame (or packet) to hand out.
    cursor: u64,
    /// The first audible frame or packet; the ones from the first cursor to it are pre-roll.
    start: u64,
    preroll: u64,
    generation: u64,
    head: watch::Receiver<(u64, u64)>,
}

impl Listener {
    /// A listener from entry `start` of `codec`'s ring, sent `preroll` entries before it.
    pub(super) fn new(
        inner: Arc<Inner>,
        codec: Codec,
        start: u64,
        preroll: u64,
        generation: u64,
    ) -> Listener {
        inner.listeners.fetch_add(1, Ordering::Relaxed);
        if codec == Codec::Opus {
            inner.opus_listeners.fetch_add(1, Ordering::Relaxed);
        }
        let head = inner.head.subscribe();
        Listener {
            inner,
            codec,
            cursor: start - preroll,
            start,
            preroll,
            generation,
            head,
        }
    }

    /// Stream position of the first audible frame or packet (`X-Drift-Position`).
    pub fn start(&self) -> StreamPos {
        self.codec.pos(self.start)
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Packets sent before the first audible one (decoder pre-roll; Opus in Ogg only).
    pub fn preroll(&self) -> u64 {
        self.preroll
    }

    /// Index of the next frame [`Listener::take`] hands out.
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// Appends up to `max` frames from the cursor on to `out` and moves the cursor past them;
    /// returns how many (0: at the head, wait with [`Listener::changed`]).
    pub fn take(&mut self, max: usize, out: &mut Vec<Bytes>) -> Result<usize, ListenEnd> {
        let st = self.inner.lock();
        if st.generation != self.generation {
            return Err(ListenEnd::Restarted);
        }
        let ring = match self.codec {
            Codec::Mp3 => &st.ring,
            Codec::Opus => &st.opus.ring,
        };
        match ring.read_into(self.cursor, max, out) {
            Ok(n) => {
                self.cursor += n as u64;
                Ok(n)
            }
            Err(lag) => {
                drop(st);
                let behind = lag.tail - lag.cursor;
                tracing::info!(session = %self.inner.fingerprint, "dropping a slow listener ({behind} frames behind)");
                Err(ListenEnd::Lagged { behind })
            }
        }
    }

    /// Waits until the engine has rendered more, or listeners are told to reconnect.
    pub async fn changed(&mut self) -> Result<(), ListenEnd> {
        self.head.changed().await.map_err(|_| ListenEnd::Closed)
    }

    /// The title players show for the audio of frame (or packet) `index` ("Artist - Title").
    pub fn title_at(&self, index: u64) -> String {
        self.tags_at(index).display()
    }

    /// The artist and title of the track audible at frame (or packet) `index`.
    pub fn tags_at(&self, index: u64) -> Title {
        let st = self.inner.lock();
        st.track_at(self.codec.pos(index))
            .and_then(|(_, id)| {
                self.inner.catalog().get(id).map(|t| Title {
                    artist: t.tags.artist.clone(),
                    title: t.tags.title.clone(),
                })
            })
            .unwrap_or_else(|| Title {
                artist: String::new(),
                title: "Drift".into(),
            })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.inner.listeners.fetch_sub(1, Ordering::Relaxed);
        if self.codec == Codec::Opus {
            self.inner.opus_listeners.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
