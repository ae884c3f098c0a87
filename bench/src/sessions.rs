//! `drift-bench sessions`: how many sessions one machine renders at real time, and what a
//! session costs. For each LAME quality asked for, a fresh `drift serve` (no admission limits)
//! gets sessions in steps, each with one listener on loopback; every step is measured over a
//! window of steady streaming and holds when every engine keeps its lead, no underrun or drop
//! happens and every listener receives real time. The ramp stops at the first step that fails.
use crate::cli::SessionsBenchArgs;
use crate::load::{get, post, Crowd};
use crate::servers::{start_drift, usage, window, Server};
use crate::support::{drift_bin, libraries, raise_open_files, work_dir};
use drift::commands::{runtime, CommandError};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Seconds each session renders ahead of its play point: the server's default, passed
/// explicitly so the criterion below knows it.
const LEAD_SECS: f64 = 15.0;
/// An engine holds real time while its rendered lead stays within this of `LEAD_SECS`. The
/// lead is exact to an MP3 frame, so this only forgives scheduling jitter; an engine that
/// falls behind loses lead steadily, and the loss adds up from step to step.
const LEAD_SLACK_SECS: f64 = 1.0;
/// A listener reads every 200 ms and the ring grows in bursts of up to 250 ms, so bytes
/// counted over a window are exact to about this much audio.
const READ_SLACK_SECS: f64 = 0.6;
/// Minimum wait after a step's sessions started (their lead bursts drain), and the longest
/// wait for all engines to have their full lead.
const SETTLE: Duration = Duration::from_secs(3);
const MAX_SETTLE: Duration = Duration::from_secs(20);
/// Longest wait for a step's listeners to connect.
const MAX_JOIN: Duration = Duration::from_secs(30);

/// One step of a ramp, measured over a window.
struct Step {
    sessions: usize,
    holds: bool,
    /// Whether it held only on the second window (the first was disturbed).
    retried: bool,
    /// Server CPU in the window, as a fraction of one core.
    cpu: f64,
    rss_kib: u64,
    /// The slowest listener's rate in the window, as a multiple of real time.
    min_rate: f64,
    /// The smallest rendered lead of any session at the end of the window, in seconds.
    min_lead: f64,
    /// Growth in the window of the server's underrun and slow-listener-drop counters.
    underruns: f64,
    slow_drops: f64,
    /// Listeners that lost their stream or never got one.
    lost: usize,
    /// CPU of everything else on the machine in the window (other processes), in cores.
    others: f64,
}

/// A ramp at one LAME quality.
struct Ramp {
    quality: u8,
    base_rss_kib: u64,
    steps: Vec<Step>,
    /// Why the ramp ended before `--max`, when it did for another reason than a failed step.
    stopped: Option<String>,
}

impl Ramp {
    /// The last step before the first that failed (steps stop at the first failure).
    fn best(&self) -> Option<&Step> {
        self.steps.iter().take_while(|s| s.holds).last()
    }
}

pub fn run(a: SessionsBenchArgs) -> Result<(), CommandError> {
    if !(2.0..=600.0).contains(&a.step_seconds) {
        return Err(CommandError::Usage("--step-seconds must be 2–600".into()));
    }
    let drift = drift_bin(&a.drift)?;
    raise_open_files(a.max as u64 + 1024)?;
    let libraries = libraries(&a.library)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "sessions with one listener each, {} kbps, LAME -q {:?}, +{} every step up to {}, {} s per step, lead {LEAD_SECS} s; {cores} cores; load average {}",
        a.bitrate.kbps(),
        a.qualities,
        a.step,
        a.max,
        a.step_seconds,
        load_average()
    );
    let ramps = runtime()?.block_on(async {
        let mut ramps = Vec::new();
        for &quality in &a.qualities {
            let work = work_dir()?;
            match start(&drift, work.path(), &libraries, quality, &a).await {
                Ok(server) => ramps.push(ramp(server, quality, &a).await),
                Err(e) => println!("-q {quality}: drift could not be measured: {e}"),
            }
        }
        Ok::<_, CommandError>(ramps)
    })?;
    println!("\nload average after: {}", load_average());
    summary(&ramps, &a, cores);
    Ok(())
}

/// `drift serve` at this quality with no admission limit below `--max` and a fresh data dir.
async fn start(
    drift: &Path,
    work: &Path,
    libraries: &[PathBuf],
    quality: u8,
    a: &SessionsBenchArgs,
) -> Result<Server, String> {
    let (bitrate, quality, max, lead) = (
        a.bitrate.kbps().to_string(),
        quality.to_string(),
        a.max.to_string(),
        LEAD_SECS.to_string(),
    );
    let args = [
        "--bitrate",
        &bitrate,
        "--encoder-quality",
        &quality,
        "--max-sessions",
        &max,
        "--sessions-per-minute",
        "0",
        "--lead",
        &lead,
    ];
    start_drift(drift, work, &work.join("data"), libraries, &args).await
}

