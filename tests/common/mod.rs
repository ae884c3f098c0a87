//! Test support: a generated library and a real `drift serve` on 127.0.0.1:0.
#![allow(dead_code)]
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A small demo library (short tracks) in `dir`, generated once per test binary and copied.
pub fn library(dir: &Path, tracks: usize) -> PathBuf {
    let lib = dir.join("music");
    let opts = drift::library::demo::DemoOptions {
        tracks,
        seed: 7,
        min_secs: 12.0,
        max_secs: 18.0,
    };
    drift::library::demo::write_demo_library(&lib, &opts).expect("demo library");
    lib
}

pub struct Server {
    pub child: Child,
    pub base: String,
    pub data_dir: PathBuf,
    pub library: PathBuf,
    args: Vec<String>,
}

impl Server {
    /// Starts `drift serve` and waits until it has tracks to play.
    pub fn start(library: &Path, data_dir: &Path, extra: &[&str]) -> Server {
        Server::start_on(library, data_dir, "127.0.0.1:0", extra)
    }

    pub fn start_on(library: &Path, data_dir: &Path, listen: &str, extra: &[&str]) -> Server {
        let server = Server::launch(library, data_dir, listen, extra);
        server.wait_ready();
        server
    }

    /// Starts `drift serve` and returns as soon as it printed its address (the library may
    /// still be scanning).
    pub fn launch(library: &Path, data_dir: &Path, listen: &str, extra: &[&str]) -> Server {
        Server::spawn(library, data_dir, listen, extra, Stdio::inherit())
    }

