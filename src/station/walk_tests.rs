//! Tests of the drift walk and of steering directions, on generated feature tables.
use super::*;
use crate::catalog::space::tests::{featured, library};
use crate::catalog::space::FeatureSpace;
use crate::station::directions::candidates;
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;

fn bpm(cat: &Catalog, id: &TrackId) -> f64 {
    cat.get(id).unwrap().analysis.features.as_ref().unwrap().bpm
}
fn centroid(cat: &Catalog, id: &TrackId) -> f64 {
    cat.get(id)
        .unwrap()
        .analysis
        .features
        .as_ref()
        .unwrap()
        .centroid_hz
}

/// Runs the walk from the first track for `n` picks.
fn walk(cat: &Catalog, w: &mut WalkState, n: usize) -> Vec<TrackId> {
    let mut last = cat.tracks()[0].id.clone();
    (0..n)
        .map(|_| {
            last = w.next(cat, Some(&last)).unwrap();
            last.clone()
        })
        .collect()
}

#[test]
fn never_repeats_within_the_window() {
    for (n, seed) in [(40, 1), (200, 2), (6, 3)] {
        let cat = library(n, seed);
        let window = (n * 2 / 3).min(50);
        let picks = walk(&cat, &mut WalkState::new(seed), 400);
        for (i, id) in picks.iter().enumerate() {
            let earlier = &picks[i.saturating_sub(window)..i];
            assert!(
                !earlier.contains(id),
                "{id} repeated within {window} picks (n={n})"
            );
            if i > 0 {
                assert_ne!(id, &picks[i - 1]);
            }
        }
    }
}

#[test]
fn same_seed_same_walk_and_a_saved_state_continues_it() {
    let cat = library(300, 4);
    let a = walk(&cat, &mut WalkState::new(9), 30);
    assert_eq!(a, walk(&cat, &mut WalkState::new(9), 30));
    assert_ne!(a, walk(&cat, &mut WalkState::new(10), 30));

    let mut w = WalkState::new(9);
    let first = walk(&cat, &mut w, 10);
    let json = serde_json::to_string(&w).unwrap();
    let mut resumed: WalkState = serde_json::from_str(&json).unwrap();
    let last = first.last().unwrap().clone();
    let (mut l1, mut l2) = (last.clone(), last);
    for _ in 0..10 {
        l1 = w.next(&cat, Some(&l1)).unwrap();
        l2 = resumed.next(&cat, Some(&l2)).unwrap();
        assert_eq!(l1, l2);
    }
}

#[test]
fn steps_are_to_near_neighbours_not_random_jumps() {
    let cat = library(2000, 5);
    let space = FeatureSpace::build(&cat);
    let picks = walk(&cat, &mut WalkState::new(1), 200);
    let step = |a: &TrackId, b: &TrackId| {
        let p = |id| *space.point(cat.index_of(id).unwrap()).unwrap();
        crate::catalog::space::dist2(&p(a), &p(b)).sqrt()
    };
    let walked: f32 = picks.windows(2).map(|w| step(&w[0], &w[1])).sum::<f32>() / 199.0;
    let ids: Vec<&TrackId> = cat.tracks().iter().map(|t| &t.id).collect();
    let random: f32 = (0..199)
        .map(|i| step(ids[i * 7 % 2000], ids[(i * 13 + 500) % 2000]))
        .sum::<f32>()
        / 199.0;
    assert!(
        walked < random * 0.5,
        "walk steps {walked:.2} vs random pairs {random:.2}"
    );
}

#[test]
fn steering_goes_that_way_and_the_walk_keeps_the_heading() {
    let cat = library(400, 6);
    // The track nearest 100 BPM, mid brightness.
    let start = cat
        .tracks()
        .iter()
        .min_by(|a, b| {
            let f = |t: &crate::model::Track| {
                let x = t.analysis.features.as_ref().unwrap();
                (x.bpm - 100.0).abs() + (x.centroid_hz - 2500.0).abs() / 100.0
            };
            f(a).total_cmp(&f(b))
        })
        .unwrap()
        .id
        .clone();
    for seed in 0..5 {
        let mut w = WalkState::new(seed);
        w.steer = Some(Direction::Faster);
        let next = w.next(&cat, Some(&start)).unwrap();
        assert!(
            bpm(&cat, &next) > bpm(&cat, &start),
            "faster: {} → {}",
            bpm(&cat, &start),
            bpm(&cat, &next)
        );
        // Momentum: the following unsteered picks keep going faster on average.
        let mut last = next.clone();
        let mut later = Vec::new();
        for _ in 0..4 {
            last = w.next(&cat, Some(&last)).unwrap();
            later.push(bpm(&cat, &last));
        }
        let mean = later.iter().sum::<f64>() / 4.0;
        assert!(
            mean > bpm(&cat, &start) + 5.0,
            "heading lost: {later:?} from {}",
            bpm(&cat, &start)
        );

        let mut w = WalkState::new(seed);
        w.steer = Some(Direction::Darker);
        let next = w.next(&cat, Some(&start)).unwrap();
        assert!(centroid(&cat, &next) < centroid(&cat, &start));
    }
}

#[test]
fn a_queued_track_comes_next() {
    let cat = library(50, 7);
    let mut w = WalkState::new(1);
    let want = cat.tracks()[33].id.clone();
    w.queued = Some(want.clone());
    assert_eq!(w.next(&cat, Some(&cat.tracks()[0].id)), Some(want));
}

#[test]
fn without_features_the_walk_still_plays_everything_without_repeats() {
    let mut cat_tracks: Vec<_> = library(12, 8)
        .tracks()
        .iter()
        .map(|t| (**t).clone())
        .collect();
    for t in &mut cat_tracks {
        t.analysis.features = None;
    }
    let cat = Catalog::new(cat_tracks);
    let picks = walk(&cat, &mut WalkState::new(2), 40);
    for (i, id) in picks.iter().enumerate() {
        assert!(!picks[i.saturating_sub(8)..i].contains(id));
    }
}

#[test]
fn directions_are_offered_only_with_candidates_that_go_that_way() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    // Five tracks: the fastest is 160 BPM; brightness rises with tempo.
    let tracks: Vec<_> = [80.0, 100.0, 120.0, 140.0, 160.0]
        .iter()
        .enumerate()
        .map(|(i, &b)| featured(i, b, 500.0 + b * 10.0, &mut rng))
        .collect();
    let cat = Catalog::new(tracks);
    let space = FeatureSpace::build(&cat);
    let fastest = cat.index_of(&TrackId("t000004".into())).unwrap();
    let none = HashSet::new();
    assert!(candidates(&space, fastest, Direction::Faster, &none, 3).is_empty());
    assert!(candidates(&space, fastest, Direction::Brighter, &none, 3).is_empty());
    let slower = candidates(&space, fastest, Direction::Slower, &none, 3);
    assert!(!slower.is_empty());
    for i in &slower {
        assert!(cat.tracks()[*i].analysis.features.as_ref().unwrap().bpm < 160.0);
    }
    // Excluded tracks (recently heard) are not offered.
    let all_slower: HashSet<usize> = (0..5).filter(|&i| i != fastest).collect();
    assert!(candidates(&space, fastest, Direction::Slower, &all_slower, 3).is_empty());
}

#[test]
fn direction_names_round_trip() {
    for d in Direction::ALL {
        assert_eq!(Direction::parse(d.name()), Some(d));
        assert_eq!(serde_json::to_value(d).unwrap(), d.name());
    }
    assert_eq!(Direction::parse(" FASTER "), Some(Direction::Faster));
    assert_eq!(Direction::parse("sideways"), None);
}
