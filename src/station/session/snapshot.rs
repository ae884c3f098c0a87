//! What survives a restart of the server: a session's engine checkpoint, its play point and its
//! recent track starts, and where the play point is by the time the session is restored.
use crate::model::TrackId;
use crate::station::clock::Clock;
use crate::station::engine::Checkpoint;
use crate::units::{Frames, StreamPos};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Enough to continue the same stream.
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

impl Snapshot {
    /// Reads a stored snapshot.
    pub fn parse(text: &str) -> Result<Snapshot, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The stored form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Where the restored session's play point is now: where it was saved, plus the time
    /// that has passed since — players kept playing from their buffers meanwhile — but never
    /// more than a lead, because a player cannot have played past the audio it held.
    pub(super) fn caught_up(&self, clock: &dyn Clock, lead: Frames) -> StreamPos {
        let saved = self.play_pos.max(self.checkpoint.pos);
        let now = unix_ms();
        if !self.listening || self.saved_at_ms == 0 || now <= self.saved_at_ms {
            return saved;
        }
        let passed = clock.advance_in(Duration::from_millis(now - self.saved_at_ms));
        saved + Frames::from_secs(passed.as_secs_f64()).min(lead)
    }
}

pub(super) fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
