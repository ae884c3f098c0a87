//! EBU R128 measurement of Drift's PCM: integrated loudness, true peak, loudness range, and the
//! K-weighted loudness of every 100 ms block (which the cue finder reads).
use crate::units::{Db, Frames, CHANNELS, SAMPLE_RATE};
use ebur128::{EbuR128, Mode};

/// Length of one loudness block: the gating-block step of EBU R128, and fine enough that a cue
/// placed at a block edge is within a tenth of a second of the real edge.
pub const BLOCK: Frames = Frames(SAMPLE_RATE as u64 / 10);
/// Block length in milliseconds, as `EbuR128::loudness_window` wants it.
const BLOCK_MS: u32 = 100;

/// The lowest level Drift reports, in LUFS or dBTP. R128's absolute gate is −70 LUFS: anything
/// quieter is silence for loudness purposes, and a finite floor keeps NaN and −∞ out of the
/// store and out of gain arithmetic.
pub const SILENCE_FLOOR: Db = Db(-70.0);

/// What R128 says about a whole track.
#[derive(Clone, Debug, PartialEq)]
pub struct Loudness {
    /// Integrated (gated) loudness in LUFS, never below [`SILENCE_FLOOR`].
    pub integrated: Db,
    /// Highest true peak over both channels in dBTP, never below [`SILENCE_FLOOR`].
    pub true_peak: Db,
    /// Loudness range (EBU Tech 3342) in LU; zero when the track is too short to have one.
    pub range: f64,
    /// Loudness of each consecutive [`BLOCK`] in LUFS (floored). A final partial block is
    /// measured over the last full block's length of audio, so it may borrow earlier audio.
    pub blocks: Vec<Db>,
}

/// Measures interleaved stereo 44.1 kHz PCM. A trailing odd sample is ignored.
pub fn measure(pcm: &[f32]) -> Loudness {
    let whole = pcm.len() - pcm.len() % CHANNELS;
    let pcm = &pcm[..whole];
    // The parameters are constants that ebur128 accepts; failure here is a programming error.
    let mut meter = EbuR128::new(
        CHANNELS as u32,
        SAMPLE_RATE,
        Mode::I | Mode::TRUE_PEAK | Mode::LRA,
    )
    .expect("ebur128 accepts stereo at 44.1 kHz");

    let mut blocks = Vec::with_capacity(pcm.len() / BLOCK.samples() + 1);
    for chunk in pcm.chunks(BLOCK.samples()) {
        // Only fails for a slice that is not whole frames, which `chunks` of whole frames is not.
        if meter.add_frames_f32(chunk).is_err() {
            break;
        }
        blocks.push(floored(
            meter.loudness_window(BLOCK_MS).unwrap_or(f64::NEG_INFINITY),
        ));
    }

    let integrated = floored(meter.loudness_global().unwrap_or(f64::NEG_INFINITY));
    let peak = (0..CHANNELS as u32)
        .filter_map(|ch| meter.true_peak(ch).ok())
        .fold(0.0f64, f64::max);
    let true_peak = floored(Db::from_amplitude(peak).0);
    let range = meter
        .loudness_range()
        .ok()
        .filter(|r| r.is_finite())
        .unwrap_or(0.0)
        .max(0.0);
    Loudness {
        integrated,
        true_peak,
        range,
        blocks,
    }
}

/// A level clamped to [`SILENCE_FLOOR`]; NaN and −∞ become the floor.
fn floored(level: f64) -> Db {
    if level.is_finite() {
        Db(level.max(SILENCE_FLOOR.0))
    } else if level == f64::INFINITY {
        // Cannot happen for finite input; keep it finite anyway.
        Db(0.0)
    } else {
        SILENCE_FLOOR
    }
}
