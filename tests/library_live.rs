//! The library while `drift serve` runs: music starts during a first scan and the catalog grows
//! under it; files added, renamed and removed on disk are picked up without a restart.
mod common;

use common::{client, get_json, poll_until, read_bytes, write_tone, Server};
use std::time::{Duration, Instant};

fn library_status(server: &Server) -> serde_json::Value {
    get_json(&server.url("/api/library")).unwrap()
}

/// Polls `/api/library` until `done` holds for it, or panics after `secs`.
fn wait_for(server: &Server, secs: u64, what: &str, done: impl Fn(&serde_json::Value) -> bool) {
    poll_until(secs, what, || library_status(server), done);
}

fn titles(server: &Server) -> Vec<String> {
    let v = get_json(&server.url("/api/tracks?limit=500")).unwrap();
    let mut t: Vec<String> = v["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_string())
        .collect();
    t.sort();
    t
}

#[test]
fn music_starts_while_the_first_scan_runs_and_the_catalog_grows() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("music");
    std::fs::create_dir_all(&lib).unwrap();
    let files = 40;
    for i in 0..files {
        write_tone(
            &lib.join(format!("tone {i:02}.wav")),
            20.0,
            110.0 + 15.0 * i as f64,
        );
    }
    // One analysis thread, so the scan lasts several seconds on any machine.
    let server = Server::launch(
        &lib,
        &dir.path().join("data"),
        "127.0.0.1:0",
        &["--scan-threads", "1"],
    );
    // Before anything can play the station says so, with the library's progress.
    let early = client()
        .get(server.url("/stream/bootstrap"))
        .send()
        .unwrap();
    if early.status() == 503 {
        assert!(early.headers().contains_key("retry-after"));
        let body: serde_json::Value = early.json().unwrap();
        assert_eq!(body["code"], "preparing", "{body}");
        assert!(body["library"]["known"].is_u64(), "{body}");
    }

    let mut seen_tracks = Vec::new();
    let started = Instant::now();
    let first_audio = loop {
        let status = library_status(&server);
        seen_tracks.push(status["tracks"].as_u64().unwrap());
        if status["tracks"].as_u64().unwrap() > 0 {
            let mut r = client().get(server.url("/stream/default")).send().unwrap();
            assert_eq!(r.status(), 200);
            let bytes = read_bytes(&mut r, 4096, Duration::from_secs(10));
            assert_eq!(bytes.len(), 4096, "audio flows");
            break library_status(&server);
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no track ever");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        first_audio["pending"].as_u64().unwrap() > 0 && first_audio["scanning"] == true,
        "the first audio byte came only after the analysis ended: {first_audio}"
    );
    assert_eq!(first_audio["known"], files, "every file is known at once");

    // The catalog keeps growing in steps while the scan goes on; the first pass has read
    // every file's stated length, so the music still to analyse is known in seconds.
    let mut pending_music: f64 = 0.0;
    loop {
        let status = library_status(&server);
        seen_tracks.push(status["tracks"].as_u64().unwrap());
        pending_music = pending_music.max(status["pendingSeconds"].as_f64().unwrap());
        if status["scanning"] == false && status["scans"].as_u64().unwrap() > 0 {
            assert_eq!(status["tracks"], files, "{status}");
            assert_eq!(status["analysed"], files, "{status}");
            assert_eq!(status["pending"], 0, "{status}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(180), "{status}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        pending_music > 20.0 && pending_music <= files as f64 * 20.0 + 1.0,
        "music still to analyse, from the headers: {pending_music} s"
    );
    seen_tracks.dedup();
    assert!(
        seen_tracks.len() >= 4 && seen_tracks.windows(2).all(|w| w[0] < w[1]),
        "the catalog should grow batch by batch: {seen_tracks:?}"
    );
    let health = get_json(&server.url("/health")).unwrap();
    assert_eq!(health["tracks"], files);
    assert_eq!(health["scanComplete"], true);
    assert_eq!(health["library"]["analysed"], files);
}

#[test]
fn files_added_renamed_and_removed_are_picked_up_while_serving() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("music");
    std::fs::create_dir_all(lib.join("album")).unwrap();
    write_tone(&lib.join("first.wav"), 3.0, 220.0);
    write_tone(&lib.join("album/second.wav"), 3.0, 330.0);
    write_tone(&lib.join("album/third.wav"), 3.0, 440.0);
    let server = Server::start(&lib, &dir.path().join("data"), &[]);
    assert_eq!(titles(&server), ["first", "second", "third"]);

    // Added: a new file, and a new folder with one inside.
    write_tone(&lib.join("album/fourth.wav"), 3.0, 550.0);
    std::fs::create_dir_all(lib.join("later")).unwrap();
    write_tone(&lib.join("later/fifth.wav"), 3.0, 660.0);
    wait_for(&server, 30, "added files", |s| s["tracks"] == 5);
    assert_eq!(
        titles(&server),
        ["fifth", "first", "fourth", "second", "third"]
    );

    // Renamed: the same track (no new analysis), under its new name.
    let before = library_status(&server)["analysed"].as_u64().unwrap();
    std::fs::rename(lib.join("first.wav"), lib.join("album/renamed.wav")).unwrap();
    wait_for(&server, 30, "a rename", |_| {
        titles(&server).contains(&"renamed".to_string())
    });
    assert_eq!(
        titles(&server),
        ["fifth", "fourth", "renamed", "second", "third"]
    );
    assert_eq!(library_status(&server)["analysed"], before);

    // Removed: a file, and a whole folder.
    std::fs::remove_file(lib.join("album/second.wav")).unwrap();
    std::fs::remove_dir_all(lib.join("later")).unwrap();
    wait_for(&server, 30, "removed files", |s| {
        s["tracks"] == 3 && s["known"] == 3
    });
    assert_eq!(titles(&server), ["fourth", "renamed", "third"]);

    // A file that cannot play is reported, not ignored.
    std::fs::write(lib.join("broken.mp3"), "not audio at all\n".repeat(100)).unwrap();
    wait_for(&server, 30, "a broken file", |s| s["failed"] == 1);
    assert_eq!(library_status(&server)["tracks"], 3);
}
