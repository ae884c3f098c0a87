//! Audio features of a whole track from a few representative excerpts: picks up to three
//! windows in the audible part, downmixes and halves their rate, and runs the spectral, onset,
//! tempo and key extractors over them.
use super::stft::Stft;
use super::{key, onset, spectral, tempo};
use crate::model::{Features, Mode};
use crate::units::{CHANNELS, SAMPLE_RATE};
use std::ops::Range;

/// Length of one excerpt. Three of them (one minute) are plenty for a steady tempo and key,
/// and keep the analysis of a track to tens of milliseconds.
pub const EXCERPT_SECS: f64 = 20.0;
/// At most this many excerpts per track.
const EXCERPTS: usize = 3;
/// Blocks of this length decide where the audible part of the track is.
const BLOCK_SECS: f64 = 0.5;
/// A block this far under the loudest is not audible (silence, hiss, a fade's tail).
const AUDIBLE_DB: f64 = -40.0;
/// The analysis rate: half of 44.1 kHz. Brightness is measured up to 11 kHz, which holds the
/// energy of nearly all music, and every transform is half the work.
pub const RATE: f32 = SAMPLE_RATE as f32 / 2.0;
/// Half-length of the half-band decimation filter, in input samples (the filter has
/// `2 * HALFBAND + 1` taps, every other one zero).
const HALFBAND: usize = 15;
/// Shorter audible parts than this (in seconds) get neutral features: there is nothing to
/// measure a tempo or a key in.
const MIN_SECS: f64 = 1.0;

/// Features of a track (interleaved stereo f32 at 44.1 kHz, the whole track).
pub fn extract(pcm: &[f32]) -> Features {
    let frames = pcm.len() / CHANNELS;
    let pcm = &pcm[..frames * CHANNELS];
    let windows = excerpts(pcm);
    if windows.is_empty() {
        return neutral();
    }
    let filter = Halfband::new();
    let mut stft = Stft::new(spectral::FRAME);
    let mut long_stft = Stft::new(key::FRAME);
    let mut spectra = spectral::Spectral::default();
    let mut peaks = key::Peaks::default();
    let mut novelties = Vec::with_capacity(windows.len());
    let (mut onsets, mut seconds) = (0usize, 0.0f64);
    let (mut peak, mut square_sum, mut samples) = (0.0f32, 0.0f64, 0usize);
    let frame_rate = RATE / spectral::HOP as f32;
    for window in &windows {
        let stereo = &pcm[window.start * CHANNELS..window.end * CHANNELS];
        let (p, energy) = peak_and_energy(stereo);
        peak = peak.max(p);
        square_sum += energy;
        samples += stereo.len();
        let mono = filter.downmix_decimate(stereo);
        let flux = spectral::analyse(&mono, RATE, &mut stft, &mut spectra);
        onsets += onset::count(&onset::novelty(&flux.onsets, frame_rate), frame_rate);
        seconds += mono.len() as f64 / RATE as f64;
        novelties.push(onset::novelty(&flux.beat, frame_rate));
        peaks.add(&mono, RATE, &mut long_stft);
    }
    let rms = (square_sum / samples.max(1) as f64).sqrt();
    let beat = tempo::estimate(&novelties, frame_rate as f64);
    let key = peaks.key();
    finite(Features {
        bpm: beat.bpm,
        beat_strength: beat.strength,
        centroid_hz: spectra.centroid_hz(),
        rolloff_hz: spectra.rolloff_hz(),
        flatness: spectra.flatness(),
        crest_db: if rms > 0.0 {
            20.0 * (peak as f64 / rms).log10()
        } else {
            0.0
        },
        onset_rate: if seconds > 0.0 {
            onsets as f64 / seconds
        } else {
            0.0
        },
        key: key.tonic,
        mode: key.mode,
        key_strength: key.strength,
    })
}

/// `features` with any non-finite value replaced by its neutral value (a last guard: samples
/// are made finite first), as JSON cannot hold them and the drift walk cannot measure with them.
fn finite(features: Features) -> Features {
    let neutral = neutral();
    let or = |value: f64, fallback: f64| if value.is_finite() { value } else { fallback };
    Features {
        bpm: or(features.bpm, neutral.bpm),
        beat_strength: or(features.beat_strength, neutral.beat_strength),
        centroid_hz: or(features.centroid_hz, neutral.centroid_hz),
        rolloff_hz: or(features.rolloff_hz, neutral.rolloff_hz),
        flatness: or(features.flatness, neutral.flatness),
        crest_db: or(features.crest_db, neutral.crest_db),
        onset_rate: or(features.onset_rate, neutral.onset_rate),
        key_strength: or(features.key_strength, neutral.key_strength),
        ..features
    }
}

/// What a track with nothing to measure gets: the prior's tempo, no beat, no key.
fn neutral() -> Features {
    Features {
        bpm: tempo::PRIOR_BPM,
        beat_strength: 0.0,
        centroid_hz: 0.0,
        rolloff_hz: 0.0,
        flatness: 0.0,
        crest_db: 0.0,
        onset_rate: 0.0,
        key: 0,
        mode: Mode::Major,
        key_strength: 0.0,
    }
}

