//! What a render sounded like at each transition, measured on the mix itself: the loudness just
//! before, during and after every overlap (momentary, 400 ms), the lowest short-term (3 s)
//! loudness around it, and any silence; and over the whole render, the distribution of overlap
//! lengths, the share of beat-aligned transitions and the worst dip under the target. Pure: it
//! reads the 100 ms block levels of the rendered PCM and the engine's transition records.
use crate::analysis::gating::{self, BlockEnergies, MOMENTARY_BLOCKS, SHORT_TERM_BLOCKS};
use crate::analysis::loudness::BLOCK;
use crate::units::{Db, Frames, StreamPos};
use serde::Serialize;

/// "Just before" and "just after" a transition: the 3 s next to the overlap.
const AROUND: Frames = Frames(3 * 44_100);
/// A 100 ms block under this is silent: the absolute floor below which the cue finder counts
/// nothing as music (`analysis::cues::ABSOLUTE_THRESHOLD`).
pub const SILENCE: Db = crate::analysis::cues::ABSOLUTE_THRESHOLD;
/// The first seconds of a render are its first track's intro, not a transition: the worst dip
/// is looked for after them.
pub const SETTLE_SECS: f64 = 10.0;
/// Upper edges of the overlap-length histogram, in seconds (the last bucket is open).
const OVERLAP_BUCKETS: [f64; 7] = [0.0, 0.5, 2.0, 4.0, 6.0, 8.0, 12.0];

/// One transition as the engine planned it and as the mix measured.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Measured {
    /// Stream seconds where the incoming track starts to sound.
    pub at: f64,
    pub overlap: f64,
    /// Mean momentary loudness over the 3 s before the overlap, LUFS.
    pub before: f64,
    /// Lowest momentary loudness during the overlap, LUFS (the overlap's mean with no overlap).
    pub during: f64,
    /// Mean momentary loudness over the 3 s after the overlap, LUFS.
    pub after: f64,
    /// Lowest short-term loudness from 3 s before to 3 s after the overlap, LUFS.
    pub min_short_term: f64,
    /// How far that lowest short-term loudness falls under the quieter of the two tracks'
    /// own short-term loudness next to the overlap (the 3 s before it, the 3 s after it), LU:
    /// what the transition itself took away (0 when it took nothing).
    pub dip: f64,
    /// Longest run of silent 100 ms blocks from 3 s before to 3 s after, seconds.
    pub silence: f64,
}

/// Loudness over time of a rendered mix: one level per 100 ms block from stream position 0.
pub struct Levels {
    energies: BlockEnergies,
}

impl Levels {
    pub fn new(blocks: &[Db]) -> Levels {
        Levels {
            energies: BlockEnergies::new(blocks.iter().map(|l| energy(*l))),
        }
    }

    fn block_of(pos: StreamPos) -> usize {
        (pos.0 .0 / BLOCK.0) as usize
    }

    /// Loudness of the `n` blocks ending with block `end - 1` (fewer at the start).
    fn window(&self, end: usize, n: usize) -> Db {
        let end = end.min(self.energies.len());
        self.energies
            .mean(end.saturating_sub(n), end)
            .map_or(SILENCE_FLOOR, loudness)
    }

    /// Momentary loudness of every block in `[from, to)` (each the 400 ms ending there).
    fn momentary(&self, from: usize, to: usize) -> impl Iterator<Item = f64> + '_ {
        (from..to.min(self.energies.len())).map(|b| self.window(b + 1, MOMENTARY_BLOCKS).0)
    }

    fn mean_momentary(&self, from: usize, to: usize) -> f64 {
        let (sum, n) = self
            .momentary(from, to)
            .fold((0.0, 0usize), |(s, n), l| (s + energy(Db(l)), n + 1));
        if n == 0 {
            SILENCE_FLOOR.0
        } else {
            loudness(sum / n as f64).0
        }
    }

    /// The lowest short-term loudness of any block in `[from, to)` whose 3 s window lies
    /// wholly after `settle` blocks, and the block where it is.
    pub fn min_short_term(&self, from: usize, to: usize, settle: usize) -> Option<(f64, usize)> {
        let from = from.max(settle + SHORT_TERM_BLOCKS - 1);
        (from..to.min(self.energies.len()))
            .map(|b| (self.window(b + 1, SHORT_TERM_BLOCKS).0, b))
            .min_by(|a, b| a.0.total_cmp(&b.0))
    }

    /// The longest run of silent blocks in `[from, to)`, in blocks.
    pub fn longest_silence(&self, from: usize, to: usize) -> usize {
        let (mut best, mut run) = (0, 0);
        for b in from..to.min(self.energies.len()) {
            let e = self.energies.mean(b, b + 1).unwrap_or(0.0);
            run = if loudness(e).0 < SILENCE.0 {
                run + 1
            } else {
                0
            };
            best = best.max(run);
        }
        best
    }

    pub fn len(&self) -> usize {
        self.energies.len()
    }
    pub fn is_empty(&self) -> bool {
        self.energies.is_empty()
    }

    /// Measures the transition whose incoming track starts at `at` and overlaps for `overlap`.
    pub fn transition(&self, at: StreamPos, overlap: Frames) -> Measured {
        let start = Self::block_of(at);
        let end = Self::block_of(at + overlap).max(start + 1);
        let around = (AROUND.0 / BLOCK.0) as usize;
        let (lo, hi) = (start.saturating_sub(around), end + around);
        let during = self
            .momentary(start, end)
            .min_by(f64::total_cmp)
            .unwrap_or(SILENCE_FLOOR.0);
        let min_short_term = self
            .min_short_term(lo, hi, 0)
            .map_or(SILENCE_FLOOR.0, |m| m.0);
        let own = self
            .window(start, SHORT_TERM_BLOCKS)
            .0
            .min(self.window(hi, SHORT_TERM_BLOCKS).0);
        Measured {
            at: at.secs(),
            overlap: overlap.secs(),
            before: self.mean_momentary(lo, start),
            during,
            // Windows that still reach back into the overlap are not "after" it.
            after: self.mean_momentary(end + MOMENTARY_BLOCKS - 1, hi + MOMENTARY_BLOCKS - 1),
            min_short_term,
            dip: (own - min_short_term).max(0.0),
            silence: self.longest_silence(lo, hi) as f64 * BLOCK.secs(),
        }
    }
}

