//! Pure analysis of decoded audio (interleaved stereo f32 at 44.1 kHz): loudness, true peak,
//! loudness range and cue points. No I/O; the scanner decodes and calls [`analyse`].
pub mod cues;
pub mod features;
pub mod loudness;

use crate::library::Analysis;
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
        features: None,
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