/// The frame ranges to analyse: the audible part split into up to [`EXCERPTS`] windows when it
/// is short, else [`EXCERPTS`] windows of [`EXCERPT_SECS`] spread over its middle.
fn excerpts(pcm: &[f32]) -> Vec<Range<usize>> {
    let Some(audible) = audible(pcm) else {
        return Vec::new();
    };
    let rate = SAMPLE_RATE as f64;
    let length = audible.len();
    if (length as f64) < MIN_SECS * rate {
        return Vec::new();
    }
    let window = (EXCERPT_SECS * rate) as usize;
    if length <= window * EXCERPTS {
        let parts = length.div_ceil(window);
        let step = length / parts;
        return (0..parts)
            .map(|i| {
                let start = audible.start + i * step;
                start..(start + step).min(audible.end)
            })
            .collect();
    }
    // Centres at the middle and a quarter of the length either side (at least a window, so
    // they never overlap): representative, clear of intros and outros.
    let middle = audible.start + length / 2;
    let spread = (length / 4).max(window);
    [middle - spread, middle, middle + spread]
        .iter()
        .map(|&centre| centre - window / 2..centre - window / 2 + window)
        .collect()
}

/// The frames from the first to the last audible block, if any block is audible.
fn audible(pcm: &[f32]) -> Option<Range<usize>> {
    let block = (BLOCK_SECS * SAMPLE_RATE as f64) as usize;
    let energies: Vec<f64> = pcm
        .chunks(block * CHANNELS)
        .map(|c| peak_and_energy(c).1 / c.len() as f64)
        .collect();
    let loudest = energies.iter().copied().fold(0.0, f64::max);
    if loudest <= 0.0 {
        return None;
    }
    let threshold = loudest * 10f64.powf(AUDIBLE_DB / 10.0);
    let first = energies.iter().position(|&e| e >= threshold)?;
    let last = energies.iter().rposition(|&e| e >= threshold)?;
    let frames = pcm.len() / CHANNELS;
    Some(first * block..((last + 1) * block).min(frames))
}

/// A sample as the analysis sees it: non-finite values (a broken decoder's) are silence.
fn sample(s: f32) -> f32 {
    if s.is_finite() {
        s
    } else {
        0.0
    }
}

/// Peak magnitude and sum of squares of `samples`. Eight independent lanes (and f32 within
/// blocks) let the compiler vectorise the loop; one long f64 sum would be many times slower.
fn peak_and_energy(samples: &[f32]) -> (f32, f64) {
    const LANES: usize = 8;
    let (mut peak, mut energy) = (0.0f32, 0.0f64);
    for block in samples.chunks(1 << 16) {
        let (mut peaks, mut sums) = ([0.0f32; LANES], [0.0f32; LANES]);
        let lanes = block.chunks_exact(LANES);
        let rest = lanes.remainder();
        for chunk in lanes {
            for i in 0..LANES {
                let s = sample(chunk[i]);
                peaks[i] = peaks[i].max(s.abs());
                sums[i] += s * s;
            }
        }
        for &s in rest {
            let s = sample(s);
            peaks[0] = peaks[0].max(s.abs());
            sums[0] += s * s;
        }
        peak = peaks.iter().fold(peak, |a, &p| a.max(p));
        energy += sums.iter().map(|&s| s as f64).sum::<f64>();
    }
    (peak, energy)
}

/// A half-band low-pass at a quarter of the input rate: a Blackman-windowed sinc whose
/// even-offset taps are zero, so only the centre and the odd offsets are kept.
struct Halfband {
    centre: f32,
    /// Taps at offsets 1, 3, … [`HALFBAND`] (both sides alike).
    odd: Vec<f32>,
}

impl Halfband {
    fn new() -> Halfband {
        let span = (HALFBAND + 1) as f64;
        let odd: Vec<f64> = (1..=HALFBAND)
            .step_by(2)
            .map(|m| {
                let x = m as f64;
                let sinc = (std::f64::consts::FRAC_PI_2 * x).sin() / (std::f64::consts::PI * x);
                let t = std::f64::consts::PI * x / span;
                sinc * (0.42 + 0.5 * t.cos() + 0.08 * (2.0 * t).cos())
            })
            .collect();
        // Unity gain at DC.
        let sum = 0.5 + 2.0 * odd.iter().sum::<f64>();
        Halfband {
            centre: (0.5 / sum) as f32,
            odd: odd.iter().map(|t| (t / sum) as f32).collect(),
        }
    }

    /// Mono (the mean of both channels) at half the rate, low-passed so that nothing aliases
    /// below ~9 kHz. Outside the excerpt the signal counts as silence.
    fn downmix_decimate(&self, stereo: &[f32]) -> Vec<f32> {
        let frames = stereo.len() / CHANNELS;
        let out = frames.div_ceil(2);
        // Output k is centred on input 2k: the centre tap reads the even samples, every other
        // tap the odd ones. Split them, padded by HALFBAND / 2 + 1 zeros either side, so each
        // tap is one pass over a contiguous slice (which vectorises).
        let pad = HALFBAND / 2 + 1;
        let mut even = vec![0.0f32; out + 2 * pad];
        let mut odd = vec![0.0f32; out + 2 * pad];
        let pairs = stereo.chunks_exact(2 * CHANNELS);
        if let [l, r, ..] = *pairs.remainder() {
            even[pad + frames / 2] = sample(0.5 * (l + r));
        }
        for ((e, o), f) in even[pad..].iter_mut().zip(&mut odd[pad..]).zip(pairs) {
            *e = sample(0.5 * (f[0] + f[1]));
            *o = sample(0.5 * (f[2] + f[3]));
        }
        let mut y: Vec<f32> = even[pad..pad + out]
            .iter()
            .map(|&x| self.centre * x)
            .collect();
        for (j, &h) in self.odd.iter().enumerate() {
            // Offset m = 2j + 1: input 2k + m is odd[k + j], input 2k - m is odd[k - j - 1].
            let after = &odd[pad + j..pad + j + out];
            let before = &odd[pad - j - 1..pad - j - 1 + out];
            for ((y, a), b) in y.iter_mut().zip(after).zip(before) {
                *y += h * (a + b);
            }
        }
        y
    }
}

#[cfg(test)]
#[path = "extract_tests.rs"]
mod tests;
