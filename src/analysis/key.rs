//! Key and mode: a pitch-class profile (chroma) from the spectral peaks of long frames,
//! correlated with the Krumhansl–Kessler major and minor key profiles in all twelve keys.
use super::stft::Stft;
use crate::model::Mode;

/// Samples per frame at the analysis rate (22.05 kHz): 371 ms, 2.7 Hz bins, so that low
/// notes a semitone apart are separate peaks.
pub const FRAME: usize = 8192;
/// Half-overlapping frames: harmony changes slowly.
pub const HOP: usize = 4096;
/// Pitches counted: from A1 to about B6; lower notes blur, higher ones are mostly overtones.
const LOW_HZ: f32 = 55.0;
const HIGH_HZ: f32 = 2000.0;
/// Spectral peaks quieter than this (power, relative to the frame's loudest) are leakage
/// and noise, not notes.
const PEAK_FLOOR: f32 = 1e-4;

/// Krumhansl & Kessler's probe-tone ratings, tonic first.
const MAJOR: [f64; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];
const MINOR: [f64; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];

/// The key of some music.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Key {
    /// Pitch class of the tonic, 0 = C.
    pub tonic: u8,
    pub mode: Mode,
    /// Correlation of the chroma with the key's profile, clamped to 0 … 1.
    pub strength: f64,
}

/// Spectral peaks of the excerpts as (MIDI pitch, magnitude), gathered before folding so
/// that the tuning can be estimated from all of them first.
#[derive(Clone, Debug, Default)]
pub struct Peaks(Vec<(f32, f32)>);

impl Peaks {
    /// Adds the spectral peaks of one excerpt (mono at `rate` Hz).
    pub fn add(&mut self, mono: &[f32], rate: f32, stft: &mut Stft) {
        let bin_hz = rate / FRAME as f32;
        let lo = ((LOW_HZ / bin_hz).floor() as usize).max(1);
        let hi = ((HIGH_HZ / bin_hz).ceil() as usize).min(FRAME / 2 - 1);
        for frame in 0..stft.frame_count(mono.len(), HOP) {
            let power = stft.power(mono, frame * HOP);
            let loudest = power[lo..=hi].iter().fold(0.0f32, |a, &p| a.max(p));
            if loudest <= 0.0 {
                continue;
            }
            let floor = loudest * PEAK_FLOOR;
            for k in lo..=hi {
                let p = power[k];
                if p < floor || p <= power[k - 1] || p < power[k + 1] {
                    continue;
                }
                // Parabolic interpolation on the log spectrum finds the partial between bins.
                let (a, b, c) = (
                    (power[k - 1] + 1e-20).ln(),
                    p.ln(),
                    (power[k + 1] + 1e-20).ln(),
                );
                let d = a - 2.0 * b + c;
                let offset = if d.abs() > 1e-12 {
                    (0.5 * (a - c) / d).clamp(-0.5, 0.5)
                } else {
                    0.0
                };
                let hz = (k as f32 + offset) * bin_hz;
                let pitch = 69.0 + 12.0 * (hz / 440.0).log2();
                self.0.push((pitch, p.sqrt()));
            }
        }
    }

    /// Deviation of the music's tuning from A = 440 Hz in semitones (−0.5 … 0.5): the
    /// magnitude-weighted circular mean of every peak's distance to the nearest semitone.
    fn tuning(&self) -> f32 {
        let (mut x, mut y) = (0.0f64, 0.0f64);
        for &(pitch, mag) in &self.0 {
            let angle = std::f64::consts::TAU * (pitch - pitch.round()) as f64;
            x += mag as f64 * angle.cos();
            y += mag as f64 * angle.sin();
        }
        if x == 0.0 && y == 0.0 {
            0.0
        } else {
            (y.atan2(x) / std::f64::consts::TAU) as f32
        }
    }

    /// Magnitude per pitch class (0 = C), in tune: a peak counts fully on its semitone and
    /// less towards a quarter tone off.
    pub fn chroma(&self) -> [f64; 12] {
        let tuning = self.tuning();
        let mut chroma = [0.0f64; 12];
        for &(pitch, mag) in &self.0 {
            let p = pitch - tuning;
            let nearest = p.round();
            let weight = (std::f32::consts::PI * (p - nearest)).cos().powi(2);
            chroma[(nearest as i64).rem_euclid(12) as usize] += (weight * mag) as f64;
        }
        chroma
    }

    /// The best-fitting key of all the peaks added.
    pub fn key(&self) -> Key {
        best_key(&self.chroma())
    }
}

/// The key whose rotated profile correlates best with `chroma`.
pub fn best_key(chroma: &[f64; 12]) -> Key {
    let mut best = Key {
        tonic: 0,
        mode: Mode::Major,
        strength: f64::NEG_INFINITY,
    };
    for (mode, profile) in [(Mode::Major, &MAJOR), (Mode::Minor, &MINOR)] {
        for tonic in 0..12 {
            let rotated: Vec<f64> = (0..12).map(|i| chroma[(i + tonic) % 12]).collect();
            let r = correlation(&rotated, profile);
            if r > best.strength {
                best = Key {
                    tonic: tonic as u8,
                    mode,
                    strength: r,
                };
            }
        }
    }
    best.strength = best.strength.clamp(0.0, 1.0);
    best
}

/// Pearson correlation; 0 when either side is constant.
fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        ab += (x - ma) * (y - mb);
        aa += (x - ma) * (x - ma);
        bb += (y - mb) * (y - mb);
    }
    if aa <= 0.0 || bb <= 0.0 {
        0.0
    } else {
        ab / (aa * bb).sqrt()
    }
}

#[cfg(test)]
#[path = "key_tests.rs"]
mod tests;
