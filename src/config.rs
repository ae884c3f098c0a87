//! Typed configuration with documented defaults, and the policy constants behind them.
use crate::audio::encode::{Bitrate, STREAM_QUALITY};
use crate::units::{Db, Frames};

/// How the engine mixes: what every listener of a session hears.
#[derive(Clone, Debug, PartialEq)]
pub struct MixConfig {
    /// Length of the overlap between two tracks (shortened for very short tracks).
    pub crossfade: Frames,
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
            target_loudness: Db(DEFAULT_TARGET_LUFS),
            peak_ceiling: Db(-2.0),
            max_boost: Db(30.0),
            bitrate: Bitrate::DEFAULT,
            lame_quality: STREAM_QUALITY,
        }
    }
}

pub const DEFAULT_CROSSFADE_SECS: f64 = 5.0;
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
        if !(-40.0..=-5.0).contains(&self.target_loudness.0) {
            return Err(format!(
                "target loudness {} LUFS is outside −40…−5 LUFS",
                self.target_loudness.0
            ));
        }
        Ok(())
    }
}
