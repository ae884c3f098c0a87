//! `drift-bench drift`: the drift engine's figures (benchmarks, not tests) — throughput of
//! feature extraction (synthetic demo tracks analysed on all cores), and building the feature
//! space and picking the next track on a synthetic library of any size, e.g. 200,000 tracks.
use crate::cli::DriftBenchArgs;
use crate::support::percentile;
use cpu_time::ProcessTime;
use drift::analysis::extract;
use drift::catalog::space::FeatureSpace;
use drift::catalog::synthetic::synthetic_catalog;
use drift::library::demo::{synthesize, track_specs, DemoOptions};
use drift::station::directions::{candidates, Direction};
use drift::station::walk::WalkState;
use rayon::prelude::*;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Feature extraction on all cores, then the walk on a large synthetic feature table.
pub fn run(a: &DriftBenchArgs) {
    let (per_sec, cpu_ms) = features_throughput(a.analyse, a.seconds);
    println!(
        "features: {} tracks of {:.0} s in parallel: {per_sec:.1} tracks/s, {cpu_ms:.0} ms CPU per track (goal ≥ 20 tracks/s)",
        a.analyse, a.seconds
    );
    let f = measure(a.tracks, a.picks);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "walk on {} tracks: index built in {:.0} ms; next-track pick median {:.3} ms, p99 {:.3} ms (goal < 5 ms); steered pick median {:.3} ms, p99 {:.3} ms; all 12 directions with previews {:.2} ms",
        f.tracks,
        ms(f.build),
        ms(f.pick_median),
        ms(f.pick_p99),
        ms(f.steer_median),
        ms(f.steer_p99),
        ms(f.directions_median)
    );
}

/// Distinct tracks synthesised for a run (the rest repeat them): a 4-minute track is 85 MB of
/// samples, and synthesis is not what is measured.
const DISTINCT: usize = 4;

/// Extracts the features of `tracks` synthetic tracks of `seconds` each on all cores (rayon).
/// Returns tracks per second (wall clock) and milliseconds of CPU per track (the cost on one
/// core). Synthesis happens before the clock starts.
fn features_throughput(tracks: usize, seconds: f64) -> (f64, f64) {
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

/// What `measure` found: sizes and durations.
struct WalkFigures {
    tracks: usize,
    build: Duration,
    pick_median: Duration,
    pick_p99: Duration,
    steer_median: Duration,
    steer_p99: Duration,
    directions_median: Duration,
}

/// Times the space build, `picks` unsteered picks, steered picks, and listing directions.
fn measure(tracks: usize, picks: usize) -> WalkFigures {
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

/// Median and 99th percentile of `samples`.
fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_throughput_runs() {
        let (per_sec, ms) = features_throughput(2, 3.0);
        assert!(per_sec > 0.0 && ms >= 0.0);
    }
}
