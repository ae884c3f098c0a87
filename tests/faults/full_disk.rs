//! A data dir on a full disk (a 2 MiB tmpfs; the library lives elsewhere): the open stream goes
//! on at real time, a new session works or gets a clear JSON error, the log says once that the
//! disk is full, `/health` shows it, and once space is freed sessions are saved again.
use crate::common::*;
use crate::support::*;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmpfs mounted on a folder while it lives (unmounted on drop, also when a test fails).
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(Tmpfs {
            dir: dir.to_path_buf(),
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a server killed a moment ago may still hold files open.
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Writes into `path` until the disk refuses more.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![0x5au8; 16_384];
    while f.write_all(&block).and_then(|_| f.flush()).is_ok() {}
    let _ = f.sync_all();
}

/// Polls `/health` until `done` holds for it.
fn wait_health(server: &Server, secs: u64, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let h = get_json(&server.url("/health")).unwrap();
        if done(&h) {
            return h;
        }
        assert!(Instant::now() < deadline, "/health never got there: {h}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn create(server: &Server) -> reqwest::blocking::Response {
    client().post(server.url("/api/sessions")).send().unwrap()
}

/// The fingerprint of a session that was made.
fn created(r: reqwest::blocking::Response) -> String {
    assert_eq!(r.status(), 201);
    let body: Value = r.json().unwrap();
    body["fingerprint"].as_str().unwrap().to_string()
}

#[test]
fn a_full_disk_is_told_clearly_and_streaming_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 3);
    let data = dir.path().join("data");
    let _tmpfs = match Tmpfs::mount(&data, "2m") {
        Ok(t) => t,
        Err(why) => {
            println!("SKIPPED: cannot mount a tmpfs for the data dir ({why}); run as root");
            return;
        }
    };
    let args = [
        "--time-scale",
        "2",
        "--lead",
        "6",
        "--sessions-per-minute",
        "0",
    ];
    let (mut server, log) = Server::launch_logged(&lib, &data, "127.0.0.1:0", &args);
    server.wait_ready();
    let fp = created(create(&server));
    let listener = Recorder::open(&server.base, &fp);
    std::thread::sleep(Duration::from_secs(1));

    let filler = data.join("filler");
    fill(&filler);
    let (t0, had) = (Instant::now(), listener.received());
    // The next save fails: /health says why.
    let health = wait_health(&server, 15, |h| h["storage"]["status"] != "ok");
    let storage = &health["storage"];
    assert_eq!(storage["status"], "full", "{health}");
    assert!(
        storage["error"].as_str().unwrap().contains("disk is full"),
        "{health}"
    );
    // A new session works, or is refused clearly.
    let r = create(&server);
    if r.status() != 201 {
        assert_eq!(r.status(), 507);
        let body: Value = r.json().unwrap();
        assert_eq!(body["code"], "disk_full", "{body}");
        assert!(body["error"].as_str().unwrap().contains("disk is full"));
    }
    // The open stream goes on: the lead was sent before the disk filled, so what arrives now
    // is rendered now, at the clock's pace (192 kbps at 2×: 48 kB per second; a third of it
    // is asked for, so a loaded machine does not fail the test).
    std::thread::sleep(Duration::from_secs(8).saturating_sub(t0.elapsed()));
    let rate = (listener.received() - had) as f64 / t0.elapsed().as_secs_f64();
    assert!(rate > 16_000.0, "{rate:.0} bytes/s on a full disk");
    // Told once, not at every save (every 1.5 s here).
    let told = log.lock().unwrap().matches("disk is full").count();
    assert!((1..=2).contains(&told), "the log says it {told} times");

    std::fs::remove_file(&filler).unwrap();
    wait_health(&server, 15, |h| h["storage"]["status"] == "ok");
    assert!(log.lock().unwrap().contains("saving resumed"));
    let fp2 = created(create(&server));
    // The playing session is saved again: its next persist (every 1.5 s here) is kept.
    let state = get_json(&server.url(&format!("/api/sessions/{fp}"))).unwrap();
    let playing = state["position"].as_f64().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    server.kill();
    let frames = listener.finish();
    assert!(frames.len() > 400, "{} frames", frames.len());
    let store = check_store(&data);
    let saved = store.sessions[&fp].as_ref().expect("a snapshot");
    assert!(
        saved.play_pos.secs() >= playing,
        "saved at {:.2}, played {playing:.2} before",
        saved.play_pos.secs()
    );
    assert!(store.sessions.contains_key(&fp2), "the session made after");
}
