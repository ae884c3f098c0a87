//! True peak (ITU-R BS.1770-4 annex 2): the largest magnitude of the signal *between* its
//! samples, found by oversampling each channel with a polyphase interpolation filter.
//!
//! Invariants (the tests check these):
//! - the result is the maximum over every channel of |interpolated sample| for the same filter
//!   as libebur128 (a 48-tap Hann-windowed sinc; ×4 below 96 kHz, ×2 below 192 kHz, plain sample
//!   peak above), so it agrees with the `ebur128` crate to float rounding;
//! - it never reads less than the sample peak (the filter passes every input sample's phase);
//! - it does not depend on how the input is split into pushes: skipped stretches are only those
//!   whose bound cannot exceed the running peak, and the bound has a margin over rounding.
//!
//! Why our own and not the crate's: the crate interpolates frame by frame (a rolling buffer per
//! sample); here each tap is one pass over a block of samples (contiguous f32 lanes that the
//! compiler vectorises), and a block whose sample peak times the filter's L1 gain cannot beat
//! the running true peak is not filtered at all. On music that is most blocks.
use crate::units::CHANNELS;

/// Taps of the prototype filter (libebur128's length, the last tap of the window dropped).
const TAPS: usize = 48;
/// Frames filtered per pass: long enough to amortise the per-pass work, short enough that the
/// block and its outputs stay in L1 cache.
const CHUNK: usize = 1024;
/// Relative headroom of the skip bound over float rounding of the filter's sums, so that a
/// skipped block can never have held a (rounded) output above the running peak.
const BOUND_MARGIN: f32 = 1e-4;

/// A streaming true-peak meter for interleaved stereo.
pub struct TruePeak {
    /// Filter taps by phase: `phases[p][k]` weighs the input `k` samples back for output
    /// phase `p`. Empty when the rate needs no oversampling.
    phases: Vec<Vec<f32>>,
    /// Largest sum of |tap| over a phase: no output exceeds the input's peak times this.
    l1: f32,
    /// Per channel: the last `history` input samples, then the current block.
    planar: [Vec<f32>; CHANNELS],
    history: usize,
    /// One phase's outputs for the current block.
    out: Vec<f32>,
    /// Per channel: the largest magnitude seen so far.
    peak: [f32; CHANNELS],
}

impl TruePeak {
    /// A meter for samples at `rate` Hz.
    pub fn new(rate: u32) -> TruePeak {
        let factor = if rate < 96_000 {
            4
        } else if rate < 192_000 {
            2
        } else {
            1
        };
        let phases = if factor == 1 {
            Vec::new()
        } else {
            prototype_phases(factor)
        };
        let l1 = phases
            .iter()
            .map(|p| p.iter().map(|t| t.abs()).sum::<f32>())
            .fold(1.0f32, f32::max);
        let history = phases.first().map_or(0, |p| p.len() - 1);
        TruePeak {
            phases,
            l1,
            planar: [vec![0.0; history], vec![0.0; history]],
            history,
            out: Vec::with_capacity(CHUNK),
            peak: [0.0; CHANNELS],
        }
    }

    /// Feeds interleaved stereo (whole frames; finite samples).
    pub fn push(&mut self, stereo: &[f32]) {
        for chunk in stereo.chunks(CHUNK * CHANNELS) {
            for (c, planar) in self.planar.iter_mut().enumerate() {
                planar.truncate(self.history);
                planar.extend(chunk.iter().skip(c).step_by(CHANNELS));
            }
            for c in 0..CHANNELS {
                self.scan(c);
            }
        }
    }

    /// The true peak so far, as a linear amplitude (the largest over both channels).
    pub fn peak(&self) -> f32 {
        self.peak.iter().copied().fold(0.0, f32::max)
    }

    /// Measures channel `c`'s current block (after its history), then keeps the block's tail
    /// as the next history.
    fn scan(&mut self, c: usize) {
        let planar = &mut self.planar[c];
        let n = planar.len() - self.history;
        // The history counts too: outputs at the block's start read it.
        let input_peak = max_abs(planar);
        if self.phases.is_empty() {
            self.peak[c] = self.peak[c].max(input_peak);
        } else if input_peak * self.l1 * (1.0 + BOUND_MARGIN) > self.peak[c] {
            let h = self.history;
            for phase in &self.phases {
                self.out.clear();
                self.out.resize(n, 0.0);
                for (k, &tap) in phase.iter().enumerate() {
                    // Output i (input h + i) reads input h + i − k.
                    let input = &planar[h - k..h - k + n];
                    for (o, &x) in self.out.iter_mut().zip(input) {
                        *o += tap * x;
                    }
                }
                self.peak[c] = self.peak[c].max(max_abs(&self.out));
            }
        }
        let keep = planar.len() - self.history;
        planar.copy_within(keep.., 0);
        planar.truncate(self.history);
    }
}

