//! Tests of the streaming analyser: split invariance, Drift frames at other source rates, and
//! agreement with the whole-track path.
use super::*;
use crate::analysis::test_signals::{drums, silence, sine, white, Pattern};

/// Feeds `pcm` in pieces of `piece` samples (not necessarily whole frames).
fn run(rate: u32, pcm: &[f32], piece: usize, expected: Option<Frames>) -> Analysis {
    let mut a = Analyser::new(rate, expected);
    for p in pcm.chunks(piece) {
        a.push(p);
    }
    a.finish()
}

#[test]
fn the_result_does_not_depend_on_how_the_input_is_split() {
    let mut pcm = silence(1.3);
    pcm.extend(drums(Pattern::KickAndHat, 120.0, 8.0, 3));
    pcm.extend(drums(Pattern::Clicks, 120.0, 12.0, 4));
    pcm.extend(white(1.1, 0.05, 2));
    pcm.push(0.25); // half a frame at the end
    let expected = Some(Frames((pcm.len() / 2) as u64));
    let whole = run(SAMPLE_RATE, &pcm, pcm.len(), expected);
    // Ends and a beat grid are there to compare.
    assert!(whole.ends.is_some() && whole.beats.is_some(), "{whole:?}");
    for piece in [1, 2, 3, 5, 64, 1023, 4410, 8820, 8821, 65_536] {
        assert_eq!(
            run(SAMPLE_RATE, &pcm, piece, expected),
            whole,
            "pieces of {piece}"
        );
    }
}

#[test]
fn positions_are_drift_frames_whatever_the_source_rate() {
    // 48 kHz: 3 s of silence, 4 s of tone, 1 s of silence, plus 7 odd frames.
    let rate = 48_000u32;
    let tone: Vec<f32> = (0..4 * rate as usize)
        .flat_map(|i| {
            let s = (0.3 * (std::f64::consts::TAU * 997.0 * i as f64 / rate as f64).sin()) as f32;
            [s, s]
        })
        .collect();
    let mut pcm = vec![0.0; 3 * rate as usize * 2];
    pcm.extend(&tone);
    pcm.extend(vec![0.0; (rate as usize + 7) * 2]);
    let n = (pcm.len() / 2) as u64;
    let a = run(rate, &pcm, 4096, None);
    assert_eq!(a.duration, Frames(n * 44_100 / 48_000));
    assert_eq!(a.cue_in, Frames(3 * 44_100));
    assert_eq!(a.cue_out, Frames(7 * 44_100));
    assert!(a.cue_out <= a.duration);
    assert!(
        (a.loudness.0 - (20.0 * 0.3f64.log10())).abs() < 0.5,
        "{a:?}"
    );
}

#[test]
fn agrees_with_the_crate_on_loudness_and_range() {
    use ebur128::{EbuR128, Mode};
    let mut pcm = sine(440.0, 5.0, 0.1);
    pcm.extend(drums(Pattern::Backbeat, 96.0, 10.0, 5));
    pcm.extend(sine(220.0, 5.0, 0.4));
    let a = run(SAMPLE_RATE, &pcm, 10_000, None);
    let mut m = EbuR128::new(2, SAMPLE_RATE, Mode::I | Mode::LRA | Mode::TRUE_PEAK).unwrap();
    m.add_frames_f32(&pcm).unwrap();
    assert!((a.loudness.0 - m.loudness_global().unwrap()).abs() < 0.01);
    assert!((a.loudness_range - m.loudness_range().unwrap()).abs() < 0.01);
    let tp = (0..2).map(|c| m.true_peak(c).unwrap()).fold(0.0, f64::max);
    assert!((a.true_peak.0 - 20.0 * tp.log10()).abs() < 0.01);
}

#[test]
fn broken_samples_count_as_silence() {
    let mut pcm = sine(440.0, 3.0, 0.5);
    let clean = run(SAMPLE_RATE, &pcm, 4096, None);
    pcm[1000] = f32::NAN;
    pcm[2001] = f32::INFINITY;
    let broken = run(SAMPLE_RATE, &pcm, 4096, None);
    assert!((broken.loudness.0 - clean.loudness.0).abs() < 0.01);
    assert_eq!(broken.true_peak, clean.true_peak);
}

#[test]
fn a_wrong_expected_length_only_moves_the_excerpts() {
    let pcm = drums(Pattern::Backbeat, 100.0, 30.0, 8);
    let right = run(
        SAMPLE_RATE,
        &pcm,
        4096,
        Some(Frames((pcm.len() / 2) as u64)),
    );
    for wrong in [Frames(1), Frames::from_secs(50.0), Frames(u64::MAX)] {
        let a = run(SAMPLE_RATE, &pcm, 4096, Some(wrong));
        // Loudness and cues never depend on it; features are there (maybe neutral).
        assert_eq!(
            (a.loudness, a.cue_in, a.cue_out),
            (right.loudness, right.cue_in, right.cue_out)
        );
        assert!(a.features.is_some());
    }
}
