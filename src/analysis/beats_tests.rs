//! Tests of the beat grid on generated signals: click tracks at known tempi and offsets, an
//! accented bar, noise and a sustained chord; and the end buffer over a long quiet stretch.
use crate::analysis::analyse;
use crate::analysis::test_signals::{burst, progression, silence, triad, white, Noise};
use crate::model::BeatGrid;
use crate::units::SAMPLE_RATE;

const SR: f64 = SAMPLE_RATE as f64;

/// `secs` of clicks at `bpm` after `offset` frames of silence, every `accent`-th one (counting
/// from `accent_at`) 3 dB louder; the true click frames.
fn clicks(
    bpm: f64,
    offset: usize,
    secs: f64,
    accent: Option<(usize, usize)>,
) -> (Vec<f32>, Vec<f64>) {
    let mut pcm = vec![0.0; offset * 2];
    pcm.extend(silence(secs + 1.0));
    let mut noise = Noise::new(bpm as u64);
    let beat = 60.0 / bpm;
    let mut at = Vec::new();
    let mut n = 0;
    while n as f64 * beat < secs {
        let t = offset as f64 / SR + n as f64 * beat;
        let loud = accent.is_some_and(|(every, from)| n % every == from);
        burst(&mut pcm, t, if loud { 0.8 } else { 0.57 }, 0.01, &mut noise);
        at.push((t * SR).round());
        n += 1;
    }
    (pcm, at)
}

/// Distance in milliseconds from `frame` to the nearest click.
fn off_ms(frame: f64, clicks: &[f64]) -> f64 {
    clicks
        .iter()
        .map(|&c| (frame - c).abs())
        .fold(f64::MAX, f64::min)
        / SR
        * 1000.0
}

fn grid(pcm: &[f32]) -> Option<BeatGrid> {
    analyse(pcm).beats
}

#[test]
fn click_tracks_give_their_period_and_clicks_to_within_2_ms() {
    for (bpm, offset) in [(120.0, 12_345), (121.0, 30_000), (90.0, 7), (140.0, 44_100)] {
        let (pcm, at) = clicks(bpm, offset, 75.0, None);
        let g = grid(&pcm).unwrap_or_else(|| panic!("{bpm} BPM: no grid"));
        let want = 60.0 * SR / bpm;
        let error = (g.period / want - 1.0).abs() * 100.0;
        let (first, last) = (off_ms(g.first_beat, &at), off_ms(g.last_beat, &at));
        eprintln!(
            "{bpm} BPM: period error {error:.4} %, first beat {first:.2} ms, last beat {last:.2} ms off, confidence {:.2}",
            g.confidence
        );
        assert!(error < 0.05, "{bpm} BPM: {g:?}");
        assert!(first < 2.0 && last < 2.0, "{bpm} BPM: {g:?}");
        assert!(
            g.first_beat - at[0] < 4.0 * want,
            "first beat near the start: {g:?}"
        );
        assert!(
            at[at.len() - 1] - g.last_beat < 4.0 * want,
            "last beat near the end: {g:?}"
        );
        assert!(g.confidence > 0.8, "{bpm} BPM: {g:?}");
    }
}

#[test]
fn an_accented_click_every_fourth_is_the_first_beat() {
    // Clicks 2, 6, 10 … are 3 dB louder: the first beat is click 2, and so is the last beat's
    // bar phase.
    let (pcm, at) = clicks(120.0, 5_000, 60.0, Some((4, 2)));
    let g = grid(&pcm).expect("a grid");
    assert!((g.first_beat - at[2]).abs() < 0.002 * SR, "{g:?}");
    let bars = (g.last_beat - at[2]) / (4.0 * g.period);
    assert!(
        (bars - bars.round()).abs() < 0.01,
        "last beat on a downbeat: {g:?}"
    );
}

#[test]
fn noise_and_a_sustained_chord_have_no_beat() {
    assert_eq!(grid(&white(60.0, 0.3, 5)), None);
    let chord = progression(&[triad(60, 4)], 60.0, 1, 0.0);
    assert_eq!(grid(&chord), None);
}

#[test]
fn the_end_is_found_across_a_long_quiet_stretch() {
    // Clicks, 20 s of near-silence under the floor, 12 s of clicks again: the grid's end is in
    // the second part.
    let (mut pcm, _) = clicks(120.0, 0, 40.0, None);
    pcm.extend(white(20.0, 1e-5, 3));
    let (tail, tail_at) = clicks(120.0, 0, 12.0, None);
    let base = (pcm.len() / 2) as f64;
    pcm.extend(tail);
    let g = grid(&pcm).expect("a grid");
    let at: Vec<f64> = tail_at.iter().map(|t| t + base).collect();
    assert!(off_ms(g.last_beat, &at) < 2.0, "{g:?}");
    assert!(g.last_beat > base, "{g:?}");
}
