//! Albums and journeys against a real `drift serve`: an album (tagged here with track numbers
//! out of file order) plays in order, then the drift goes on; a journey ends on its
//! destination, a steer replans it, a cancel ends it; every bad request is a JSON 4xx. Tracks
//! are got through quickly with skips.
mod common;
use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `common::call` with the method by name.
fn call(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    common::call(server, method, path, token, body)
}

/// The `track` (Some(id)) and `splice` (None) events of a session's events stream, with their
/// stream positions (s), as they come.
type Events = mpsc::Receiver<(Option<String>, f64)>;

fn events(server: &Server, fp: &str) -> Events {
    let (tx, rx) = mpsc::channel();
    let r = reqwest::blocking::Client::new()
        .get(server.url(&format!("/events/{fp}")))
        .send()
        .unwrap();
    std::thread::spawn(move || {
        let mut name = String::new();
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { return };
            if let Some(v) = line.strip_prefix("event:") {
                name = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                let v: Value = serde_json::from_str(v.trim()).unwrap();
                let pos = v["position"].as_f64().unwrap_or(0.0);
                let sent = match name.as_str() {
                    "track" => tx.send((v["track"]["id"].as_str().map(String::from), pos)),
                    "splice" => tx.send((None, pos)),
                    _ => Ok(()),
                };
                if sent.is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// Skips until `n` more tracks have started, and returns them in order. Each skip waits for
/// the track it starts to be heard, so no planned track is skipped before it plays.
fn skip_through(server: &Server, fp: &str, token: &str, events: &Events, n: usize) -> Vec<String> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while got.len() < n {
        let play = session_state(server, fp)["position"].as_f64().unwrap();
        let (status, _) = call(
            server,
            "POST",
            &format!("/api/sessions/{fp}/skip"),
            Some(token),
            "",
        );
        assert_eq!(status, 202);
        let mut splice = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (id, pos) = events
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("tracks so far: {got:?}"));
            match id {
                None if pos > play => splice = Some(pos),
                None => {}
                Some(id) => {
                    got.push(id);
                    if splice.is_some_and(|s| pos >= s - 0.2) {
                        break;
                    }
                }
            }
        }
    }
    got
}

fn ids(path: &Value) -> Vec<String> {
    path.as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

/// Tags three MP3s of the library as one album, numbered 3, 1, 2 in file order.
fn make_album(lib: &std::path::Path) {
    use lofty::config::WriteOptions;
    use lofty::file::{AudioFile, TaggedFileExt};
    use lofty::tag::Accessor;
    let mut mp3s: Vec<_> = std::fs::read_dir(lib)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "mp3"))
        .collect();
    mp3s.sort();
    for (path, number) in mp3s.iter().zip([3, 1, 2]) {
        let mut file = lofty::read_from_path(path).unwrap();
        let tag = file.primary_tag_mut().unwrap();
        tag.set_album("Road Album".into());
        tag.set_artist("Tester".into());
        tag.set_track(number);
        tag.set_disk(1);
        file.save_to_path(path, WriteOptions::default()).unwrap();
    }
}

