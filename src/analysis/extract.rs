//! Audio features of a whole track from a few representative excerpts (captured by
//! [`Excerpts`]): runs the spectral, onset, tempo and key extractors over them. Also the two
//! small kernels the capture uses: the level of a stretch and the half-band decimation filter.
use super::excerpts::{Excerpt, Excerpts};
use super::stft::Stft;
use super::{key, onset, spectral, tempo};
use crate::model::{Features, Mode};
use crate::units::{CHANNELS, SAMPLE_RATE};

/// Length of one excerpt. Three of them (one minute) are plenty for a steady tempo and key,
/// and keep the analysis of a track to tens of milliseconds.
pub const EXCERPT_SECS: f64 = 20.0;
/// The analysis rate: half of 44.1 kHz. Brightness is measured up to 11 kHz, which holds the
/// energy of nearly all music, and every transform is half the work.
pub const RATE: f32 = SAMPLE_RATE as f32 / 2.0;
/// Half-length of the half-band decimation filter, in input samples (the filter has
/// `2 * HALFBAND + 1` taps, every other one zero).
const HALFBAND: usize = 15;

/// Features of a track (interleaved stereo f32 at 44.1 kHz, the whole track): the streaming
/// capture fed the whole track at once.
pub fn extract(pcm: &[f32]) -> Features {
    let frames = pcm.len() / CHANNELS;
    let block = SAMPLE_RATE as usize / 10;
    let mut capture = Excerpts::new(SAMPLE_RATE, block, Some(frames as u64));
    for chunk in pcm[..frames * CHANNELS].chunks(block * CHANNELS) {
        let clean: Vec<f32> = chunk.iter().map(|&s| sample(s)).collect();
        capture.push(&clean);
    }
    features(&capture.finish())
}

/// Features from a track's excerpts (see [`Excerpts`]); neutral ones when there are none.
pub fn features(excerpts: &[Excerpt]) -> Features {
    if excerpts.is_empty() {
        return neutral();
    }
    let mut stft = Stft::new(spectral::FRAME);
    let mut long_stft = Stft::new(key::FRAME);
    let mut spectra = spectral::Spectral::default();
    let mut peaks = key::Peaks::default();
    let mut novelties = Vec::with_capacity(excerpts.len());
    let (mut onsets, mut seconds) = (0usize, 0.0f64);
    let (mut peak, mut square_sum, mut samples) = (0.0f32, 0.0f64, 0usize);
    let frame_rate = RATE / spectral::HOP as f32;
    for excerpt in excerpts {
        peak = peak.max(excerpt.peak);
        square_sum += excerpt.energy;
        samples += excerpt.samples;
        let mono = &excerpt.mono;
        let flux = spectral::analyse(mono, RATE, &mut stft, &mut spectra);
        onsets += onset::count(&onset::novelty(&flux.onsets, frame_rate), frame_rate);
        seconds += mono.len() as f64 / RATE as f64;
        novelties.push(onset::novelty(&flux.beat, frame_rate));
        peaks.add(mono, RATE, &mut long_stft);
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

/// A sample as the analysis sees it: non-finite values (a broken decoder's) are silence.
pub(super) fn sample(s: f32) -> f32 {
    if s.is_finite() {
        s
    } else {
        0.0
    }
}

/// Peak magnitude and sum of squares of `samples`. Eight independent lanes (and f32 within
/// blocks) let the compiler vectorise the loop; one long f64 sum would be many times slower.
pub(super) fn peak_and_energy(samples: &[f32]) -> (f32, f64) {
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
pub(super) struct Halfband {
    centre: f32,
    /// Taps at offsets 1, 3, … [`HALFBAND`] (both sides alike).
    odd: Vec<f32>,
}

impl Halfband {
    pub fn new() -> Halfband {
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

    /// Input samples either side of the centre that an output reads.
    pub fn reach(&self) -> usize {
        HALFBAND
    }

    /// The output centred on `input[HALFBAND]` (`input` is `2 * HALFBAND + 1` samples long):
    /// mono low-passed so that nothing aliases below ~9 kHz once every other output is kept.
    pub fn apply(&self, input: &[f32]) -> f32 {
        let centre = &input[HALFBAND];
        let mut y = self.centre * centre;
        for (j, &h) in self.odd.iter().enumerate() {
            // Offset m = 2j + 1 either side of the centre.
            y += h * (input[HALFBAND + 2 * j + 1] + input[HALFBAND - 2 * j - 1]);
        }
        y
    }
}

#[cfg(test)]
#[path = "extract_tests.rs"]
mod tests;
