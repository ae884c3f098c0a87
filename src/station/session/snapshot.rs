//! What survives a restart of the server: a session's engine checkpoint, its play point and its
//! recent track starts, and where the play point is by the time the session is restored.
use crate::model::TrackId;
use crate::station::clock::Clock;
use crate::station::engine::Checkpoint;
use crate::units::{Frames, StreamPos};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Positions and lengths in a snapshot stay below this many frames (~800 years of stream).
pub const MAX_POSITION: u64 = 1 << 40;
/// Decks a checkpoint may hold: a crossfade has two sounding, a real checkpoint 2–3.
const MAX_DECKS: usize = 8;

/// A stored snapshot that cannot be restored.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("not a snapshot Drift writes: {0}")]
    Implausible(String),
}

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
    /// Reads a stored snapshot, refusing one no Drift could have written: positions or
    /// lengths past [`MAX_POSITION`] (their sums would overflow), or more decks than can sound
    /// at once (each restored deck opens a decoder).
    pub fn parse(text: &str) -> Result<Snapshot, SnapshotError> {
        let s: Snapshot = serde_json::from_str(text)?;
        let cp = &s.checkpoint;
        if cp.decks.len() > MAX_DECKS {
            return Err(SnapshotError::Implausible(format!(
                "{} decks (at most {MAX_DECKS} sound at once)",
                cp.decks.len()
            )));
        }
        let fades = cp.decks.iter().flat_map(|d| [&d.fade_in, &d.fade_out]);
        let positions = [s.play_pos, cp.pos, cp.mix_pos]
            .into_iter()
            .chain(s.timeline.iter().map(|(p, _)| *p))
            .chain(cp.decks.iter().map(|d| d.start))
            .chain(cp.transition.iter().map(|t| t.at))
            .map(|p| p.frames())
            .chain(fades.flat_map(|f| [f.start.frames(), f.len.0]))
            .chain(cp.transition.iter().map(|t| t.crossfade.0))
            .chain(cp.decks.iter().filter_map(|d| d.entry.map(|e| e.0)))
            .chain(cp.transition.iter().filter_map(|t| t.entry.map(|e| e.0)))
            .chain(cp.transition.iter().filter_map(|t| t.fade_in.map(|e| e.0)));
        if let Some(p) = positions.into_iter().find(|p| *p > MAX_POSITION) {
            return Err(SnapshotError::Implausible(format!(
                "a position or length of {p} frames"
            )));
        }
        Ok(s)
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