    /// [`Server::launch`], keeping what the server logs (stderr) in the returned buffer (and
    /// echoing it), so a test can check what a user would read.
    pub fn launch_logged(
        library: &Path,
        data_dir: &Path,
        listen: &str,
        extra: &[&str],
    ) -> (Server, Arc<Mutex<String>>) {
        let mut server = Server::spawn(library, data_dir, listen, extra, Stdio::piped());
        let log = Arc::new(Mutex::new(String::new()));
        let (stderr, sink) = (server.child.stderr.take().unwrap(), log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        (server, log)
    }

    fn spawn(
        library: &Path,
        data_dir: &Path,
        listen: &str,
        extra: &[&str],
        stderr: Stdio,
    ) -> Server {
        let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        // Tests create sessions much faster than a person: the per-client limit stays off
        // unless the test is about it (tests/admission.rs).
        if !args.iter().any(|a| a == "--sessions-per-minute") {
            args.extend(["--sessions-per-minute".to_string(), "0".to_string()]);
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_drift"))
            .arg("serve")
            .arg("--library")
            .arg(library)
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(listen)
            .args(&args)
            .env("DRIFT_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start drift serve");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = lines.next().expect("server printed its address").unwrap();
        let base = line
            .split("http://")
            .nth(1)
            .map(|s| format!("http://{}", s.trim_end_matches('/')))
            .unwrap_or_else(|| panic!("unexpected first line: {line}"));
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            base,
            data_dir: data_dir.to_path_buf(),
            library: library.to_path_buf(),
            args,
        }
    }

    pub fn wait_ready(&self) {
        let started = Instant::now();
        loop {
            if let Ok(v) = get_json(&format!("{}/health", self.base)) {
                if v["tracks"].as_u64().unwrap_or(0) > 0 && v["scanComplete"] == true {
                    return;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "server never got ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `kill -9`: no shutdown code runs.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A new process on the same data dir (and the same port when `same_port`).
    pub fn restart(&mut self, same_port: bool) -> Server {
        self.kill();
        let listen = if same_port {
            self.base.trim_start_matches("http://").to_string()
        } else {
            "127.0.0.1:0".into()
        };
        let extra: Vec<&str> = self.args.iter().map(|s| s.as_str()).collect();
        Server::start_on(
            &self.library.clone(),
            &self.data_dir.clone(),
            &listen,
            &extra,
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A new session on `server`: its fingerprint and owner token.
pub fn create_session(server: &Server) -> (String, String) {
    let r = client().post(server.url("/api/sessions")).send().unwrap();
    assert_eq!(r.status(), 201);
    let v: serde_json::Value = r.json().unwrap();
    (
        v["fingerprint"].as_str().unwrap().into(),
        v["ownerToken"].as_str().unwrap().into(),
    )
}

/// A request with an optional JSON body and owner token: the status and the JSON answer
/// (`null` when the answer is not JSON).
pub fn call(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, serde_json::Value) {
    let mut req = client().request(method, server.url(path));
    if !body.is_empty() {
        req = req
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(serde_json::Value::Null))
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

pub fn get_json(url: &str) -> Result<serde_json::Value, String> {
    let r = client().get(url).send().map_err(|e| e.to_string())?;
    r.json().map_err(|e| e.to_string())
}

/// Reads from an open response until `n` bytes arrived or `timeout` passed.
pub fn read_bytes(r: &mut impl std::io::Read, n: usize, timeout: Duration) -> Vec<u8> {
    let started = Instant::now();
    let mut out = Vec::with_capacity(n);
    let mut buf = vec![0u8; 65_536];
    while out.len() < n && started.elapsed() < timeout {
        match r.read(&mut buf[..(n - out.len()).min(65_536)]) {
            Ok(0) => break,
            Ok(k) => out.extend_from_slice(&buf[..k]),
            Err(_) => break,
        }
    }
    out
}

/// Calls `get` every 100 ms until `done` holds for its answer, and returns that answer; panics
/// with `what` and the last answer after `secs`.
pub fn poll_until<T: std::fmt::Debug>(
    secs: u64,
    what: &str,
    mut get: impl FnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let v = get();
        if done(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "never {what}: still {v:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A session's state, as `GET /api/sessions/{fp}` gives it.
pub fn session_state(server: &Server, fp: &str) -> serde_json::Value {
    get_json(&server.url(&format!("/api/sessions/{fp}"))).unwrap()
}

/// The value of `drift_{name}` in the server's `/metrics`.
pub fn metric(server: &Server, name: &str) -> f64 {
    let text = client()
        .get(server.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("drift_{name} ")))
        .unwrap_or_else(|| panic!("no drift_{name} in /metrics:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

/// Writes a 16-bit stereo WAV of `secs`: a tone of `freq` Hz with a slow tremolo, so files of
/// different frequencies have different content (and different ids).
pub fn write_tone(path: &Path, secs: f64, freq: f64) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(secs * 44_100.0) as u64 {
        let t = i as f64 / 44_100.0;
        let s = (std::f64::consts::TAU * freq * t).sin()
            * (0.6 + 0.3 * (std::f64::consts::TAU * 0.5 * t).sin())
            * 12_000.0;
        w.write_sample(s as i16).unwrap();
        w.write_sample(s as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// How close two runs of MP3 frames sound: the signal-to-difference ratio (dB) of their decoded
/// audio, skipping the first two frames (their bit reservoir lies before the cut). `tmp` holds
/// the files the decoder reads.
pub fn mp3_snr(
    tmp: &Path,
    a: &[drift::audio::mp3_frames::Mp3Frame],
    b: &[drift::audio::mp3_frames::Mp3Frame],
) -> f64 {
    let decode = |name: &str, frames: &[drift::audio::mp3_frames::Mp3Frame]| {
        let path = tmp.join(name);
        let bytes: Vec<u8> = frames.iter().flat_map(|f| f.data.clone()).collect();
        std::fs::write(&path, bytes).unwrap();
        drift::audio::decode::decode_all(&path).unwrap()
    };
    let (pa, pb) = (decode("snr-a.mp3", a), decode("snr-b.mp3", b));
    let skip = 2 * 1152 * 2;
    let len = pa.len().min(pb.len());
    let (diff, sig) = pa[skip..len]
        .iter()
        .zip(&pb[skip..len])
        .fold((0f64, 0f64), |(d, s), (x, y)| {
            (d + ((x - y) as f64).powi(2), s + (*x as f64).powi(2))
        });
    10.0 * (sig / diff.max(1e-20)).log10()
}

pub fn have(cmd: &str) -> bool {
    Command::new(cmd).arg("-version").output().is_ok()
}
