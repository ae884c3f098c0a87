//! The stream against a real `drift serve`: frame chain, lead, shared bytes, `from=`, ICY,
//! slow listeners, and a real client (ffmpeg).
mod common;
use common::*;
use drift::audio::mp3_frames::split_all;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const BYTES_PER_SEC: f64 = 24_000.0; // 192 kbps
const FRAME_SECS: f64 = 1152.0 / 44_100.0;

fn open(url: &str, icy: bool) -> (reqwest::blocking::Response, f64) {
    let mut req = client().get(url);
    if icy {
        req = req.header("Icy-MetaData", "1");
    }
    let r = req.send().unwrap();
    assert_eq!(r.status(), 200, "{url}");
    assert_eq!(r.headers()["content-type"], "audio/mpeg");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let pos: f64 = r.headers()["x-drift-position"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    (r, pos)
}

#[test]
fn stream_lead_sharing_and_resume_inside_the_ring() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 5);
    let server = Server::start(
        &lib,
        &dir.path().join("data"),
        &["--lead", "6", "--time-scale", "4"],
    );
    let fp = get_json(&server.url("/stream/bootstrap")).unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();

    // A new listener gets the lead (~6 s of audio) first; how fast is for `drift-bench
    // listeners` to report, not for a test on a machine that may be busy.
    let (mut a, pos_a) = open(&server.url(&format!("/stream/{fp}")), false);
    let first = read_bytes(
        &mut a,
        (6.0 * BYTES_PER_SEC) as usize,
        Duration::from_secs(10),
    );

    // Then real time, across several track changes (12–18 s tracks): an unbroken frame chain.
    let more = read_bytes(
        &mut a,
        (45.0 * BYTES_PER_SEC) as usize,
        Duration::from_secs(60),
    );
    let all = [first, more].concat();
    let frames = split_all(&all);
    let framed: usize = frames.iter().map(|f| f.data.len()).sum();
    assert!(
        all.len() - framed < 1500,
        "{} stray bytes",
        all.len() - framed
    );
    assert!(frames
        .iter()
        .all(|f| f.header.bitrate_kbps == 192 && f.header.sample_rate == 44_100));

    // A second listener joining later gets byte-identical frames where they overlap.
    let (mut b, pos_b) = open(&server.url(&format!("/stream/{fp}")), false);
    let b_bytes = read_bytes(
        &mut b,
        (8.0 * BYTES_PER_SEC) as usize,
        Duration::from_secs(20),
    );
    let b_frames = split_all(&b_bytes);
    let offset = ((pos_b - pos_a) / FRAME_SECS).round() as usize;
    assert!(pos_b > pos_a && offset < frames.len());
    let overlap = (frames.len() - offset).min(b_frames.len());
    assert!(overlap > 100, "overlap of {overlap} frames");
    for i in 0..overlap {
        assert_eq!(
            frames[offset + i].data,
            b_frames[i].data,
            "frame {i} differs"
        );
    }

    // `from=` inside the ring continues byte-exactly.
    let k = frames.len() - 200;
    let p = pos_a + k as f64 * FRAME_SECS;
    let (mut c, pos_c) = open(&server.url(&format!("/stream/{fp}?from={p:.6}")), false);
    assert!((pos_c - p).abs() < FRAME_SECS, "{pos_c} vs {p}");
    let c_frames = split_all(&read_bytes(&mut c, 100 * 700, Duration::from_secs(20)));
    for i in 0..50 {
        assert_eq!(
            frames[k + i].data,
            c_frames[i].data,
            "from= frame {i} differs"
        );
    }
}

#[test]
fn icy_titles_change_where_the_track_does() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 4);
    let server = Server::start(
        &lib,
        &dir.path().join("data"),
        &["--lead", "4", "--time-scale", "8"],
    );
    let (mut r, pos) = open(&server.url("/stream/default"), true);
    assert_eq!(r.headers()["icy-metaint"], "16000");
    assert!(r.headers().contains_key("icy-name"));
    assert_eq!(r.headers()["icy-br"], "192");
    let data = read_bytes(
        &mut r,
        (40.0 * BYTES_PER_SEC) as usize,
        Duration::from_secs(30),
    );
    let (audio, titles) = drift::framing::icy::strip(&data, 16_000);
    assert!(
        split_all(&audio).len() > 1000,
        "audio is whole frames after stripping"
    );
    assert!(titles.len() >= 2, "{titles:?}");
    let names: std::collections::HashSet<_> = titles.iter().map(|t| t.1.clone()).collect();
    assert!(names.len() >= 2, "the title never changed: {titles:?}");
    // Each change lands within one metadata interval after the track's start position.
    let state = get_json(&server.url("/api/sessions/default")).unwrap();
    let history = state["history"].as_array().unwrap();
    // History lists tracks the play point has reached; we read a lead beyond it.
    let heard = state["position"].as_f64().unwrap() - 1.0;
    let changes = titles.windows(2).filter(|w| w[0].1 != w[1].1);
    let mut checked = 0;
    for w in changes {
        let at = pos + w[1].0 as f64 / BYTES_PER_SEC;
        if at > heard {
            continue;
        }
        checked += 1;
        let start = history
            .iter()
            .filter_map(|h| h["position"].as_f64())
            .filter(|p| *p > pos)
            .min_by(|a, b| (a - at).abs().total_cmp(&(b - at).abs()))
            .unwrap();
        assert!(
            at >= start - 0.1 && at - start <= 16_000.0 / BYTES_PER_SEC + 0.1,
            "title at {at:.2}, track at {start:.2}"
        );
    }
    assert!(checked >= 1, "no title change to check: {titles:?}");
}

