//! Love and ban against a real `drift serve` on a generated library: love and its counts, a
//! ban that skips the current track and keeps it out of the stream (and out of a later
//! `drift render` of the same library), the undo list and unban, play and skip counts in the
//! track JSON, no `next` of a banned track, a ban just before a `kill -9` that holds after the restart, and every bad
//! request answered with a JSON 4xx.
mod common;
use common::*;
use serde_json::{json, Value};
use std::process::Command;
use std::time::{Duration, Instant};

fn send(server: &Server, method: &str, path: &str, tok: Option<&str>, body: &str) -> (u16, Value) {
    call(server, method.parse().unwrap(), path, tok, body)
}

/// Every track of the library as `/api/tracks` shows it.
fn tracks(server: &Server) -> Vec<Value> {
    let v = get_json(&server.url("/api/tracks?limit=500")).unwrap();
    v["tracks"].as_array().unwrap().clone()
}

fn track(server: &Server, id: &Value) -> Value {
    tracks(server).into_iter().find(|t| &t["id"] == id).unwrap()
}

/// Waits (at most 20 s) until `f` holds for the session's state; returns that state.
fn wait_for(server: &Server, fp: &str, what: &str, f: impl Fn(&Value) -> bool) -> Value {
    poll_until(20, what, || session_state(server, fp), f)
}

