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
    /// Length in seconds of the ordinary crossfade (between tracks whose ends call for nothing
    /// else, e.g. not yet measured).
    #[arg(long, env = "DRIFT_CROSSFADE", default_value_t = crate::config::DEFAULT_CROSSFADE_SECS)]
    pub crossfade: f64,
    /// Longest overlap of any transition in seconds (natural fade-outs, quiet intros,
    /// beat-aligned overlaps); default 8, or the crossfade when that is longer.
    #[arg(long, env = "DRIFT_MAX_OVERLAP")]
    pub max_overlap: Option<f64>,
    /// Loudness every track is brought to, in LUFS.
    #[arg(long, env = "DRIFT_TARGET_LUFS", default_value_t = crate::config::DEFAULT_TARGET_LUFS, allow_hyphen_values = true)]
    pub target_lufs: f64,
    /// No track plays again within this many hours of a session's audio (or as much as the
    /// library allows, when it holds less music than that).
    #[arg(long, env = "DRIFT_REPEAT_HOURS", default_value_t = 12.0)]
    pub repeat_hours: f64,
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
    /// Also write a JSON report of every transition (overlap, beat alignment, loudness
    /// around it, silence) and their distribution.
    #[arg(long)]
    pub report: Option<PathBuf>,
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
    /// Bitrate in kbps of the Opus streams (`/stream/{fp}.opus`, `.opus.mp4`), 6 … 510.
    #[arg(long, env = "DRIFT_OPUS_BITRATE", default_value_t = 96,
          value_parser = clap::value_parser!(u32).range(6..=510))]
    pub opus_bitrate: u32,
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
    /// Push a session to an Icecast server as a source (repeatable):
    /// `icecast://source:PASSWORD@HOST:PORT/MOUNT[?session=FP]` (without `session=`, the
    /// default session). Escape ':' '@' ',' in the password as %3A %40 %2C.
    #[arg(
        long = "icecast-out",
        env = "DRIFT_ICECAST_OUT",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub icecast_out: Vec<String>,
    /// Run the station's clock this many times faster than real time (for tests).
    #[arg(long, env = "DRIFT_TIME_SCALE", default_value_t = 1.0, hide = true)]
    pub time_scale: f64,
}
