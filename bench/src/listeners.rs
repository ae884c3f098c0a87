//! `drift-bench listeners`: how many listeners one session serves on loopback without drops
//! and what each costs in server CPU and memory, ramped in steps, side by side with icecast2
//! serving the same MP3 at the same bitrate; plus the time from request to first audio byte.
use crate::cli::{BenchServer, ListenersBenchArgs};
use crate::load::{first_byte_times, Crowd, FirstBytes};
use crate::relay::start_relay;
use crate::servers::{start_drift, start_icecast, usage, window, Server};
use crate::support::{drift_bin, libraries, percentile, raise_open_files, work_dir};
use drift::commands::{catalog, runtime, scan_libraries, CommandError};
use drift::config::MixConfig;
use drift::station::clock::ManualClock;
use drift::station::engine::Engine;
use drift::station::render::render;
use drift::station::scheduler::Scheduler;
use drift::store::Store;
use drift::units::StreamPos;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Audio icecast loops: long enough that the loop point is rare, short enough to render fast.
const SOURCE_SECONDS: f64 = 300.0;
/// Steps of the ramp, as fractions of `--max`.
const RAMP: [f64; 5] = [0.01, 0.1, 0.25, 0.5, 1.0];
/// After a step's listeners joined, the bursts they got on joining must drain before the
/// steady state is measured: wait until the crowd receives at most this much real time.
const SETTLED: f64 = 1.15;
const MAX_SETTLE: Duration = Duration::from_secs(30);
/// Longest wait for a step's new listeners to connect: keeps the run bounded in time when a
/// server accepts slowly (the step is then measured with those that made it, and says so).
const MAX_JOIN: Duration = Duration::from_secs(120);

pub fn run(a: ListenersBenchArgs) -> Result<(), CommandError> {
    if !(1.0..=600.0).contains(&a.step_seconds) {
        return Err(CommandError::Usage("--step-seconds must be 1–600".into()));
    }
    let drift = drift_bin(&a.drift)?;
    let open_files = raise_open_files(a.max as u64 + 1024)?;
    let work = work_dir()?;
    let work = work.path();
    let libraries = libraries(&a.library)?;
    let data_dir = work.join("drift-data");
    let mp3 = work.join("source.mp3");
    prepare(&libraries, &data_dir, &mp3, &a)?;
    println!(
        "{} kbps, ramp to {} listeners, {} s per step, {} first-byte probes; open files limit {open_files}",
        a.bitrate.kbps(),
        a.max,
        a.step_seconds,
        a.probes
    );
    runtime()?.block_on(async {
        let mut results = Vec::new();
        if a.only == Some(BenchServer::Relay) {
            let bitrate = a.bitrate.kbps().to_string();
            let relay = start_relay(&drift, work, &data_dir, &libraries, &bitrate, a.max + 100);
            match relay.await {
                Ok(server) => results.push(measure(server, &a).await),
                Err(e) => println!("the relay could not be measured: {e}"),
            }
        } else if a.only != Some(BenchServer::Icecast2) {
            let bitrate = a.bitrate.kbps().to_string();
            match start_drift(
                &drift,
                work,
                &data_dir,
                &libraries,
                &["--bitrate", &bitrate],
            )
            .await
            {
                Ok(server) => {
                    // The first request starts the session's engine; measurements start after.
                    first_byte_times(server.addr, &server.path, 1).await;
                    results.push(measure(server, &a).await)
                }
                Err(e) => println!("drift could not be measured: {e}"),
            }
        }
        if a.only.is_none() || a.only == Some(BenchServer::Icecast2) {
            match start_icecast(work, &mp3, a.max + 100).await {
                Ok(server) => results.push(measure(server, &a).await),
                Err(e) => println!("icecast2 could not be measured: {e}"),
            }
        }
        summary(&results, &a);
    });
    Ok(())
}

