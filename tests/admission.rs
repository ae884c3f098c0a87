//! Admission control against a real `drift serve`: the station's limit on sessions rendering
//! at once (`503 full`, a parked session frees its place, the default session always plays),
//! the per-client limit on creating sessions (`429`), and a flood at three times the limit
//! during which every admitted session keeps streaming at real time and its owner's controls
//! answer.
mod common;
use common::*;
use reqwest::blocking::{Client, Response};
use serde_json::Value;
use std::io::Read;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Bytes per second of the 192 kbps stream.
const BYTES_PER_SEC: f64 = 192_000.0 / 8.0;

/// A client whose requests come from `from` (any 127.0.0.0/8 address reaches the server on
/// 127.0.0.1), so one test can play several clients.
fn client_from(from: &str, timeout_secs: u64) -> Client {
    Client::builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(timeout_secs))
        .build()
        .unwrap()
}

fn post_create(c: &Client, server: &Server) -> Response {
    c.post(server.url("/api/sessions")).send().unwrap()
}

/// Creates a session; its fingerprint and owner token.
fn create(c: &Client, server: &Server) -> (String, String) {
    let r = post_create(c, server);
    assert_eq!(r.status(), 201);
    let v: Value = r.json().unwrap();
    (
        v["fingerprint"].as_str().unwrap().into(),
        v["ownerToken"].as_str().unwrap().into(),
    )
}

/// Opens the session's stream and reads its first bytes, so it counts as listened to.
fn listen(server: &Server, fp: &str) -> Response {
    let mut r = client()
        .get(server.url(&format!("/stream/{fp}")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(!read_bytes(&mut r, 4096, Duration::from_secs(10)).is_empty());
    r
}

/// A refusal: the status, the JSON `code`, and `Retry-After` in the header and the body alike.
fn refused(r: Response, status: u16, code: &str) -> (u64, Value) {
    assert_eq!(r.status(), status);
    let after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After is whole seconds");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let v: Value = r.json().unwrap();
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["retryAfter"].as_u64(), Some(after));
    assert!(after >= 1);
    (after, v)
}

#[test]
fn a_full_station_refuses_new_sessions_until_one_parks() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 4);
    let server = Server::start(
        &lib,
        &dir.path().join("data"),
        &["--max-sessions", "3", "--idle-timeout", "1", "--lead", "4"],
    );
    let c = client();
    let sessions: Vec<(String, String)> = (0..3).map(|_| create(&c, &server)).collect();
    let mut listeners: Vec<Option<Response>> = sessions
        .iter()
        .map(|(fp, _)| Some(listen(&server, fp)))
        .collect();

    let (after, body) = refused(post_create(&c, &server), 503, "full");
    assert_eq!(after, 60);
    assert_eq!(
        body["error"],
        "The station is full: 3 sessions are playing. Try again in a minute."
    );
    assert_eq!(body["playing"], 3);
    // A session already playing is never refused.
    let fp1 = &sessions[1].0;
    let r = c
        .get(server.url(&format!("/api/sessions/{fp1}")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);

    // The first session's last listener leaves: its engine parks and frees the place.
    listeners[0] = None;
    let started = Instant::now();
    let (new_fp, _) = loop {
        let r = post_create(&c, &server);
        if r.status() == 201 {
            let v: Value = r.json().unwrap();
            break (v["fingerprint"].as_str().unwrap().to_string(), ());
        }
        refused(r, 503, "full");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "a parked session never freed its place"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let _new_listener = listen(&server, &new_fp);

    // The parked session is full again for now: resuming it renders, so it needs a place.
    let fp0 = &sessions[0].0;
    for path in [
        format!("/api/sessions/{fp0}"),
        format!("/stream/{fp0}"),
        format!("/events/{fp0}"),
    ] {
        refused(c.get(server.url(&path)).send().unwrap(), 503, "full");
    }
    // The station's own channel (plain players, `/stream/default`) always plays.
    let r = c.get(server.url("/stream/bootstrap")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(metric(&server, "sessions_refused_full_total") >= 4.0);
    assert_eq!(metric(&server, "sessions_rate_limited_total"), 0.0);
}

#[test]
fn a_client_that_creates_too_fast_is_told_to_slow_down() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 4);
    let server = Server::start(
        &lib,
        &dir.path().join("data"),
        &["--sessions-per-minute", "2"],
    );
    let one = client_from("127.0.0.1", 10);
    create(&one, &server);
    create(&one, &server);
    let (after, body) = refused(post_create(&one, &server), 429, "rate_limited");
    assert!((1..=30).contains(&after), "one more each 30 s: {after}");
    assert_eq!(
        body["error"],
        format!("Too many new sessions from this address: try again in {after} s.")
    );
    // Another address has its own allowance, and listening is not limited.
    let (fp, _) = create(&client_from("127.0.0.2", 10), &server);
    let r = one
        .get(server.url(&format!("/api/sessions/{fp}")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(metric(&server, "sessions_rate_limited_total"), 1.0);
}

/// Reads a stream until `until`, noting (when, bytes so far) after each read.
fn follow(mut r: Response, until: Instant) -> Vec<(Instant, usize)> {
    let mut seen = vec![(Instant::now(), 0)];
    let mut buf = vec![0u8; 65_536];
    let mut total = 0;
    while Instant::now() < until {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                total += n;
                seen.push((Instant::now(), total));
            }
        }
    }
    seen
}

