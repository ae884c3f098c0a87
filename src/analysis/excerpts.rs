//! The feature excerpts, captured in one pass over a track: where up to three windows go (from
//! the track's expected length), the level of every half second (to find the audible part once
//! the track has ended), and the mono of the windows only, decimated to the analysis rate.
//!
//! Invariants (the tests check these):
//! - memory is bounded whatever the track's length: three windows of mono at the analysis rate
//!   (≈ 5 MB) plus 16 bytes per half second;
//! - windows sit on the half-second grid and never overlap; a track up to three windows long
//!   is covered whole, a longer one is sampled at its middle and a quarter either side;
//! - each excerpt is its window trimmed to the audible part (measured on the whole track);
//! - the result depends only on the frames fed, not on how they were split (the analyser feeds
//!   whole 100 ms blocks).
use super::extract::{peak_and_energy, Halfband, EXCERPT_SECS, RATE};
use crate::units::CHANNELS;
use rubato::{FftFixedIn, Resampler};
use std::ops::Range;

/// At most this many excerpts per track.
const EXCERPTS: usize = 3;
/// A half second, in 100 ms blocks: the grid of the level measurements and the windows.
const STAT_BLOCKS: usize = 5;
/// A half second under the loudest by more than this is not audible (silence, hiss, a fade's
/// tail).
const AUDIBLE_DB: f64 = -40.0;
/// Shorter audible parts than this (in seconds) get neutral features: there is nothing to
/// measure a tempo or a key in.
const MIN_SECS: f64 = 1.0;
/// Without an expected length, the windows cover the first this many seconds (see
/// [`Excerpts::new`]).
const UNKNOWN_LENGTH_SECS: f64 = EXCERPT_SECS * EXCERPTS as f64;

/// One excerpt, ready for the extractors.
pub struct Excerpt {
    /// Mono at [`RATE`].
    pub mono: Vec<f32>,
    /// Peak magnitude and sum of squares of the excerpt's stereo samples, and their count.
    pub peak: f32,
    pub energy: f64,
    pub samples: usize,
}

/// Peak and energy of one half second of stereo.
#[derive(Clone, Copy, Default)]
struct Level {
    peak: f32,
    energy: f64,
    samples: usize,
}

/// A window being captured: its frames (at the source rate) and its decimated mono so far.
struct Capture {
    frames: Range<u64>,
    decimator: Decimator,
    mono: Vec<f32>,
}

/// Captures the excerpts of one track, fed whole blocks in order.
pub struct Excerpts {
    rate: u32,
    /// Frames in one half second (five meter blocks).
    half_second: u64,
    levels: Vec<Level>,
    current: Level,
    captures: Vec<Capture>,
    /// Frames fed so far.
    frames: u64,
}

impl Excerpts {
    /// Excerpts of a track at `rate` Hz, measured in blocks of `block` frames, `expected`
    /// frames long (at `rate`). Without a length, the windows cover the track's first minute,
    /// which is what a caller that cannot know the length gets (a long intro then weighs more).
    pub fn new(rate: u32, block: usize, expected: Option<u64>) -> Excerpts {
        let half_second = (block * STAT_BLOCKS) as u64;
        let length = expected.unwrap_or((UNKNOWN_LENGTH_SECS * rate as f64) as u64);
        let window = (EXCERPT_SECS * rate as f64) as u64;
        let captures = plan(length, window, half_second)
            .into_iter()
            .map(|frames| {
                let decimator = Decimator::new(rate >= 2 * RATE as u32);
                // Exactly what the window will hold: no growth by doubling.
                let mono = Vec::with_capacity(
                    (frames.end - frames.start).div_ceil(decimator.step() as u64) as usize,
                );
                Capture {
                    frames,
                    decimator,
                    mono,
                }
            })
            .collect();
        Excerpts {
            rate,
            half_second,
            levels: Vec::new(),
            current: Level::default(),
            captures,
            frames: 0,
        }
    }

