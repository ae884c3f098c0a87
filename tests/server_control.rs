//! Sessions against a real `drift serve`: SSE, skip → splice, refresh, save, bad input, and
//! resuming after `kill -9`.
mod common;
use common::*;
use drift::audio::mp3_frames::split_all;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Duration;

/// Collects SSE events (name, id, data) on a thread.
fn sse(url: &str) -> mpsc::Receiver<(String, Option<u64>, Value)> {
    let (tx, rx) = mpsc::channel();
    let r = reqwest::blocking::Client::new().get(url).send().unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    std::thread::spawn(move || {
        let (mut name, mut id) = (String::new(), None);
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { return };
            if let Some(v) = line.strip_prefix("event:") {
                name = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("id:") {
                id = v.trim().parse().ok();
            } else if let Some(v) = line.strip_prefix("data:") {
                let data = serde_json::from_str(v.trim()).unwrap_or(Value::Null);
                if tx.send((name.clone(), id.take(), data)).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

fn wait_for(
    rx: &mpsc::Receiver<(String, Option<u64>, Value)>,
    name: &str,
    secs: u64,
) -> (Option<u64>, Value) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        if let Ok((n, id, v)) = rx.recv_timeout(left) {
            if n == name {
                return (id, v);
            }
        }
    }
    panic!("no {name} event within {secs} s");
}

fn create(server: &Server) -> (String, String) {
    let r = client().post(server.url("/api/sessions")).send().unwrap();
    assert_eq!(r.status(), 201);
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("HttpOnly"));
    let v: Value = r.json().unwrap();
    (
        v["fingerprint"].as_str().unwrap().into(),
        v["ownerToken"].as_str().unwrap().into(),
    )
}

#[test]
fn events_skip_refresh_and_save() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 4);
    let server = Server::start(
        &lib,
        &dir.path().join("data"),
        &["--lead", "15", "--time-scale", "2"],
    );
    let (fp, token) = create(&server);
    let events = sse(&server.url(&format!("/events/{fp}")));
    let (_, hello) = wait_for(&events, "hello", 10);
    assert_eq!(hello["fingerprint"], fp.as_str());
    assert!(hello["instanceId"].is_string());
    let (id1, hb1) = wait_for(&events, "heartbeat", 10);
    let (id2, hb2) = wait_for(&events, "heartbeat", 10);
    assert!(id2 > id1, "ids increase");
    assert!(hb2["position"].as_f64() >= hb1["position"].as_f64());
    assert!(hb2["nowPlaying"]["title"].is_string(), "{hb2}");

    // Skip without the owner token: 403; with it, a splice close to the play point.
    let skip = format!("/api/sessions/{fp}/skip");
    let r = client().post(server.url(&skip)).send().unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().unwrap()["code"], "not_owner");
    let play = get_json(&server.url(&format!("/api/sessions/{fp}"))).unwrap()["position"]
        .as_f64()
        .unwrap();
    let r = client()
        .post(server.url(&skip))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 202);
    let (_, splice) = wait_for(&events, "splice", 10);
    let at = splice["position"].as_f64().unwrap();
    assert!(
        at > play && at - play <= 1.5,
        "splice at {at:.2}, play point {play:.2}"
    );
    // The new track becomes audible at the splice (its crossfade starts there).
    let (_, track) = wait_for(&events, "track", 20);
    let start = track["position"].as_f64().unwrap();
    assert!(
        (start - at).abs() < 0.2,
        "track at {start:.2}, splice at {at:.2}"
    );

    // Save: N seconds ± one frame of valid MP3, named after the tracks.
    while wait_for(&events, "heartbeat", 10).1["position"]
        .as_f64()
        .unwrap()
        < 6.0
    {}
    let r = client()
        .get(server.url(&format!("/api/sessions/{fp}/save?seconds=5")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename="));
    let bytes = r.bytes().unwrap();
    let frames = split_all(&bytes);
    let secs = frames.len() as f64 * 1152.0 / 44_100.0;
    assert!((secs - 5.0).abs() <= 0.03, "{secs}");
    assert_eq!(
        frames.iter().map(|f| f.data.len()).sum::<usize>(),
        bytes.len()
    );

    // Refresh: `restart` on the events, and the open audio response ends.
    let mut audio = client()
        .get(server.url(&format!("/stream/{fp}")))
        .send()
        .unwrap();
    let _ = read_bytes(&mut audio, 1000, Duration::from_secs(5));
    let r = client()
        .post(server.url(&format!("/api/sessions/{fp}/refresh")))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 202);
    let (_, restart) = wait_for(&events, "restart", 10);
    assert_eq!(restart["reason"], "refresh");
    let rest = read_bytes(&mut audio, 10_000_000, Duration::from_secs(10));
    assert!(rest.len() < 10_000_000, "the stream did not end");
    // The session goes on.
    assert_eq!(
        client()
            .get(server.url(&format!("/stream/bootstrap?session={fp}")))
            .send()
            .unwrap()
            .status(),
        200
    );
}