#[test]
fn a_slow_listener_is_dropped_and_others_continue() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 3);
    let server = Server::start(
        &lib,
        &dir.path().join("data"),
        &["--lead", "4", "--history", "10", "--time-scale", "40"],
    );
    // The slow one reads far slower than the stream flows, through a small receive buffer
    // (loopback would otherwise let the kernel buffer tens of MB for it); the normal one keeps up.
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut slow = small_buffer_socket(&addr);
    let request =
        format!("GET /stream/default HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    std::io::Write::write_all(&mut slow, request.as_bytes()).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // It reads slowly until the normal listener is done, then drains what the kernel still
    // holds for it as fast as it can: a dropped listener then reaches the end of its stream.
    let drain = Arc::new(AtomicBool::new(false));
    let draining = drain.clone();
    let slow_reader = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        let mut total = 0usize;
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            match slow.read(&mut buf) {
                Ok(0) => return (total, true),
                Ok(n) => total += n,
                Err(_) => return (total, false),
            }
            // ~40 kB/s: slower than the stream flows even when a busy machine renders it at
            // a few times real time (the clock runs 40× here), so it must fall out of the ring.
            if !draining.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        (total, false)
    });
    // And one that stops reading altogether.
    let stalled = small_buffer_socket(&addr);
    std::io::Write::write_all(&mut &stalled, request.as_bytes()).unwrap();
    let (mut normal, _) = open(&server.url("/stream/default"), false);
    let got = read_bytes(
        &mut normal,
        (400.0 * BYTES_PER_SEC) as usize,
        Duration::from_secs(60),
    );
    assert!(
        got.len() as f64 >= 390.0 * BYTES_PER_SEC,
        "normal listener starved: {}",
        got.len()
    );
    drain.store(true, Ordering::Relaxed);
    let (slow_total, closed) = slow_reader.join().unwrap();
    assert!(
        closed,
        "the slow listener was not disconnected (read {slow_total} bytes)"
    );
    assert!(metric(&server, "slow_listener_drops_total") >= 2.0);
    // The stalled connection was closed by the server: reading it now reaches the end.
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut rest = Vec::new();
    let ended = (&stalled).read_to_end(&mut rest);
    assert!(
        !matches!(&ended, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the stalled connection is still open"
    );
}

/// A client socket with a small receive buffer (loopback would otherwise let the kernel
/// buffer tens of MB for a reader that does not keep up).
fn small_buffer_socket(addr: &str) -> std::net::TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(8192).unwrap();
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    socket.connect(&addr.into()).unwrap();
    socket.into()
}

#[test]
fn ffmpeg_plays_the_stream_with_icy_titles() {
    if !have("ffmpeg") {
        panic!("ffmpeg is required (make deps installs it)");
    }
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 3);
    let server = Server::start(
        &lib,
        &dir.path().join("data"),
        &["--lead", "15", "--time-scale", "4"],
    );
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "info", "-icy", "1", "-i"])
        .arg(server.url("/stream/default"))
        .args(["-t", "20", "-f", "null", "-"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        !err.to_lowercase().contains("error"),
        "decode errors: {err}"
    );
    assert!(err.contains("StreamTitle"), "no StreamTitle in: {err}");
    assert!(err.contains("time=00:00:2"), "did not read 20 s: {err}");
}

#[test]
fn the_mp4_stream_is_fragmented_mp4_that_ffmpeg_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 2);
    let server = Server::start(&lib, &dir.path().join("data"), &["--lead", "6"]);
    let r = client()
        .get(server.url("/stream/default.mp4"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "audio/mp4");
    let pos: f64 = r.headers()["x-drift-position"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut r = r;
    let data = read_bytes(&mut r, 5 * 24_000, Duration::from_secs(10));
    assert_eq!(&data[4..8], b"ftyp");
    // The first fragment's decode time is the stream position of its first frame.
    let at = data.windows(4).position(|w| w == b"tfdt").unwrap();
    let t = u64::from_be_bytes(data[at + 8..at + 16].try_into().unwrap());
    assert!((t as f64 / 44_100.0 - pos).abs() < 1e-3, "{t} vs {pos}");
    // Cut at the last whole fragment and let ffmpeg decode it.
    let last_moof = data.windows(4).rposition(|w| w == b"moof").unwrap() - 4;
    let path = dir.path().join("s.mp4");
    std::fs::write(&path, &data[..last_moof]).unwrap();
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
