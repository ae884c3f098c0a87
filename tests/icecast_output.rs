//! Icecast output against Debian's real icecast2: a session pushed with `--icecast-out` plays
//! back through Icecast (ffmpeg decodes it without errors, its frames are Drift's own, byte for
//! byte), the titles Icecast serves (ICY) change with the track where it becomes audible, the
//! output comes back after icecast2 is killed and restarted, and a wrong password or a mount in
//! use is a clear failed state (no crash). Stand-ins for other servers: `icecast_stand_in.rs`.
mod common;
#[path = "common/icecast.rs"]
mod icecast;

use common::{call, client, create_session, get_json, library, read_bytes, Server};
use drift::audio::mp3_frames::split_all;
use icecast::Icecast;
use reqwest::Method;
use std::time::{Duration, Instant};

/// The value of a per-output metric (`drift_icecast_output_{name}{output="1",…}`).
fn output_metric(server: &Server, name: &str) -> Option<f64> {
    let text = client()
        .get(server.url("/metrics"))
        .send()
        .ok()?
        .text()
        .ok()?;
    text.lines()
        .find(|l| l.starts_with(&format!("drift_icecast_output_{name}{{output=\"1\"")))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// Polls until `ok` holds, failing with `what` after a minute.
fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ok() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "gave up waiting: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn ffmpeg_decodes(url: &str, secs: u32) -> String {
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-i", url])
        .args(["-t", &secs.to_string(), "-f", "null", "-"])
        .output()
        .expect("ffmpeg (make deps installs it)");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ffmpeg failed: {err}");
    err
}

#[test]
fn a_session_pushed_to_icecast_plays_back_through_it_with_titles_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut ice = Icecast::start(dir.path());
    let lib = library(dir.path(), 4);
    let out = ice.source("/drift.mp3");
    let server = Server::start(
        &lib,
        &dir.path().join("data"),
        &["--time-scale", "3", "--icecast-out", &out],
    );
    wait_until("the output streams", || {
        output_metric(&server, "state") == Some(1.0)
    });

    // ffmpeg, a real client, decodes what Icecast serves without an error.
    let mount = ice.url("/drift.mp3");
    let err = ffmpeg_decodes(&mount, 8);
    assert!(
        err.trim().is_empty(),
        "decode errors through Icecast: {err}"
    );

    // Read the mount with ICY titles for long enough to cross track boundaries.
    let mut r = client()
        .get(&mount)
        .header("Icy-MetaData", "1")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let metaint: usize = r.headers()["icy-metaint"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let data = read_bytes(&mut r, 24_000 * 40, Duration::from_secs(60));
    drop(r);
    let (audio, titles) = drift::framing::icy::strip(&data, metaint);
    let from_ice = split_all(&audio);
    assert!(
        from_ice.len() > 1000,
        "only {} frames from Icecast",
        from_ice.len()
    );

    // Drift's own frames of the same span, with their absolute positions.
    let state = get_json(&server.url("/api/sessions/default")).unwrap();
    let play = state["position"].as_f64().unwrap();
    let from = (play - 120.0).max(0.0);
    let mut r = client()
        .get(server.url(&format!("/stream/default?from={from}")))
        .send()
        .unwrap();
    let first: f64 = r.headers()["x-drift-position"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let ours = split_all(&read_bytes(&mut r, 24_000 * 135, Duration::from_secs(30)));
    drop(r);
    // Icecast's first frame is where a listener joined its burst; from there on every frame is
    // Drift's, byte for byte (skip the first and last: the burst may start mid-frame).
    let probe = &from_ice[1];
    let at = ours
        .iter()
        .position(|f| f.data == probe.data)
        .expect("Icecast's audio is not in what Drift rendered");
    let span = &from_ice[1..from_ice.len() - 1];
    let same = span
        .iter()
        .zip(&ours[at..])
        .take_while(|(a, b)| a.data == b.data)
        .count();
    assert_eq!(
        same,
        span.len(),
        "frames differ after {same} of {}",
        span.len()
    );
    eprintln!(
        "{} frames read through Icecast are Drift's own, byte for byte",
        span.len()
    );

    // The titles: Icecast serves each track's title from where that track is audible.
    let history = get_json(&server.url("/api/sessions/default")).unwrap()["history"].clone();
    let starts: Vec<(f64, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let name = format!(
                "{} - {}",
                t["artist"].as_str().unwrap(),
                t["title"].as_str().unwrap()
            );
            (t["position"].as_f64().unwrap(), name)
        })
        .collect();
    let frame_secs = 1152.0 / 44_100.0;
    let frame_at = |byte: usize| {
        // Index in `from_ice` of the frame holding audio byte `byte`.
        let mut sum = 0;
        from_ice.iter().position(|f| {
            sum += f.data.len();
            sum > byte
        })
    };
    let base = first + (at as f64 - 1.0) * frame_secs; // stream position of from_ice[0]
    let mut changes = 0;
    let mut last: Option<&str> = None;
    for (byte, title) in &titles {
        assert!(
            starts.iter().any(|(_, n)| n == title),
            "Icecast serves '{title}', which is no track of the session: {starts:?}"
        );
        if last.is_some_and(|l| l != title) {
            changes += 1;
            let pos = base + frame_at(*byte).unwrap_or(from_ice.len()) as f64 * frame_secs;
            // A short library plays a track again: the start nearest the change.
            let start = starts
                .iter()
                .filter(|(_, n)| n == title)
                .map(|(p, _)| *p)
                .min_by(|a, b| (a - pos).abs().total_cmp(&(b - pos).abs()))
                .unwrap();
            eprintln!("title '{title}' at {pos:.2} s, the track is audible from {start:.2} s");
            // ICY titles go out every `metaint` bytes (0.67 s at 192 kbps): the change lands
            // at the first of those after the track starts, not a lead (15 s) early.
            assert!(
                pos >= start - 0.2 && pos <= start + 1.5,
                "title changed at {pos:.2} s, the track starts at {start:.2} s"
            );
        }
        last = Some(title);
    }
    assert!(changes >= 1, "no title change in 40 s: {titles:?}");
    let status = get_json(&ice.url("/status-json.xsl")).unwrap();
    let title = status["icestats"]["source"]["title"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        starts.iter().any(|(_, n)| *n == title),
        "status title {title}"
    );

    // Kill icecast2: the output notices and retries; start it again: the output comes back.
    ice.kill();
    wait_until("the output notices", || {
        output_metric(&server, "state") == Some(2.0)
    });
    ice.restart();
    wait_until("the output streams again", || {
        output_metric(&server, "state") == Some(1.0)
    });
    let reconnects = output_metric(&server, "reconnects_total").unwrap();
    assert!(reconnects >= 1.0, "reconnects {reconnects}");
    let err = ffmpeg_decodes(&mount, 4);
    assert!(
        err.trim().is_empty(),
        "decode errors after the restart: {err}"
    );
    assert!(output_metric(&server, "bytes_total").unwrap() > 24_000.0 * 40.0);
}

