//! A track's two ends from its 100 ms block loudness: where the intro reaches the body and
//! where the ending falls for good (3 s short-term loudness against the integrated loudness),
//! and whether it starts or stops cold (400 ms momentary loudness next to the cue points).
//!
//! Windows never reach outside the audible blocks (cue-in … cue-out): what lies beyond is
//! silence or hiss, and counting it would make every ending look like a fade. So at the
//! track's edges the windows are shorter than 3 s (down to one block).
use super::gating::{self, BlockEnergies, MOMENTARY_BLOCKS, SHORT_TERM_BLOCKS};
use crate::model::ends::{COLD_SECS, FALL_LU};
use crate::units::Db;
use std::ops::Range;

/// The ends in block edges (edge i is the start of block i).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockEnds {
    /// The start of the first block whose short-term loudness (the 3 s ending with it) is
    /// within [`FALL_LU`] of the integrated loudness.
    pub intro_end: usize,
    /// The end of the last block whose short-term loudness (the 3 s starting with it) is
    /// within [`FALL_LU`]: after it every 3 s is quieter.
    pub outro_start: usize,
    /// A 400 ms window wholly within the first [`COLD_SECS`] after cue-in is within
    /// [`FALL_LU`].
    pub cold_start: bool,
    /// A 400 ms window wholly within the last [`COLD_SECS`] before cue-out is within
    /// [`FALL_LU`]. (A window merely ending there would reach back into a quick 1–2 s fade
    /// and call it cold.)
    pub cold_end: bool,
}

/// The ends of a track whose audible blocks are `audible` (a non-empty range of `blocks`,
/// from the cue finder) and whose integrated loudness is `integrated`.
pub fn find(blocks: &[Db], integrated: Db, audible: Range<usize>) -> BlockEnds {
    let (a, z) = (audible.start, audible.end.min(blocks.len()));
    let energies = BlockEnergies::new(blocks[a.min(z)..z].iter().map(|l| gating::energy(l.0)));
    // Mean energy of blocks [from, to) clamped to the audible part, ≥ the fall threshold?
    let threshold = gating::energy(integrated.0 - FALL_LU);
    let loud = |from: isize, to: isize| {
        let from = from.clamp(a as isize, z as isize) as usize - a;
        let to = to.clamp(a as isize, z as isize) as usize - a;
        energies.mean(from, to).is_some_and(|m| m >= threshold)
    };
    let (ai, zi) = (a as isize, z as isize);
    let short = SHORT_TERM_BLOCKS as isize;
    let momentary = MOMENTARY_BLOCKS as isize;
    let cold = (COLD_SECS * 10.0).round() as isize;
    let intro_end = (ai..zi).find(|&i| loud(i + 1 - short, i + 1));
    let outro_start = (ai..zi).rev().find(|&i| loud(i, i + short)).map(|i| i + 1);
    let (intro_end, outro_start) = match (intro_end, outro_start) {
        (Some(i), Some(o)) => (i as usize, (o as usize).max(i as usize)),
        _ => (a, z),
    };
    BlockEnds {
        intro_end,
        outro_start,
        cold_start: (ai..=ai + cold - momentary).any(|i| i < zi && loud(i, i + momentary)),
        cold_end: (zi - cold + momentary..=zi)
            .any(|i| i - momentary >= ai && loud(i - momentary, i)),
    }
}

#[cfg(test)]
#[path = "ends_tests.rs"]
mod tests;
