//! Typed configuration with documented defaults, and the policy constants behind them.
use crate::audio::encode::{Bitrate, STREAM_QUALITY};
use crate::units::{Db, Frames};

/// How the engine mixes: what every listener of a session hears.
#[derive(Clone, Debug, PartialEq)]
pub struct MixConfig {
    /// Length of the ordinary equal-power crossfade: between tracks whose ends were not
    /// measured, or whose ends call for nothing else (see `station::transition`); shortened
    /// for very short tracks.
    pub crossfade: Frames,
    /// Longest overlap of any transition (a natural fade-out, a quiet intro, a beat-aligned
    /// overlap, the ordinary crossfade); never shorter than `crossfade`.
    pub max_overlap: Frames,
    /// Integrated loudness every track is gained to (EBU R128), LUFS.
    pub target_loudness: Db,
    /// Ceiling for sample peaks before encoding. The promise is ≤ −1 dBTP on the decoded MP3;
    /// MP3 encoding and inter-sample peaks add up to about half a dB, so we limit lower.
    pub peak_ceiling: Db,
    /// Largest boost a quiet track gets, so near-silent recordings do not become noise.
    pub max_boost: Db,
    pub bitrate: Bitrate,
    /// LAME's algorithm quality (0 best … 9 fastest).
    pub lame_quality: u8,
}

impl Default for MixConfig {
    fn default() -> MixConfig {
        MixConfig {
            crossfade: Frames::from_secs(DEFAULT_CROSSFADE_SECS),
            max_overlap: Frames::from_secs(DEFAULT_MAX_OVERLAP_SECS),
            target_loudness: Db(DEFAULT_TARGET_LUFS),
            peak_ceiling: Db(-2.0),
            max_boost: Db(30.0),
            bitrate: Bitrate::DEFAULT,
            lame_quality: STREAM_QUALITY,
        }
    }
}

pub const DEFAULT_CROSSFADE_SECS: f64 = 5.0;
/// Longest overlap by default: room for a natural fade-out or 16 beats at 120 BPM, short
/// enough that two tracks are never heard together for long (Liquidsoap's autocue uses 6 s).
pub const DEFAULT_MAX_OVERLAP_SECS: f64 = 8.0;
pub const DEFAULT_TARGET_LUFS: f64 = -16.0;
/// Crossfades longer than this would blur whole tracks together.
pub const MAX_CROSSFADE_SECS: f64 = 30.0;

impl MixConfig {
    /// Checks values a user can set; the message says what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        if self.crossfade.secs() > MAX_CROSSFADE_SECS {
            return Err(format!(
                "crossfade of {:.1} s is longer than the maximum {MAX_CROSSFADE_SECS} s",
                self.crossfade.secs()
            ));
        }
        if self.max_overlap.secs() > MAX_CROSSFADE_SECS {
            return Err(format!(
                "maximum overlap of {:.1} s is longer than the limit {MAX_CROSSFADE_SECS} s",
                self.max_overlap.secs()
            ));
        }
        if self.max_overlap < self.crossfade {
            return Err(format!(
                "maximum overlap of {:.1} s is shorter than the crossfade of {:.1} s (it caps \
                 every overlap): raise --max-overlap too",
                self.max_overlap.secs(),
                self.crossfade.secs()
            ));
        }
        if !(-40.0..=-5.0).contains(&self.target_loudness.0) {
            return Err(format!(
                "target loudness {} LUFS is outside −40…−5 LUFS",
                self.target_loudness.0
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maximum_overlap_is_checked_against_the_crossfade_and_the_limit() {
        assert_eq!(MixConfig::default().validate(), Ok(()));
        let short = MixConfig {
            max_overlap: Frames::from_secs(3.0),
            ..MixConfig::default()
        };
        assert!(short.validate().unwrap_err().contains("--max-overlap"));
        let long = MixConfig {
            max_overlap: Frames::from_secs(40.0),
            ..MixConfig::default()
        };
        assert!(long.validate().unwrap_err().contains("maximum overlap"));
    }
}