/// Audio seconds received per second, from `settle` after the stream opened (by then the
/// burst of the lead is in) to the end: 1.0 for a session that keeps up with real time.
fn realtime_rate(seen: &[(Instant, usize)], settle: Duration) -> f64 {
    let opened = seen[0].0;
    let start = seen
        .iter()
        .find(|(t, _)| *t >= opened + settle)
        .expect("the stream went on past its lead");
    let end = seen.last().unwrap();
    let secs = end.0.duration_since(start.0).as_secs_f64();
    (end.1 - start.1) as f64 / BYTES_PER_SEC / secs
}

#[test]
fn a_flood_at_three_times_the_limit_leaves_admitted_sessions_playing() {
    const LIMIT: usize = 4;
    const FLOOD: Duration = Duration::from_secs(15);
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 6);
    let server = Server::start(
        &lib,
        &dir.path().join("data"),
        &[
            "--max-sessions",
            &LIMIT.to_string(),
            "--lead",
            "4",
            "--sessions-per-minute",
            "6",
        ],
    );
    // The owner's session, playing before the flood.
    let owner = client_from("127.0.0.1", 5);
    let (fp, token) = create(&owner, &server);
    let before = Instant::now();
    let stream = client_from("127.0.0.1", 120)
        .get(server.url(&format!("/stream/{fp}")))
        .send()
        .unwrap();
    let underruns = metric(&server, "engine_underruns_total");
    let end = before + Duration::from_secs(2) + FLOOD;
    let owner_listener = std::thread::spawn(move || follow(stream, end));
    std::thread::sleep(Duration::from_secs(2));

    // Three times the limit, each from its own address: create, and listen when admitted.
    let flood: Vec<_> = (0..3 * LIMIT)
        .map(|i| {
            let base = server.base.clone();
            std::thread::spawn(move || {
                let from = format!("127.0.0.{}", 10 + i);
                let c = client_from(&from, 10);
                let mut answers = Vec::new();
                while Instant::now() < end {
                    let r = c.post(format!("{base}/api/sessions")).send();
                    let r = r.expect("every request is answered");
                    let status = r.status().as_u16();
                    let has_retry = r.headers().contains_key("retry-after");
                    let v: Value = r.json().expect("every answer is JSON");
                    answers.push((
                        status,
                        v["code"].as_str().unwrap_or("").to_string(),
                        has_retry,
                    ));
                    if status == 201 {
                        let fp = v["fingerprint"].as_str().unwrap();
                        let s = client_from(&from, 120)
                            .get(format!("{base}/stream/{fp}"))
                            .send()
                            .unwrap();
                        return (answers, Some(follow(s, end)));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                (answers, None)
            })
        })
        .collect();

    // The owner's controls answer all through the flood.
    let mut skips = 0;
    while Instant::now() + Duration::from_secs(3) < end {
        std::thread::sleep(Duration::from_secs(2));
        let r = owner
            .post(server.url(&format!("/api/sessions/{fp}/skip")))
            .bearer_auth(&token)
            .send()
            .expect("the owner's skip answers within seconds");
        assert_eq!(r.status(), 202);
        skips += 1;
        assert!(metric(&server, "sessions") <= LIMIT as f64);
    }
    assert!(skips >= 4);

    let mut admitted = Vec::new();
    let (mut full, mut limited) = (0, 0);
    for t in flood {
        let (answers, listened) = t.join().unwrap();
        for (status, code, has_retry) in answers {
            match status {
                201 => {}
                503 => {
                    assert_eq!(code, "full");
                    full += 1;
                }
                429 => {
                    assert_eq!(code, "rate_limited");
                    limited += 1;
                }
                other => panic!("a flood request got {other} ({code})"),
            }
            assert!(status == 201 || has_retry, "a refusal says when to retry");
        }
        admitted.extend(listened);
    }
    assert_eq!(
        admitted.len(),
        LIMIT - 1,
        "the places left after the owner's"
    );
    assert!(
        full > 3 * LIMIT,
        "the flood was refused: {full} × 503, {limited} × 429"
    );

    let owner_seen = owner_listener.join().unwrap();
    let rates: Vec<f64> = admitted
        .iter()
        .chain([&owner_seen])
        .map(|seen| realtime_rate(seen, Duration::from_millis(1500)))
        .collect();
    eprintln!("flood: {full} × 503, {limited} × 429, {skips} skips; stream rates {rates:.2?}");
    for rate in rates {
        assert!(rate >= 0.9, "a session fell behind real time: {rate:.2}×");
    }
    // No engine fell behind its play point once it had caught up with it.
    assert_eq!(
        metric(&server, "engine_underruns_total"),
        underruns,
        "an engine fell behind its play point"
    );
}
