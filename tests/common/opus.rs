//! Helpers of the Opus stream tests (`server_opus.rs`, `server_opus_splice.rs`): the server's
//! arguments, opening a stream, ffmpeg's decode of what was read, aligning two decodes, and
//! the next splice on an event stream.
#![allow(dead_code)]
use super::{client, create_session, library, Server};
use std::process::Command;

/// Clock at 3× real time, so tracks change within seconds; the Opus encoder lingers 10 s of
/// clock time after its last listener.
pub const ARGS: &[&str] = &["--lead", "8", "--time-scale", "3", "--history", "60"];
pub const RATE: f64 = 48_000.0;

/// Opens a stream: the response and its `X-Drift-Position`.
pub fn open(url: &str) -> (reqwest::blocking::Response, f64) {
    let r = client().get(url).send().unwrap();
    assert_eq!(r.status(), 200, "{url}");
    let pos = r.headers()["x-drift-position"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    (r, pos)
}

/// Runs `tool` (ffmpeg or ffprobe) with `args`, `bytes` on its standard input: what a player
/// reading the stream gets (not seekable: ffmpeg does not look for the end of a file, where a
/// chained Ogg file's last link confuses its length probe).
pub fn piped(tool: &str, args: &[&str], bytes: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(tool)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ffmpeg is required (make deps installs it)");
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// ffmpeg's decode of `bytes` as 48 kHz stereo f32: the samples (interleaved) and stderr at
/// `-v error` (empty when nothing was wrong).
pub fn decode(bytes: &[u8]) -> (Vec<f32>, String) {
    decode_at(bytes, "48000")
}

/// [`decode`] at another rate (ffmpeg resamples).
pub fn decode_at(bytes: &[u8], rate: &str) -> (Vec<f32>, String) {
    let args = [
        "-v", "error", "-i", "-", "-f", "f32le", "-ac", "2", "-ar", rate, "-",
    ];
    let out = piped("ffmpeg", &args, bytes);
    let pcm = out
        .stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    (pcm, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The best lag (in 48 kHz samples, within ±`span`) of `b` against `a` from sample `offset`
/// of `a` on, and the SNR (dB) of `b` against `a` at lag 0, over `n` samples of the left
/// channel.
pub fn align(a: &[f32], b: &[f32], offset: usize, n: usize, span: i64) -> (i64, f64) {
    let at = |v: &[f32], i: i64| v.get(i as usize * 2).copied().unwrap_or(0.0) as f64;
    let corr = |lag: i64| -> f64 {
        (span..n as i64 - span)
            .map(|i| at(b, i) * at(a, offset as i64 + i + lag))
            .sum()
    };
    let best = (-span..=span)
        .max_by(|x, y| corr(*x).total_cmp(&corr(*y)))
        .unwrap();
    let (mut sig, mut err) = (0.0, 0.0);
    for i in 0..n as i64 {
        let (x, y) = (at(a, offset as i64 + i), at(b, i));
        sig += x * x;
        err += (x - y).powi(2);
    }
    (best, 10.0 * (sig / err.max(1e-20)).log10())
}

/// The whole pages of `bytes` (a read may end inside one).
pub fn whole_pages(bytes: &[u8]) -> &[u8] {
    let mut i = 0;
    while i + 27 <= bytes.len() {
        let n = bytes[i + 26] as usize;
        if i + 27 + n > bytes.len() {
            break;
        }
        let body: usize = bytes[i + 27..i + 27 + n].iter().map(|l| *l as usize).sum();
        if i + 27 + n + body > bytes.len() {
            break;
        }
        i += 27 + n + body;
    }
    &bytes[..i]
}

/// A session's event stream, open.
pub fn events(server: &Server, fp: &str) -> reqwest::blocking::Response {
    client()
        .get(server.url(&format!("/events/{fp}")))
        .send()
        .unwrap()
}

/// The position of the next `splice` event on a session's event stream (opened before).
pub fn next_splice(events: reqwest::blocking::Response) -> f64 {
    use std::io::BufRead;
    let mut splice = false;
    for line in std::io::BufReader::new(events).lines() {
        let line = line.unwrap();
        if let Some(name) = line.strip_prefix("event:") {
            splice = name.trim() == "splice";
        } else if let Some(data) = line.strip_prefix("data:").filter(|_| splice) {
            let v: serde_json::Value = serde_json::from_str(data.trim()).unwrap();
            return v["position"].as_f64().unwrap();
        }
    }
    panic!("the event stream ended without a splice");
}

/// A server with `ARGS` on a generated library of `tracks` and a new session on it: the
/// directory holding both (keep it), the server, the session's fingerprint and owner token.
pub fn opus_session(tracks: usize) -> (tempfile::TempDir, Server, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), tracks);
    let server = Server::start(&lib, &dir.path().join("data"), ARGS);
    let (fp, token) = create_session(&server);
    (dir, server, fp, token)
}
