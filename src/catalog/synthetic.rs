//! Synthetic catalogs: tracks with plausible, random features and no audio, for tests of the
//! feature space and the walk and for the walk benchmark (`drift-bench drift`) at any size,
//! e.g. 200,000 tracks.
use super::Catalog;
use crate::model::{Analysis, Features, Mode, Tags, Track, TrackId};
use crate::units::{Db, Frames};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A track with the given tempo and brightness; other features from `rng` (small spread).
pub fn synthetic_track(i: usize, bpm: f64, centroid_hz: f64, rng: &mut ChaCha8Rng) -> Track {
    Track {
        id: TrackId(format!("t{i:06}")),
        path: format!("/music/{i}.flac").into(),
        tags: Tags {
            title: format!("Track {i}"),
            artist: "Test".into(),
            album: String::new(),
            album_artist: String::new(),
            disc: None,
            number: None,
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
            ends: None,
            beats: None,
        },
    }
}

/// A library of `n` tracks with plausible, random features (the same for the same `seed`).
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
