//! Small DSP pieces: a look-ahead peak limiter with finite memory, and gain.
use crate::units::{Db, CHANNELS};
use std::collections::VecDeque;

/// Look-ahead peak limiter. The gain at frame n is the mean, over the last `ATTACK` frames, of
/// the smallest gain any frame in [n − HOLD, n + ATTACK) needs to stay under the ceiling. So a
/// peak is reached smoothly (no step in gain) and is never over the ceiling, and the output
/// depends only on the last [`Limiter::MEMORY`] frames of input: a fresh limiter fed that much
/// pre-roll produces the same output as one that ran from the start (checkpoints rely on this).
pub struct Limiter {
    ceiling: f32,
    /// Input frames not yet output (the look-ahead): a ring of `LATENCY` frames where the slot
    /// of frame n holds frame n − LATENCY until frame n replaces it. A ring, not a queue,
    /// because this runs for every output frame.
    delay: Vec<[f32; 2]>,
    /// Monotonic queue of (input index, needed gain) for the sliding minimum.
    mins: VecDeque<(u64, f32)>,
    /// The last `ATTACK` sliding minima (a ring like `delay`), and their sum, for the moving
    /// average.
    window: Vec<f32>,
    window_sum: f64,
    n: u64,
}

impl Limiter {
    /// Frames over which the gain moves down to meet a peak (≈ 11.6 ms).
    pub const ATTACK: usize = 512;
    /// Frames the reduced gain is held after a peak before it recovers (50 ms), so gain does not
    /// flutter at audio rate on dense material.
    pub const HOLD: usize = 2205;
    /// Input history that fully determines the output.
    pub const MEMORY: usize = Self::HOLD + 2 * Self::ATTACK;
    /// Frames between input and output.
    pub const LATENCY: usize = Self::ATTACK - 1;

    pub fn new(ceiling: Db) -> Limiter {
        Limiter {
            ceiling: ceiling.amplitude(),
            delay: vec![[0.0; 2]; Self::LATENCY],
            mins: VecDeque::new(),
            window: vec![1.0; Self::ATTACK],
            window_sum: Self::ATTACK as f64,
            n: 0,
        }
    }

    /// Limits interleaved stereo in place (delayed by [`Limiter::LATENCY`] frames).
    pub fn process(&mut self, buf: &mut [f32]) {
        for frame in buf.chunks_exact_mut(CHANNELS) {
            let peak = frame[0].abs().max(frame[1].abs());
            let need = if peak > self.ceiling {
                self.ceiling / peak
            } else {
                1.0
            };
            while self.mins.back().is_some_and(|&(_, g)| g >= need) {
                self.mins.pop_back();
            }
            self.mins.push_back((self.n, need));
            // The sliding minimum covers [n - HOLD - ATTACK + 1, n].
            let oldest = self
                .n
                .saturating_sub((Self::HOLD + Self::ATTACK - 1) as u64);
            while self.mins.front().is_some_and(|&(i, _)| i < oldest) {
                self.mins.pop_front();
            }
            let min = self.mins.front().map_or(1.0, |&(_, g)| g);
            let oldest_min = std::mem::replace(
                &mut self.window[(self.n % Self::ATTACK as u64) as usize],
                min,
            );
            self.window_sum += min as f64;
            self.window_sum -= oldest_min as f64;
            let gain = (self.window_sum / Self::ATTACK as f64) as f32;
            let [l, r] = std::mem::replace(
                &mut self.delay[(self.n % Self::LATENCY as u64) as usize],
                [frame[0], frame[1]],
            );
            frame[0] = l * gain;
            frame[1] = r * gain;
            self.n += 1;
        }
    }
}

/// Multiplies every sample by `gain`.
pub fn apply_gain(buf: &mut [f32], gain: f32) {
    for s in buf {
        *s *= gain;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loud_signal(n: usize) -> Vec<f32> {
        // A tone with bursts far over the ceiling.
        (0..n)
            .flat_map(|i| {
                let burst = if (i / 3000) % 4 == 0 { 3.0 } else { 0.4 };
                let v = (i as f32 * 0.05).sin() * burst;
                [v, -v * 0.8]
            })
            .collect()
    }

    #[test]
    fn output_never_exceeds_the_ceiling_and_quiet_parts_pass_unchanged() {
        let ceiling = Db(-2.0);
        let mut lim = Limiter::new(ceiling);
        let input = loud_signal(44_100);
        let mut out = input.clone();
        lim.process(&mut out);
        let c = ceiling.amplitude() * 1.000_01;
        assert!(out.iter().all(|s| s.abs() <= c));
        // Far from any burst (burst every 12000 frames, 3000 long), output = delayed input.
        let i = 8_000 * 2;
        let delayed = i - Limiter::LATENCY * 2;
        assert!((out[i] - input[delayed]).abs() < 1e-6);
    }

    #[test]
    fn gain_moves_smoothly() {
        let mut lim = Limiter::new(Db(-2.0));
        // A level stepping from 0.1 to 2.0: the gain (output / delayed input) must ramp down
        // over the attack, never jump.
        let input: Vec<f32> = (0..20_000)
            .flat_map(|i| if i < 10_000 { [0.1; 2] } else { [2.0; 2] })
            .collect();
        let mut out = input.clone();
        lim.process(&mut out);
        let gains: Vec<f32> = (Limiter::LATENCY..20_000)
            .map(|i| out[i * 2] / input[(i - Limiter::LATENCY) * 2])
            .collect();
        let max_step = gains
            .windows(2)
            .map(|w| (w[0] - w[1]).abs())
            .fold(0.0, f32::max);
        assert!(
            max_step <= 1.0 / Limiter::ATTACK as f32 + 1e-6,
            "{max_step}"
        );
    }

    #[test]
    fn a_fresh_limiter_with_enough_preroll_matches_one_that_ran_from_the_start() {
        let input = loud_signal(30_000);
        let mut whole = input.clone();
        Limiter::new(Db(-2.0)).process(&mut whole);
        let start = 17_000;
        let pre = start - Limiter::MEMORY;
        let mut part = input[pre * 2..].to_vec();
        Limiter::new(Db(-2.0)).process(&mut part);
        let from = (Limiter::MEMORY) * 2;
        for (a, b) in part[from..].iter().zip(&whole[start * 2..]) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
}
