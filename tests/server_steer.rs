//! Steering against a real `drift serve` on a generated library: directions with previews,
//! steer and next (owner only) changing the planned next track at once, no banned track
//! offered, the library search with analysed features, and every bad request answered with a JSON 4xx.
mod common;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn post(server: &Server, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    call(server, reqwest::Method::POST, path, token, body)
}

/// The library's tracks with their features, by id.
fn tracks(server: &Server) -> Vec<Value> {
    let v = get_json(&server.url("/api/tracks?limit=500")).unwrap();
    v["tracks"].as_array().unwrap().clone()
}

fn bpm(all: &[Value], id: &Value) -> f64 {
    all.iter().find(|t| &t["id"] == id).unwrap()["features"]["bpm"]
        .as_f64()
        .unwrap()
}

#[test]
fn directions_steer_next_and_search() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 8);
    let server = Server::start(&lib, &dir.path().join("data"), &["--lead", "6"]);
    let (fp, token) = create_session(&server);

    // Search: every track with its tags, file and features.
    let all = tracks(&server);
    assert_eq!(all.len(), 8);
    for t in &all {
        assert!(t["file"].as_str().unwrap().len() > 3, "{t}");
        let f = &t["features"];
        assert!(f["bpm"].as_f64().unwrap() >= 60.0, "{t}");
        assert!(f["centroidHz"].as_f64().unwrap() > 0.0, "{t}");
        assert!(f["keyName"].as_str().is_some(), "{t}");
    }
    let first = &all[0];
    let word = first["title"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let found = get_json(&server.url(&format!("/api/tracks?query={word}"))).unwrap();
    assert!(found["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == first["id"]));
    let none = get_json(&server.url("/api/tracks?query=zzzz-no-such-track")).unwrap();
    assert_eq!(none["total"], 0);

    // Directions from the current track: each with previews that go that way.
    let d = get_json(&server.url(&format!("/api/sessions/{fp}/directions"))).unwrap();
    let current = d["current"]["id"].clone();
    assert!(current.is_string(), "{d}");
    let dirs = d["directions"].as_array().unwrap();
    assert!(!dirs.is_empty(), "{d}");
    for dir in dirs {
        let preview = dir["preview"].as_array().unwrap();
        assert!(
            !preview.is_empty(),
            "a direction without candidates was offered: {dir}"
        );
        for p in preview {
            assert_ne!(p["id"], current);
            match dir["name"].as_str().unwrap() {
                "faster" => assert!(bpm(&all, &p["id"]) > bpm(&all, &current)),
                "slower" => assert!(bpm(&all, &p["id"]) < bpm(&all, &current)),
                _ => {}
            }
        }
    }

    // A banned track is offered in no direction any more (the walk would never play it).
    let shown = dirs[0]["preview"][0]["id"].clone();
    let ban = format!("/api/sessions/{fp}/ban");
    let body = json!({ "track": shown }).to_string();
    assert_eq!(post(&server, &ban, Some(&token), &body).0, 200);
    let d = get_json(&server.url(&format!("/api/sessions/{fp}/directions"))).unwrap();
    let previews = d["directions"].as_array().unwrap().iter();
    let mut offered = previews.flat_map(|dir| dir["preview"].as_array().unwrap().iter());
    assert!(
        !offered.any(|p| p["id"] == shown),
        "banned {shown} offered: {d}"
    );
    let (status, _) = call(
        &server,
        reqwest::Method::DELETE,
        &format!("/api/bans/{}", shown.as_str().unwrap()),
        None,
        "",
    );
    assert_eq!(status, 200);

    // Steer (owner): the answer names the new next track, which goes that way.
    let name = dirs[0]["name"].as_str().unwrap();
    let (status, v) = post(
        &server,
        &format!("/api/sessions/{fp}/steer"),
        Some(&token),
        &json!({ "direction": name }).to_string(),
    );
    assert_eq!(status, 202, "{v}");
    assert!(v["next"]["id"].is_string(), "{v}");
    if name == "faster" {
        assert!(bpm(&all, &v["next"]["id"]) > bpm(&all, &current));
    }

    // Next (owner): the chosen track becomes next up, and the session says so.
    let pick = all
        .iter()
        .map(|t| t["id"].clone())
        .find(|id| *id != current && *id != v["next"]["id"])
        .unwrap();
    let (status, v) = post(
        &server,
        &format!("/api/sessions/{fp}/next"),
        Some(&token),
        &json!({ "trackId": pick }).to_string(),
    );
    assert_eq!(status, 202, "{v}");
    assert_eq!(v["next"]["id"], pick);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = get_json(&server.url(&format!("/api/sessions/{fp}"))).unwrap();
        if s["next"]["id"] == pick {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "next up never became {pick}: {s}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn steering_needs_the_owner_and_good_input() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 3);
    let server = Server::start(&lib, &dir.path().join("data"), &[]);
    let (fp, token) = create_session(&server);
    let steer = format!("/api/sessions/{fp}/steer");
    let next = format!("/api/sessions/{fp}/next");
    let body = json!({ "direction": "faster" }).to_string();
    let cases: Vec<(&str, Option<&str>, String, u16, &str)> = vec![
        (&steer, None, body.clone(), 403, "not_owner"),
        (&steer, Some("wrong-token"), body.clone(), 403, "not_owner"),
        (&steer, Some(&token), "{not json".into(), 400, "bad_request"),
        (
            &steer,
            Some(&token),
            json!({ "direction": "sideways" }).to_string(),
            400,
            "bad_request",
        ),
        (&steer, Some(&token), "{}".into(), 400, "bad_request"),
        (
            &next,
            None,
            json!({ "trackId": "abc" }).to_string(),
            403,
            "not_owner",
        ),
        (&next, Some(&token), "{}".into(), 400, "bad_request"),
        (
            &next,
            Some(&token),
            json!({ "trackId": "0123abcd" }).to_string(),
            404,
            "not_found",
        ),
        (
            "/api/sessions/nosuchsession/steer",
            Some(&token),
            body.clone(),
            404,
            "not_found",
        ),
    ];
    for (path, tok, body, want, code) in cases {
        let (status, v) = post(&server, path, tok, &body);
        assert_eq!(status, want, "{path} {body}: {v}");
        assert_eq!(v["code"], code, "{path} {body}: {v}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
    }
    for bad in ["limit=0", "limit=abc", "limit=100000"] {
        let r = client()
            .get(server.url(&format!("/api/tracks?{bad}")))
            .send()
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
    let r = client()
        .get(server.url("/api/sessions/nosuchsession/directions"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = client()
        .get(server.url("/api/tracks/nosuchtrack/cover"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
}
