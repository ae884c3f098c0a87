//! `drift-bench scan`: what analysing a library costs, side by side with Debian's `loudgain`
//! on the same generated files (CPU per audio second, per format and in all), Drift's
//! throughput and core use on all cores, and the peak memory of `drift scan` on a library
//! holding a two-hour file, and the first audio byte of a first run on 2,000 files. Figures,
//! not tests.
use crate::cli::ScanBenchArgs;
use crate::first_audio::first_audio_byte;
use crate::scan_files::{generate_library, rss_library, BenchFile, FORMATS};
use crate::servers::machine_ticks;
use crate::support::drift_bin;
use cpu_time::{ProcessTime, ThreadTime};
use drift::commands::CommandError;
use drift::library::measure::analyse_file;
use rayon::prelude::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// loudgain's flags: `-q` no progress output, `-s s` compute only, write no tags.
const LOUDGAIN_ARGS: [&str; 3] = ["-q", "-s", "s"];

/// What one side spent on the files.
#[derive(Default)]
struct Cost {
    cpu_secs: f64,
    wall_secs: f64,
    audio_secs: f64,
    tracks: usize,
    /// Share of the machine's CPU that other processes used meanwhile (0 … 1): on a shared
    /// machine, core use is bounded by what they leave.
    others_share: f64,
    /// CPU seconds and audio seconds per format name.
    per_format: Vec<(&'static str, f64, f64)>,
}

pub fn run(a: ScanBenchArgs) -> Result<(), CommandError> {
    let drift = drift_bin(&a.drift)?;
    let work = a
        .work
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("drift-bench-scan"));
    let files = generate_library(&work.join("library"), a.files_per_format).map_err(usage)?;
    let cores = rayon::current_num_threads();
    println!(
        "{} files ({} formats × {}), 3–6 minutes of music-like audio each, in {}; {cores} cores",
        files.len(),
        FORMATS.len(),
        a.files_per_format,
        work.display()
    );
    let mut ratios = Vec::new();
    for run in 1..=a.runs {
        let (ours, lengths) = drift_side(&files);
        let theirs = if a.no_loudgain {
            None
        } else {
            Some(loudgain_side(&files, &lengths).map_err(usage)?)
        };
        print_run(run, &ours, theirs.as_ref(), cores);
        if let Some(t) = &theirs {
            ratios.push(ours.cpu_secs / t.cpu_secs);
        }
    }
    if !ratios.is_empty() {
        ratios.sort_by(f64::total_cmp);
        println!(
            "Drift CPU / loudgain CPU per audio second, median of {}: {:.2} (goal ≤ 0.5)",
            ratios.len(),
            ratios[ratios.len() / 2]
        );
    }
    if !a.no_rss {
        let (kib, secs) =
            scan_peak_rss(&drift, &work, a.long_minutes, a.files_per_format).map_err(usage)?;
        println!(
            "drift scan of a library with a {}-minute FLAC and {} other files: peak RSS {:.0} MB ({:.1} s wall) (goal < 250 MB)",
            a.long_minutes,
            FORMATS.len(),
            kib as f64 / 1024.0,
            secs
        );
    }
    if a.first_run_files > 0 {
        let figure = first_audio_byte(&drift, &work, a.first_run_files).map_err(usage)?;
        println!("{figure}");
    }
    Ok(())
}

