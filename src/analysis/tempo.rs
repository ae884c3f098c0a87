//! Tempo and beat strength from onset novelty: autocorrelation finds the beat period; a tempo
//! prior and the accent pattern settle which metrical level (half, same or double) is the beat.
use super::stft;
use realfft::num_complex::Complex;

/// Tempi searched, in BPM: wider than the reported range so that a beat just outside it is
/// found and then folded in.
const MIN_BPM: f64 = 40.0;
const MAX_BPM: f64 = 240.0;
/// The reported range: tempi outside are halved or doubled into it.
pub const FOLD_MIN_BPM: f64 = 60.0;
pub const FOLD_MAX_BPM: f64 = 200.0;
/// Listeners tap most readily near this tempo (the "moderato" resonance).
pub const PRIOR_BPM: f64 = 120.0;
/// Width of the tempo prior, in octaves (one standard deviation of a log-normal).
const PRIOR_OCTAVES: f64 = 1.5;
/// Multiples of the period whose autocorrelation peaks refine it (precision grows with each).
const MULTIPLES: usize = 4;
/// Where to look for a multiple's peak, as a share of its lag.
const PEAK_TOLERANCE: f64 = 0.03;
/// The faster of two metrical levels is the beat when the slower level's off-beats are at
/// least this strong relative to its beats (after the prior's preference between the two).
/// Measured on the demo library (five seeds): eighth-note off-beats of bass, hi-hats and
/// arpeggios reach ≈ 0.4 of the beats, back-beat snares ≈ 0.65 of the kicks.
const DOUBLE_THRESHOLD: f64 = 0.52;
/// The accent pattern is measured on segments this long, each with its own beat phase, so
/// that a drifting live tempo does not smear it.
const SEGMENT_SECS: f64 = 4.0;
/// Phase resolution of the accent pattern.
const PHASE_BINS: usize = 16;

/// The beat.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tempo {
    /// In [`FOLD_MIN_BPM`] … [`FOLD_MAX_BPM`].
    pub bpm: f64,
    /// Normalised autocorrelation of the novelty at the beat period, 0 … 1.
    pub strength: f64,
}

/// Weight of a tempo before looking at the music.
fn prior(bpm: f64) -> f64 {
    let octaves = (bpm / PRIOR_BPM).log2() / PRIOR_OCTAVES;
    (-0.5 * octaves * octaves).exp()
}

