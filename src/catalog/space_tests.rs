//! Tests of the feature space: normalisation, and the index agreeing with a full scan.
use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) use crate::catalog::synthetic::synthetic_track as featured;

/// `n` tracks with tempi spread over 60–180 BPM and brightness over 500–5000 Hz.
pub(crate) fn library(n: usize, seed: u64) -> Catalog {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Catalog::new(
        (0..n)
            .map(|i| {
                let bpm = rng.gen_range(60.0..180.0);
                let centroid = rng.gen_range(500.0..5000.0);
                featured(i, bpm, centroid, &mut rng)
            })
            .collect(),
    )
}

#[test]
fn axes_are_normalised_and_weighted() {
    let cat = library(2000, 1);
    let space = FeatureSpace::build(&cat);
    assert_eq!(space.len(), 2000);
    for d in [TEMPO, BRIGHTNESS, DENSITY, LOUDNESS] {
        let vals: Vec<f32> = space.members().map(|(_, p)| p[d]).collect();
        let mean = vals.iter().sum::<f32>() / vals.len() as f32;
        let sd = (vals.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / vals.len() as f32).sqrt();
        assert!(mean.abs() < 1e-3, "axis {d} mean {mean}");
        assert!((sd - WEIGHTS[d]).abs() < 1e-2, "axis {d} sd {sd}");
    }
    // Tempo is on a log scale: 60→120 is as far as 90→180.
    let t = |bpm: f64| {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        raw(
            &featured(0, bpm, 1000.0, &mut rng),
            &featured(0, bpm, 1000.0, &mut rng)
                .analysis
                .features
                .unwrap(),
        )[TEMPO]
    };
    assert!(((t(120.0) - t(60.0)) - (t(180.0) - t(90.0))).abs() < 1e-5);
}

#[test]
fn the_index_finds_what_a_full_scan_finds() {
    let cat = library(20_000, 2);
    let space = FeatureSpace::build(&cat);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..20 {
        let from = rng.gen_range(0..cat.len());
        let q = *space.point(from).unwrap();
        let got: Vec<usize> = space.nearest(&q, 10).into_iter().map(|(i, _)| i).collect();
        let mut all: Vec<(usize, f32)> = space.members().map(|(i, p)| (i, dist2(p, &q))).collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1));
        let want: Vec<usize> = all.iter().take(10).map(|(i, _)| *i).collect();
        assert_eq!(got, want);
        assert_eq!(got[0], from, "a track is its own nearest neighbour");
    }
}

#[test]
fn tracks_without_features_have_no_point_and_an_empty_space_answers_nothing() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut plain = featured(1, 100.0, 1000.0, &mut rng);
    plain.analysis.features = None;
    let cat = Catalog::new(vec![plain, featured(2, 120.0, 2000.0, &mut rng)]);
    let space = FeatureSpace::build(&cat);
    assert_eq!(space.len(), 1);
    assert!(space.point(0).is_none());
    assert!(space.point(1).is_some());
    let empty = FeatureSpace::build(&Catalog::default());
    assert!(empty.is_empty());
    assert!(empty.nearest(&[0.0; DIMS], 5).is_empty());
}
