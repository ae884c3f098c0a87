//! A beat grid fitted to one end of a track: onsets from the band energies of 1.45 ms frames
//! (found on a 35 ms log-energy rise, timed on the high band's rise at frame resolution), the
//! grid near the tempo measured in the track's middle that gathers most of them, then least
//! squares over the onsets on it for the period and phase.
use super::beats::Bands;

/// Frames per detection step (11.6 ms) and per detection window (35 ms).
const STEP: usize = 8;
const SPAN: usize = 24;
/// Log-energy rise (natural log, per band, window to window) that is not an onset: a steady
/// tone's or noise's window-to-window wobble stays under it (≈ 1.7 dB).
const RISE_FLOOR: f32 = 0.4;
/// Energies under this share of a band's mean count as this share (−30 dB): no onsets in
/// near-silence.
const QUIET: f32 = 1e-3;
/// An onset is the largest rise within this many steps either side (±46 ms), and at least
/// [`ONSET_SHARE`] of the strong rises (the 99th percentile).
const PEAK_STEPS: usize = 4;
const ONSET_SHARE: f32 = 0.15;
/// Fewer onsets than this on the grid: no beat to speak of.
const MIN_ONSETS: usize = 8;
/// Periods searched around the middle's: ± this share.
const SEARCH: f64 = 0.03;
/// Weight of the low band's rise against the high band's: kicks mark the beat more than hats.
const LOW_WEIGHT: f32 = 2.0;
/// An onset is on the grid (for coverage and concentration) within this many seconds of a
/// beat or half-beat.
const ON_GRID_SECS: f64 = 0.015;
/// A bar phase is the downbeat when it is the strongest of four in this share of bars.
const DOWNBEAT_VOTES: f64 = 0.6;

/// The grid at one end, in frames of the capture (fractional, absolute).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    pub period: f64,
    /// The first and last beats on which an onset falls (downbeats when the bar is clear).
    pub first_beat: f64,
    pub last_beat: f64,
    /// Share of the beats (from the first onset to the last) with an onset × share of the onsets' weight on beats or
    /// half-beats: 0 … 1.
    pub confidence: f64,
}

/// An onset: its time (frames from the window's start) and weight.
#[derive(Clone, Copy, Debug)]
struct Onset {
    at: f64,
    weight: f64,
}

/// The grid of `frames` (the band energies of consecutive frames, `rate` per second, the
/// first being frame `offset`) with a period near `period`; `None` without enough onsets.
pub fn fit(frames: &[Bands], rate: f64, period: f64, offset: u64) -> Option<Fit> {
    let onsets = onsets(frames);
    if onsets.len() < MIN_ONSETS || !period.is_finite() || period <= 0.0 {
        return None;
    }
    let (mut p, mut phase) = search(&onsets, period, frames.len() as f64);
    // Least squares over the onsets near the grid, with a narrowing tolerance.
    for share in [8.0, 12.0, 16.0] {
        let tolerance = p / share;
        let (mut sw, mut sj, mut st, mut sjj, mut sjt) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let mut count = 0;
        for o in &onsets {
            let j = ((o.at - phase) / p).round();
            if (o.at - phase - j * p).abs() <= tolerance {
                let w = o.weight;
                (sw, sj, st) = (sw + w, sj + w * j, st + w * o.at);
                (sjj, sjt) = (sjj + w * j * j, sjt + w * j * o.at);
                count += 1;
            }
        }
        let det = sw * sjj - sj * sj;
        if count < MIN_ONSETS || det <= 0.0 {
            return None;
        }
        let slope = (sw * sjt - sj * st) / det;
        if (slope / period - 1.0).abs() > 2.0 * SEARCH {
            return None;
        }
        phase = (st - slope * sj) / sw;
        p = slope;
    }
    // The beats that have an onset, with the strongest onset's weight.
    let near = ON_GRID_SECS * rate;
    let mut beats: Vec<(i64, f64)> = Vec::new();
    let (mut on_grid, mut total) = (0.0, 0.0);
    for o in &onsets {
        total += o.weight;
        let half = ((o.at - phase) / (p / 2.0)).round();
        if (o.at - phase - half * p / 2.0).abs() <= near {
            on_grid += o.weight;
        }
        let j = ((o.at - phase) / p).round();
        if (o.at - phase - j * p).abs() <= near {
            match beats.last_mut() {
                Some((last, w)) if *last == j as i64 => *w = w.max(o.weight),
                _ => beats.push((j as i64, o.weight)),
            }
        }
    }
    let (&(first, _), &(last, _)) = (beats.first()?, beats.last()?);
    // Beats from the first onset to the last: silence at the window's edges is no missed beat.
    let lo = ((onsets[0].at - phase) / p).round() as i64;
    let hi = ((onsets[onsets.len() - 1].at - phase) / p).round() as i64;
    let coverage = beats.len() as f64 / (hi - lo + 1).max(1) as f64;
    let confidence = (coverage.min(1.0) * on_grid / total.max(f64::MIN_POSITIVE)).clamp(0.0, 1.0);
    let (first, last) = match downbeat(&beats) {
        Some(bar) => (
            first + (bar - first).rem_euclid(4),
            last - (last - bar).rem_euclid(4),
        ),
        None => (first, last),
    };
    let at = |j: i64| offset as f64 + phase + j as f64 * p;
    Some(Fit {
        period: p,
        first_beat: at(first),
        last_beat: at(last.max(first)),
        confidence,
    })
}

