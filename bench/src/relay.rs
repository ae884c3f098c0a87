//! `drift-bench listeners --only relay`: the scale-out recipe of docs/SCALING.md on loopback —
//! `drift serve --icecast-out` feeding an icecast2 master, an icecast2 relay of its mount, and
//! the listeners on the relay. Before the ramp it measures what the output costs Drift: its CPU
//! per session-second with one HTTP listener and no output, then with the output and no HTTP
//! listener.
use crate::load::{self, Crowd};
use crate::servers::{free_port, icecast_config, spawn, start_drift, usage, wait_for, Server};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Seconds each of the two output-cost windows lasts.
const COST_WINDOW: f64 = 20.0;

/// An icecast2 on a free port, no source of its own; `extra` goes in its config.
async fn icecast(
    work: &Path,
    name: &'static str,
    clients: u32,
    password: &str,
    extra: impl FnOnce(u16) -> String,
) -> Result<(std::process::Child, SocketAddr), String> {
    let port = free_port()?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let dir = work.join(name);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let config = dir.join("icecast.xml");
    let text = icecast_config(port, clients, password, &dir, &extra(port));
    std::fs::write(&config, text).map_err(|e| format!("cannot write {name}'s config: {e}"))?;
    let mut cmd = std::process::Command::new("icecast2");
    cmd.arg("-c").arg(&config);
    let log = format!("{name}.log");
    let mut child = spawn(&mut cmd, work, &log)?;
    let up = || async move { tokio::net::TcpStream::connect(addr).await.is_ok() };
    wait_for(
        name,
        &mut child,
        work.join(log),
        Duration::from_secs(20),
        up,
    )
    .await?;
    Ok((child, addr))
}

/// Drift's CPU (fraction of a core) over `COST_WINDOW` seconds.
async fn cpu_of(pid: u32) -> f64 {
    let (c0, t0) = (usage(pid).cpu_secs, Instant::now());
    tokio::time::sleep(Duration::from_secs_f64(COST_WINDOW)).await;
    (usage(pid).cpu_secs - c0) / t0.elapsed().as_secs_f64()
}

/// The relay to ramp listeners on, fed by Drift through a master; prints what the output
/// costs Drift on the way.
pub async fn start_relay(
    drift: &Path,
    work: &Path,
    data_dir: &Path,
    libraries: &[PathBuf],
    bitrate: &str,
    clients: u32,
) -> Result<Server, String> {
    let password = drift::station::registry::random_id();
    let (master, master_addr) = icecast(work, "master", 16, &password, |_| String::new()).await?;
    let feeders = vec![("master icecast2", master)];

    // Drift with one HTTP listener and no output.
    let plain = start_drift(drift, work, data_dir, libraries, &["--bitrate", bitrate]).await?;
    let mut one = Crowd::new(plain.addr, 1);
    one.grow_to(&plain.path, 1);
    one.joined(Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let without = cpu_of(plain.pid()).await;
    one.stop().await;
    drop(plain);

    // Drift with the output and no HTTP listener.
    let out = format!("icecast://source:{password}@{master_addr}/drift.mp3");
    let args = ["--bitrate", bitrate, "--icecast-out", &out];
    let fed = start_drift(drift, work, data_dir, libraries, &args).await?;
    wait_streaming(fed.addr).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let with = cpu_of(fed.pid()).await;
    println!(
        "\nDrift's CPU per session-second: {:.2}% of a core with one HTTP listener and no output, {:.2}% with an Icecast output and no HTTP listener ({COST_WINDOW} s each)",
        without * 100.0,
        with * 100.0
    );

    // A relay whose upstream ended is tried again every master-update-interval (default
    // 120 s): 5 s brings it back soon after a restart upstream.
    let relay_conf = format!(
        "<master-update-interval>5</master-update-interval><relay><server>127.0.0.1</server><port>{}</port><mount>/drift.mp3</mount>\
         <local-mount>/drift.mp3</local-mount><on-demand>0</on-demand>\
         <relay-shoutcast-metadata>1</relay-shoutcast-metadata></relay>",
        master_addr.port()
    );
    let (relay, addr) = icecast(work, "relay", clients, &password, |_| relay_conf).await?;
    let mut server = Server {
        name: "icecast2 relay",
        addr,
        path: "/drift.mp3".into(),
        child: relay,
        feeders,
        upstream: Vec::new(),
    };
    server.upstream.push(fed);
    let path = server.path.clone();
    let streams = || {
        let path = path.clone();
        async move { load::first_byte_times(addr, &path, 1).await.failed == 0 }
    };
    let log = work.join("relay.log");
    wait_for(
        "relay",
        &mut server.child,
        log,
        Duration::from_secs(30),
        streams,
    )
    .await?;
    Ok(server)
}

/// Waits until Drift's `/metrics` says its output streams.
async fn wait_streaming(addr: SocketAddr) -> Result<(), String> {
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        if let Ok((200, m)) = load::get(addr, "/metrics").await {
            let up = m
                .lines()
                .any(|l| l.starts_with("drift_icecast_output_state{") && l.ends_with(" 1"));
            if up {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err("Drift's Icecast output did not stream within 30 s".into())
}
