//! Figures for the drift walk (a benchmark, not a test): building the feature space and picking
//! the next track on a synthetic library of any size, e.g. 200,000 tracks.
use super::directions::{candidates, Direction};
use super::walk::WalkState;
use crate::catalog::space::FeatureSpace;
use crate::catalog::Catalog;
use crate::model::{Analysis, Tags, Track, TrackId};
use crate::model::{Features, Mode};
use crate::units::{Db, Frames};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// A track with the given tempo and brightness; other features from `rng` (small spread).
pub fn synthetic_track(i: usize, bpm: f64, centroid_hz: f64, rng: &mut ChaCha8Rng) -> Track {
    Track {
        id: TrackId(format!("t{i:06}")),
        path: format!("/music/{i}.flac").into(),
        tags: Tags {
            title: format!("Track {i}"),
            artist: "Test".into(),
            album: String::new(),
        },
        analysis: Analysis {
            duration: Frames::from_secs(180.0),
            loudness: Db(-14.0 + rng.gen_range(-4.0..4.0)),
            true_peak: Db(-1.0),
            loudness_range: rng.gen_range(3.0..9.0),
            cue_in: Frames::ZERO,
            cue_out: Frames::from_secs(180.0),
            features: Some(Features {
                bpm,
                beat_strength: rng.gen_range(0.2..0.9),
                centroid_hz,
                rolloff_hz: centroid_hz * 2.5,
                flatness: rng.gen_range(0.01..0.3),
                crest_db: rng.gen_range(8.0..16.0),
                onset_rate: rng.gen_range(1.0..6.0),
                key: rng.gen_range(0..12),
                mode: if rng.gen_bool(0.5) {
                    Mode::Major
                } else {
                    Mode::Minor
                },
                key_strength: rng.gen_range(0.3..0.9),
            }),
        },
    }
}

/// A library of `n` tracks with plausible, random features.
pub fn synthetic_catalog(n: usize, seed: u64) -> Catalog {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let tracks = (0..n)
        .map(|i| {
            let bpm = rng.gen_range(60.0..190.0);
            let centroid = rng.gen_range(400.0..6000.0);
            synthetic_track(i, bpm, centroid, &mut rng)
        })
        .collect();
    Catalog::new(tracks)
}

/// Median and 99th percentile of `samples`.
fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

pub struct WalkFigures {
    pub tracks: usize,
    pub build: Duration,
    pub pick_median: Duration,
    pub pick_p99: Duration,
    pub steer_median: Duration,
    pub steer_p99: Duration,
    pub directions_median: Duration,
}

/// Times the space build, `picks` unsteered picks, steered picks, and listing directions.
pub fn measure(tracks: usize, picks: usize) -> WalkFigures {
    let catalog = synthetic_catalog(tracks, 1);
    let started = Instant::now();
    let space: &FeatureSpace = catalog.space();
    let build = started.elapsed();
    let mut walk = WalkState::new(7);
    let mut last = catalog.tracks()[0].id.clone();
    let mut plain = Vec::with_capacity(picks);
    for _ in 0..picks {
        let t = Instant::now();
        last = walk.next(&catalog, Some(&last)).expect("a pick");
        plain.push(t.elapsed());
    }
    let mut steered = Vec::with_capacity(picks);
    for k in 0..picks {
        walk.steer = Some(Direction::ALL[k % Direction::ALL.len()]);
        let t = Instant::now();
        last = walk.next(&catalog, Some(&last)).expect("a pick");
        steered.push(t.elapsed());
    }
    let mut listing = Vec::new();
    let none = HashSet::new();
    for k in 0..50 {
        let from = (k * 3989) % tracks;
        let t = Instant::now();
        for d in Direction::ALL {
            std::hint::black_box(candidates(space, from, d, &none, 3));
        }
        listing.push(t.elapsed());
    }
    let (pick_median, pick_p99) = percentiles(plain);
    let (steer_median, steer_p99) = percentiles(steered);
    WalkFigures {
        tracks,
        build,
        pick_median,
        pick_p99,
        steer_median,
        steer_p99,
        directions_median: percentiles(listing).0,
    }
}
