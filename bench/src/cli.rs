//! The command line of `drift-bench` (clap): one subcommand per benchmark, `render` when none
//! is given. Benchmarks that run the `drift` binary take `--drift-bin` (or `DRIFT_BIN`).
use clap::{Args, Parser, Subcommand};
use drift::audio::encode::Bitrate;
use drift::cli::LibraryArgs;
use std::path::PathBuf;

/// `drift-bench` alone runs the render benchmark (`drift-bench render`).
#[derive(Parser, Debug)]
#[command(
    name = "drift-bench",
    version,
    about = "Speed, capacity and memory figures of Drift (see docs/PERFORMANCE.md)",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub what: Option<BenchCommand>,
    #[command(flatten)]
    pub render: RenderBenchArgs,
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// CPU per audio second of a long mix against ffmpeg doing the same job, and scan speed.
    Render(RenderBenchArgs),
    /// Listeners on one session, ramped up, against icecast2 serving the same MP3.
    Listeners(ListenersBenchArgs),
    /// The drift engine: feature extraction throughput and next-track pick latency.
    Drift(DriftBenchArgs),
    /// Scan and analysis: CPU per audio second against loudgain, throughput, peak memory.
    Scan(ScanBenchArgs),
    /// Sessions ramped up, one listener each: how many hold real time, CPU per session-second.
    Sessions(SessionsBenchArgs),
}

/// Which `drift` binary a benchmark runs.
#[derive(Args, Debug, Clone)]
pub struct DriftBin {
    /// The `drift` binary to measure (default: `drift` next to this program, i.e.
    /// target/release/drift after `cargo build --release`).
    #[arg(long = "drift-bin", env = "DRIFT_BIN")]
    pub path: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct ScanBenchArgs {
    #[command(flatten)]
    pub drift: DriftBin,
    /// Generated files of each format (3–6 minutes each).
    #[arg(long, default_value_t = 2)]
    pub files_per_format: usize,
    /// Runs of each side, alternating (the median ratio is reported).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub runs: u32,
    /// Where the generated files are kept between runs (default: a folder in the temp dir).
    #[arg(long)]
    pub work: Option<PathBuf>,
    /// Length of the long file in the peak-memory library, in minutes.
    #[arg(long, default_value_t = 120)]
    pub long_minutes: u32,
    /// Skip the loudgain side.
    #[arg(long)]
    pub no_loudgain: bool,
    /// Skip the peak-memory measurement of `drift scan`.
    #[arg(long)]
    pub no_rss: bool,
    /// Files in the first-run library (time to the first audio byte); 0 skips it.
    #[arg(long, default_value_t = 2000)]
    pub first_run_files: usize,
}

#[derive(Args, Debug, Clone)]
pub struct DriftBenchArgs {
    /// Synthetic tracks analysed for the feature-extraction figure.
    #[arg(long, default_value_t = 40)]
    pub analyse: usize,
    /// Length of each analysed track in seconds.
    #[arg(long, default_value_t = 240.0)]
    pub seconds: f64,
    /// Size of the synthetic feature table the walk picks from.
    #[arg(long, default_value_t = 200_000)]
    pub tracks: usize,
    /// Picks timed (each unsteered and steered).
    #[arg(long, default_value_t = 2000)]
    pub picks: usize,
}

#[derive(Args, Debug, Clone)]
pub struct RenderBenchArgs {
    #[command(flatten)]
    pub library: LibraryArgs,
    /// Length of the benchmark mix in seconds.
    #[arg(long, default_value_t = 600.0)]
    pub seconds: f64,
    /// LAME quality used by both Drift and ffmpeg (0 best … 9 fastest).
    #[arg(long, default_value_t = drift::audio::encode::STREAM_QUALITY,
          value_parser = clap::value_parser!(u8).range(0..=9))]
    pub quality: u8,
    /// Runs of each side, alternating, so one noisy moment on a shared machine does not decide.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub runs: u32,
}

#[derive(Args, Debug, Clone)]
pub struct ListenersBenchArgs {
    #[command(flatten)]
    pub drift: DriftBin,
    /// Where the demo library lives (or `--library`); the servers get fresh temporary state.
    #[command(flatten)]
    pub library: LibraryArgs,
    /// Listeners at the last step of the ramp.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=60_000))]
    pub max: u32,
    /// Seconds each step of the ramp is measured for (after its listeners joined and settled).
    #[arg(long, default_value_t = 10.0)]
    pub step_seconds: f64,
    /// Requests timed for the time to first byte, one after another.
    #[arg(long, default_value_t = 100)]
    pub probes: u32,
    /// MP3 bitrate of both servers' stream, in kbps.
    #[arg(long, default_value = "192")]
    pub bitrate: Bitrate,
    /// Measure only this server (default: Drift and icecast2, Drift first). `relay`: Drift
    /// feeding an icecast2 master through `--icecast-out`, listeners on an icecast2 relay of it
    /// (docs/SCALING.md), after measuring Drift's CPU with and without the output.
    #[arg(long, value_enum)]
    pub only: Option<BenchServer>,
}

/// A server `drift-bench listeners` can measure.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchServer {
    Drift,
    Icecast2,
    Relay,
}

#[derive(Args, Debug, Clone)]
pub struct SessionsBenchArgs {
    #[command(flatten)]
    pub drift: DriftBin,
    /// Where the demo library lives (or `--library`); the server gets a fresh temporary data dir.
    #[command(flatten)]
    pub library: LibraryArgs,
    /// LAME qualities to measure, one ramp each (0 best … 9 fastest).
    #[arg(long, value_delimiter = ',', default_values_t = [drift::audio::encode::STREAM_QUALITY, 7],
          value_parser = clap::value_parser!(u8).range(0..=9))]
    pub qualities: Vec<u8>,
    /// MP3 bitrate of the stream, in kbps.
    #[arg(long, default_value = "192")]
    pub bitrate: Bitrate,
    /// Sessions at the last step of the ramp (it stops earlier at the first step that fails).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub max: u32,
    /// Sessions added at each step.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub step: u32,
    /// Seconds each step is measured for, once its sessions started and settled.
    #[arg(long, default_value_t = 10.0)]
    pub step_seconds: f64,
}