#[test]
fn love_ban_unban_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 6);
    let data = dir.path().join("data");
    let mut server = Server::start(&lib, &data, &["--lead", "6", "--time-scale", "6"]);
    let (fp, token) = create_session(&server);
    let s = wait_for(&server, &fp, "playing", |s| {
        s["nowPlaying"]["id"].is_string()
    });
    let first = s["nowPlaying"]["id"].clone();
    assert!(s["nowPlaying"]["marks"]["plays"].as_u64().is_some(), "{s}");

    // Love (the current track by default; `loved: false` takes it back, counted once).
    let love = format!("/api/sessions/{fp}/love");
    let body = json!({ "track": first }).to_string();
    let (status, v) = send(&server, "POST", &love, Some(&token), &body);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["track"]["marks"]["loved"], true, "{v}");
    let (_, v) = send(
        &server,
        "POST",
        &love,
        Some(&token),
        &json!({ "track": first, "loved": false }).to_string(),
    );
    assert_eq!(v["track"]["marks"]["loved"], false, "{v}");
    let (_, v) = send(&server, "POST", &love, Some(&token), &body);
    let marks = &track(&server, &first)["marks"];
    assert_eq!(marks["loved"], true, "{marks}");
    assert_eq!(marks["loves"], 2, "{marks}");
    assert_eq!(v["track"]["marks"], *marks);

    // Skip (owner): the skipped track counts a skip; plays are counted as tracks start.
    let (status, _) = send(
        &server,
        "POST",
        &format!("/api/sessions/{fp}/skip"),
        Some(&token),
        "",
    );
    assert_eq!(status, 202);
    wait_for(&server, &fp, "past the first track", |s| {
        s["nowPlaying"]["id"] != first
    });
    assert_eq!(track(&server, &first)["marks"]["skips"], 1);
    assert!(track(&server, &first)["marks"]["plays"].as_u64().unwrap() >= 1);

    // Ban the current track (no body): it is skipped and never comes back.
    let s = session_state(&server, &fp);
    let (status, v) = send(
        &server,
        "POST",
        &format!("/api/sessions/{fp}/ban"),
        Some(&token),
        "",
    );
    assert_eq!(status, 200, "{v}");
    let banned = v["track"]["id"].clone();
    let banned_at = s["position"].as_f64().unwrap();
    assert_eq!(v["track"]["marks"]["banned"], true);
    assert!(v["bannedAt"].as_i64().unwrap() > 1_600_000_000_000);
    let bans = get_json(&server.url("/api/bans")).unwrap();
    assert_eq!(bans["bans"][0]["id"], banned, "{bans}");
    assert!(bans["bans"][0]["title"].is_string());
    wait_for(&server, &fp, "off the banned track", |s| {
        s["nowPlaying"]["id"] != banned
    });
    // Asking for it by name is refused while it is banned.
    let body = json!({ "trackId": banned }).to_string();
    let next = format!("/api/sessions/{fp}/next");
    let (status, v) = send(&server, "POST", &next, Some(&token), &body);
    assert_eq!((status, v["code"].as_str()), (422, Some("banned")), "{v}");
    // Ten more tracks (the library has six): the banned one is never among them.
    let after = |s: &Value| -> Vec<Value> {
        s["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["position"].as_f64().unwrap() > banned_at + 1.0)
            .map(|h| h["id"].clone())
            .collect()
    };
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < 10 {
        let s = session_state(&server, &fp);
        seen = after(&s);
        assert!(
            !seen.contains(&banned),
            "the banned track played again: {s}"
        );
        assert_ne!(s["nowPlaying"]["id"], banned, "{s}");
        assert_ne!(s["next"]["id"], banned, "{s}");
        assert!(
            Instant::now() < deadline,
            "only {} tracks since the ban",
            seen.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let plays: u64 = tracks(&server)
        .iter()
        .map(|t| t["marks"]["plays"].as_u64().unwrap())
        .sum();
    assert!(plays >= 11, "{plays} plays counted");

    // A render of the same library, after a restart of nothing but the store: still banned.
    let name = {
        let t = track(&server, &banned);
        format!(
            "{} - {}",
            t["artist"].as_str().unwrap(),
            t["title"].as_str().unwrap()
        )
    };
    server.kill();
    let out = Command::new(env!("CARGO_BIN_EXE_drift"))
        .args(["render", "--seconds", "240", "--encoder-quality", "9"])
        .arg("--library")
        .arg(&lib)
        .arg("--data-dir")
        .arg(&data)
        .arg("--output")
        .arg(dir.path().join("mix.mp3"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(list.lines().count() > 10, "{list}");
    assert!(
        !list.contains(&name),
        "the banned track is in the render:\n{list}"
    );

    // Unban (after a restart: the ban was stored), then it is gone from the undo list.
    let server = Server::start(&lib, &data, &["--lead", "6"]);
    let bans = get_json(&server.url("/api/bans")).unwrap();
    assert_eq!(bans["bans"][0]["id"], banned, "{bans}");
    let path = format!("/api/bans/{}", banned.as_str().unwrap());
    let (status, v) = send(&server, "DELETE", &path, None, "");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["track"]["marks"]["banned"], false);
    let bans = get_json(&server.url("/api/bans")).unwrap();
    assert_eq!(bans["bans"], json!([]));
    assert_eq!(
        track(&server, &first)["marks"]["loves"],
        2,
        "counts survive a restart"
    );
    let (status, v) = send(&server, "DELETE", &path, None, "");
    assert_eq!((status, v["code"].as_str()), (404, Some("not_found")));
}

#[test]
fn love_and_ban_need_the_owner_and_good_input() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 3);
    let server = Server::start(&lib, &dir.path().join("data"), &[]);
    let (fp, token) = create_session(&server);
    let love = format!("/api/sessions/{fp}/love");
    let ban = format!("/api/sessions/{fp}/ban");
    let unknown = json!({ "track": "0123abcd" }).to_string();
    /// Method, path, owner token, body, status and error code wanted.
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, String, u16, &'a str);
    let cases: Vec<Case> = vec![
        ("POST", &love, None, String::new(), 403, "not_owner"),
        ("POST", &ban, None, String::new(), 403, "not_owner"),
        (
            "POST",
            &ban,
            Some("wrong-token"),
            String::new(),
            403,
            "not_owner",
        ),
        (
            "POST",
            &love,
            Some(&token),
            "{not json".into(),
            400,
            "bad_request",
        ),
        (
            "POST",
            &ban,
            Some(&token),
            "[1, 2]".into(),
            400,
            "bad_request",
        ),
        (
            "POST",
            &love,
            Some(&token),
            json!({ "loved": "yes" }).to_string(),
            400,
            "bad_request",
        ),
        (
            "POST",
            &love,
            Some(&token),
            json!({ "colour": "red" }).to_string(),
            400,
            "bad_request",
        ),
        (
            "POST",
            &ban,
            Some(&token),
            json!({ "loved": true }).to_string(),
            400,
            "bad_request",
        ),
        (
            "POST",
            &love,
            Some(&token),
            unknown.clone(),
            404,
            "not_found",
        ),
        (
            "POST",
            &ban,
            Some(&token),
            unknown.clone(),
            404,
            "not_found",
        ),
        (
            "POST",
            "/api/sessions/nosuchsession/ban",
            Some(&token),
            String::new(),
            404,
            "not_found",
        ),
        (
            "DELETE",
            "/api/bans/0123abcd",
            None,
            String::new(),
            404,
            "not_found",
        ),
    ];
    for (method, path, tok, body, want, code) in cases {
        let (status, v) = send(&server, method, path, tok, &body);
        assert_eq!(status, want, "{method} {path} {body}: {v}");
        assert_eq!(v["code"], code, "{method} {path} {body}: {v}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
    }
    // Nothing above changed a mark.
    assert_eq!(
        get_json(&server.url("/api/bans")).unwrap()["bans"],
        json!([])
    );
    for t in tracks(&server) {
        assert_eq!(t["marks"]["loved"], false, "{t}");
    }
}

#[test]
fn a_ban_just_before_a_kill_9_holds_after_the_restart() {
    // Banned on the session's first frame (the track is still ahead of the play point), and
    // in the middle of a track whose last snapshot is seconds old.
    for at in [0.0, 8.0] {
        ban_then_kill(at);
    }
}

/// Bans the track playing at `at` s and kills the server at once (its last snapshot was
/// taken before the ban), then checks the restarted session never plays it again.
fn ban_then_kill(at: f64) {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 6);
    let data = dir.path().join("data");
    let mut server = Server::start(&lib, &data, &["--lead", "6", "--time-scale", "4"]);
    let (fp, token) = create_session(&server);
    wait_for(&server, &fp, "playing", |s| {
        s["nowPlaying"]["id"].is_string() && s["position"].as_f64().unwrap() >= at
    });
    let path = format!("/api/sessions/{fp}/ban");
    let (status, v) = send(&server, "POST", &path, Some(&token), "");
    assert_eq!(status, 200, "{v}");
    let banned = v["track"]["id"].clone();
    let server = server.restart(true);
    // A player reconnects: the session's engine runs again from its snapshot.
    let mut player = client()
        .get(server.url(&format!("/stream/{fp}")))
        .send()
        .unwrap();
    assert_eq!(player.status(), 200);
    std::thread::spawn(
        move || {
            while !read_bytes(&mut player, 4096, Duration::from_secs(1)).is_empty() {}
        },
    );
    let s = wait_for(&server, &fp, "restored", |s| {
        s["nowPlaying"]["id"].is_string()
    });
    let restored_at = s["position"].as_f64().unwrap();
    // From the restored play point on, the banned track sounds at most a skip's crossfade
    // and a splice margin longer, is never next, and never comes back.
    let deadline = Instant::now() + Duration::from_secs(8);
    while Instant::now() < deadline {
        let s = session_state(&server, &fp);
        let pos = s["position"].as_f64().unwrap();
        if s["nowPlaying"]["id"] == banned {
            assert!(
                pos < restored_at + 3.0,
                "banned at {at}: still playing at {pos}: {s}"
            );
        }
        assert_ne!(s["next"]["id"], banned, "{s}");
        let again = s["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["id"] == banned && h["position"].as_f64().unwrap() > restored_at + 0.5);
        assert!(
            !again,
            "banned at {at}: it started again after the restart: {s}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let bans = get_json(&server.url("/api/bans")).unwrap();
    assert_eq!(bans["bans"][0]["id"], banned, "{bans}");
}
