//! The beat grid's raw material, captured in one pass: the energy of every 1.45 ms of the
//! track in two bands (a high band, the first difference of the mono, where attacks are sharp;
//! and a low band, mono summed over half a frame, where kicks and bass are), kept for the
//! first seconds of music and in a rolling buffer for the last ones. At the end the grid is
//! fitted to each end's onsets (see [`super::grid`]).
//!
//! Invariants (the tests check these):
//! - memory is bounded: two buffers of [`BUFFER_SECS`] of frames (8 bytes each), ≈ 0.5 MB;
//! - the result depends only on the blocks fed (the analyser feeds whole 100 ms blocks);
//! - the end buffer keeps the music before a long quiet stretch: blocks at or under the
//!   absolute audibility floor after [`KEEP_QUIET_BLOCKS`] of them are not stored (they can
//!   never be inside the cues), and stand as silence if music follows.
use super::grid::{fit, Fit};
use crate::model::BeatGrid;
use crate::units::{CHANNELS, SAMPLE_RATE};
use std::collections::VecDeque;

/// Length of one frame: fine enough that an onset's time is found to a fraction of a
/// millisecond (64 samples at 44.1 kHz).
const FRAME_SECS: f64 = 64.0 / 44_100.0;
/// The grid is fitted to this much music at each end.
pub const WINDOW_SECS: f64 = 30.0;
/// Each buffer holds this much: the window and some room for what precedes cue-in (hiss over
/// the floor) and what follows cue-out.
const BUFFER_SECS: f64 = 40.0;
/// Quiet blocks stored after music before the end buffer stops recording (5 s).
const KEEP_QUIET_BLOCKS: usize = 50;
/// Periods of the two ends may differ by this share before the track counts as having no
/// steady tempo.
const PERIOD_AGREEMENT: f64 = 0.01;
/// Under this the grid is not kept.
pub const MIN_CONFIDENCE: f64 = 0.5;

/// Band energies of one frame: high, low.
pub type Bands = [f32; 2];

/// Captures the frames of one track at one rate.
pub struct BeatCapture {
    rate: u32,
    /// Source frames per frame.
    hop: usize,
    /// Mono of the frame being filled, and the last mono sample of the frame before.
    mono: Vec<f32>,
    prev: f32,
    /// Frames completed so far.
    done: u64,
    /// Frames from the first block over the floor, up to the buffer's size.
    start: Vec<Bands>,
    start_at: Option<u64>,
    /// The last frames stored (up to the buffer's size); the last one is frame `end_at - 1`.
    end: VecDeque<Bands>,
    end_at: u64,
    capacity: usize,
    /// Quiet blocks in a row, and frames not stored since the end buffer stopped.
    quiet: usize,
    skipped: u64,
}

impl BeatCapture {
    pub fn new(rate: u32) -> BeatCapture {
        let hop = ((rate as f64 * FRAME_SECS).round() as usize).max(2);
        let capacity = (BUFFER_SECS * rate as f64 / hop as f64) as usize;
        BeatCapture {
            rate,
            hop,
            mono: Vec::with_capacity(hop),
            prev: 0.0,
            done: 0,
            start: Vec::new(),
            start_at: None,
            end: VecDeque::new(),
            end_at: 0,
            capacity,
            quiet: 0,
            skipped: 0,
        }
    }

    /// Feeds the next block (interleaved stereo, finite samples); `audible` when its loudness
    /// is over the absolute floor of the cue finder.
    pub fn push(&mut self, stereo: &[f32], audible: bool) {
        if audible {
            if self.skipped > 0 {
                let fill = self.skipped.min(self.capacity as u64) as usize;
                for _ in 0..fill {
                    self.store_end([0.0; 2]);
                }
                self.end_at = self.done;
                self.skipped = 0;
            }
            self.quiet = 0;
            self.start_at.get_or_insert(self.done);
        } else {
            self.quiet += 1;
        }
        let keep = self.quiet <= KEEP_QUIET_BLOCKS;
        let mut rest = stereo;
        while !rest.is_empty() {
            let take = ((self.hop - self.mono.len()) * CHANNELS).min(rest.len());
            let (now, later) = rest.split_at(take);
            self.mono
                .extend(now.chunks_exact(CHANNELS).map(|f| f[0] + f[1]));
            if self.mono.len() == self.hop {
                let bands = self.bands();
                self.complete(bands, keep);
            }
            rest = later;
        }
    }

