//! The command line (clap): every flag also reads an environment variable (`DRIFT_*`).
use crate::audio::encode::Bitrate;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "drift",
    version,
    about = "A self-hosted radio that drifts through your music"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Stream: scan the library in the background and serve sessions over HTTP.
    Serve(ServeArgs),
    /// Write a synthetic demo library (different tempi, keys, timbres and loudness).
    DemoLibrary(DemoArgs),
    /// Scan and analyse the library into the store (only new or changed files are read).
    Scan(ScanArgs),
    /// Render a mix offline, as fast as possible, and print its track list.
    Render(RenderArgs),
    /// Print speed figures: `render` (default; against ffmpeg) or `listeners` (against icecast2).
    Bench(BenchArgs),
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Folder to write the tracks into.
    pub dir: PathBuf,
    #[arg(long, default_value_t = 16)]
    pub tracks: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Where the music is and where Drift keeps its state.
#[derive(Args, Debug, Clone)]
pub struct LibraryArgs {
    /// A folder of music (repeatable). Without one, a generated demo library is used.
    #[arg(long = "library", env = "DRIFT_LIBRARY", value_delimiter = ',')]
    pub libraries: Vec<PathBuf>,
    /// Where the SQLite store (and the demo library) live.
    #[arg(long, env = "DRIFT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Threads that analyse new files (0: one per core). Fewer leave the machine more room
    /// for other work during a first scan.
    #[arg(long, env = "DRIFT_SCAN_THREADS", default_value_t = 0)]
    pub scan_threads: usize,
}

/// How the mix sounds.
#[derive(Args, Debug, Clone)]
pub struct MixArgs {
    /// MP3 bitrate in kbps: 128, 160, 192, 256 or 320.
    #[arg(long, env = "DRIFT_BITRATE", default_value = "192")]
    pub bitrate: Bitrate,
    /// Crossfade length in seconds.
    #[arg(long, env = "DRIFT_CROSSFADE", default_value_t = crate::config::DEFAULT_CROSSFADE_SECS)]
    pub crossfade: f64,
    /// Loudness every track is brought to, in LUFS.
    #[arg(long, env = "DRIFT_TARGET_LUFS", default_value_t = crate::config::DEFAULT_TARGET_LUFS, allow_hyphen_values = true)]
    pub target_lufs: f64,
    /// LAME's algorithm quality, 0 (best, slowest) … 9 (fastest). Higher numbers let one machine
    /// render more sessions at once; see docs/PERFORMANCE.md for the trade-off.
    #[arg(long, env = "DRIFT_ENCODER_QUALITY", default_value_t = crate::audio::encode::STREAM_QUALITY,
          value_parser = clap::value_parser!(u8).range(0..=9))]
    pub encoder_quality: u8,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub library: LibraryArgs,
}

#[derive(Args, Debug)]
pub struct RenderArgs {
    #[command(flatten)]
    pub library: LibraryArgs,
    #[command(flatten)]
    pub mix: MixArgs,
    /// Length of the mix in seconds.
    #[arg(long)]
    pub seconds: f64,
    /// The MP3 file to write.
    #[arg(long)]
    pub output: PathBuf,
    /// Seed of the track order (same seed, same mix).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `drift bench` alone runs the render benchmark (`drift bench render`).
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
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
}

#[derive(Args, Debug, Clone)]
pub struct ScanBenchArgs {
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
    #[arg(long, default_value_t = crate::audio::encode::STREAM_QUALITY,
          value_parser = clap::value_parser!(u8).range(0..=9))]
    pub quality: u8,
    /// Runs of each side, alternating, so one noisy moment on a shared machine does not decide.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub runs: u32,
}

#[derive(Args, Debug, Clone)]
pub struct ListenersBenchArgs {
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
    /// Measure only this server (default: both, Drift first).
    #[arg(long, value_enum)]
    pub only: Option<BenchServer>,
}

/// A server `drift bench listeners` can measure.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchServer {
    Drift,
    Icecast2,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub library: LibraryArgs,
    #[command(flatten)]
    pub mix: MixArgs,
    /// Address to listen on.
    #[arg(long, env = "DRIFT_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: std::net::SocketAddr,
    /// Minutes between full rescans of the library, for folders whose changes are not
    /// announced (network mounts); changes on local disks are picked up within seconds.
    #[arg(long, env = "DRIFT_RESCAN_MINUTES", default_value_t = 60.0)]
    pub rescan_minutes: f64,
    /// Seconds of audio rendered ahead of what listeners hear (how long an outage players ride out).
    #[arg(long, env = "DRIFT_LEAD", default_value_t = 15.0)]
    pub lead: f64,
    /// Seconds of audio kept behind the play point (for "save" and slow listeners).
    #[arg(long, env = "DRIFT_HISTORY", default_value_t = 300.0)]
    pub history: f64,
    /// Seconds without listeners after which a session's engine is parked (saved and stopped).
    #[arg(long, env = "DRIFT_IDLE_TIMEOUT", default_value_t = 120.0)]
    pub idle_timeout: f64,
    /// Sessions rendering at once at most (each runs an encoder); above it new sessions get
    /// `503` and players a page saying the station is full. 0: derived from the cores and the
    /// measured cost of a session at this bitrate and encoder quality.
    #[arg(long, env = "DRIFT_MAX_SESSIONS", default_value_t = 0)]
    pub max_sessions: usize,
    /// New sessions one client address may create per minute (`429` above it); 0: no limit.
    #[arg(long, env = "DRIFT_SESSIONS_PER_MINUTE", default_value_t = 6)]
    pub sessions_per_minute: u32,
    /// Run the station's clock this many times faster than real time (for tests).
    #[arg(long, env = "DRIFT_TIME_SCALE", default_value_t = 1.0, hide = true)]
    pub time_scale: f64,
}
