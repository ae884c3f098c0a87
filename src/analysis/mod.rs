//! Pure analysis of decoded audio (interleaved stereo f32 at the source's rate): loudness, true
//! peak, loudness range, cue points, the two ends and the beat grid, and audio features, streamed through an [`Analyser`] in
//! bounded memory. No I/O; the scanner decodes and feeds it.
mod analyser;
mod beats;
pub mod cues;
mod ends;
mod excerpts;
mod extract;
pub mod gating;
mod grid;
mod key;
pub mod loudness;
mod onset;
mod spectral;
mod stft;
mod tempo;
mod true_peak;

pub use analyser::Analyser;
pub use extract::extract;

/// Version of [`extract`]'s results and of the analysis around them (4: ends and beat grid).
/// Bump it when they change (or when `Features` changes shape): the store keeps the version
/// each track was analysed with, and the next scan analyses older tracks again.
pub const FEATURES_VERSION: i64 = 4;

use crate::model::Analysis;
use crate::units::{Frames, CHANNELS, SAMPLE_RATE};

/// Everything Drift needs to know about a track's audio to play it well, from the whole track
/// in memory (interleaved stereo at 44.1 kHz): an [`Analyser`] fed all of it at once.
pub fn analyse(pcm: &[f32]) -> Analysis {
    let mut analyser = Analyser::new(SAMPLE_RATE, Some(Frames((pcm.len() / CHANNELS) as u64)));
    analyser.push(pcm);
    analyser.finish()
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

#[cfg(test)]
pub(crate) mod test_signals;