async fn ramp(server: Server, quality: u8, a: &SessionsBenchArgs) -> Ramp {
    let (addr, pid) = (server.addr, server.pid());
    println!("\n-q {quality}: drift (pid {pid}) on {addr}");
    let base_rss_kib = usage(pid).rss_kib;
    let bytes_per_sec = a.bitrate.kbps() as f64 * 1000.0 / 8.0;
    let mut crowd = Crowd::new(addr, a.max as usize);
    let mut sessions: Vec<String> = Vec::new();
    let mut steps = Vec::new();
    let mut stopped = None;
    while sessions.len() < a.max as usize {
        let target = (sessions.len() + a.step as usize).min(a.max as usize);
        while sessions.len() < target {
            match create(addr).await {
                Ok((fp, stream)) => {
                    crowd.join(&stream);
                    sessions.push(fp);
                }
                Err(e) => {
                    stopped = Some(format!("session {} not created: {e}", sessions.len() + 1));
                    break;
                }
            }
        }
        if stopped.is_some() {
            break;
        }
        crowd.joined(MAX_JOIN).await;
        settle(addr, &sessions).await;
        let mut step = measure(&server, &crowd, &sessions, a, bytes_per_sec).await;
        if !step.holds {
            // One more window: a neighbour's burst of work is forgiven, an overload is not.
            step = measure(&server, &crowd, &sessions, a, bytes_per_sec).await;
            step.retried = step.holds;
        }
        println!(
            "  {:>4} sessions: {}; server {:.0}% of a core ({:.1} ms CPU per session-second), RSS {:.0} MiB; slowest listener {:.3}× real time; smallest lead {:.2} s; underruns +{}, slow-listener drops +{}, lost listeners {}; other processes {:.2} cores",
            step.sessions,
            verdict(&step),
            step.cpu * 100.0,
            step.cpu * 1000.0 / step.sessions as f64,
            step.rss_kib as f64 / 1024.0,
            step.min_rate,
            step.min_lead,
            step.underruns,
            step.slow_drops,
            step.lost,
            step.others
        );
        let holds = step.holds;
        steps.push(step);
        if !holds {
            break;
        }
    }
    if let Some(why) = &stopped {
        println!("  stopped: {why}");
    }
    crowd.stop().await;
    Ramp {
        quality,
        base_rss_kib,
        steps,
        stopped,
    }
}

fn verdict(s: &Step) -> &'static str {
    match (s.holds, s.retried) {
        (true, false) => "holds real time",
        (true, true) => "holds real time (on a second window: the first was disturbed)",
        (false, _) => "FALLS BEHIND",
    }
}

/// `POST /api/sessions`: the new session's fingerprint and stream path.
async fn create(addr: SocketAddr) -> Result<(String, String), String> {
    let (status, body) = post(addr, "/api/sessions")
        .await
        .map_err(|e| e.to_string())?;
    if status != 201 {
        return Err(format!("status {status}: {}", body.trim()));
    }
    let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    match (v["fingerprint"].as_str(), v["streamUrl"].as_str()) {
        (Some(fp), Some(url)) => Ok((fp.to_string(), url.to_string())),
        _ => Err(format!("unexpected answer: {body}")),
    }
}

/// Each session's rendered lead in seconds (`renderedAhead` of `GET /api/sessions/{fp}`);
/// zero for one that does not answer.
async fn leads(addr: SocketAddr, sessions: &[String]) -> Vec<f64> {
    let mut out = Vec::with_capacity(sessions.len());
    for fp in sessions {
        let lead = match get(addr, &format!("/api/sessions/{fp}")).await {
            Ok((200, body)) => serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["renderedAhead"].as_f64()),
            _ => None,
        };
        out.push(lead.unwrap_or(0.0));
    }
    out
}

