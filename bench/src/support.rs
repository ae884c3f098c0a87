//! What several benchmarks share: the `drift` binary they run, the music they play, a work
//! folder, and order statistics of their samples.
use crate::cli::DriftBin;
use drift::cli::LibraryArgs;
use drift::commands::{data_dir, ensure_demo_library, CommandError};
use std::path::PathBuf;
use std::time::Duration;

/// The `drift` binary to run: `--drift-bin`/`DRIFT_BIN`, else `drift` next to this program
/// (`cargo build --release` puts both in target/release). Building the bench does not build
/// the server, so a missing one is a clear error, not a surprise later.
pub fn drift_bin(arg: &DriftBin) -> Result<PathBuf, CommandError> {
    let path = match &arg.path {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .map_err(|source| CommandError::Io {
                context: "bench: cannot tell where this program is".into(),
                source,
            })?
            .with_file_name(format!("drift{}", std::env::consts::EXE_SUFFIX)),
    };
    if !path.is_file() {
        return Err(CommandError::Usage(format!(
            "the drift binary to measure is not at {}: run `cargo build --release` first, or \
             name it with --drift-bin (DRIFT_BIN)",
            path.display()
        )));
    }
    Ok(path)
}

/// The libraries given, else the demo library in the data dir (generated on first use).
pub fn libraries(args: &LibraryArgs) -> Result<Vec<PathBuf>, CommandError> {
    if args.libraries.is_empty() {
        Ok(vec![ensure_demo_library(&data_dir(&args.data_dir))?])
    } else {
        Ok(args.libraries.clone())
    }
}

/// Raises this process's open-files limit (children inherit it) to at least `want`.
pub fn raise_open_files(want: u64) -> Result<u64, CommandError> {
    let mut got = rlimit::increase_nofile_limit(want).unwrap_or(0);
    if got < want && rlimit::setrlimit(rlimit::Resource::NOFILE, want, want).is_ok() {
        got = want;
    }
    if got < want {
        return Err(CommandError::Usage(format!(
            "this needs {want} open files but the limit is {got}: run `ulimit -n {want}` first"
        )));
    }
    Ok(got)
}

/// A temporary work folder, removed when dropped.
pub fn work_dir() -> Result<tempfile::TempDir, CommandError> {
    tempfile::tempdir().map_err(|source| CommandError::Io {
        context: "bench: cannot create a work folder".into(),
        source,
    })
}

/// The sample at quantile `p` (0 … 1) of `sorted` by rank (nearest rank, rounded up).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The median of `v` (the mean of the middle two for an even count); sorts `v`.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
