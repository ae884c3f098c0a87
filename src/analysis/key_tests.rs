//! Key tests: cadences in known keys, tuned and detuned, and material without a key.
use super::*;
use crate::analysis::extract;
use crate::analysis::test_signals::{progression, triad, white};
use rayon::prelude::*;

/// i–iv–V–i (minor, with the raised leading tone) or I–IV–V–I (major) on `tonic`, as
/// triangle-wave triads two seconds each, twice.
fn cadence(tonic: i32, mode: Mode, cents: f64) -> Vec<f32> {
    let root = 48 + tonic.rem_euclid(12); // C3 … B3
    let third = match mode {
        Mode::Major => 4,
        Mode::Minor => 3,
    };
    let chords = [
        triad(root, third),
        triad(root + 5, third),
        triad(root + 7, 4),
        triad(root, third),
    ];
    progression(&chords, 2.0, 2, cents)
}

#[test]
fn cadences_give_their_key() {
    let keys = [
        (9, Mode::Minor), // A minor
        (3, Mode::Major), // E♭ major
        (0, Mode::Major),
        (7, Mode::Major),
        (6, Mode::Minor),
        (2, Mode::Minor),
        (10, Mode::Major),
        (4, Mode::Minor),
    ];
    let wrong: Vec<String> = keys
        .par_iter()
        .filter_map(|&(tonic, mode)| {
            let f = extract(&cadence(tonic, mode, 0.0));
            let ok = (f.key as i32, f.mode) == (tonic, mode) && f.key_strength > 0.6;
            (!ok).then(|| format!("{tonic} {mode:?}: got {f:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn a_detuned_band_is_still_in_its_key() {
    // A quarter of a semitone sharp would fold half the partials onto the wrong pitch class
    // without the tuning estimate.
    for cents in [-30.0, 35.0] {
        let f = extract(&cadence(9, Mode::Minor, cents));
        assert_eq!((f.key, f.mode), (9, Mode::Minor), "{cents} cents: {f:?}");
    }
}

#[test]
fn noise_has_no_clear_key() {
    let f = extract(&white(10.0, 0.5, 3));
    assert!(f.key_strength < 0.5, "{f:?}");
}

#[test]
fn a_profile_is_its_own_best_key() {
    let mut chroma = [0.0; 12];
    for (i, v) in MINOR.iter().enumerate() {
        chroma[(i + 4) % 12] = *v;
    }
    let key = best_key(&chroma);
    assert_eq!((key.tonic, key.mode), (4, Mode::Minor));
    assert!((key.strength - 1.0).abs() < 1e-9);
    assert_eq!(best_key(&[0.0; 12]).strength, 0.0);
}
