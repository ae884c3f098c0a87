//! Cue points: where a track's audible content starts and ends, judged against the track's own
//! loudness so that quiet music is kept and a loud track's hiss is trimmed.
use crate::units::{Db, Frames};

/// A block is audible when it is at most this far below the track's integrated loudness. 30 LU
/// under the programme is at the edge of hearing in a mix (the second track of a crossfade
/// covers it), yet a quiet intro or a fade-out of ordinary depth stays well above it.
pub const RELATIVE_THRESHOLD_LU: f64 = 30.0;

/// …and louder than this, whatever the track's loudness. −60 LUFS is about the noise floor of
/// analogue transfers and tape hiss; it keeps a very quiet track (say −35 LUFS, whose relative
/// threshold would be −65) from counting its room tone as music. It stays 10 LU above R128's
/// −70 LUFS gate so true digital near-silence never passes.
pub const ABSOLUTE_THRESHOLD: Db = Db(-60.0);

/// The level a block must exceed to count as audible in a track of this loudness.
pub fn audible_threshold(integrated: Db) -> Db {
    Db((integrated.0 - RELATIVE_THRESHOLD_LU).max(ABSOLUTE_THRESHOLD.0))
}

/// The blocks from the first audible one to the last, if any block is audible.
pub fn audible_blocks(blocks: &[Db], integrated: Db) -> Option<std::ops::Range<usize>> {
    let threshold = audible_threshold(integrated);
    let audible = |level: &Db| level.0 > threshold.0;
    let first = blocks.iter().position(audible)?;
    let last = blocks.iter().rposition(audible)?;
    Some(first..last + 1)
}

/// Cue-in and cue-out from per-block loudness: the start of the first audible block and the end
/// of the last one (clamped to `duration`). Cues fall on block edges, on the side that keeps
/// content. With no audible block at all (silence), the whole track: `(0, duration)`.
pub fn find_cues(
    blocks: &[Db],
    block: Frames,
    integrated: Db,
    duration: Frames,
) -> (Frames, Frames) {
    match audible_blocks(blocks, integrated) {
        Some(audible) => {
            let cue_in = Frames(block.0 * audible.start as u64).min(duration);
            let cue_out = Frames(block.0 * audible.end as u64).min(duration);
            (cue_in, cue_out)
        }
        None => (Frames::ZERO, duration),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Frames = Frames(4410);

    #[test]
    fn threshold_is_relative_with_an_absolute_floor() {
        assert_eq!(audible_threshold(Db(-14.0)), Db(-44.0));
        assert_eq!(audible_threshold(Db(-35.0)), ABSOLUTE_THRESHOLD);
    }

    #[test]
    fn cues_sit_on_the_outer_edges_of_audible_blocks() {
        let blocks = [-70.0, -70.0, -20.0, -50.0, -20.0, -70.0].map(Db);
        let (cue_in, cue_out) = find_cues(&blocks, B, Db(-20.0), Frames(6 * 4410));
        assert_eq!(cue_in, Frames(2 * 4410));
        assert_eq!(cue_out, Frames(5 * 4410));
    }

    #[test]
    fn silence_keeps_the_whole_track_and_cue_out_never_passes_the_end() {
        let quiet = [Db(-70.0); 4];
        assert_eq!(
            find_cues(&quiet, B, Db(-70.0), Frames(15_000)),
            (Frames::ZERO, Frames(15_000))
        );
        let loud = [Db(-10.0); 4];
        assert_eq!(
            find_cues(&loud, B, Db(-10.0), Frames(15_000)),
            (Frames::ZERO, Frames(15_000))
        );
        assert_eq!(
            find_cues(&[], B, Db(-70.0), Frames::ZERO),
            (Frames::ZERO, Frames::ZERO)
        );
    }
}