#[test]
fn albums_and_journeys() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 8);
    make_album(&lib);
    let server = Server::start(&lib, &dir.path().join("data"), &["--lead", "6"]);
    let (fp, token) = create_session(&server);
    let events = events(&server, &fp);

    // The album listing: found by search, with its tracks and length.
    let found = get_json(&server.url("/api/albums?query=road")).unwrap();
    assert_eq!(found["total"], 1, "{found}");
    let album = &found["albums"][0];
    assert_eq!(album["title"], "Road Album");
    assert_eq!(album["artist"], "Tester");
    assert_eq!(album["tracks"], 3);
    assert!(album["duration"].as_f64().unwrap() > 30.0, "{album}");
    let album_id = album["id"].as_str().unwrap().to_string();
    let all = get_json(&server.url("/api/albums")).unwrap();
    assert!(all["total"].as_u64().unwrap() > 1, "{all}");
    let none = get_json(&server.url("/api/albums?q=zzzz")).unwrap();
    assert_eq!(none["total"], 0);
    let r = client()
        .get(server.url("/api/albums?limit=0"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);

    // Album requests that cannot be served.
    let album_path = format!("/api/sessions/{fp}/album");
    let body = json!({ "album": album_id }).to_string();
    assert_eq!(call(&server, "POST", &album_path, None, &body).0, 403);
    assert_eq!(
        call(&server, "POST", &album_path, Some("wrong"), &body).0,
        403
    );
    assert_eq!(
        call(&server, "POST", &album_path, Some(&token), "{nope").0,
        400
    );
    assert_eq!(
        call(&server, "POST", &album_path, Some(&token), "{}").0,
        400
    );
    let (status, v) = call(
        &server,
        "POST",
        &album_path,
        Some(&token),
        r#"{"album":"ffff"}"#,
    );
    assert_eq!((status, v["code"].as_str()), (404, Some("not_found")));
    let (status, _) = call(
        &server,
        "POST",
        "/api/sessions/nosuch/album",
        Some(&token),
        &body,
    );
    assert_eq!(status, 404);
    assert_eq!(
        call(&server, "DELETE", &album_path, Some(&token), "").0,
        409
    );

    // The album: next up is its first track, and it plays in track-number order.
    let (status, v) = call(&server, "POST", &album_path, Some(&token), &body);
    assert_eq!(status, 202, "{v}");
    assert_eq!(v["plan"]["kind"], "album");
    assert_eq!(v["plan"]["left"], 3);
    let order = ids(&v["plan"]["path"]);
    assert_eq!(v["next"]["id"].as_str(), Some(order[0].as_str()));
    let s = session_state(&server, &fp);
    assert_eq!(s["plan"]["album"]["title"], "Road Album");
    let played = skip_through(&server, &fp, &token, &events, 5);
    // The album may have been playing when it was asked for: its run is the last one.
    let start = played
        .windows(3)
        .rposition(|w| w == order)
        .unwrap_or_else(|| panic!("album not played in order: {played:?} {order:?}"));
    assert!(
        start <= 2,
        "the album starts after the current track: {played:?}"
    );
    let played = [played, skip_through(&server, &fp, &token, &events, 1)].concat();
    assert!(
        !order.contains(&played[start + 3]),
        "the drift goes on after the album"
    );

    // Journey requests that cannot be served.
    let journey_path = format!("/api/sessions/{fp}/journey");
    let tracks = get_json(&server.url("/api/tracks?limit=50")).unwrap();
    let current = session_state(&server, &fp)["nowPlaying"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let candidates: Vec<String> = tracks["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .filter(|id| *id != current)
        .collect();
    let dest = &candidates[0];
    let ok = json!({ "track": dest, "minutes": 1 }).to_string();
    assert_eq!(call(&server, "POST", &journey_path, None, &ok).0, 403);
    for bad in [
        json!({ "track": dest, "minutes": 0 }),
        json!({ "track": dest, "minutes": 181 }),
        json!({ "track": dest, "minutes": "ten" }),
        json!({ "track": dest }),
        json!({ "minutes": 5 }),
        json!([1, 2]),
    ] {
        let (status, v) = call(
            &server,
            "POST",
            &journey_path,
            Some(&token),
            &bad.to_string(),
        );
        assert_eq!(
            (status, v["code"].as_str()),
            (400, Some("bad_request")),
            "{bad}"
        );
    }
    let unknown = json!({ "track": "nosuchtrack", "minutes": 5 }).to_string();
    assert_eq!(
        call(&server, "POST", &journey_path, Some(&token), &unknown).0,
        404
    );
    let here = json!({ "track": current, "minutes": 5 }).to_string();
    let (status, v) = call(&server, "POST", &journey_path, Some(&token), &here);
    assert_eq!(
        (status, v["code"].as_str()),
        (409, Some("already_there")),
        "{v}"
    );
    assert_eq!(
        call(&server, "DELETE", &journey_path, Some(&token), "").0,
        409
    );
    // A banned track is no destination until it is unbanned.
    let tracks: Value = client()
        .get(server.url("/api/tracks?limit=50"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let other = tracks["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["id"].as_str())
        .find(|id| *id != current)
        .unwrap()
        .to_string();
    let ban = json!({ "track": other }).to_string();
    let ban_path = format!("/api/sessions/{fp}/ban");
    assert_eq!(call(&server, "POST", &ban_path, Some(&token), &ban).0, 200);
    let there = json!({ "track": other, "minutes": 5 }).to_string();
    let (status, v) = call(&server, "POST", &journey_path, Some(&token), &there);
    assert_eq!((status, v["code"].as_str()), (422, Some("banned")), "{v}");
    let unban = format!("/api/bans/{other}");
    assert_eq!(call(&server, "DELETE", &unban, None, "").0, 200);

    // A journey: a path ending on the destination, played in order.
    let (status, v) = call(&server, "POST", &journey_path, Some(&token), &ok);
    assert_eq!(status, 202, "{v}");
    assert_eq!(v["plan"]["kind"], "journey");
    assert_eq!(v["plan"]["destination"]["id"].as_str(), Some(dest.as_str()));
    let path = ids(&v["plan"]["path"]);
    assert_eq!(path.last(), Some(dest));
    assert_eq!(v["plan"]["left"].as_u64(), Some(path.len() as u64));
    let s = session_state(&server, &fp);
    assert_eq!(s["plan"]["kind"], "journey", "{s}");
    let played = skip_through(&server, &fp, &token, &events, path.len() + 1);
    let start = played
        .iter()
        .position(|id| *id == path[0])
        .expect("journey started");
    let arrived = played[start..]
        .iter()
        .position(|id| id == dest)
        .expect("arrived");
    assert_eq!(played[start..=start + arrived], path, "{played:?}");

    // A steer during a journey replans it to the same destination; a cancel ends it.
    let dest = candidates
        .iter()
        .find(|id| **id != session_state(&server, &fp)["nowPlaying"]["id"])
        .unwrap();
    let long = json!({ "track": dest, "minutes": 10 }).to_string();
    let (status, v) = call(&server, "POST", &journey_path, Some(&token), &long);
    assert_eq!(status, 202, "{v}");
    let now = session_state(&server, &fp)["nowPlaying"]["id"].clone();
    let other = candidates
        .iter()
        .find(|id| *id != dest && **id != now)
        .unwrap();
    let pick = json!({ "trackId": other }).to_string();
    let (status, v) = call(
        &server,
        "POST",
        &format!("/api/sessions/{fp}/next"),
        Some(&token),
        &pick,
    );
    assert_eq!(status, 202, "{v}");
    assert_eq!(v["next"]["id"].as_str(), Some(other.as_str()));
    let s = session_state(&server, &fp);
    assert_eq!(s["plan"]["kind"], "journey", "{s}");
    assert_eq!(ids(&s["plan"]["path"]).last(), Some(dest), "{s}");
    assert_eq!(
        s["plan"]["path"][0]["id"], v["next"]["id"],
        "the steered pick leads: {s}"
    );
    assert_eq!(call(&server, "DELETE", &journey_path, None, "").0, 403);
    let (status, v) = call(&server, "DELETE", &journey_path, Some(&token), "");
    assert_eq!(status, 202, "{v}");
    assert!(v["plan"].is_null() && session_state(&server, &fp)["plan"].is_null());
    assert_eq!(
        call(&server, "DELETE", &journey_path, Some(&token), "").0,
        409
    );
}
