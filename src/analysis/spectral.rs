//! Brightness and noisiness of an excerpt (spectral centroid, 85 % roll-off, flatness), and its
//! band-wise spectral flux: the onset strength that tempo and onset rate are read from.
use super::stft::Stft;

/// Samples per STFT frame at the analysis rate: 46 ms, 21.5 Hz bins.
pub const FRAME: usize = 1024;
/// Samples between frames: 11.6 ms, the time resolution of onsets and beats.
pub const HOP: usize = 256;
/// The roll-off point: the frequency below which this share of the energy lies.
const ROLLOFF_SHARE: f32 = 0.85;
/// Consecutive frames whose power spectra are averaged before measuring flatness. One
/// periodogram of white noise scatters (its bins are exponentially distributed, flatness
/// ≈ 0.56); the average of eight (93 ms) is close to flat, while tones stay tonal.
const FLATNESS_FRAMES: usize = 8;
/// Onset bands per octave (bands never narrower than one bin).
const BANDS_PER_OCTAVE: f32 = 4.0;
/// Flux compression: a band's power `p` counts as ln(1 + gain · p / mean band power), so
/// changes well above 1/gain of the excerpt's average band power count logarithmically and
/// quieter ones linearly, fading out. For the beat, only the loud events should count (kick,
/// snare, chords: about −10 dB and up), or busy soft hi-hats and arpeggios double the tempo.
const BEAT_GAIN: f32 = 10.0;
/// For counting onsets, soft attacks down to about −30 dB count too: they are what makes
/// music busy.
const ONSET_GAIN: f32 = 1000.0;
/// Below this power (per frame, full scale ≈ 1e5 for this window) a frame is silence and
/// weighs nothing in the flatness average.
const SILENT_FRAME: f64 = 1e-9;

/// Sums over all frames of all excerpts; read the means with the methods.
#[derive(Clone, Debug, Default)]
pub struct Spectral {
    /// Magnitude per bin, summed over frames: the long-term spectrum. Its centroid is the
    /// magnitude-weighted mean of the frames' centroids; its roll-off is not dominated by the
    /// loudest frames (a kick drum's power would put the roll-off of most music near 100 Hz).
    magnitudes: Vec<f64>,
    bin_hz: f64,
    flat_weight: f64,
    flatness: f64,
}

impl Spectral {
    /// Spectral centroid in Hz of the long-term magnitude spectrum.
    pub fn centroid_hz(&self) -> f64 {
        let total: f64 = self.magnitudes.iter().skip(1).sum();
        let moment: f64 = (1..self.magnitudes.len())
            .map(|k| k as f64 * self.magnitudes[k])
            .sum();
        mean(moment, total) * self.bin_hz
    }
    /// Frequency in Hz under which [`ROLLOFF_SHARE`] of the long-term magnitude spectrum lies.
    pub fn rolloff_hz(&self) -> f64 {
        let total: f64 = self.magnitudes.iter().skip(1).sum();
        if total <= 0.0 {
            return 0.0;
        }
        let target = ROLLOFF_SHARE as f64 * total;
        let mut cumulative = 0.0;
        for (k, m) in self.magnitudes.iter().enumerate().skip(1) {
            cumulative += m;
            if cumulative >= target {
                return k as f64 * self.bin_hz;
            }
        }
        (self.magnitudes.len() - 1) as f64 * self.bin_hz
    }
    /// Mean spectral flatness (geometric over arithmetic mean of power), 0 … 1, weighted by
    /// loudness (RMS) so that quiet passages count less.
    pub fn flatness(&self) -> f64 {
        mean(self.flatness, self.flat_weight).clamp(0.0, 1.0)
    }
}

fn mean(sum: f64, weight: f64) -> f64 {
    if weight > 0.0 {
        sum / weight
    } else {
        0.0
    }
}

