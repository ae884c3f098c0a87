//! EBU R128 measurement, streaming: integrated loudness, true peak, loudness range, and the
//! K-weighted loudness of every 100 ms block (which the cue finder reads).
//!
//! Invariants (the tests check these):
//! - the results do not depend on how the input is split into pushes;
//! - block i covers input frames [i·B, (i+1)·B) with B = `rate / 10`; a final partial block
//!   is measured over its own frames;
//! - integrated loudness, loudness range and true peak agree with the `ebur128` crate
//!   (libebur128's algorithm) to 0.01 LU / dB;
//! - every level is finite and at least [`SILENCE_FLOOR`].
//!
//! Why not the crate's meter: it keeps the K-weighted audio and sums it again for every
//! 400 ms gating block, every 3 s short-term window and every 100 ms window asked for, and
//! filters each channel in its own pass — 40 % of a scan's CPU. Here both channels are
//! filtered in one pass and each sample is squared and summed once, into its block's energy;
//! the gated statistics come from those energies (see [`super::gating`]).
use super::gating;
use super::true_peak::TruePeak;
use crate::units::{Db, Frames, CHANNELS, SAMPLE_RATE};

/// Length of one loudness block at 44.1 kHz: the gating-block step of EBU R128, and fine
/// enough that a cue placed at a block edge is within a tenth of a second of the real edge.
pub const BLOCK: Frames = Frames(SAMPLE_RATE as u64 / 10);

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
    /// Loudness of each consecutive block of 100 ms (floored), see the module invariants.
    pub blocks: Vec<Db>,
}

/// A streaming R128 meter for interleaved stereo at one sample rate.
pub struct Meter {
    weighting: KWeighting,
    true_peak: TruePeak,
    /// Frames per block at this rate.
    block: usize,
    /// Frames of the current block pushed so far, and their K-weighted sum of squares.
    in_block: usize,
    sum: f64,
    /// Mean-square energy of every completed block (summed over channels).
    energies: Vec<f64>,
}

impl Meter {
    /// A meter for audio at `rate` Hz.
    pub fn new(rate: u32) -> Meter {
        Meter {
            weighting: KWeighting::new(rate as f64),
            true_peak: TruePeak::new(rate),
            block: (rate as usize / 10).max(1),
            in_block: 0,
            sum: 0.0,
            energies: Vec::new(),
        }
    }

    /// Feeds interleaved stereo, whole frames of finite samples.
    pub fn push(&mut self, stereo: &[f32]) {
        self.true_peak.push(stereo);
        let mut rest = stereo;
        while !rest.is_empty() {
            let take = ((self.block - self.in_block) * CHANNELS).min(rest.len());
            let (now, later) = rest.split_at(take);
            self.sum += self.weighting.sum_of_squares(now);
            self.in_block += take / CHANNELS;
            if self.in_block == self.block {
                self.close_block();
            }
            rest = later;
        }
    }

    /// Loudness in LUFS of the last completed block (unfloored), if any.
    pub fn last_block(&self) -> Option<f64> {
        self.energies.last().map(|&e| gating::loudness(e))
    }

    pub fn finish(mut self) -> Loudness {
        let whole = self.energies.len();
        if self.in_block > 0 {
            self.close_block();
        }
        let blocks = self
            .energies
            .iter()
            .map(|&e| floored(gating::loudness(e)))
            .collect();
        // A partial last block is not a whole gating step: R128 leaves it out.
        let energies = &self.energies[..whole];
        let range = gating::range(energies);
        Loudness {
            integrated: floored(gating::integrated(energies)),
            true_peak: floored(Db::from_amplitude(self.true_peak.peak() as f64).0),
            range: if range.is_finite() {
                range.max(0.0)
            } else {
                0.0
            },
            blocks,
        }
    }

    fn close_block(&mut self) {
        self.energies.push(self.sum / self.in_block as f64);
        self.sum = 0.0;
        self.in_block = 0;
        self.weighting.flush_tiny_state();
    }
}

/// The K-weighting of BS.1770 (a high shelf modelling the head, then a high-pass) for both
/// channels at once, as two biquads in transposed direct form II. f64: the high-pass pole sits
/// so close to 1 that f32 state would drift.
struct KWeighting {
    /// Numerator and denominator (a0 = 1) of each stage.
    stages: [([f64; 3], [f64; 2]); 2],
    /// State per stage: two delay elements, each holding both channels.
    state: [[[f64; CHANNELS]; 2]; 2],
}

impl KWeighting {
    /// The filter at `rate` Hz, from BS.1770's analogue prototypes (libebur128's constants).
    fn new(rate: f64) -> KWeighting {
        use std::f64::consts::PI;
        let (f0, gain_db, q) = (1681.974450955533, 3.999843853973347, 0.7071752369554196);
        let k = (PI * f0 / rate).tan();
        let vh = 10f64.powf(gain_db / 20.0);
        let vb = vh.powf(0.4996667741545416);
        let a0 = 1.0 + k / q + k * k;
        let shelf = (
            [
                (vh + vb * k / q + k * k) / a0,
                2.0 * (k * k - vh) / a0,
                (vh - vb * k / q + k * k) / a0,
            ],
            [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
        );
        let (f0, q) = (38.13547087602444, 0.5003270373238773);
        let k = (PI * f0 / rate).tan();
        let a0 = 1.0 + k / q + k * k;
        let high_pass = (
            [1.0, -2.0, 1.0],
            [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
        );
        KWeighting {
            stages: [shelf, high_pass],
            state: [[[0.0; CHANNELS]; 2]; 2],
        }
    }

    /// Filters `stereo` (continuing from the last call) and returns the sum over both
    /// channels of the squared output.
    fn sum_of_squares(&mut self, stereo: &[f32]) -> f64 {
        let [(b1, a1), (b2, a2)] = self.stages;
        let [mut s1, mut s2] = self.state;
        let mut sums = [0.0f64; CHANNELS];
        for frame in stereo.chunks_exact(CHANNELS) {
            for c in 0..CHANNELS {
                let x = frame[c] as f64;
                let y = b1[0] * x + s1[0][c];
                s1[0][c] = b1[1] * x - a1[0] * y + s1[1][c];
                s1[1][c] = b1[2] * x - a1[1] * y;
                let z = b2[0] * y + s2[0][c];
                s2[0][c] = b2[1] * y - a2[0] * z + s2[1][c];
                s2[1][c] = b2[2] * y - a2[1] * z;
                sums[c] += z * z;
            }
        }
        self.state = [s1, s2];
        sums.iter().sum()
    }

    /// Zeroes state that has decayed to nothing, so silence after sound never runs the filter
    /// on subnormal numbers (which are many times slower); far below anything audible.
    fn flush_tiny_state(&mut self) {
        for v in self.state.iter_mut().flatten().flatten() {
            if v.abs() < 1e-30 {
                *v = 0.0;
            }
        }
    }
}

/// Measures interleaved stereo 44.1 kHz PCM in one go. A trailing odd sample is ignored.
pub fn measure(pcm: &[f32]) -> Loudness {
    let mut meter = Meter::new(SAMPLE_RATE);
    meter.push(&pcm[..pcm.len() - pcm.len() % CHANNELS]);
    meter.finish()
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
