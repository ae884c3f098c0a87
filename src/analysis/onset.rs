//! Onsets from spectral flux: a novelty curve (flux above its local mean) and peak picking on
//! it, for the onset rate (density) and as the input of tempo estimation.

/// Half-width in seconds of the moving average subtracted from the flux: slow swells (a pad
/// fading in, a crescendo) are not onsets.
const MEAN_SECS: f32 = 0.15;
/// Novelty under this is no event: about one band at the excerpt's average level rising by
/// 1 dB. (A steady tone's flux is not quite zero: its leakage ripples with the frame phase,
/// and that ripple is periodic enough to look like a beat.)
const NOVELTY_FLOOR: f32 = 0.2;
/// Half-width in seconds of the neighbourhood an onset must be the maximum of: two onsets are
/// at least this far apart (a 32nd note at 160 BPM still fits).
const PEAK_SECS: f32 = 0.035;
/// An onset must reach this share of the excerpt's strong onsets (its 99th percentile of
/// novelty): the noise floor's little peaks do not count.
const THRESHOLD_SHARE: f32 = 0.2;
const STRONG_PERCENTILE: f32 = 0.99;

/// Flux minus its local mean and [`NOVELTY_FLOOR`], clipped at zero: peaks where something
/// starts.
pub fn novelty(flux: &[f32], frame_rate: f32) -> Vec<f32> {
    let half = (MEAN_SECS * frame_rate).round() as usize;
    let mut prefix = Vec::with_capacity(flux.len() + 1);
    prefix.push(0.0f64);
    for &x in flux {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + x as f64);
    }
    (0..flux.len())
        .map(|i| {
            let (lo, hi) = (i.saturating_sub(half), (i + half + 1).min(flux.len()));
            let local = (prefix[hi] - prefix[lo]) / (hi - lo) as f64;
            (flux[i] - local as f32 - NOVELTY_FLOOR).max(0.0)
        })
        .collect()
}

/// Number of onsets (peaks of `novelty`, see [`THRESHOLD_SHARE`] and [`PEAK_SECS`]).
pub fn count(novelty: &[f32], frame_rate: f32) -> usize {
    let strong = percentile(novelty, STRONG_PERCENTILE);
    if strong <= 0.0 {
        return 0;
    }
    let threshold = THRESHOLD_SHARE * strong;
    let half = ((PEAK_SECS * frame_rate).round() as usize).max(1);
    let mut onsets = 0;
    let mut last: Option<usize> = None;
    for (i, &v) in novelty.iter().enumerate() {
        if v < threshold {
            continue;
        }
        let (lo, hi) = (i.saturating_sub(half), (i + half + 1).min(novelty.len()));
        // The first of equal maxima wins, so a flat top counts once.
        let is_peak =
            novelty[lo..i].iter().all(|&x| x < v) && novelty[i + 1..hi].iter().all(|&x| x <= v);
        if is_peak && last.is_none_or(|l| i - l > half) {
            onsets += 1;
            last = Some(i);
        }
    }
    onsets
}

/// The `share` quantile of `values` (0 for none).
fn percentile(values: &[f32], share: f32) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    let k = ((sorted.len() - 1) as f32 * share).round() as usize;
    let (_, v, _) = sorted.select_nth_unstable_by(k, f32::total_cmp);
    *v
}