/// Waits until the new sessions have their whole lead (and the join bursts drained).
async fn settle(addr: SocketAddr, sessions: &[String]) {
    tokio::time::sleep(SETTLE).await;
    let until = Instant::now() + MAX_SETTLE;
    while Instant::now() < until {
        let min = leads(addr, sessions)
            .await
            .into_iter()
            .fold(f64::MAX, f64::min);
        if min >= LEAD_SECS - LEAD_SLACK_SECS {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The counters of `/metrics` the verdict needs: underruns and slow-listener drops.
async fn counters(addr: SocketAddr) -> (f64, f64) {
    let text = get(addr, "/metrics").await.map(|r| r.1).unwrap_or_default();
    (
        metric(&text, "drift_engine_underruns_total").unwrap_or(0.0),
        metric(&text, "drift_slow_listener_drops_total").unwrap_or(0.0),
    )
}

/// The value of an unlabelled metric in Prometheus text format.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// One window of `--step-seconds`: server CPU and memory, the listeners' rates, the engines'
/// leads at its end and the server's counters, and the verdict.
async fn measure(
    server: &Server,
    crowd: &Crowd,
    sessions: &[String],
    a: &SessionsBenchArgs,
    bytes_per_sec: f64,
) -> Step {
    let (addr, pid) = (server.addr, server.pid());
    let c0 = counters(addr).await;
    let w = window(crowd, pid, a.step_seconds).await;
    let lead = leads(addr, sessions).await;
    let c1 = counters(addr).await;
    let (s1, wall, server_cpu) = (&w.after, w.wall(), w.server_cpu);
    let min_rate = w.min_rate(bytes_per_sec);
    let min_lead = lead.iter().copied().fold(f64::INFINITY, f64::min);
    // The machine's busy time in the window (ticks of all cores), less the server's and ours.
    let busy = w.machine.0 as f64 / procfs::ticks_per_second() as f64;
    let lost = s1.dropped + s1.failed;
    let (underruns, slow_drops) = (c1.0 - c0.0, c1.1 - c0.1);
    Step {
        sessions: sessions.len(),
        holds: lost == 0
            && s1.streaming == sessions.len()
            && underruns <= 0.0
            && slow_drops <= 0.0
            && min_lead >= LEAD_SECS - LEAD_SLACK_SECS
            && min_rate >= 1.0 - READ_SLACK_SECS / wall,
        retried: false,
        cpu: server_cpu / wall,
        rss_kib: w.rss_kib,
        min_rate,
        min_lead,
        underruns,
        slow_drops,
        lost,
        others: ((busy - server_cpu - w.bench_cpu) / wall).max(0.0),
    }
}

/// The load average of the machine (1, 5 and 15 minutes), as /proc/loadavg says.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Every step of every ramp as a Markdown table (what docs/PERFORMANCE.md shows), then the
/// largest number of sessions each quality held.
fn summary(ramps: &[Ramp], a: &SessionsBenchArgs, cores: usize) {
    println!(
        "\n| LAME -q | sessions | real time | server CPU (% of a core) | ms CPU per session-second | slowest listener (× real time) | smallest lead (s) | RSS (MiB) | RSS per session (MiB) | other processes (cores) |"
    );
    println!("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in ramps {
        for s in &r.steps {
            println!(
                "| {} | {} | {} | {:.0} | {:.1} | {:.3} | {:.2} | {:.0} | {:.1} | {:.2} |",
                r.quality,
                s.sessions,
                if s.holds { "holds" } else { "falls behind" },
                s.cpu * 100.0,
                s.cpu * 1000.0 / s.sessions as f64,
                s.min_rate,
                s.min_lead,
                s.rss_kib as f64 / 1024.0,
                s.rss_kib.saturating_sub(r.base_rss_kib) as f64 / 1024.0 / s.sessions as f64,
                s.others
            );
        }
    }
    println!();
    for r in ramps {
        let reached_max = r
            .steps
            .last()
            .is_some_and(|s| s.holds && s.sessions == a.max as usize);
        match r.best() {
            Some(s) => println!(
                "- -q {}: {} sessions held at real time{} at {} kbps; {:.1} ms CPU per session-second there ({:.1}% of a core each; {cores} cores would carry ~{:.0} at that cost)",
                r.quality,
                s.sessions,
                if reached_max { " (the ramp's end: raise --max)" } else { "" },
                a.bitrate.kbps(),
                s.cpu * 1000.0 / s.sessions as f64,
                s.cpu * 100.0 / s.sessions as f64,
                cores as f64 * s.sessions as f64 / s.cpu.max(1e-9)
            ),
            None => println!("- -q {}: not even {} sessions held", r.quality, a.step),
        }
        if let Some(why) = &r.stopped {
            println!("  (the ramp stopped: {why})");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::metric;

    #[test]
    fn reads_an_unlabelled_metric_and_not_its_prefix_twins() {
        let text = "# HELP drift_sessions x\n# TYPE drift_sessions gauge\ndrift_sessions 12\n\
                    drift_sessions_total 99\ndrift_engine_underruns_total 3\n";
        assert_eq!(metric(text, "drift_sessions"), Some(12.0));
        assert_eq!(metric(text, "drift_engine_underruns_total"), Some(3.0));
        assert_eq!(metric(text, "drift_listeners"), None);
    }
}
