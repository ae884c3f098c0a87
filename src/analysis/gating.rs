//! The two gated statistics of EBU R128 from the energies of consecutive 100 ms blocks
//! (K-weighted mean square, summed over channels): integrated loudness (ITU-R BS.1770-4) and
//! loudness range (EBU Tech 3342, as libebur128 computes it).
//!
//! Invariants (the tests check these):
//! - integrated loudness is the mean energy of the 400 ms gating blocks (four consecutive
//!   100 ms blocks, so 75 % overlap) above −70 LUFS and then above the mean of those −10 LU;
//! - loudness range is the spread from the 10th to the 95th percentile of the 3 s short-term
//!   loudness (every second) above −70 LUFS and above their mean −20 LU; zero with fewer than
//!   two such values;
//! - a signal of constant level L reads L for both, whatever its length over 3 s.

/// R128's absolute gate, in LUFS.
const ABSOLUTE_GATE: f64 = -70.0;
/// 100 ms blocks in a gating block, which is also the momentary window (400 ms), and in a
/// short-term window (3 s), and the short-term step (1 s).
pub const MOMENTARY_BLOCKS: usize = 4;
const GATING_BLOCKS: usize = MOMENTARY_BLOCKS;
pub const SHORT_TERM_BLOCKS: usize = 30;
const SHORT_TERM_STEP: usize = 10;

/// Loudness in LUFS of a K-weighted mean-square energy (BS.1770's −0.691 dB offset).
pub fn loudness(energy: f64) -> f64 {
    -0.691 + 10.0 * energy.log10()
}

/// The K-weighted mean-square energy of a loudness in LUFS (the inverse of [`loudness`]).
pub fn energy(loudness: f64) -> f64 {
    10f64.powf((loudness + 0.691) / 10.0)
}

/// The energies of consecutive 100 ms blocks with their running sums, so the mean energy
/// of any window (momentary, short-term, or cut short at an edge) costs two lookups.
pub struct BlockEnergies {
    /// `prefix[i]` is the sum of the energies of blocks `0..i`.
    prefix: Vec<f64>,
}

impl BlockEnergies {
    pub fn new(energies: impl IntoIterator<Item = f64>) -> BlockEnergies {
        let mut prefix = vec![0.0];
        for e in energies {
            prefix.push(prefix[prefix.len() - 1] + e);
        }
        BlockEnergies { prefix }
    }

    pub fn len(&self) -> usize {
        self.prefix.len() - 1
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The mean energy of blocks `from..to`, clamped to the blocks there are; `None` when
    /// that leaves none.
    pub fn mean(&self, from: usize, to: usize) -> Option<f64> {
        let to = to.min(self.len());
        (from < to).then(|| ((self.prefix[to] - self.prefix[from]) / (to - from) as f64).max(0.0))
    }
}

/// Integrated loudness in LUFS from 100 ms block energies; −∞ when nothing passes the gates.
pub fn integrated(blocks: &[f64]) -> f64 {
    let gating: Vec<f64> = blocks
        .windows(GATING_BLOCKS)
        .map(|w| w.iter().sum::<f64>() / GATING_BLOCKS as f64)
        .collect();
    gated_mean(&gating, -10.0).map_or(f64::NEG_INFINITY, loudness)
}

/// Loudness range in LU from 100 ms block energies.
pub fn range(blocks: &[f64]) -> f64 {
    let absolute = energy(ABSOLUTE_GATE);
    let mut short_term: Vec<f64> = blocks
        .windows(SHORT_TERM_BLOCKS)
        .step_by(SHORT_TERM_STEP)
        .map(|w| w.iter().sum::<f64>() / SHORT_TERM_BLOCKS as f64)
        .filter(|&e| e >= absolute)
        .collect();
    if short_term.is_empty() {
        return 0.0;
    }
    let mean = short_term.iter().sum::<f64>() / short_term.len() as f64;
    let relative = mean * 10f64.powf(-20.0 / 10.0);
    short_term.retain(|&e| e >= relative);
    short_term.sort_by(f64::total_cmp);
    let Some(last) = short_term.len().checked_sub(1) else {
        return 0.0;
    };
    // Nearest-rank percentiles over the sorted gated values.
    let at = |p: f64| short_term[(last as f64 * p + 0.5) as usize];
    loudness(at(0.95)) - loudness(at(0.10))
}

/// Mean of the energies above the absolute gate and then above their own mean lowered by
/// `relative_lu`; `None` when none pass.
fn gated_mean(energies: &[f64], relative_lu: f64) -> Option<f64> {
    let absolute = energy(ABSOLUTE_GATE);
    let mean_above = |threshold: f64| {
        let (sum, n) = energies
            .iter()
            .filter(|&&e| e >= threshold)
            .fold((0.0, 0usize), |(s, n), &e| (s + e, n + 1));
        (n > 0).then(|| sum / n as f64)
    };
    let first = mean_above(absolute)?;
    mean_above((first * 10f64.powf(relative_lu / 10.0)).max(absolute))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_level_reads_that_level_with_no_range() {
        for level in [-40.0, -23.0, -9.0] {
            let blocks = vec![energy(level); 200];
            assert!((integrated(&blocks) - level).abs() < 1e-9);
            assert!(range(&blocks).abs() < 1e-9);
        }
    }

    #[test]
    fn a_window_mean_is_the_plain_mean_clamped_to_the_blocks() {
        let e: Vec<f64> = (0..50).map(|i| energy(-30.0 + (i % 7) as f64)).collect();
        let b = BlockEnergies::new(e.iter().copied());
        assert_eq!(b.len(), 50);
        for (from, to) in [(0, 4), (3, 33), (46, 50), (40, 70)] {
            let want = e[from..to.min(50)].iter().sum::<f64>() / (to.min(50) - from) as f64;
            assert!((b.mean(from, to).unwrap() / want - 1.0).abs() < 1e-12);
        }
        assert_eq!(b.mean(10, 10), None);
        assert_eq!(b.mean(50, 60), None);
        assert!(BlockEnergies::new([]).is_empty());
    }

    #[test]
    fn silence_is_below_the_gates() {
        let blocks = vec![energy(-80.0); 100];
        assert_eq!(integrated(&blocks), f64::NEG_INFINITY);
        assert_eq!(range(&blocks), 0.0);
        assert_eq!(integrated(&[]), f64::NEG_INFINITY);
    }

    #[test]
    fn the_relative_gate_leaves_quiet_passages_out() {
        // Half at −20, half at −45 LUFS: the quiet half is more than 10 LU under the mean (the
        // three gating blocks that straddle the step pass, and cost a few hundredths).
        let mut blocks = vec![energy(-20.0); 100];
        blocks.extend(vec![energy(-45.0); 100]);
        assert!(
            (integrated(&blocks) + 20.0).abs() < 0.1,
            "{}",
            integrated(&blocks)
        );
        // −20 and −30 LUFS: both within 20 LU, so the range is about 10 LU.
        let mut blocks = vec![energy(-20.0); 300];
        blocks.extend(vec![energy(-30.0); 300]);
        assert!((range(&blocks) - 10.0).abs() < 0.01, "{}", range(&blocks));
    }
}
