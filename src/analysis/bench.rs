//! Throughput of feature extraction, for `drift bench`: synthetic demo tracks analysed on all
//! cores. A figure, not a test.
use super::extract;
use crate::library::demo::{synthesize, track_specs, DemoOptions};
use cpu_time::ProcessTime;
use rayon::prelude::*;
use std::time::Instant;

/// Distinct tracks synthesised for a run (the rest repeat them): a 4-minute track is 85 MB of
/// samples, and synthesis is not what is measured.
const DISTINCT: usize = 4;

/// Extracts the features of `tracks` synthetic tracks of `seconds` each on all cores (rayon).
/// Returns tracks per second (wall clock) and milliseconds of CPU per track (the cost on one
/// core). Synthesis happens before the clock starts.
pub fn features_throughput(tracks: usize, seconds: f64) -> (f64, f64) {
    let tracks = tracks.max(1);
    let opts = DemoOptions {
        tracks: DISTINCT.min(tracks),
        min_secs: seconds,
        max_secs: seconds,
        ..DemoOptions::default()
    };
    let pcm: Vec<Vec<f32>> = track_specs(&opts)
        .par_iter()
        .enumerate()
        .map(|(i, spec)| synthesize(spec, i as u64))
        .collect();
    let cpu = ProcessTime::now();
    let wall = Instant::now();
    (0..tracks).into_par_iter().for_each(|i| {
        std::hint::black_box(extract(&pcm[i % pcm.len()]));
    });
    let wall = wall.elapsed().as_secs_f64().max(1e-9);
    let cpu = cpu.elapsed().as_secs_f64();
    (tracks as f64 / wall, cpu * 1000.0 / tracks as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo test --release features_throughput -- --ignored --nocapture`
    #[test]
    #[ignore = "a benchmark: run it in a release build"]
    fn features_throughput_of_four_minute_tracks() {
        let (per_sec, ms) = features_throughput(40, 240.0);
        println!("features: {per_sec:.1} tracks/s on all cores, {ms:.1} ms CPU per track");
    }

    #[test]
    fn features_throughput_runs() {
        let (per_sec, ms) = features_throughput(2, 3.0);
        assert!(per_sec > 0.0 && ms >= 0.0);
    }
}