    /// Feeds the next block (interleaved stereo, finite samples). Blocks are all the same
    /// length, but the last one may be shorter.
    pub fn push(&mut self, stereo: &[f32]) {
        let start = self.frames;
        let n = (stereo.len() / CHANNELS) as u64;
        let (peak, energy) = peak_and_energy(stereo);
        self.current.peak = self.current.peak.max(peak);
        self.current.energy += energy;
        self.current.samples += stereo.len();
        for capture in &mut self.captures {
            let from = capture.frames.start.max(start);
            let to = capture.frames.end.min(start + n);
            if from < to {
                let part = &stereo
                    [((from - start) as usize) * CHANNELS..((to - start) as usize) * CHANNELS];
                capture.decimator.push(part, &mut capture.mono);
            }
        }
        self.frames += n;
        if self.frames.is_multiple_of(self.half_second) {
            self.levels.push(std::mem::take(&mut self.current));
        }
    }

    /// The excerpts: each window trimmed to the audible part, at [`RATE`]. Empty when the
    /// audible part is shorter than [`MIN_SECS`] (or there is none).
    pub fn finish(mut self) -> Vec<Excerpt> {
        if self.current.samples > 0 {
            self.levels.push(self.current);
        }
        let Some(audible) = audible(&self.levels, self.half_second, self.frames) else {
            return Vec::new();
        };
        if ((audible.end - audible.start) as f64) < MIN_SECS * self.rate as f64 {
            return Vec::new();
        }
        let mut out = Vec::new();
        for mut capture in self.captures {
            capture.decimator.finish(&mut capture.mono);
            let frames = capture.frames.start.max(audible.start)
                ..capture.frames.end.min(audible.end).min(self.frames);
            if frames.start >= frames.end {
                continue;
            }
            // Both ends are on the half-second grid (or the track's end): whole levels.
            let first = (frames.start / self.half_second) as usize;
            let last = frames.end.div_ceil(self.half_second) as usize;
            let level = self.levels[first..last.min(self.levels.len())].iter().fold(
                Level::default(),
                |a, l| Level {
                    peak: a.peak.max(l.peak),
                    energy: a.energy + l.energy,
                    samples: a.samples + l.samples,
                },
            );
            let step = capture.decimator.step() as u64;
            let from = ((frames.start - capture.frames.start) / step) as usize;
            let to = ((frames.end - capture.frames.start).div_ceil(step) as usize)
                .min(capture.mono.len());
            let mono = &capture.mono[from.min(to)..to];
            out.push(Excerpt {
                mono: to_analysis_rate(mono, self.rate / step as u32),
                peak: level.peak,
                energy: level.energy,
                samples: level.samples,
            });
        }
        out
    }
}

/// Windows for a track of `length` frames: up to [`EXCERPTS`] back to back when it is short,
/// else at its middle and a quarter of its length either side (at least a window apart, so
/// they never overlap): representative, clear of intros and outros. Starts are on the `grid`.
fn plan(length: u64, window: u64, grid: u64) -> Vec<Range<u64>> {
    if length == 0 {
        return Vec::new();
    }
    let snap = |f: u64| f / grid * grid;
    if length <= window * EXCERPTS as u64 {
        let parts = length.div_ceil(window);
        let step = snap(length / parts).max(grid);
        return (0..parts)
            .map(|i| {
                let end = if i + 1 == parts {
                    length
                } else {
                    (i + 1) * step
                };
                i * step..end
            })
            .collect();
    }
    let middle = length / 2;
    let spread = (length / 4).max(window);
    [middle - spread, middle, middle + spread]
        .iter()
        .map(|&centre| snap(centre - window / 2)..snap(centre - window / 2) + window)
        .collect()
}

/// The frames from the first to the last audible half second, if any is audible.
fn audible(levels: &[Level], half_second: u64, frames: u64) -> Option<Range<u64>> {
    let mean = |l: &Level| l.energy / l.samples.max(1) as f64;
    let loudest = levels.iter().map(mean).fold(0.0, f64::max);
    if loudest <= 0.0 {
        return None;
    }
    let threshold = loudest * 10f64.powf(AUDIBLE_DB / 10.0);
    let first = levels.iter().position(|l| mean(l) >= threshold)? as u64;
    let last = levels.iter().rposition(|l| mean(l) >= threshold)? as u64;
    Some(first * half_second..((last + 1) * half_second).min(frames))
}

