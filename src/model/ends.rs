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
    /// Where the intro has reached the track's body: the start of the first 100 ms block whose
    /// short-term loudness (the 3 s up to and including it, not reaching before cue-in) is
    /// within [`FALL_LU`] of the integrated loudness. Equal to cue-in when the track starts at
    /// full level; a fade-in's end (to a block or so, before it at a fast fade).
    pub intro_end: Frames,
    /// Where the ending starts to fall for good: the end of the last 100 ms block whose
    /// short-term loudness (the 3 s from it on, not reaching past cue-out) is within
    /// [`FALL_LU`] of the integrated loudness; every 3 s after it is quieter. Equal to cue-out
    /// (or a block before it) when the track plays at full level to its end; at a fade-out's
    /// start (within a few tenths of a second, later for a slow fade). Never before
    /// `intro_end`; both lie within cue-in … cue-out.
    pub outro_start: Frames,
    /// The track starts at full level within [`COLD_SECS`] of its cue-in (no fade-in of its
    /// own, nothing quiet to overlap): a 400 ms window starting in the first 0.5 s after cue-in
    /// has a momentary loudness within [`FALL_LU`] of the integrated loudness.
    pub cold_start: bool,
    /// The track goes from full level to silence within [`COLD_SECS`] (a cold ending, not to
    /// be faded over): a 400 ms window ending in the last 0.5 s before cue-out (where the level
    /// falls under the audible threshold of `analysis::cues`) is within [`FALL_LU`].
    pub cold_end: bool,
}

/// The beat, where the track has one: a beat near each end and the period between beats, so a
/// transition can place the incoming track's beats on the outgoing track's. Measured on the
/// first and last 30 s of music (onsets at 1.45 ms resolution, a grid fitted by least squares),
/// at the tempo level of the track's `Features::bpm`; a track gets one only when both ends
/// have a steady beat (confidence ≥ 0.5) and their periods agree within 1 %.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BeatGrid {
    /// File frame of the first beat with an onset in the first 30 s after cue-in: the first
    /// downbeat when one beat in four is clearly accented (the strongest in most bars),
    /// otherwise the first beat, which may be any beat of the bar.
    pub first_beat: f64,
    /// File frame of the last beat with an onset in the last 30 s before cue-out (the last
    /// downbeat when the bar is clear, as for `first_beat`); the grid is re-anchored here for
    /// the outgoing side of a transition, so a slightly wrong period does not add up over a
    /// whole track.
    pub last_beat: f64,
    /// Frames between beats (fractional: 120 BPM is 22,050). When both ends agree, the span
    /// from `first_beat` to `last_beat` divided by the whole number of beats in it; else the
    /// mean of the two ends' own periods.
    pub period: f64,
    /// How well the grid fits the track's onsets, 0 (no pulse) … 1 (a click track): at each
    /// end, the share of beats that have an onset times the share of onset strength on beats
    /// or half-beats (within 15 ms); the lower end's, lowered further when the two ends'
    /// periods differ.
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
