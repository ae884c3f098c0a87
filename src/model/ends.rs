//! What a transition needs to know about a track's two ends, measured once at analysis time:
//! where its intro reaches full level and where its ending starts to fall (from the 100 ms
//! loudness envelope), whether it starts or ends cold, and its beat grid. The engine chooses
//! each crossfade from these of the two tracks (`station::transition`).
use crate::units::Frames;
use serde::{Deserialize, Serialize};

/// A track's intro and ending, in file frames (44.1 kHz) like its cue points.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ends {
    /// Where the intro has reached the track's body: the start of the first stretch whose
    /// short-term loudness is within [`FALL_LU`] of the integrated loudness. Equal to cue-in
    /// when the track starts at full level.
    pub intro_end: Frames,
    /// Where the ending starts to fall for good: after this the short-term loudness never
    /// again comes within [`FALL_LU`] of the integrated loudness. Equal to cue-out when the
    /// track plays at full level to its end.
    pub outro_start: Frames,
    /// The track starts at full level within [`COLD_SECS`] of its cue-in (no fade-in of its
    /// own, nothing quiet to overlap).
    pub cold_start: bool,
    /// The track goes from full level to silence within [`COLD_SECS`] (a cold ending, not to
    /// be faded over).
    pub cold_end: bool,
}

/// The beat, where the track has one: a beat near each end and the period between beats, so a
/// transition can place the incoming track's beats on the outgoing track's.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BeatGrid {
    /// File frame of the first beat (the first downbeat where the bar is clear).
    pub first_beat: f64,
    /// File frame of the last beat before the ending; the grid is re-anchored here for the
    /// outgoing side of a transition, so a slightly wrong period does not add up over a whole
    /// track.
    pub last_beat: f64,
    /// Frames between beats (fractional: 120 BPM is 22,050).
    pub period: f64,
    /// How well the grid fits the track's onsets, 0 (no pulse) … 1 (a click track).
    pub confidence: f64,
}

/// An intro or ending this far under the track's integrated loudness is quiet (Liquidsoap's
/// autocue uses the same 7 LU for where a fade-out begins).
pub const FALL_LU: f64 = 7.0;
/// A start or end that reaches full level (or silence) within this is cold.
pub const COLD_SECS: f64 = 0.5;

impl BeatGrid {
    /// Tempo in beats per minute.
    pub fn bpm(&self) -> f64 {
        60.0 * crate::units::SAMPLE_RATE as f64 / self.period
    }

    /// The beat nearest to file frame `at`, counting from the anchor nearer to it.
    pub fn beat_near(&self, at: f64) -> f64 {
        let anchor = if (at - self.first_beat).abs() <= (at - self.last_beat).abs() {
            self.first_beat
        } else {
            self.last_beat
        };
        anchor + ((at - anchor) / self.period).round() * self.period
    }
}

impl Ends {
    /// Ends of a track with no measurements: full level from cue-in to cue-out.
    pub fn flat(cue_in: Frames, cue_out: Frames) -> Ends {
        Ends {
            intro_end: cue_in,
            outro_start: cue_out,
            cold_start: true,
            cold_end: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beats_near_a_frame_come_from_the_nearer_anchor() {
        let grid = BeatGrid {
            first_beat: 1000.0,
            last_beat: 1000.0 + 22_050.0 * 100.0 + 30.0,
            period: 22_050.0,
            confidence: 1.0,
        };
        assert!((grid.bpm() - 120.0).abs() < 1e-9);
        assert_eq!(grid.beat_near(1000.0 + 22_050.0 * 2.2), 1000.0 + 44_100.0);
        let near_end = grid.last_beat - 22_050.0 * 3.1;
        assert_eq!(grid.beat_near(near_end), grid.last_beat - 22_050.0 * 3.0);
    }
}
