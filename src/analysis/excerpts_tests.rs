//! Tests of the excerpt capture: where the windows go, trimming to the audible part, the
//! decimation filter, other source rates, and bounded memory.
use super::*;
use crate::analysis::test_signals::{silence, sine};
use crate::units::SAMPLE_RATE;

const SR: u64 = SAMPLE_RATE as u64;
const BLOCK: usize = SAMPLE_RATE as usize / 10;

fn capture(pcm: &[f32], rate: u32, expected: Option<u64>) -> Vec<Excerpt> {
    let block = rate as usize / 10;
    let mut e = Excerpts::new(rate, block, expected);
    for chunk in pcm.chunks(block * CHANNELS) {
        e.push(chunk);
    }
    e.finish()
}

#[test]
fn windows_cover_short_tracks_and_sample_the_middle_of_long_ones() {
    let window = 20 * SR;
    let grid = SR / 2;
    // 30 s: two windows of 15 s, back to back.
    assert_eq!(
        plan(30 * SR, window, grid),
        vec![0..15 * SR, 15 * SR..30 * SR]
    );
    // Four minutes: three windows at the middle and a minute either side.
    let windows = plan(240 * SR, window, grid);
    assert_eq!(windows[1], 110 * SR..130 * SR);
    assert_eq!(windows[0], 50 * SR..70 * SR);
    assert_eq!(windows[2], 170 * SR..190 * SR);
    // From a minute to two hours: three windows of 20 s on the grid, inside, never overlapping.
    for secs in [61, 75, 90, 119, 3601, 7200] {
        let length = secs * SR + 1234;
        let windows = plan(length, window, grid);
        assert_eq!(windows.len(), 3);
        assert!(
            windows.windows(2).all(|w| w[0].end <= w[1].start),
            "{windows:?}"
        );
        assert!(windows
            .iter()
            .all(|w| w.start % grid == 0 && w.end - w.start == window));
        assert!(windows[2].end <= length);
    }
    assert!(plan(0, window, grid).is_empty());
}

#[test]
fn excerpts_are_trimmed_to_the_audible_part() {
    // 10 s of silence, then 30 s of tone: the first window loses its silent part.
    let mut pcm = silence(10.0);
    pcm.extend(sine(440.0, 30.0, 0.5));
    let excerpts = capture(&pcm, SAMPLE_RATE, Some(40 * SR));
    let secs: Vec<f64> = excerpts
        .iter()
        .map(|e| e.mono.len() as f64 / RATE as f64)
        .collect();
    assert_eq!(excerpts.len(), 2);
    assert!(
        (secs[0] - 10.0).abs() < 0.01 && (secs[1] - 20.0).abs() < 0.01,
        "{secs:?}"
    );
    // The levels are of the kept stereo only: a sine's crest factor, √2.
    for e in &excerpts {
        let rms = (e.energy / e.samples as f64).sqrt();
        assert!((e.peak as f64 / rms - 2f64.sqrt()).abs() < 0.01);
        assert_eq!(e.samples as f64, e.mono.len() as f64 * 4.0);
    }
}

#[test]
fn silence_and_too_little_audio_give_no_excerpts() {
    assert!(capture(&silence(30.0), SAMPLE_RATE, Some(30 * SR)).is_empty());
    assert!(capture(&sine(440.0, 0.5, 0.5), SAMPLE_RATE, Some(SR / 2)).is_empty());
    assert!(capture(&[], SAMPLE_RATE, None).is_empty());
}

#[test]
fn without_a_length_the_first_minute_is_captured() {
    let pcm = sine(440.0, 100.0, 0.5);
    let excerpts = capture(&pcm, SAMPLE_RATE, None);
    let total: usize = excerpts.iter().map(|e| e.mono.len()).sum();
    assert_eq!(total, 60 * RATE as usize);
}

#[test]
fn decimation_keeps_the_band_and_removes_what_would_alias() {
    let gain = |hz: f64| {
        let mut out = Vec::new();
        let mut d = Decimator::new(true);
        for chunk in sine(hz, 1.0, 0.5).chunks(2 * 777) {
            d.push(chunk, &mut out);
        }
        d.finish(&mut out);
        assert_eq!(out.len(), SR as usize / 2);
        let inner = &out[1000..out.len() - 1000];
        let peak = inner.iter().fold(0.0f32, |a, s| a.max(s.abs()));
        20.0 * (peak as f64 / 0.5).log10()
    };
    assert!(gain(1000.0).abs() < 0.05);
    assert!(gain(7000.0).abs() < 0.5);
    assert!(gain(16000.0) < -40.0, "16 kHz: {} dB", gain(16000.0));
    // An odd number of frames: the last one is an output too; DC passes at unity gain.
    let mut dc = Vec::new();
    let mut d = Decimator::new(true);
    d.push(&[0.5; 2 * 101], &mut dc);
    d.finish(&mut dc);
    assert_eq!(dc.len(), 51);
    assert!(dc[10..41].iter().all(|&y| (y - 0.5).abs() < 1e-3), "{dc:?}");
}

/// A stereo sine at `rate`.
fn sine_at(rate: u32, hz: f64, secs: f64) -> Vec<f32> {
    (0..(secs * rate as f64) as usize)
        .flat_map(|i| {
            let s = (0.5 * (std::f64::consts::TAU * hz * i as f64 / rate as f64).sin()) as f32;
            [s, s]
        })
        .collect()
}

#[test]
fn other_rates_are_brought_to_the_analysis_rate() {
    for rate in [32_000, 48_000, 96_000] {
        let excerpts = capture(&sine_at(rate, 1000.0, 30.0), rate, Some(30 * rate as u64));
        let total: usize = excerpts.iter().map(|e| e.mono.len()).sum();
        assert!(
            (total as i64 - 30 * RATE as i64).abs() <= 4,
            "{rate}: {total} samples"
        );
        // Still a 1 kHz tone: count zero crossings over a second in the middle.
        let mono = &excerpts[0].mono;
        let second = &mono[RATE as usize..2 * RATE as usize];
        let crossings = second
            .windows(2)
            .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
            .count();
        assert!((1995..=2005).contains(&crossings), "{rate}: {crossings}");
    }
}

#[test]
fn memory_stays_bounded_for_a_long_track() {
    // An hour in 100 ms blocks of a quiet tone: only three windows of mono are kept.
    let block = sine(440.0, 0.1, 0.1);
    let mut e = Excerpts::new(SAMPLE_RATE, BLOCK, Some(3600 * SR));
    for _ in 0..36_000 {
        e.push(&block);
    }
    let kept: usize = e.captures.iter().map(|c| c.mono.capacity()).sum();
    assert!(kept * 4 < 6 << 20, "{kept} samples kept");
    assert_eq!(e.finish().len(), 3);
}