/// Decodes, hashes (blake3, as the scanner identifies content) and analyses every file on all
/// cores, as a first scan does. Also returns each file's decoded length in seconds.
fn drift_side(files: &[BenchFile]) -> (Cost, Vec<f64>) {
    let machine = machine_ticks();
    let cpu = ProcessTime::now();
    let wall = Instant::now();
    let each: Vec<(&'static str, f64, f64)> = files
        .par_iter()
        .map(|f| {
            let thread = ThreadTime::now();
            let hashed = std::fs::File::open(&f.path)
                .and_then(|file| blake3::Hasher::new().update_reader(file).map(|_| ()));
            let analysis = analyse_file(&f.path);
            let secs = thread.elapsed().as_secs_f64();
            let audio = match (hashed, analysis) {
                (Ok(()), Ok(a)) => a.duration.secs(),
                (_, Err(e)) => {
                    eprintln!("{}: {e}", f.path.display());
                    0.0
                }
                (Err(e), _) => {
                    eprintln!("{}: {e}", f.path.display());
                    0.0
                }
            };
            (f.format, secs, audio)
        })
        .collect();
    let wall = wall.elapsed().as_secs_f64();
    let lengths = each.iter().map(|e| e.2).collect();
    let mut cost = cost(each, cpu.elapsed().as_secs_f64(), wall);
    let after = machine_ticks();
    let (busy, total) = (after.0 - machine.0, after.1 - machine.1);
    // The machine's busy time that was not ours (ticks are per core, 100 per second).
    let ours = cost.cpu_secs * procfs::ticks_per_second() as f64;
    cost.others_share = ((busy as f64 - ours) / total.max(1) as f64).clamp(0.0, 1.0);
    (cost, lengths)
}

/// Runs loudgain on every file, one after the other, reading each child's CPU from the kernel
/// (this process's reaped children's user + system time). `lengths` are the files' lengths
/// as Drift decoded them, so both sides divide by the same audio seconds.
fn loudgain_side(files: &[BenchFile], lengths: &[f64]) -> Result<Cost, String> {
    let wall = Instant::now();
    let mut each = Vec::new();
    let before_all = children_cpu();
    for (f, &length) in files.iter().zip(lengths) {
        let before = children_cpu();
        let status = Command::new("loudgain")
            .args(LOUDGAIN_ARGS)
            .arg(&f.path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run loudgain (apt-get install loudgain): {e}"))?;
        if !status.success() {
            return Err(format!("loudgain failed on {}", f.path.display()));
        }
        each.push((f.format, children_cpu() - before, length));
    }
    let wall = wall.elapsed().as_secs_f64();
    Ok(cost(each, children_cpu() - before_all, wall))
}

fn cost(each: Vec<(&'static str, f64, f64)>, cpu_secs: f64, wall_secs: f64) -> Cost {
    let mut per_format: Vec<(&'static str, f64, f64)> = Vec::new();
    for (name, cpu, audio) in &each {
        match per_format.iter_mut().find(|(n, _, _)| n == name) {
            Some(entry) => {
                entry.1 += cpu;
                entry.2 += audio;
            }
            None => per_format.push((name, *cpu, *audio)),
        }
    }
    Cost {
        cpu_secs,
        wall_secs,
        audio_secs: each.iter().map(|e| e.2).sum(),
        tracks: each.len(),
        others_share: 0.0,
        per_format,
    }
}

fn print_run(run: u32, ours: &Cost, theirs: Option<&Cost>, cores: usize) {
    let ms = |cpu: f64, audio: f64| cpu * 1000.0 / audio.max(1e-9);
    println!("run {run}: ms of CPU per audio second");
    println!("  {:<14} {:>8} {:>10}", "format", "Drift", "loudgain");
    for (name, cpu, audio) in &ours.per_format {
        let their = theirs
            .and_then(|t| t.per_format.iter().find(|(n, _, _)| n == name))
            .map_or("-".to_string(), |(_, c, a)| format!("{:.2}", ms(*c, *a)));
        println!("  {name:<14} {:>8.2} {their:>10}", ms(*cpu, *audio));
    }
    println!(
        "  {:<14} {:>8.2} {:>10}   Drift: {:.1} tracks/s wall on {cores} cores, core use {:.0} % (CPU / (wall × cores)) while other processes used {:.0} % of the machine",
        "all",
        ms(ours.cpu_secs, ours.audio_secs),
        theirs.map_or("-".to_string(), |t| format!("{:.2}", ms(t.cpu_secs, t.audio_secs))),
        ours.tracks as f64 / ours.wall_secs.max(1e-9),
        100.0 * ours.cpu_secs / (ours.wall_secs * cores as f64).max(1e-9),
        100.0 * ours.others_share,
    );
    if let Some(t) = theirs {
        println!(
            "  Drift / loudgain: {:.2}",
            ms(ours.cpu_secs, ours.audio_secs) / ms(t.cpu_secs, t.audio_secs)
        );
    }
}

/// User + system CPU seconds of this process's finished, reaped children.
fn children_cpu() -> f64 {
    let tps = procfs::ticks_per_second() as f64;
    procfs::process::Process::myself()
        .and_then(|p| p.stat())
        .map_or(0.0, |s| (s.cutime + s.cstime) as f64 / tps)
}

/// Runs `drift scan` (the binary `drift`) on a library with one `minutes`-long FLAC and one
/// file of each format, on a fresh data dir; returns its peak RSS (VmHWM, KiB) and wall seconds.
fn scan_peak_rss(
    drift: &Path,
    work: &Path,
    minutes: u32,
    files_per_format: usize,
) -> Result<(u64, f64), String> {
    let library = rss_library(work, minutes, files_per_format)?;
    let data = tempfile::tempdir().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = Command::new(drift)
        .arg("scan")
        .arg("--library")
        .arg(&library)
        .arg("--data-dir")
        .arg(data.path())
        .env("DRIFT_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start drift scan: {e}"))?;
    let mut peak = 0;
    loop {
        // VmHWM only grows: the last reading before exit is the peak (to within a poll).
        if let Some(hwm) = procfs::process::Process::new(child.id() as i32)
            .ok()
            .and_then(|p| p.status().ok())
            .and_then(|s| s.vmhwm)
        {
            peak = peak.max(hwm);
        }
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(Some(status)) => return Err(format!("drift scan failed: {status}")),
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok((peak, started.elapsed().as_secs_f64()))
}

fn usage(message: String) -> CommandError {
    CommandError::Usage(format!("bench scan: {message}"))
}
