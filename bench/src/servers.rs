//! The servers under test in `drift-bench listeners` and `sessions`, each a child process on a
//! free loopback port so its CPU and memory can be read from /proc: `drift serve` with fresh
//! state, and Debian's icecast2 fed the same MP3 by ffmpeg. Children are killed when dropped.
use crate::load::{self, Crowd, Snapshot};
use cpu_time::ProcessTime;
use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// The icecast2 config the Icecast output's tests generate too (one file, two crates).
#[path = "../../tests/common/icecast_config.rs"]
mod icecast_config;
pub(crate) use icecast_config::icecast_config;

/// A server child (and the processes feeding it: ffmpeg for icecast; Drift and the master for
/// a relay) and the stream it serves.
pub struct Server {
    pub name: &'static str,
    pub addr: SocketAddr,
    /// Path of the stream a listener asks for.
    pub path: String,
    pub(crate) child: Child,
    pub(crate) feeders: Vec<(&'static str, Child)>,
    /// Servers upstream of this one (Drift feeding a relay's master), stopped after it.
    pub(crate) upstream: Vec<Server>,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
    /// What feeds the server: a name and a pid each.
    pub fn feeder_pids(&self) -> Vec<(&'static str, u32)> {
        let feeders = self.feeders.iter().map(|(n, c)| (*n, c.id()));
        feeders
            .chain(self.upstream.iter().map(|s| (s.name, s.pid())))
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for c in self
            .feeders
            .iter_mut()
            .map(|(_, c)| c)
            .chain([&mut self.child])
        {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// CPU seconds (user + system) and resident memory of a process.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub cpu_secs: f64,
    pub rss_kib: u64,
}

pub fn usage(pid: u32) -> Usage {
    let Ok(p) = procfs::process::Process::new(pid as i32) else {
        return Usage::default();
    };
    let tps = procfs::ticks_per_second() as f64;
    Usage {
        cpu_secs: p.stat().map_or(0.0, |s| (s.utime + s.stime) as f64 / tps),
        rss_kib: p.status().ok().and_then(|s| s.vmrss).unwrap_or(0),
    }
}

/// Busy and total CPU ticks of the whole machine (all cores), from /proc/stat.
pub fn machine_ticks() -> (u64, u64) {
    use procfs::CurrentSI;
    let Ok(k) = procfs::KernelStats::current() else {
        return (0, 0);
    };
    let t = k.total;
    let idle = t.idle + t.iowait.unwrap_or(0);
    let busy = t.user
        + t.nice
        + t.system
        + t.irq.unwrap_or(0)
        + t.softirq.unwrap_or(0)
        + t.steal.unwrap_or(0);
    (busy, busy + idle)
}

/// A window of steady streaming: the crowd at both ends, and what the server, the machine and
/// the bench itself spent in between.
pub struct Window {
    pub before: Snapshot,
    pub after: Snapshot,
    /// Server CPU seconds in the window, and its resident memory at the end.
    pub server_cpu: f64,
    pub rss_kib: u64,
    /// Busy and total CPU ticks of the whole machine in the window (all cores).
    pub machine: (u64, u64),
    /// CPU seconds of this process (the load generator) in the window.
    pub bench_cpu: f64,
}

impl Window {
    pub fn wall(&self) -> f64 {
        (self.after.at - self.before.at).as_secs_f64()
    }

    /// The lowest rate (as a multiple of real time) of the listeners streaming throughout (one
    /// that joined late in the window would look slow).
    pub fn min_rate(&self, bytes_per_sec: f64) -> f64 {
        let (s0, s1) = (&self.before, &self.after);
        (0..s0.bytes.len())
            .filter(|&i| s0.streaming_now[i] && s1.streaming_now[i])
            .map(|i| (s1.bytes[i] - s0.bytes[i]) as f64 / self.wall() / bytes_per_sec)
            .fold(f64::INFINITY, f64::min)
    }
}

/// Watches `crowd` and the server `pid` for `secs` seconds.
pub async fn window(crowd: &Crowd, pid: u32, secs: f64) -> Window {
    let (s0, u0, m0, g0) = (
        crowd.snapshot(),
        usage(pid),
        machine_ticks(),
        ProcessTime::now(),
    );
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    let (s1, u1, m1) = (crowd.snapshot(), usage(pid), machine_ticks());
    Window {
        before: s0,
        after: s1,
        server_cpu: u1.cpu_secs - u0.cpu_secs,
        rss_kib: u1.rss_kib,
        machine: (m1.0 - m0.0, m1.1 - m0.1),
        bench_cpu: g0.elapsed().as_secs_f64(),
    }
}

pub(crate) fn free_port() -> Result<u16, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn log_file(work: &Path, name: &str) -> Result<(Stdio, Stdio), String> {
    let f = File::create(work.join(name)).map_err(|e| format!("cannot create {name}: {e}"))?;
    let g = f.try_clone().map_err(|e| e.to_string())?;
    Ok((f.into(), g.into()))
}

pub(crate) fn spawn(cmd: &mut Command, work: &Path, log: &str) -> Result<Child, String> {
    let (out, err) = log_file(work, log)?;
    cmd.stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))
}

/// Polls `ready` every 100 ms until it says yes, the child exits, or `limit` passes.
pub(crate) async fn wait_for<F, Fut>(
    name: &str,
    child: &mut Child,
    log: PathBuf,
    limit: Duration,
    mut ready: F,
) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = Instant::now() + limit;
    loop {
        if ready().await {
            return Ok(());
        }
        let tail = || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().rev().take(5).collect();
            lines.into_iter().rev().collect::<Vec<_>>().join("\n")
        };
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{name} exited ({status}):\n{}", tail()));
        }
        if Instant::now() >= until {
            return Err(format!("{name} not ready after {limit:?}:\n{}", tail()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `drift serve` (the binary `drift`) on a free port with `data_dir` as its state, `libraries`
/// as its music and `args` as further flags; ready once its scan is done with tracks to play.
/// No session is started: the caller's first request does that.
pub async fn start_drift(
    drift: &Path,
    work: &Path,
    data_dir: &Path,
    libraries: &[PathBuf],
    args: &[&str],
) -> Result<Server, String> {
    let port = free_port()?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut cmd = Command::new(drift);
    cmd.arg("serve")
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("DRIFT_LOG", "warn");
    for lib in libraries {
        cmd.arg("--library").arg(lib);
    }
    let mut child = spawn(&mut cmd, work, "drift.log")?;
    let ready = || async move {
        matches!(load::get(addr, "/health").await,
            Ok((200, body)) if body.contains("\"scanComplete\":true") && !body.contains("\"tracks\":0"))
    };
    let log = work.join("drift.log");
    wait_for(
        "drift serve",
        &mut child,
        log,
        Duration::from_secs(120),
        ready,
    )
    .await?;
    Ok(Server {
        name: "drift",
        addr,
        path: "/stream/default".into(),
        child,
        feeders: Vec::new(),
        upstream: Vec::new(),
    })
}

/// Debian's icecast2 on a free port, allowing `clients` listeners, with ffmpeg sending `mp3`
/// in real time (looped) to the mount `/drift.mp3`. Icecast's own defaults otherwise (64 KiB
/// burst on connect, 512 KiB queue per listener).
pub async fn start_icecast(work: &Path, mp3: &Path, clients: u32) -> Result<Server, String> {
    let port = free_port()?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let password = drift::station::registry::random_id();
    let config = work.join("icecast.xml");
    std::fs::write(&config, icecast_config(port, clients, &password, work, ""))
        .map_err(|e| format!("cannot write the icecast config: {e}"))?;
    let mut cmd = Command::new("icecast2");
    cmd.arg("-c").arg(&config);
    let mut child = spawn(&mut cmd, work, "icecast.log")?;
    let log = work.join("icecast.log");
    let up = || async move { tokio::net::TcpStream::connect(addr).await.is_ok() };
    wait_for(
        "icecast2",
        &mut child,
        log.clone(),
        Duration::from_secs(20),
        up,
    )
    .await?;
    let mut feed = Command::new("ffmpeg");
    feed.args(["-hide_banner", "-nostdin", "-v", "error", "-re"])
        .args(["-stream_loop", "-1", "-i"])
        .arg(mp3)
        // A packet per write, as a live source sends: without it ffmpeg sends 32 KiB at a
        // time and icecast hands listeners the audio in bursts of 1.4 s.
        .args(["-c", "copy", "-flush_packets", "1"])
        .args(["-content_type", "audio/mpeg", "-f", "mp3"])
        .arg(format!(
            "icecast://source:{password}@127.0.0.1:{port}/drift.mp3"
        ));
    let feeder = spawn(&mut feed, work, "ffmpeg-source.log")?;
    let mut server = Server {
        name: "icecast2",
        addr,
        path: "/drift.mp3".into(),
        child,
        feeders: vec![("its source (ffmpeg -re -c copy)", feeder)],
        upstream: Vec::new(),
    };
    let path = server.path.clone();
    let streams = || {
        let path = path.clone();
        async move { load::first_byte_times(addr, &path, 1).await.failed == 0 }
    };
    let child = &mut server.child;
    wait_for("icecast2", child, log, Duration::from_secs(20), streams).await?;
    Ok(server)
}