#[test]
fn bad_input_gets_clear_4xx_json() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 2);
    let server = Server::start(&lib, &dir.path().join("data"), &[]);
    let (fp, _) = create(&server);
    let cases = [
        ("/stream/nope", 404),
        ("/stream/bootstrap?session=nope", 404),
        ("/events/nope", 404),
        ("/api/sessions/nope", 404),
        (&*format!("/stream/{fp}?from=abc"), 400),
        (&*format!("/stream/{fp}?from=-3"), 400),
        (&*format!("/stream/{fp}?from=1e9"), 400),
        (&*format!("/api/sessions/{fp}/save?seconds=0"), 400),
        (&*format!("/api/sessions/{fp}/save?seconds=99999"), 400),
        (&*format!("/api/sessions/{fp}/save?seconds=x"), 400),
        ("/listen/nope.m3u", 404),
        ("/../../etc/passwd", 404),
        ("/%2e%2e/%2e%2e/etc/passwd", 404),
        ("/no/such/page", 404),
    ];
    for (path, status) in cases {
        let r = client().get(server.url(path)).send().unwrap();
        assert_eq!(r.status().as_u16(), status, "{path}");
        let v: Value = r.json().unwrap_or_else(|_| panic!("{path}: not JSON"));
        assert!(
            v["error"].is_string() && v["code"].is_string(),
            "{path}: {v}"
        );
    }
    for path in [
        format!("/api/sessions/{fp}/skip"),
        format!("/api/sessions/{fp}/refresh"),
    ] {
        assert_eq!(
            client().post(server.url(&path)).send().unwrap().status(),
            403
        );
        let r = client()
            .post(server.url(&path))
            .bearer_auth("wrong")
            .send()
            .unwrap();
        assert_eq!(r.status(), 403);
    }
    let m3u = client()
        .get(server.url(&format!("/listen/{fp}.m3u")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(m3u.starts_with("#EXTM3U") && m3u.contains(&format!("/stream/{fp}")));
    assert!(metric(&server, "sessions") >= 1.0);
}

/// `kill -9`, restart: the same session continues within 5 s of where it was, and a client
/// resuming with `from=` the end of its buffer gets exactly the audio it would have had.
#[test]
fn resume_after_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 4);
    let mut server = Server::start(&lib, &dir.path().join("data"), &["--lead", "15"]);
    let (fp, _) = create(&server);
    let (mut r, pos) = {
        let r = client()
            .get(server.url(&format!("/stream/{fp}")))
            .send()
            .unwrap();
        let p: f64 = r.headers()["x-drift-position"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        (r, p)
    };
    // The lead arrives at once: 15 s. Keep the first 10 s as "what the player had buffered".
    let got = read_bytes(&mut r, 15 * 24_000, Duration::from_secs(10));
    let frames = split_all(&got);
    std::thread::sleep(Duration::from_millis(3500)); // at least one save
    let before = get_json(&server.url(&format!("/api/sessions/{fp}"))).unwrap();
    drop(r);
    let server2 = server.restart(false);
    let after = get_json(&server2.url(&format!("/api/sessions/{fp}"))).unwrap();
    assert_eq!(
        after["nowPlaying"]["id"], before["nowPlaying"]["id"],
        "{before} / {after}"
    );
    let drift_secs = after["position"].as_f64().unwrap() - before["position"].as_f64().unwrap();
    assert!(drift_secs.abs() <= 5.0, "moved {drift_secs:.2} s");

    let k = frames.len() * 2 / 3;
    let from = pos + k as f64 * 1152.0 / 44_100.0;
    let mut r2 = client()
        .get(server2.url(&format!("/stream/{fp}?from={from:.6}")))
        .send()
        .unwrap();
    assert_eq!(r2.status(), 200);
    let again = split_all(&read_bytes(
        &mut r2,
        (frames.len() - k) * 700,
        Duration::from_secs(20),
    ));
    let n = (frames.len() - k).min(again.len());
    assert!(n > 100);
    let snr = mp3_snr(dir.path(), &frames[k..k + n], &again[..n]);
    // The PCM is the same; a fresh LAME quantises differently for a while (noise level).
    assert!(
        snr > 25.0,
        "resumed audio differs from the original: SNR {snr:.1} dB"
    );
}

/// A session nobody listens to is parked (saved, engine stopped) and resumes where it was.
#[test]
fn idle_sessions_park_and_resume_where_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 2);
    let server = Server::start(
        &lib,
        &dir.path().join("data"),
        &["--idle-timeout", "2", "--lead", "3"],
    );
    let (fp, _) = create(&server);
    std::thread::sleep(Duration::from_millis(3500));
    let health = get_json(&server.url("/health")).unwrap();
    assert_eq!(health["sessions"], 0, "{health}");
    std::thread::sleep(Duration::from_millis(1500));
    let state = get_json(&server.url(&format!("/api/sessions/{fp}"))).unwrap();
    let pos = state["position"].as_f64().unwrap();
    // Parked after ~2 s of play; the 1.5 s spent parked did not count.
    assert!((1.5..=3.2).contains(&pos), "resumed at {pos}");
    assert_eq!(get_json(&server.url("/health")).unwrap()["sessions"], 1);
}

/// A saved session whose snapshot cannot be read (written by another Drift, or damaged) is not
/// dropped in silence: it resumes as a new stream, and `/metrics` counts it.
#[test]
fn an_unreadable_session_snapshot_starts_a_new_stream_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 3);
    let data = dir.path().join("data");
    let mut server = Server::start(&lib, &data, &[]);
    let (fp, _) = create(&server);
    server.kill();
    {
        let store = drift::store::Store::open(&data).unwrap();
        let row = store
            .load_session(&fp)
            .unwrap()
            .expect("the session was saved");
        store
            .save_session(&drift::store::SessionRow {
                snapshot: Some("{\"checkpoint\": 42".into()),
                ..row
            })
            .unwrap();
    }
    let server = server.restart(false);
    let boot = get_json(&server.url(&format!("/stream/bootstrap?session={fp}"))).unwrap();
    assert_eq!(boot["fingerprint"], fp.as_str(), "{boot}");
    assert_eq!(metric(&server, "session_snapshots_unreadable_total"), 1.0);
}
