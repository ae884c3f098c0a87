//! Tests of the ends: block levels made by hand, then generated tracks through `analyse` (a
//! fade-out, a dead stop, a fade-in and a cold start).
use super::*;
use crate::analysis::analyse;
use crate::analysis::test_signals::{assert_near, silence, white};
use crate::units::SAMPLE_RATE;

const SR: f64 = SAMPLE_RATE as f64;

/// Blocks at these levels (LUFS), 100 ms each.
fn levels(parts: &[(f64, usize)]) -> Vec<Db> {
    parts
        .iter()
        .flat_map(|&(l, n)| std::iter::repeat_n(Db(l), n))
        .collect()
}

#[test]
fn a_track_at_full_level_throughout_is_cold_at_both_ends() {
    let blocks = levels(&[(-70.0, 5), (-14.0, 100), (-70.0, 5)]);
    let ends = find(&blocks, Db(-14.0), 5..105);
    assert_eq!(
        ends,
        BlockEnds {
            intro_end: 5,
            outro_start: 105,
            cold_start: true,
            cold_end: true
        }
    );
}

#[test]
fn a_fade_out_in_db_steps_is_found_near_where_it_begins_and_is_not_cold() {
    // 100 blocks of body, then a fade of 1 dB per block (10 dB/s) down to −40 LU.
    let mut blocks = levels(&[(-14.0, 100)]);
    blocks.extend((1..=40).map(|k| Db(-14.0 - k as f64)));
    let ends = find(&blocks, Db(-14.0), 0..131);
    // At 10 dB/s the 3 s ahead fall 7 LU under two blocks before the fade (a slower
    // fade crosses a little after its start).
    assert_eq!(ends.outro_start, 98);
    assert!(!ends.cold_end && ends.cold_start);
}

#[test]
fn nothing_within_the_fall_keeps_the_cues() {
    let blocks = levels(&[(-40.0, 50)]);
    let ends = find(&blocks, Db(-14.0), 0..50);
    assert_eq!((ends.intro_end, ends.outro_start), (0, 50));
    assert!(!ends.cold_start && !ends.cold_end);
}

/// `secs` of white noise at 0.3 peak, its level shaped by `gain_db(t)` (seconds → dB).
fn shaped(secs: f64, seed: u64, gain_db: impl Fn(f64) -> f64) -> Vec<f32> {
    let mut pcm = white(secs, 0.3, seed);
    for (i, s) in pcm.iter_mut().enumerate() {
        let t = (i / 2) as f64 / SR;
        *s *= 10f64.powf(gain_db(t) / 20.0) as f32;
    }
    pcm
}

#[test]
fn a_ten_second_fade_out_is_found_where_it_starts_and_is_not_cold() {
    // 30 s of body, then 10 s falling linearly in dB to −60 dB.
    let pcm = shaped(40.0, 1, |t| if t < 30.0 { 0.0 } else { -6.0 * (t - 30.0) });
    let a = analyse(&pcm);
    let ends = a.ends.expect("ends");
    eprintln!("fade-out: {ends:?}, cue-out {:.2} s", a.cue_out.secs());
    assert_near("outro start", ends.outro_start.secs(), 30.0, 0.5);
    assert!(!ends.cold_end && ends.cold_start, "{ends:?}");
    assert_eq!(ends.intro_end, a.cue_in);
}

/// A quick 1.5 s fade (linear in amplitude, as the demo's ordinary endings are) is not cold:
/// it is loud within 0.5 s of its cue-out only if a window reaches back into its start.
#[test]
fn a_quick_fade_is_not_a_cold_end() {
    let pcm = shaped(21.5, 4, |t| {
        if t < 20.0 {
            0.0
        } else {
            20.0 * ((21.5 - t) / 1.5).max(1e-4).log10()
        }
    });
    let ends = analyse(&pcm).ends.expect("ends");
    assert!(!ends.cold_end, "{ends:?}");
}

#[test]
fn a_dead_stop_is_a_cold_end_with_the_outro_at_cue_out() {
    let mut pcm = shaped(20.03, 2, |_| 0.0);
    pcm.extend(silence(2.0));
    let a = analyse(&pcm);
    let ends = a.ends.expect("ends");
    eprintln!("dead stop: {ends:?}, cue-out {:.2} s", a.cue_out.secs());
    assert!(ends.cold_end, "{ends:?}");
    assert_near(
        "outro start",
        ends.outro_start.secs(),
        a.cue_out.secs(),
        0.3,
    );
    assert!(ends.outro_start <= a.cue_out);
}

#[test]
fn a_fade_in_ends_where_it_reaches_the_body_and_a_cold_start_at_cue_in() {
    // 10 s rising linearly in dB from −60 dB, then 20 s of body.
    let pcm = shaped(30.0, 3, |t| if t < 10.0 { -6.0 * (10.0 - t) } else { 0.0 });
    let a = analyse(&pcm);
    let ends = a.ends.expect("ends");
    eprintln!("fade-in: {ends:?}, cue-in {:.2} s", a.cue_in.secs());
    assert_near("intro end", ends.intro_end.secs(), 10.0, 0.5);
    assert!(!ends.cold_start, "{ends:?}");

    let mut pcm = silence(1.25);
    pcm.extend(shaped(20.0, 4, |_| 0.0));
    let a = analyse(&pcm);
    let ends = a.ends.expect("ends");
    assert!(ends.cold_start, "{ends:?}");
    assert_eq!(ends.intro_end, a.cue_in);
    assert_near("cue in", a.cue_in.secs(), 1.25, 0.1);
}

#[test]
fn silence_has_no_ends() {
    assert_eq!(analyse(&silence(3.0)).ends, None);
}