/// Scans the library into Drift's (fresh) store and renders the MP3 icecast will serve: the
/// same engine's mix at the same bitrate.
fn prepare(
    libraries: &[PathBuf],
    data_dir: &Path,
    mp3: &Path,
    a: &ListenersBenchArgs,
) -> Result<(), CommandError> {
    let mut store = Store::open(data_dir)?;
    scan_libraries(libraries, &mut store, 0)?;
    let cfg = MixConfig {
        bitrate: a.bitrate,
        ..MixConfig::default()
    };
    let mut engine = Engine::new(cfg, catalog(&store)?, Scheduler::shuffle(1))?;
    let io = |source| CommandError::Io {
        context: format!("bench: cannot write {}", mp3.display()),
        source,
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(mp3).map_err(io)?);
    render(
        &mut engine,
        &ManualClock::new(),
        Duration::ZERO,
        StreamPos::from_secs(SOURCE_SECONDS),
        &mut out,
    )?;
    Ok(())
}

/// One step of the ramp, measured over a window of steady streaming.
struct Step {
    listeners: usize,
    streaming: usize,
    /// Listeners whose stream ended (cumulative) and that never got a stream.
    dropped: usize,
    failed: usize,
    /// Seconds from starting the step's new listeners to a settled crowd.
    join_secs: f64,
    /// Server CPU in the window, as a fraction of one core.
    cpu: f64,
    rss_kib: u64,
    /// The slowest listener's rate in the window, as a multiple of real time.
    min_rate: f64,
    mbit_s: f64,
    /// The whole machine's busy fraction (all cores), and the load generator's CPU (cores).
    machine: f64,
    loadgen: f64,
}