const SILENCE_FLOOR: Db = crate::analysis::loudness::SILENCE_FLOOR;

fn energy(l: Db) -> f64 {
    gating::energy(l.0)
}

/// Loudness of a mean energy, floored like the meter's levels.
fn loudness(energy: f64) -> Db {
    if energy <= 0.0 {
        SILENCE_FLOOR
    } else {
        Db(gating::loudness(energy).max(SILENCE_FLOOR.0))
    }
}

/// How many overlaps fall in each length bucket: `("0.5–2 s", n)`.
pub fn overlap_histogram(overlaps: impl IntoIterator<Item = f64>) -> Vec<(String, usize)> {
    let mut counts = vec![0usize; OVERLAP_BUCKETS.len() + 1];
    for o in overlaps {
        let i = OVERLAP_BUCKETS.iter().position(|&edge| o <= edge + 1e-9);
        counts[i.unwrap_or(OVERLAP_BUCKETS.len())] += 1;
    }
    let mut out = Vec::new();
    for (i, n) in counts.into_iter().enumerate() {
        let label = match i {
            0 => "0 s (none)".to_string(),
            i if i == OVERLAP_BUCKETS.len() => format!("over {} s", OVERLAP_BUCKETS[i - 1]),
            i => format!("{}–{} s", OVERLAP_BUCKETS[i - 1], OVERLAP_BUCKETS[i]),
        };
        out.push((label, n));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(levels: &[(f64, usize)]) -> Vec<Db> {
        levels
            .iter()
            .flat_map(|&(l, n)| std::iter::repeat_n(Db(l), n))
            .collect()
    }

    #[test]
    fn energies_round_trip_to_the_same_loudness() {
        for l in [-40.0, -23.0, -16.0, -3.0] {
            assert!((loudness(energy(Db(l))).0 - l).abs() < 1e-9);
        }
    }

    /// A steady −16 LUFS mix with a 1 s gap 20 s in: the transition there sees the gap as 1 s
    /// of silence and its short-term loudness falls; one in steady music sees neither.
    #[test]
    fn a_gap_is_silence_and_a_dip_in_short_term_loudness() {
        let levels = Levels::new(&blocks(&[(-16.0, 200), (-70.0, 10), (-16.0, 200)]));
        let gap = levels.transition(StreamPos::from_secs(20.0), Frames::from_secs(1.0));
        assert!((gap.silence - 1.0).abs() < 1e-9, "{gap:?}");
        assert!((gap.before - -16.0).abs() < 0.01, "{gap:?}");
        assert!((gap.after - -16.0).abs() < 0.01, "{gap:?}");
        assert!(gap.during < -60.0, "{gap:?}");
        // 1 s of silence in a 3 s window is −1.76 LU.
        assert!((gap.min_short_term - (-16.0 + 10.0 * (2.0f64 / 3.0).log10())).abs() < 0.05);
        assert!((gap.dip - 1.76).abs() < 0.05, "{gap:?}");
        let steady = levels.transition(StreamPos::from_secs(30.0), Frames::from_secs(4.0));
        assert_eq!(steady.silence, 0.0);
        assert!(steady.dip < 0.01, "{steady:?}");
        assert!((steady.min_short_term - -16.0).abs() < 0.01, "{steady:?}");
    }

    #[test]
    fn the_worst_short_term_dip_ignores_the_settling_time() {
        let levels = Levels::new(&blocks(&[
            (-40.0, 50),
            (-16.0, 100),
            (-19.0, 40),
            (-16.0, 50),
        ]));
        let (worst, at) = levels.min_short_term(0, levels.len(), 100).unwrap();
        assert!((worst - -19.0).abs() < 0.01, "{worst}");
        assert!((150..200).contains(&at), "{at}");
        assert_eq!(levels.longest_silence(0, levels.len()), 0);
    }

    #[test]
    fn overlaps_are_counted_in_their_buckets() {
        let h = overlap_histogram([0.0, 0.3, 1.0, 5.0, 8.0, 9.0, 20.0]);
        let n = |label: &str| h.iter().find(|(l, _)| l == label).unwrap().1;
        assert_eq!(n("0 s (none)"), 1);
        assert_eq!(n("0–0.5 s"), 1);
        assert_eq!(n("0.5–2 s"), 1);
        assert_eq!(n("4–6 s"), 1);
        assert_eq!(n("6–8 s"), 1);
        assert_eq!(n("8–12 s"), 1);
        assert_eq!(n("over 12 s"), 1);
    }
}
