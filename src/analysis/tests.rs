//! Tests of `analyse` with generated signals: sines at known levels, noise and silence.
use super::*;
use crate::analysis::test_signals::assert_near;
use crate::units::{Db, SAMPLE_RATE};

/// Interleaved stereo sine, same on both channels, with the given peak level in dBFS.
fn sine(freq: f64, peak_dbfs: f64, secs: f64) -> Vec<f32> {
    let amp = Db(peak_dbfs).amplitude();
    let n = Frames::from_secs(secs).0;
    (0..n)
        .flat_map(|i| {
            let s =
                amp * (std::f64::consts::TAU * freq * i as f64 / SAMPLE_RATE as f64).sin() as f32;
            [s, s]
        })
        .collect()
}

/// Uniform white noise with the given peak level (a small xorshift: deterministic, no crate).
fn noise(peak_dbfs: f64, secs: f64, seed: u64) -> Vec<f32> {
    let amp = Db(peak_dbfs).amplitude();
    let mut state = seed | 1;
    (0..Frames::from_secs(secs).samples())
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
            amp * (unit * 2.0 - 1.0) as f32
        })
        .collect()
}

#[test]
fn sine_at_minus_23_dbfs_measures_minus_23_lufs() {
    // EBU Tech 3341: a stereo 1 kHz sine at −23 dBFS peak per channel reads −23 LUFS.
    let pcm = sine(997.0, -23.0, 5.0);
    let a = analyse(&pcm);
    assert_eq!(a.duration, Frames::from_secs(5.0));
    assert_near("loudness", a.loudness.0, -23.0, 0.5);
    assert_near("true peak", a.true_peak.0, -23.0, 0.3);
    assert!(
        a.loudness_range < 1.0,
        "steady tone: LRA {}",
        a.loudness_range
    );
    assert_eq!((a.cue_in, a.cue_out), (Frames::ZERO, a.duration));
}

#[test]
fn true_peak_of_a_loud_sine_is_near_its_peak() {
    let a = analyse(&sine(1000.0, -1.0, 2.0));
    assert_near("true peak", a.true_peak.0, -1.0, 0.3);
    assert_near("loudness", a.loudness.0, -1.0, 0.5);
}

#[test]
fn near_silence_around_the_music_is_cued_out() {
    let mut pcm = noise(-70.0, 2.0, 7);
    pcm.extend(sine(997.0, -20.0, 4.0));
    pcm.extend(noise(-70.0, 1.5, 11));
    let a = analyse(&pcm);
    assert_near("duration", a.duration.secs(), 7.5, 1e-9);
    assert_near("cue in", a.cue_in.secs(), 2.0, 0.1);
    assert_near("cue out", a.cue_out.secs(), 6.0, 0.1);
    // The R128 gates keep the silence out (the blocks straddling its edges cost a little).
    assert_near("loudness ignores the silence", a.loudness.0, -20.0, 1.0);
}

#[test]
fn cue_in_off_a_block_edge_keeps_all_of_the_music() {
    let mut pcm = vec![0.0; Frames::from_secs(1.25).samples()];
    pcm.extend(sine(440.0, -20.0, 2.0));
    let a = analyse(&pcm);
    assert!(a.cue_in.secs() <= 1.25 && a.cue_in.secs() > 1.15, "{a:?}");
    assert_eq!(a.cue_out, a.duration);
}

#[test]
fn quiet_music_is_not_mistaken_for_silence() {
    // A soft intro 15 dB under a quiet body (−35 LUFS): all of it is music.
    let mut pcm = sine(300.0, -50.0, 1.0);
    pcm.extend(sine(440.0, -35.0, 3.0));
    pcm.extend(sine(300.0, -52.0, 1.0));
    let a = analyse(&pcm);
    assert_near("loudness", a.loudness.0, -35.5, 1.0);
    assert_eq!((a.cue_in, a.cue_out), (Frames::ZERO, a.duration), "{a:?}");
}

#[test]
fn silence_and_nothing_give_finite_floors() {
    for pcm in [
        vec![0.0; Frames::from_secs(3.0).samples()],
        Vec::new(),
        vec![0.0; 3],
    ] {
        let a = analyse(&pcm);
        assert_eq!(a.loudness, loudness::SILENCE_FLOOR);
        assert_eq!(a.true_peak, loudness::SILENCE_FLOOR);
        assert!(a.loudness_range.is_finite());
        assert_eq!((a.cue_in, a.cue_out), (Frames::ZERO, a.duration));
    }
}