struct ServerResult {
    name: &'static str,
    idle_ttfb: FirstBytes,
    loaded_ttfb: FirstBytes,
    base_rss_kib: u64,
    steps: Vec<Step>,
    /// CPU of what feeds the server, as a fraction of one core over the ramp.
    feeder_cpu: Vec<(&'static str, f64)>,
}

async fn measure(server: Server, a: &ListenersBenchArgs) -> ServerResult {
    let pid = server.pid();
    println!(
        "\n{} (pid {pid}) on {}{}",
        server.name, server.addr, server.path
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let base_rss_kib = usage(pid).rss_kib;
    let idle_ttfb = first_byte_times(server.addr, &server.path, a.probes).await;
    println!("  idle: {}", ttfb_line(&idle_ttfb));
    let bytes_per_sec = a.bitrate.kbps() as f64 * 1000.0 / 8.0;
    let mut crowd = Crowd::new(server.addr, a.max as usize);
    let mut steps = Vec::new();
    let feeder0: Vec<_> = server
        .feeder_pids()
        .into_iter()
        .map(|(n, p)| (n, p, usage(p).cpu_secs))
        .collect();
    let t_all = std::time::Instant::now();
    let mut targets: Vec<usize> = RAMP
        .iter()
        .map(|f| ((a.max as f64 * f).round() as usize).max(1))
        .collect();
    targets.dedup();
    for target in targets {
        let t0 = std::time::Instant::now();
        crowd.grow_to(&server.path, target);
        let joined = crowd.joined(MAX_JOIN).await;
        settle(&crowd, bytes_per_sec).await;
        let join_secs = t0.elapsed().as_secs_f64();
        let w = window(&crowd, pid, a.step_seconds).await;
        let (s0, s1, wall) = (&w.before, &w.after, w.wall());
        let step = Step {
            listeners: target,
            streaming: s1.streaming,
            dropped: s1.dropped,
            failed: s1.failed,
            join_secs,
            cpu: w.server_cpu / wall,
            rss_kib: w.rss_kib,
            min_rate: w.min_rate(bytes_per_sec),
            mbit_s: (s1.total_bytes() - s0.total_bytes()) as f64 * 8.0 / wall / 1e6,
            machine: w.machine.0 as f64 / w.machine.1.max(1) as f64,
            loadgen: w.bench_cpu / wall,
        };
        println!(
            "  {:>6} listeners: {} streaming, {} dropped, {} failed{}; joined+settled in {:.1} s; server {:.1}% of a core, RSS {:.1} MiB; slowest listener {:.2}× real time; {:.0} Mbit/s; machine {:.0}% busy, load generator {:.0}% of a core",
            step.listeners,
            step.streaming,
            step.dropped,
            step.failed,
            if joined { "" } else { " (some still connecting)" },
            step.join_secs,
            step.cpu * 100.0,
            step.rss_kib as f64 / 1024.0,
            step.min_rate,
            step.mbit_s,
            step.machine * 100.0,
            step.loadgen * 100.0
        );
        steps.push(step);
    }
    let loaded_ttfb = first_byte_times(server.addr, &server.path, a.probes).await;
    println!(
        "  with {} listeners: {}",
        crowd.started(),
        ttfb_line(&loaded_ttfb)
    );
    let all = t_all.elapsed().as_secs_f64().max(1e-9);
    let feeder_cpu = feeder0
        .into_iter()
        .map(|(n, p, c0)| (n, (usage(p).cpu_secs - c0) / all))
        .collect();
    crowd.stop().await;
    ServerResult {
        name: server.name,
        idle_ttfb,
        loaded_ttfb,
        base_rss_kib,
        steps,
        feeder_cpu,
    }
}

/// Waits (a second at a time) until the crowd receives about real time, not join bursts.
async fn settle(crowd: &Crowd, bytes_per_sec: f64) {
    let until = std::time::Instant::now() + MAX_SETTLE;
    let mut last = crowd.snapshot();
    while std::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = crowd.snapshot();
        let rate = (now.total_bytes() - last.total_bytes()) as f64
            / (now.at - last.at).as_secs_f64()
            / (now.streaming.max(1) as f64 * bytes_per_sec);
        if rate <= SETTLED {
            return;
        }
        last = now;
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ttfb_line(t: &FirstBytes) -> String {
    let stats = |v: &[Duration]| {
        let mut v = v.to_vec();
        v.sort();
        format!(
            "median {:.2} ms, p99 {:.2} ms",
            ms(percentile(&v, 0.5)),
            ms(percentile(&v, 0.99))
        )
    };
    format!(
        "first audio byte {}; first response byte {} ({} requests, {} failed)",
        stats(&t.audio),
        stats(&t.head),
        t.audio.len(),
        t.failed
    )
}

/// The figures side by side, as a Markdown table (what docs/PERFORMANCE.md shows).
fn summary(results: &[ServerResult], a: &ListenersBenchArgs) {
    println!(
        "\n| server | listeners | streaming | dropped | failed | server CPU (% of a core) | µs CPU per listener-second | RSS (MiB) | RSS per listener (KiB) | slowest listener (× real time) | machine busy | load generator (% of a core) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in results {
        for s in &r.steps {
            let n = s.streaming.max(1) as f64;
            println!(
                "| {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {:.0}% | {:.0} |",
                r.name,
                s.listeners,
                s.streaming,
                s.dropped,
                s.failed,
                s.cpu * 100.0,
                s.cpu * 1e6 / n,
                s.rss_kib as f64 / 1024.0,
                s.rss_kib.saturating_sub(r.base_rss_kib) as f64 / n,
                s.min_rate,
                s.machine * 100.0,
                s.loadgen * 100.0
            );
        }
    }
    println!(
        "\nrequest → first byte ({} requests each, one after another):",
        a.probes
    );
    for r in results {
        println!("- {} idle: {}", r.name, ttfb_line(&r.idle_ttfb));
        let at = r.steps.last().map_or(0, |s| s.listeners);
        println!(
            "- {} with {at} listeners: {}",
            r.name,
            ttfb_line(&r.loaded_ttfb)
        );
        for (what, c) in &r.feeder_cpu {
            println!(
                "- {}'s {what} used {:.1}% of a core, not counted above",
                r.name,
                c * 100.0
            );
        }
    }
}