/// First bin of each onset band, then one past the last bin (DC is left out).
fn band_edges(bins: usize) -> Vec<usize> {
    let mut edges = vec![1];
    let step = 2f32.powf(1.0 / BANDS_PER_OCTAVE);
    while let Some(&last) = edges.last() {
        if last >= bins {
            break;
        }
        let next = ((last as f32 * step).round() as usize).max(last + 1);
        edges.push(next.min(bins));
    }
    edges
}

/// Spectral flux of an excerpt, one value per [`HOP`] (the first is 0), compressed two ways.
pub struct Flux {
    /// Loud events: the input of tempo estimation.
    pub beat: Vec<f32>,
    /// Soft events too: the input of onset counting.
    pub onsets: Vec<f32>,
}

/// Measures one excerpt (mono at `rate` Hz): adds its frames to `stats` and returns its
/// spectral flux.
pub fn analyse(mono: &[f32], rate: f32, stft: &mut Stft, stats: &mut Spectral) -> Flux {
    let count = stft.frame_count(mono.len(), HOP);
    let bins = FRAME / 2 + 1;
    let bin_hz = rate / FRAME as f32;
    let edges = band_edges(bins);
    let bands = edges.len() - 1;
    let mut band_power = Vec::with_capacity(count * bands);
    let mut welch = vec![0.0f32; bins];
    let mut welch_frames = 0;
    stats.bin_hz = bin_hz as f64;
    stats.magnitudes.resize(bins, 0.0);
    for frame in 0..count {
        let power = stft.power(mono, frame * HOP);
        for (sum, p) in stats.magnitudes.iter_mut().zip(power) {
            *sum += p.sqrt() as f64;
        }
        band_power.extend(
            edges
                .windows(2)
                .map(|b| power[b[0]..b[1]].iter().sum::<f32>()),
        );
        for (w, p) in welch.iter_mut().zip(power) {
            *w += p;
        }
        welch_frames += 1;
        if welch_frames == FLATNESS_FRAMES || frame + 1 == count {
            measure_flatness(&welch[1..], stats);
            welch.fill(0.0);
            welch_frames = 0;
        }
    }
    Flux {
        beat: flux(&band_power, bands, BEAT_GAIN),
        onsets: flux(&band_power, bands, ONSET_GAIN),
    }
}

/// Adds the flatness of a summed power spectrum (DC excluded), weighted by its RMS.
fn measure_flatness(power: &[f32], stats: &mut Spectral) {
    let n = power.len() as f64;
    let total: f64 = power.iter().map(|&p| p as f64).sum();
    if total < SILENT_FRAME * FLATNESS_FRAMES as f64 {
        return;
    }
    let mean = total / n;
    // A floor 100 dB under the mean keeps empty bins (band-limited audio) from sending the
    // geometric mean to zero for the whole frame; they still pull it far down.
    let floor = (mean * 1e-10) as f32;
    let log_mean = power.iter().map(|&p| (p + floor).ln() as f64).sum::<f64>() / n;
    let weight = total.sqrt();
    stats.flat_weight += weight;
    stats.flatness += weight * (log_mean.exp() / mean);
}

/// Half-wave rectified frame-to-frame increase of log-compressed band power, summed over
/// bands: large where something starts, whatever its register.
fn flux(band_power: &[f32], bands: usize, gain: f32) -> Vec<f32> {
    let frames = band_power.len() / bands.max(1);
    let mean = band_power.iter().map(|&p| p as f64).sum::<f64>() / band_power.len().max(1) as f64;
    if frames == 0 || mean <= 0.0 {
        return vec![0.0; frames];
    }
    let gain = gain / mean as f32;
    let compressed: Vec<f32> = band_power.iter().map(|&p| (gain * p).ln_1p()).collect();
    let mut out = vec![0.0f32; frames];
    for f in 1..frames {
        let (prev, cur) = (
            &compressed[(f - 1) * bands..f * bands],
            &compressed[f * bands..(f + 1) * bands],
        );
        out[f] = cur.iter().zip(prev).map(|(c, p)| (c - p).max(0.0)).sum();
    }
    out
}