/// Streaming mono downmix, halved in rate by [`Halfband`] when the source is at 44.1 kHz or
/// more (else kept at the source rate for the resampler). Before and after the window the
/// signal counts as silence.
struct Decimator {
    filter: Option<Halfband>,
    /// Mono input from the first one the next output reads (zeros before the window).
    input: Vec<f32>,
    /// Input samples fed, to know how many outputs the end owes.
    fed: usize,
    given: usize,
}

impl Decimator {
    fn new(halve: bool) -> Decimator {
        let filter = halve.then(Halfband::new);
        let reach = filter.as_ref().map_or(0, Halfband::reach);
        Decimator {
            filter,
            input: vec![0.0; reach],
            fed: 0,
            given: 0,
        }
    }

    /// Input frames per output sample.
    fn step(&self) -> usize {
        if self.filter.is_some() {
            2
        } else {
            1
        }
    }

    fn push(&mut self, stereo: &[f32], out: &mut Vec<f32>) {
        self.input
            .extend(stereo.chunks_exact(CHANNELS).map(|f| 0.5 * (f[0] + f[1])));
        self.fed += stereo.len() / CHANNELS;
        self.emit(usize::MAX, out);
    }

    fn finish(&mut self, out: &mut Vec<f32>) {
        let reach = self.filter.as_ref().map_or(0, Halfband::reach);
        self.input.extend(std::iter::repeat_n(0.0, reach));
        self.emit(self.fed.div_ceil(self.step()), out);
    }

    /// Outputs every sample whose inputs have all arrived, up to `limit` in all.
    fn emit(&mut self, limit: usize, out: &mut Vec<f32>) {
        let Some(filter) = &self.filter else {
            out.extend_from_slice(&self.input);
            self.given += self.input.len();
            self.input.clear();
            return;
        };
        let span = 2 * filter.reach() + 1;
        let mut at = 0;
        while at + span <= self.input.len() && self.given < limit {
            out.push(filter.apply(&self.input[at..at + span]));
            self.given += 1;
            at += 2;
        }
        self.input.drain(..at);
    }
}

/// `mono` at `rate` Hz, converted to [`RATE`] (unchanged when it is already there).
fn to_analysis_rate(mono: &[f32], rate: u32) -> Vec<f32> {
    let target = RATE as usize;
    if rate as usize == target || mono.is_empty() {
        return mono.to_vec();
    }
    const CHUNK: usize = 1024;
    let Ok(mut resampler) = FftFixedIn::<f32>::new(rate as usize, target, CHUNK, 2, 1) else {
        return Vec::new();
    };
    let want = (mono.len() as u64 * target as u64 / rate as u64) as usize;
    let mut skip = resampler.output_delay();
    let mut out = Vec::with_capacity(want + CHUNK);
    let mut rest = mono;
    let mut keep = |planar: Vec<Vec<f32>>, out: &mut Vec<f32>| {
        let drop = skip.min(planar[0].len());
        skip -= drop;
        out.extend_from_slice(&planar[0][drop..]);
    };
    while rest.len() >= resampler.input_frames_next() {
        let (now, later) = rest.split_at(resampler.input_frames_next());
        if let Ok(planar) = resampler.process(&[now], None) {
            keep(planar, &mut out);
        }
        rest = later;
    }
    let mut tail = Some(rest);
    while out.len() < want {
        let Ok(planar) =
            resampler.process_partial(tail.take().map(|t| [t]).as_ref().map(|a| &a[..]), None)
        else {
            break;
        };
        if planar[0].is_empty() {
            break;
        }
        keep(planar, &mut out);
    }
    out.truncate(want);
    out
}

#[cfg(test)]
#[path = "excerpts_tests.rs"]
mod tests;