    /// The energies of the frame in `mono`, which is then emptied.
    fn bands(&mut self) -> Bands {
        // Eight independent lanes let the compiler vectorise the sums (see `peak_and_energy`).
        const LANES: usize = 8;
        let m = &self.mono;
        let first = m[0] - self.prev;
        let mut high = [0.0f32; LANES];
        let pairs = m.windows(2);
        for (i, w) in pairs.enumerate() {
            let d = w[1] - w[0];
            high[i % LANES] += d * d;
        }
        self.prev = m[m.len() - 1];
        let high = first * first + high.iter().sum::<f32>();
        let half = self.hop / 2;
        let low: f32 = m
            .chunks(half)
            .map(|c| {
                let mut lanes = [0.0f32; LANES];
                for (i, &x) in c.iter().enumerate() {
                    lanes[i % LANES] += x;
                }
                let s: f32 = lanes.iter().sum();
                s * s / c.len() as f32
            })
            .sum();
        self.mono.clear();
        [high, low]
    }

    fn complete(&mut self, bands: Bands, keep: bool) {
        if self.start_at.is_some() && self.start.len() < self.capacity {
            self.start.push(bands);
        }
        if keep {
            self.store_end(bands);
            self.end_at = self.done + 1;
        } else {
            self.skipped += 1;
        }
        self.done += 1;
    }

    fn store_end(&mut self, bands: Bands) {
        if self.end.len() == self.capacity {
            self.end.pop_front();
        }
        self.end.push_back(bands);
    }

    /// The beat grid of a track whose music runs from source frame `cue_in` to `cue_out`, near
    /// the tempo `bpm` measured in its middle; `None` without a confident steady beat at both
    /// ends. Frames in the grid are Drift frames (44.1 kHz).
    pub fn finish(self, cue_in: u64, cue_out: u64, bpm: f64) -> Option<BeatGrid> {
        let hop = self.hop as u64;
        let window = (WINDOW_SECS * self.rate as f64 / hop as f64) as u64;
        let rate = self.rate as f64 / hop as f64;
        let period = 60.0 * rate / bpm;
        // Start: frames [cue_in, cue_in + window) from the start buffer.
        let start_at = self.start_at?;
        let from = cue_in.div_ceil(hop).max(start_at);
        let to = (from + window)
            .min(start_at + self.start.len() as u64)
            .min(cue_out / hop);
        if from >= to {
            return None;
        }
        let start = self
            .start
            .get((from - start_at) as usize..(to - start_at) as usize)?;
        let first = fit(start, rate, period, from)?;
        // End: frames [cue_out - window, cue_out) from the end buffer.
        let kept = self.end_at - self.end.len() as u64;
        let to = (cue_out / hop).min(self.end_at);
        let from = to
            .saturating_sub(window)
            .max(kept)
            .max(cue_in.div_ceil(hop));
        if from >= to {
            return None;
        }
        let end: Vec<Bands> = self
            .end
            .range((from - kept) as usize..(to - kept) as usize)
            .copied()
            .collect();
        let last = fit(&end, rate, period, from)?;
        combine(first, last).map(|grid| {
            // Frames to Drift frames.
            let scale = hop as f64 * SAMPLE_RATE as f64 / self.rate as f64;
            BeatGrid {
                first_beat: grid.first_beat * scale,
                last_beat: grid.last_beat * scale,
                period: grid.period * scale,
                confidence: grid.confidence,
            }
        })
    }
}

/// One grid from the fits at the two ends (in frames): the period over the whole track when
/// the ends agree on a whole number of beats between them, else their mean.
fn combine(first: Fit, last: Fit) -> Option<BeatGrid> {
    let local = 0.5 * (first.period + last.period);
    let disagreement = (first.period / last.period - 1.0).abs();
    let mut confidence =
        first.confidence.min(last.confidence) * (1.0 - disagreement / PERIOD_AGREEMENT).max(0.0);
    let first_beat = first.first_beat;
    let last_beat = last.last_beat.max(first_beat);
    let beats = (last_beat - first_beat) / local;
    let whole = beats.round();
    let period = if whole >= 1.0 && (beats - whole).abs() < 0.1 && disagreement < 0.001 {
        (last_beat - first_beat) / whole
    } else {
        if whole >= 1.0 && (beats - whole).abs() >= 0.25 {
            // The ends are off the one grid by about half a beat: a tempo change between.
            confidence *= 0.5;
        }
        local
    };
    (confidence >= MIN_CONFIDENCE).then_some(BeatGrid {
        first_beat,
        last_beat,
        period,
        confidence,
    })
}

#[cfg(test)]
#[path = "beats_tests.rs"]
mod tests;
