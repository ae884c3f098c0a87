//! The streaming analysis of one track: fed decoded audio in pieces of any size at the source's
//! own rate, it keeps only meters and the feature excerpts, and answers with an [`Analysis`].
//!
//! Invariants (the tests check these):
//! - the result does not depend on how the input is split into pushes (everything downstream
//!   sees the same whole 100 ms blocks, whatever the pushes were);
//! - memory does not grow with the track beyond 24 bytes per 100 ms (block levels): a few MB
//!   for any length (plus the fixed buffers of the excerpts, ≈ 5 MB, and of the beat grid,
//!   ≈ 0.5 MB);
//! - positions in the result are Drift frames (44.1 kHz): n source frames are
//!   `floor(n · 44100 / rate)`, the length the resampler makes of them, so a decoded track is
//!   never shorter than its cue-out;
//! - non-finite samples (a broken decoder's) count as silence.
use super::beats::BeatCapture;
use super::cues::{audible_blocks, ABSOLUTE_THRESHOLD};
use super::ends;
use super::excerpts::Excerpts;
use super::extract::{features, sample};
use super::loudness::Meter;
use crate::model::{Analysis, Ends};
use crate::units::{Frames, CHANNELS, SAMPLE_RATE};

/// Lowest and highest source rates taken; others are clamped (no decoder produces them).
const RATES: std::ops::RangeInclusive<u32> = 8_000..=768_000;

/// Analyses one track in a single pass (see the module invariants).
pub struct Analyser {
    rate: u32,
    /// Source frames per 100 ms block.
    block: usize,
    /// Samples (cleaned) of the block being filled.
    pending: Vec<f32>,
    meter: Meter,
    excerpts: Excerpts,
    beats: BeatCapture,
    /// Source frames analysed so far.
    frames: u64,
}

impl Analyser {
    /// An analyser for interleaved stereo at `rate` Hz (the samples' own rate). `expected` is
    /// the track's length in Drift frames (44.1 kHz) from the container's headers: it places
    /// the feature excerpts. Without it they cover the first minute (see [`Excerpts::new`]);
    /// a slightly wrong length only moves them.
    pub fn new(rate: u32, expected: Option<Frames>) -> Analyser {
        let rate = rate.clamp(*RATES.start(), *RATES.end());
        let block = rate as usize / 10;
        let expected = expected.map(|f| f.0.saturating_mul(rate as u64) / SAMPLE_RATE as u64);
        Analyser {
            rate,
            block,
            pending: Vec::with_capacity(block * CHANNELS),
            meter: Meter::new(rate),
            excerpts: Excerpts::new(rate, block, expected),
            beats: BeatCapture::new(rate),
            frames: 0,
        }
    }

    /// Feeds interleaved stereo at the analyser's rate. Pieces need not be whole frames.
    pub fn push(&mut self, stereo: &[f32]) {
        let whole = self.block * CHANNELS;
        let mut rest = stereo;
        while !rest.is_empty() {
            let take = (whole - self.pending.len()).min(rest.len());
            let (now, later) = rest.split_at(take);
            self.pending.extend(now.iter().map(|&s| sample(s)));
            if self.pending.len() == whole {
                self.process();
            }
            rest = later;
        }
    }

    /// Everything about the track; a trailing half frame is ignored.
    pub fn finish(mut self) -> Analysis {
        self.pending
            .truncate(self.pending.len() / CHANNELS * CHANNELS);
        if !self.pending.is_empty() {
            self.process();
        }
        let (rate, block, frames) = (self.rate, self.block as u64, self.frames);
        let measured = self.meter.finish();
        let duration = drift_frames(frames, rate);
        let features = features(&self.excerpts.finish());
        let audible = audible_blocks(&measured.blocks, measured.integrated);
        let edge = |b: usize| (b as u64 * block).min(frames);
        let (cue_in, cue_out) = match &audible {
            Some(blocks) => (
                drift_frames(edge(blocks.start), rate),
                drift_frames(edge(blocks.end), rate),
            ),
            None => (Frames::ZERO, duration),
        };
        let (ends, beats) = match audible {
            Some(blocks) => {
                let found = ends::find(&measured.blocks, measured.integrated, blocks.clone());
                let at = |b: usize| drift_frames(edge(b), rate).clamp(cue_in, cue_out);
                let intro_end = at(found.intro_end);
                let ends = Ends {
                    intro_end,
                    outro_start: at(found.outro_start).max(intro_end),
                    cold_start: found.cold_start,
                    cold_end: found.cold_end,
                };
                let beats = (features.beat_strength > 0.0)
                    .then(|| {
                        self.beats
                            .finish(edge(blocks.start), edge(blocks.end), features.bpm)
                    })
                    .flatten();
                (Some(ends), beats)
            }
            None => (None, None),
        };
        Analysis {
            duration,
            loudness: measured.integrated,
            true_peak: measured.true_peak,
            loudness_range: measured.range,
            cue_in,
            cue_out,
            features: Some(features),
            ends,
            beats,
        }
    }

    fn process(&mut self) {
        self.meter.push(&self.pending);
        let audible = self
            .meter
            .last_block()
            .is_some_and(|l| l > ABSOLUTE_THRESHOLD.0);
        self.beats.push(&self.pending, audible);
        self.excerpts.push(&self.pending);
        self.frames += (self.pending.len() / CHANNELS) as u64;
        self.pending.clear();
    }
}

/// `n` frames at `rate` as Drift frames, exactly as many as the resampler makes of them.
fn drift_frames(n: u64, rate: u32) -> Frames {
    Frames((n as u128 * SAMPLE_RATE as u128 / rate as u128) as u64)
}

#[cfg(test)]
#[path = "analyser_tests.rs"]
mod tests;
