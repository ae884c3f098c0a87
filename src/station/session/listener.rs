//! A listener's cursor into a session's ring: where its stream is, the frames it has not been
//! sent yet (shared with every other listener, never copied), and waiting for more. It counts
//! as a listener of the session while it exists.
use super::inner::Inner;
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

pub struct Listener {
    inner: Arc<Inner>,
    /// Index of the next frame to hand out.
    cursor: u64,
    start: u64,
    generation: u64,
    head: watch::Receiver<(u64, u64)>,
}

impl Listener {
    pub(super) fn new(inner: Arc<Inner>, cursor: u64, generation: u64) -> Listener {
        inner.listeners.fetch_add(1, Ordering::Relaxed);
        let head = inner.head.subscribe();
        Listener {
            inner,
            cursor,
            start: cursor,
            generation,
            head,
        }
    }

    /// Stream position of the first frame this listener is sent (`X-Drift-Position`).
    pub fn start(&self) -> StreamPos {
        frame_pos(self.start)
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
        match st.ring.read_into(self.cursor, max, out) {
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

    /// The title players show for the audio of frame `index` ("Artist - Title").
    pub fn title_at(&self, index: u64) -> String {
        let st = self.inner.lock();
        st.track_at(frame_pos(index))
            .and_then(|(_, id)| self.inner.catalog().get(id).map(|t| t.display_name()))
            .unwrap_or_else(|| "Drift".into())
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.inner.listeners.fetch_sub(1, Ordering::Relaxed);
    }
}
