//! Tempo tests: drum patterns at known tempi, the demo library's tracks, and no beat at all.
use super::*;
use crate::analysis::extract;
use crate::analysis::test_signals::{drums, white, Pattern};
use crate::library::demo::{synthesize, track_specs, DemoOptions};
use rayon::prelude::*;

const TEMPI: [f64; 8] = [60.0, 75.0, 90.0, 100.0, 120.0, 140.0, 160.0, 180.0];

#[test]
fn drum_patterns_give_their_tempo_within_two_percent() {
    let wrong: Vec<String> = [Pattern::Clicks, Pattern::KickAndHat, Pattern::Backbeat]
        .par_iter()
        .flat_map(|&pattern| {
            TEMPI.par_iter().filter_map(move |&bpm| {
                let f = extract(&drums(pattern, bpm, 30.0, bpm as u64));
                ((f.bpm / bpm - 1.0).abs() > 0.02).then(|| format!("{pattern:?} at {bpm}: {f:?}"))
            })
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn demo_tracks_give_the_tempo_they_were_made_with() {
    // The default demo library's tempi (they do not depend on the durations).
    let opts = DemoOptions {
        min_secs: 30.0,
        max_secs: 30.0,
        ..DemoOptions::default()
    };
    let results: Vec<(f64, f64)> = track_specs(&opts)
        .par_iter()
        .enumerate()
        // The seed `write_demo_library` gives each track.
        .map(|(i, spec)| {
            let pcm = synthesize(spec, opts.seed.wrapping_mul(1000) + i as u64);
            (spec.bpm, extract(&pcm).bpm)
        })
        .collect();
    assert_eq!(results.len(), 16);
    for (made, analysed) in &results {
        assert!(
            (analysed / made - 1.0).abs() <= 0.02,
            "made at {made:.2} BPM, analysed as {analysed:.2}: {results:?}"
        );
    }
}

#[test]
fn a_metronome_has_a_strong_beat_and_noise_has_none() {
    let metronome = extract(&drums(Pattern::Clicks, 120.0, 20.0, 1));
    assert!(metronome.beat_strength > 0.8, "{metronome:?}");
    let noise = extract(&white(20.0, 0.5, 2));
    assert!(noise.beat_strength < 0.2, "{noise:?}");
    assert!(
        (FOLD_MIN_BPM..=FOLD_MAX_BPM).contains(&noise.bpm),
        "{noise:?}"
    );
}

#[test]
fn no_novelty_gives_the_prior_tempo_and_no_strength() {
    for novelties in [vec![], vec![vec![0.0; 2000]], vec![vec![1.0; 3]]] {
        let tempo = estimate(&novelties, 86.0);
        assert_eq!(
            tempo,
            Tempo {
                bpm: PRIOR_BPM,
                strength: 0.0
            }
        );
    }
}

#[test]
fn the_prior_peaks_at_its_tempo_and_is_symmetric_in_octaves() {
    assert_eq!(prior(PRIOR_BPM), 1.0);
    assert!((prior(PRIOR_BPM * 2.0) - prior(PRIOR_BPM / 2.0)).abs() < 1e-12);
    assert!(prior(100.0) > prior(200.0));
}