#[test]
fn a_wrong_password_or_a_mount_in_use_is_a_clear_failed_state_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let ice = Icecast::start(dir.path());
    let lib = library(dir.path(), 2);
    let server = Server::start(&lib, &dir.path().join("data"), &[]);
    let (fp, token) = create_session(&server);
    let path = format!("/api/sessions/{fp}/outputs");
    let body = |url: &str| serde_json::json!({ "url": url }).to_string();

    // Owner only; a bad address is a 400 that says why.
    let good = ice.source("/a.mp3");
    assert_eq!(
        call(&server, Method::POST, &path, None, &body(&good)).0,
        403
    );
    assert_eq!(call(&server, Method::GET, &path, None, "").0, 403);
    let (status, v) = call(
        &server,
        Method::POST,
        &path,
        Some(&token),
        &body("http://x/y"),
    );
    assert_eq!(status, 400);
    assert!(v["error"].as_str().unwrap().contains("icecast://"), "{v}");

    let (status, a) = call(&server, Method::POST, &path, Some(&token), &body(&good));
    assert_eq!(status, 201, "{a}");
    let wrong = format!("icecast://source:hunter2@127.0.0.1:{}/b.mp3", ice.port);
    let (status, b) = call(&server, Method::POST, &path, Some(&token), &body(&wrong));
    assert_eq!(status, 201, "{b}");
    assert!(!b.to_string().contains("hunter2"));
    let list = |server: &Server| {
        let r = client()
            .get(server.url(&path))
            .bearer_auth(&token)
            .send()
            .unwrap();
        let text = r.text().unwrap();
        assert!(
            !text.contains("hunter2") && !text.contains(&ice.password),
            "{text}"
        );
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["outputs"].clone()
    };
    let by_id = |v: &serde_json::Value, id: &serde_json::Value| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == *id)
            .cloned()
            .unwrap()
    };
    wait_until(
        "the good output streams and the wrong password fails",
        || {
            let v = list(&server);
            let a = by_id(&v, &a["id"]);
            a["state"] == "streaming"
                && a["bytesSent"].as_u64() > Some(0)
                && by_id(&v, &b["id"])["state"] == "failed"
        },
    );
    let v = list(&server);
    let failed = by_id(&v, &b["id"]);
    let why = failed["lastError"].as_str().unwrap();
    assert!(why.contains("password") && why.contains("401"), "{why}");
    assert_eq!(
        failed["url"],
        format!("icecast://source@127.0.0.1:{}/b.mp3?session={fp}", ice.port)
    );
    let streaming = by_id(&v, &a["id"]);
    assert!(streaming["bytesSent"].as_u64().unwrap() > 0);
    assert!(streaming["connectedSince"].as_u64().is_some());

    // A second source on the same mount: Icecast says it is in use.
    let (_, c) = call(&server, Method::POST, &path, Some(&token), &body(&good));
    wait_until("the mount in use fails", || {
        by_id(&list(&server), &c["id"])["state"] == "failed"
    });
    let why = by_id(&list(&server), &c["id"])["lastError"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(why.contains("in use"), "{why}");

    // The server is fine, and outputs go away on DELETE.
    assert_eq!(get_json(&server.url("/health")).unwrap()["status"], "ok");
    for o in [&a, &b, &c] {
        let p = format!("{path}/{}", o["id"]);
        assert_eq!(call(&server, Method::DELETE, &p, Some(&token), "").0, 204);
        assert_eq!(call(&server, Method::DELETE, &p, Some(&token), "").0, 404);
    }
    assert_eq!(list(&server).as_array().unwrap().len(), 0);
}