/// Onsets: peaks of the summed log-energy rise of the two bands from one 35 ms window to the
/// one before, each timed at the largest rise of the high band's frame energy near it (the
/// centroid of the rise over that frame and its neighbours, so an attack between two frame
/// edges is placed between them).
fn onsets(frames: &[Bands]) -> Vec<Onset> {
    let n = frames.len();
    if n < 2 * SPAN + STEP {
        return Vec::new();
    }
    // Prefix sums per band, and each band's floor.
    let mut prefix = vec![[0.0f64; 2]; n + 1];
    for (i, f) in frames.iter().enumerate() {
        prefix[i + 1] = [prefix[i][0] + f[0] as f64, prefix[i][1] + f[1] as f64];
    }
    let floor = [0, 1].map(|b| (prefix[n][b] / n as f64 * SPAN as f64) as f32 * QUIET + 1e-12);
    let level = |end: usize, b: usize| {
        let e = (prefix[end][b] - prefix[end - SPAN][b]) as f32;
        (e + floor[b]).ln()
    };
    // Rise at step boundary c·STEP: window [c·STEP − SPAN, c·STEP) over the one before.
    let steps = n / STEP;
    let first = (2 * SPAN).div_ceil(STEP);
    let strengths: Vec<f32> = (0..=steps)
        .map(|c| {
            if c < first {
                return 0.0;
            }
            let end = c * STEP;
            let rise = |b| (level(end, b) - level(end - SPAN, b) - RISE_FLOOR).max(0.0);
            rise(0) + LOW_WEIGHT * rise(1)
        })
        .collect();
    let mut sorted = strengths.clone();
    let k = ((sorted.len() - 1) as f32 * 0.99) as usize;
    let (_, strong, _) = sorted.select_nth_unstable_by(k, f32::total_cmp);
    let threshold = (*strong * ONSET_SHARE).max(1e-6);
    let mut out = Vec::new();
    for c in first..=steps {
        let v = strengths[c];
        let (lo, hi) = (
            c.saturating_sub(PEAK_STEPS),
            (c + PEAK_STEPS + 1).min(steps + 1),
        );
        if v < threshold
            || strengths[lo..c].iter().any(|&x| x >= v)
            || strengths[c + 1..hi].iter().any(|&x| x > v)
        {
            continue;
        }
        // The attack lies within the window that rose: frames [c·STEP − SPAN, c·STEP).
        let (from, to) = (
            (c * STEP).saturating_sub(SPAN + STEP).max(1),
            (c * STEP + STEP).min(n),
        );
        let rise_at = |k: usize| frames[k][0] - frames[k - 1][0];
        let Some(peak) = (from..to).max_by(|&a, &b| rise_at(a).total_cmp(&rise_at(b))) else {
            continue;
        };
        let (mut sum, mut moment) = (0.0f64, 0.0f64);
        for k in peak.saturating_sub(1).max(1)..(peak + 3).min(n) {
            let r = rise_at(k).max(0.0) as f64;
            sum += r;
            moment += r * k as f64;
        }
        if sum > 0.0 {
            out.push(Onset {
                at: moment / sum,
                weight: v as f64,
            });
        }
    }
    out
}

/// The period (within [`SEARCH`] of `period`) and phase whose grid gathers the most onset
/// weight, over a window of `len` frames.
fn search(onsets: &[Onset], period: f64, len: f64) -> (f64, f64) {
    const BINS: usize = 64;
    let beats = (len / period).max(1.0);
    // Steps small enough that the phase drifts by under 1/8 beat across the window.
    let step = period / (8.0 * beats);
    let count = (2.0 * SEARCH * period / step).ceil() as usize;
    let mut best = (0.0f64, period, 0.0f64);
    for i in 0..=count {
        let p = period * (1.0 - SEARCH) + i as f64 * step;
        let mut bins = [0.0f64; BINS];
        for o in onsets {
            let b = ((o.at / p).fract() * BINS as f64) as usize % BINS;
            bins[b] += o.weight;
        }
        for b in 0..BINS {
            let score = bins[(b + BINS - 1) % BINS] + 2.0 * bins[b] + bins[(b + 1) % BINS];
            if score > best.0 {
                best = (score, p, (b as f64 + 0.5) / BINS as f64 * p);
            }
        }
    }
    (best.1, best.2)
}

/// The bar phase (a beat index) of the downbeat, when one of the four phases is the strongest
/// in most bars of `beats` (beat index, accent weight).
fn downbeat(beats: &[(i64, f64)]) -> Option<i64> {
    let first = beats.first()?.0;
    let mut votes = [0usize; 4];
    let mut bars = 0;
    let mut at = 0;
    while at < beats.len() {
        let bar = (beats[at].0 - first).div_euclid(4);
        let mut strongest = (f64::MIN, 0usize);
        let mut seen = 0;
        while at < beats.len() && (beats[at].0 - first).div_euclid(4) == bar {
            let phase = (beats[at].0 - first).rem_euclid(4) as usize;
            if beats[at].1 > strongest.0 {
                strongest = (beats[at].1, phase);
            }
            seen += 1;
            at += 1;
        }
        if seen == 4 {
            votes[strongest.1] += 1;
            bars += 1;
        }
    }
    let (phase, &most) = votes.iter().enumerate().max_by_key(|&(_, v)| *v)?;
    (bars >= 4 && most as f64 >= DOWNBEAT_VOTES * bars as f64).then_some(first + phase as i64)
}