/// The prototype low-pass (cut-off at the input's Nyquist frequency) split into `factor`
/// phases: tap j of the prototype is a Hann window times sinc((j − 24) / factor), and phase p
/// holds taps p, p + factor, p + 2·factor, …
fn prototype_phases(factor: usize) -> Vec<Vec<f32>> {
    use std::f64::consts::PI;
    let tap = |j: usize| {
        let window = 0.5 * (1.0 - (2.0 * PI * j as f64 / TAPS as f64).cos());
        let m = j as f64 - TAPS as f64 / 2.0;
        let x = m * PI / factor as f64;
        let sinc = if m.abs() < 1e-6 { 1.0 } else { x.sin() / x };
        (window * sinc) as f32
    };
    (0..factor)
        .map(|p| (p..TAPS).step_by(factor).map(tap).collect())
        .collect()
}

/// Largest |sample|. Eight independent lanes let the compiler vectorise the reduction.
pub(crate) fn max_abs(samples: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut lanes = [0.0f32; LANES];
    let chunks = samples.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for i in 0..LANES {
            lanes[i] = lanes[i].max(chunk[i].abs());
        }
    }
    for &s in rest {
        lanes[0] = lanes[0].max(s.abs());
    }
    lanes.iter().copied().fold(0.0, f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_signals::{sine, white};
    use ebur128::{EbuR128, Mode};

    fn ours(rate: u32, pcm: &[f32], piece: usize) -> f32 {
        let mut tp = TruePeak::new(rate);
        for p in pcm.chunks(piece * CHANNELS) {
            tp.push(p);
        }
        tp.peak()
    }

    fn crate_peak(rate: u32, pcm: &[f32]) -> f32 {
        let mut m = EbuR128::new(2, rate, Mode::TRUE_PEAK).unwrap();
        m.add_frames_f32(pcm).unwrap();
        (0..2).map(|c| m.true_peak(c).unwrap()).fold(0.0, f64::max) as f32
    }

    #[test]
    fn agrees_with_the_ebur128_crate_at_every_oversampling_factor() {
        let mut signals = vec![white(2.0, 0.7, 3), sine(11_000.0, 1.0, 0.5)];
        // A sine at a quarter of the rate, sampled off its crests: true peak ≫ sample peak.
        signals.push(
            (0..20_000)
                .flat_map(|i| {
                    let s = (std::f64::consts::FRAC_PI_2 * i as f64 + 0.785).sin() as f32 * 0.5;
                    [s, -s]
                })
                .collect(),
        );
        for rate in [44_100, 48_000, 96_000, 192_000] {
            for pcm in &signals {
                let want = crate_peak(rate, pcm);
                let got = ours(rate, pcm, 4096);
                assert!(
                    (got - want).abs() <= 1e-5 * want.max(1e-3),
                    "{rate}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn never_below_the_sample_peak_and_above_it_between_samples() {
        let pcm: Vec<f32> = (0..8_000)
            .flat_map(|i| {
                let s = (std::f64::consts::FRAC_PI_2 * i as f64 + 0.785).sin() as f32 * 0.5;
                [s, s]
            })
            .collect();
        let sample_peak = max_abs(&pcm);
        let tp = ours(44_100, &pcm, 1000);
        // Sampled 45° off its crests, a sine at a quarter of the rate shows 0.5·√½ ≈ 0.354
        // in its samples and peaks at 0.5 between them.
        assert!((sample_peak - 0.354).abs() < 0.001, "{sample_peak}");
        assert!(tp >= sample_peak && (tp - 0.5).abs() < 0.01, "{tp}");
    }

    #[test]
    fn does_not_depend_on_how_the_input_is_split() {
        let mut pcm = white(1.0, 0.3, 9);
        pcm.extend(sine(3000.0, 0.5, 0.9));
        pcm.extend(white(0.5, 0.2, 4));
        let whole = ours(44_100, &pcm, pcm.len());
        for piece in [1, 2, 3, 7, 11, 12, 13, 500, 1023, 1024, 1025, 4410] {
            assert_eq!(ours(44_100, &pcm, piece), whole, "pieces of {piece}");
        }
    }
}