/// Estimates the tempo from the novelty curves of the excerpts (`frame_rate` values per second).
pub fn estimate(novelties: &[Vec<f32>], frame_rate: f64) -> Tempo {
    let bpm_of = |lag: f64| 60.0 * frame_rate / lag;
    let lag_of = |bpm: f64| 60.0 * frame_rate / bpm;
    let max_lag = (lag_of(MIN_BPM) * MULTIPLES as f64).ceil() as usize + 2;
    let acf = autocorrelation(novelties, max_lag);
    let none = Tempo {
        bpm: PRIOR_BPM,
        strength: 0.0,
    };
    // The best autocorrelation peak, weighed by the prior.
    let (lo, hi) = (
        lag_of(MAX_BPM).floor() as usize,
        (lag_of(MIN_BPM).ceil() as usize).min(acf.len().saturating_sub(2)),
    );
    let best = (lo.max(1)..=hi)
        .filter(|&l| acf[l] > 0.0 && acf[l] > acf[l - 1] && acf[l] >= acf[l + 1])
        .map(|l| {
            let lag = l as f64 + vertex(acf[l - 1], acf[l], acf[l + 1]);
            (lag, acf[l] * prior(bpm_of(lag)))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let Some((lag, _)) = best else {
        return none;
    };
    let mut period = refine(&acf, lag);

    // Metrical level: go slower while the beats alternate strong and weak clearly enough,
    // else faster while the off-beats are as strong as the beats.
    let prefer_faster = |slow: f64| {
        let bias = prior(bpm_of(slow / 2.0)) / prior(bpm_of(slow));
        offbeat_ratio(novelties, slow, frame_rate) * bias >= DOUBLE_THRESHOLD
    };
    let mut slowed = false;
    while bpm_of(period * 2.0) >= MIN_BPM && !prefer_faster(period * 2.0) {
        period *= 2.0;
        slowed = true;
    }
    while !slowed && bpm_of(period / 2.0) <= MAX_BPM && prefer_faster(period) {
        period /= 2.0;
    }

    let mut bpm = bpm_of(period);
    while bpm > FOLD_MAX_BPM {
        bpm /= 2.0;
    }
    while bpm < FOLD_MIN_BPM {
        bpm *= 2.0;
    }
    Tempo {
        bpm,
        strength: peak_near(&acf, lag_of(bpm)).map_or(0.0, |(_, h)| h.clamp(0.0, 1.0)),
    }
}

/// Offset in (-0.5, 0.5) of the vertex of the parabola through three equally spaced points.
fn vertex(a: f64, b: f64, c: f64) -> f64 {
    let denominator = a - 2.0 * b + c;
    if denominator.abs() < 1e-12 {
        0.0
    } else {
        (0.5 * (a - c) / denominator).clamp(-0.5, 0.5)
    }
}

/// The highest point of `acf` within [`PEAK_TOLERANCE`] of `lag`, interpolated: (lag, height).
fn peak_near(acf: &[f64], lag: f64) -> Option<(f64, f64)> {
    let reach = (lag * PEAK_TOLERANCE).max(1.0);
    let lo = ((lag - reach).floor() as usize).max(1);
    let hi = ((lag + reach).ceil() as usize).min(acf.len().checked_sub(2)?);
    let l = (lo..=hi).max_by(|&a, &b| acf[a].total_cmp(&acf[b]))?;
    let offset = vertex(acf[l - 1], acf[l], acf[l + 1]);
    let height = acf[l] - 0.25 * (acf[l - 1] - acf[l + 1]) * offset;
    Some((l as f64 + offset, height))
}

/// A more precise period from the peaks at its multiples (an error of one lag shrinks by the
/// multiple), each weighed by its height and multiple.
fn refine(acf: &[f64], lag: f64) -> f64 {
    let (mut sum, mut weight) = (0.0, 0.0);
    for k in 1..=MULTIPLES {
        let Some((at, height)) = peak_near(acf, lag * k as f64) else {
            break;
        };
        if height > 0.0 {
            let w = height * k as f64;
            sum += w * at / k as f64;
            weight += w;
        }
    }
    if weight > 0.0 {
        sum / weight
    } else {
        lag
    }
}

/// Autocorrelation of the mean-removed novelty up to `max_lag`, normalised to 1 at lag 0 and
/// unbiased (each lag divided by its overlap), averaged over excerpts by overlap.
fn autocorrelation(novelties: &[Vec<f32>], max_lag: usize) -> Vec<f64> {
    let mut sum = vec![0.0f64; max_lag + 1];
    let mut overlap = vec![0.0f64; max_lag + 1];
    for novelty in novelties {
        let n = novelty.len();
        if n < 2 {
            continue;
        }
        let raw = raw_autocorrelation(novelty, max_lag.min(n - 1));
        if raw[0] <= 0.0 {
            continue;
        }
        // raw[l] / (n - l) over raw[0] / n, weighted by the overlap n - l.
        for (l, r) in raw.iter().enumerate() {
            sum[l] += r * n as f64 / raw[0];
            overlap[l] += (n - l) as f64;
        }
    }
    sum.iter()
        .zip(&overlap)
        .map(|(s, o)| if *o > 0.0 { s / o } else { 0.0 })
        .collect()
}

/// Σ x[i]·x[i + l] of the mean-removed signal for l = 0 ..= max_lag, through the FFT.
fn raw_autocorrelation(x: &[f32], max_lag: usize) -> Vec<f64> {
    let len = (x.len() + max_lag + 1).next_power_of_two();
    let forward = stft::forward(len);
    let inverse = stft::inverse(len);
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / x.len() as f64;
    let mut input = forward.make_input_vec();
    for (i, v) in x.iter().enumerate() {
        input[i] = (*v as f64 - mean) as f32;
    }
    let mut spectrum = forward.make_output_vec();
    forward
        .process(&mut input, &mut spectrum)
        .expect("buffers made by the plan");
    for c in spectrum.iter_mut() {
        *c = Complex::new(c.norm_sqr(), 0.0);
    }
    let mut out = inverse.make_output_vec();
    inverse
        .process(&mut spectrum, &mut out)
        .expect("a power spectrum is real");
    // realfft's inverse is unnormalised: every value is `len` times the correlation.
    out[..=max_lag]
        .iter()
        .map(|&v| v as f64 / len as f64)
        .collect()
}

/// How strong the off-beats (half a period after the beats) are relative to the beats when
/// the beat period is `period` frames: 0 (nothing between beats) … 1 (as strong) and above.
fn offbeat_ratio(novelties: &[Vec<f32>], period: f64, frame_rate: f64) -> f64 {
    let segment = (SEGMENT_SECS * frame_rate).max(4.0 * period).ceil() as usize;
    let (mut on, mut off) = (0.0, 0.0);
    for novelty in novelties {
        for part in novelty.chunks(segment) {
            if (part.len() as f64) < 2.0 * period {
                continue;
            }
            let mut sum = [0.0f64; PHASE_BINS];
            let mut count = [0usize; PHASE_BINS];
            for (i, &v) in part.iter().enumerate() {
                let bin = ((i as f64 / period).fract() * PHASE_BINS as f64) as usize;
                sum[bin % PHASE_BINS] += v as f64;
                count[bin % PHASE_BINS] += 1;
            }
            let mean: Vec<f64> = (0..PHASE_BINS)
                .map(|b| sum[b] / count[b].max(1) as f64)
                .collect();
            let at = |b: usize| mean[b % PHASE_BINS];
            let smooth: Vec<f64> = (0..PHASE_BINS)
                .map(|b| at(b + PHASE_BINS - 1) + at(b) + at(b + 1))
                .collect();
            let beat = (0..PHASE_BINS)
                .max_by(|&a, &b| smooth[a].total_cmp(&smooth[b]))
                .unwrap_or(0);
            let half = beat + PHASE_BINS / 2;
            let offbeat = [half - 1, half, half + 1]
                .iter()
                .map(|&b| smooth[b % PHASE_BINS])
                .fold(0.0, f64::max);
            on += smooth[beat];
            off += offbeat;
        }
    }
    if on > 0.0 {
        off / on
    } else {
        0.0
    }
}

#[cfg(test)]
#[path = "tempo_tests.rs"]
mod tests;
