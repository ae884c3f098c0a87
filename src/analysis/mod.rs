//! Pure analysis of decoded audio (interleaved stereo f32 at 44.1 kHz): loudness, true peak,
//! loudness range, cue points and audio features. No I/O; the scanner decodes and calls
//! [`analyse`].
pub mod bench;
pub mod cues;
mod extract;
mod key;
pub mod loudness;
mod onset;
mod spectral;
mod stft;
mod tempo;

pub use extract::extract;

/// Version of [`extract`]'s results. Bump it when they change (or when `Features` changes
/// shape): the store keeps the version each track was analysed with, and the next scan
/// analyses older tracks again.
pub const FEATURES_VERSION: i64 = 2;

use crate::model::Analysis;
use crate::units::{Frames, CHANNELS};

/// Everything Drift needs to know about a track's audio to play it well.
pub fn analyse(pcm: &[f32]) -> Analysis {
    let duration = Frames((pcm.len() / CHANNELS) as u64);
    let measured = loudness::measure(pcm);
    let (cue_in, cue_out) = cues::find_cues(
        &measured.blocks,
        loudness::BLOCK,
        measured.integrated,
        duration,
    );
    Analysis {
        duration,
        loudness: measured.integrated,
        true_peak: measured.true_peak,
        loudness_range: measured.range,
        cue_in,
        cue_out,
        features: Some(extract(pcm)),
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

#[cfg(test)]
pub(crate) mod test_signals;
