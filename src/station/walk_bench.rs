//! Figures for the drift walk (a benchmark, not a test): building the feature space and picking
//! the next track on a synthetic library of any size, e.g. 200,000 tracks.
use super::directions::{candidates, Direction};
use super::space::{space_of, FeatureSpace};
use super::walk::WalkState;
use crate::analysis::features::{Features, Mode};
use crate::library::{Analysis, Catalog, Tags, Track, TrackId};
use crate::units::{Db, Frames};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// A library of `n` tracks with plausible, random features.
pub fn synthetic_catalog(n: usize, seed: u64) -> Catalog {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let tracks = (0..n)
        .map(|i| {
            let centroid: f64 = rng.gen_range(400.0..6000.0);
            Track {
                id: TrackId(format!("{i:032x}")),
                path: format!("/music/{i}.mp3").into(),
                tags: Tags {
                    title: format!("Track {i}"),
                    artist: format!("Artist {}", i % 5000),
                    album: String::new(),
                },
                analysis: Analysis {
                    duration: Frames::from_secs(240.0),
                    loudness: Db(rng.gen_range(-24.0..-6.0)),
                    true_peak: Db(-0.5),
                    loudness_range: rng.gen_range(2.0..15.0),
                    cue_in: Frames::ZERO,
                    cue_out: Frames::from_secs(240.0),
                    features: Some(Features {
                        bpm: rng.gen_range(60.0..190.0),
                        beat_strength: rng.gen_range(0.0..1.0),
                        centroid_hz: centroid,
                        rolloff_hz: centroid * rng.gen_range(1.5..3.5),
                        flatness: rng.gen_range(0.0..0.6),
                        crest_db: rng.gen_range(6.0..20.0),
                        onset_rate: rng.gen_range(0.5..10.0),
                        key: rng.gen_range(0..12),
                        mode: if rng.gen_bool(0.6) {
                            Mode::Major
                        } else {
                            Mode::Minor
                        },
                        key_strength: rng.gen_range(0.1..0.95),
                    }),
                },
            }
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
    let space: std::sync::Arc<FeatureSpace> = space_of(&catalog);
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
            std::hint::black_box(candidates(&space, from, d, &none, 3));
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
