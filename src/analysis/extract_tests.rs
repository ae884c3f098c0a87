//! Tests of `extract` on generated signals: brightness, noisiness, dynamics, density, where
//! the excerpts are taken, the decimation filter, and nothing to measure.
use super::*;
use crate::analysis::test_signals::{assert_near, burst, low_pass, silence, sine, white, Noise};

#[test]
fn brighter_noise_has_a_higher_centroid_and_roll_off() {
    let measured: Vec<(f64, f64)> = [250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0]
        .iter()
        .map(|&cutoff| {
            let mut pcm = white(8.0, 0.5, 5);
            low_pass(&mut pcm, cutoff);
            let f = extract(&pcm);
            (f.centroid_hz, f.rolloff_hz)
        })
        .collect();
    for w in measured.windows(2) {
        assert!(w[1].0 > w[0].0 * 1.2, "centroids: {measured:?}");
        assert!(w[1].1 > w[0].1 * 1.2, "roll-offs: {measured:?}");
    }
}

#[test]
fn a_sine_has_its_frequency_as_centroid_and_roll_off() {
    let f = extract(&sine(1000.0, 5.0, 0.5));
    assert_near("centroid", f.centroid_hz, 1000.0, 60.0);
    assert_near("roll-off", f.rolloff_hz, 1000.0, 30.0);
}

#[test]
fn white_noise_is_flat_and_a_chord_is_not() {
    let noise = extract(&white(8.0, 0.5, 6)).flatness;
    let mut chord = sine(220.0, 8.0, 0.2);
    for hz in [277.18, 329.63] {
        for (c, s) in chord.iter_mut().zip(sine(hz, 8.0, 0.2)) {
            *c += s;
        }
    }
    let chord = extract(&chord).flatness;
    assert!(noise > 0.8, "noise flatness {noise}");
    assert!(chord < 0.05, "chord flatness {chord}");
    assert!(noise > 20.0 * chord, "noise {noise}, chord {chord}");
}

#[test]
fn crest_factor_of_a_sine_is_three_db_and_of_clicks_much_more() {
    assert_near("sine", extract(&sine(440.0, 5.0, 0.5)).crest_db, 3.01, 0.1);
    // Uniform noise: peak 1, RMS 1/√3.
    assert_near("noise", extract(&white(5.0, 1.0, 7)).crest_db, 4.77, 0.2);
    let clicks = extract(&clicks(4.0, 10.0)).crest_db;
    assert!(clicks > 12.0, "clicks {clicks}");
}

/// Short noise bursts, `per_second` evenly spaced.
fn clicks(per_second: f64, secs: f64) -> Vec<f32> {
    let mut pcm = silence(secs);
    let mut noise = Noise::new(9);
    let mut at = 0.0;
    while at < secs {
        burst(&mut pcm, at, 0.8, 0.01, &mut noise);
        at += 1.0 / per_second;
    }
    pcm
}

#[test]
fn onset_rate_counts_clicks_per_second() {
    for rate in [2.0, 4.0, 8.0] {
        let f = extract(&clicks(rate, 20.0));
        assert_near("onset rate", f.onset_rate, rate, 0.15 * rate);
    }
    let f = extract(&sine(440.0, 10.0, 0.5));
    assert!(f.onset_rate < 0.5, "a steady tone has no onsets: {f:?}");
}

#[test]
fn nothing_to_measure_gives_neutral_features() {
    for pcm in [
        Vec::new(),
        vec![0.0; 3],
        silence(30.0),
        sine(440.0, 0.5, 0.5),
    ] {
        assert_eq!(extract(&pcm), neutral());
    }
}

#[test]
fn features_are_finite_and_in_range() {
    let mut pcm = white(3.0, 0.3, 8);
    pcm.extend(sine(100.0, 2.0, 1.0));
    for f in [extract(&pcm), extract(&sine(50.0, 1.2, 1e-6))] {
        assert!((60.0..=200.0).contains(&f.bpm), "{f:?}");
        for (what, v) in [
            ("beat strength", f.beat_strength),
            ("flatness", f.flatness),
            ("key strength", f.key_strength),
        ] {
            assert!((0.0..=1.0).contains(&v), "{what}: {f:?}");
        }
        assert!(
            f.centroid_hz > 0.0 && f.rolloff_hz <= RATE as f64 / 2.0,
            "{f:?}"
        );
        assert!(
            f.crest_db.is_finite() && f.onset_rate >= 0.0 && f.key < 12,
            "{f:?}"
        );
    }
}

#[test]
fn broken_samples_count_as_silence() {
    let clean = extract(&white(30.0, 0.5, 11));
    let mut pcm = white(30.0, 0.5, 11);
    let middle = pcm.len() / 2;
    pcm[middle] = f32::NAN;
    pcm[middle + 7] = f32::INFINITY;
    pcm[middle + 4000] = f32::NEG_INFINITY;
    let f = extract(&pcm);
    let json = serde_json::to_string(&f).unwrap();
    let back: crate::model::Features = serde_json::from_str(&json).unwrap();
    assert_eq!(back, f, "{json}");
    assert_near(
        "centroid",
        f.centroid_hz,
        clean.centroid_hz,
        0.01 * clean.centroid_hz,
    );
    assert_near("crest", f.crest_db, clean.crest_db, 0.1);
}

#[test]
fn excerpts_cover_short_tracks_and_sample_the_middle_of_long_ones() {
    let rate = SAMPLE_RATE as usize;
    // 30 s: two windows of 15 s, back to back.
    let short = excerpts(&sine(440.0, 30.0, 0.5));
    assert_eq!(short, vec![0..15 * rate, 15 * rate..30 * rate]);
    // Four minutes after ten seconds of silence: three windows around the audible middle.
    let mut long = silence(10.0);
    long.extend(sine(440.0, 240.0, 0.5));
    let windows = excerpts(&long);
    let window = (EXCERPT_SECS * rate as f64) as usize;
    assert_eq!(windows.len(), 3);
    let centre = (10 + 120) * rate;
    assert_eq!(windows[1], centre - window / 2..centre + window / 2);
    assert_eq!(windows[0].start, centre - 60 * rate - window / 2);
    assert_eq!(windows[2].end, centre + 60 * rate + window / 2);
    // A minute and a half: still three windows, not overlapping.
    let windows = excerpts(&sine(440.0, 90.0, 0.5));
    assert!(
        windows.windows(2).all(|w| w[0].end <= w[1].start),
        "{windows:?}"
    );
}

#[test]
fn decimation_keeps_the_band_and_removes_what_would_alias() {
    let filter = Halfband::new();
    let gain = |hz: f64| {
        let out = filter.downmix_decimate(&sine(hz, 1.0, 0.5));
        let inner = &out[1000..out.len() - 1000];
        let peak = inner.iter().fold(0.0f32, |a, s| a.max(s.abs()));
        20.0 * (peak as f64 / 0.5).log10()
    };
    assert_near("1 kHz", gain(1000.0), 0.0, 0.05);
    assert_near("7 kHz", gain(7000.0), 0.0, 0.5);
    assert!(gain(16000.0) < -40.0, "16 kHz: {} dB", gain(16000.0));
    // An odd number of frames: the last one is an output too; DC passes at unity gain.
    let dc = filter.downmix_decimate(&[0.5; 2 * 101]);
    assert_eq!(dc.len(), 51);
    assert!(dc[10..41].iter().all(|&y| (y - 0.5).abs() < 1e-3), "{dc:?}");
}

#[test]
fn analyse_fills_in_the_features() {
    let a = crate::analysis::analyse(&white(3.0, 0.5, 10));
    assert!(a.features.is_some());
}
