//! The Opus streams against a real `drift serve`: Ogg Opus decoded by ffmpeg with zero errors
//! and its titles, `?from=` reconnections joining sample-exactly (also after `kill -9` and a
//! restart), the encoder running only while someone listens to Opus, and Opus in fMP4.
mod common;
use common::*;
use std::io::Read;
use std::process::Command;
use std::time::Duration;

/// Clock at 3× real time, so tracks change within seconds; the Opus encoder lingers 10 s of
/// clock time after its last listener.
const ARGS: &[&str] = &["--lead", "8", "--time-scale", "3", "--history", "60"];
const RATE: f64 = 48_000.0;

/// Opens a stream: the response and its `X-Drift-Position`.
fn open(url: &str) -> (reqwest::blocking::Response, f64) {
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
fn piped(tool: &str, args: &[&str], bytes: &[u8]) -> std::process::Output {
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
fn decode(bytes: &[u8]) -> (Vec<f32>, String) {
    decode_at(bytes, "48000")
}

/// [`decode`] at another rate (ffmpeg resamples).
fn decode_at(bytes: &[u8], rate: &str) -> (Vec<f32>, String) {
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
fn align(a: &[f32], b: &[f32], offset: usize, n: usize, span: i64) -> (i64, f64) {
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

/// The links of an Ogg stream: (pre-skip, TITLE, audio packets) each, read from its pages.
fn links(bytes: &[u8]) -> Vec<(u16, String, usize)> {
    let mut out: Vec<(u16, String, usize)> = Vec::new();
    let mut i = 0;
    while i + 27 <= bytes.len() {
        assert_eq!(&bytes[i..i + 4], b"OggS");
        let n = bytes[i + 26] as usize;
        let lacing = &bytes[i + 27..i + 27 + n];
        let body: usize = lacing.iter().map(|l| *l as usize).sum();
        if i + 27 + n + body > bytes.len() {
            break; // the last page was cut off by the end of the read
        }
        let data = &bytes[i + 27 + n..i + 27 + n + body];
        if data.starts_with(b"OpusHead") {
            out.push((u16::from_le_bytes([data[10], data[11]]), String::new(), 0));
        } else if data.starts_with(b"OpusTags") {
            let text = String::from_utf8_lossy(data);
            let title = text.split("TITLE=").nth(1).unwrap_or("");
            out.last_mut().unwrap().1 = title.chars().take_while(|c| !c.is_control()).collect();
        } else {
            out.last_mut().unwrap().2 += lacing.iter().filter(|l| **l < 255).count();
        }
        i += 27 + n + body;
    }
    // A read that ends between a link's OpusHead and its OpusTags holds no part of it.
    if out.last().is_some_and(|l| l.1.is_empty() && l.2 == 0) {
        out.pop();
    }
    out
}

/// The whole pages of `bytes` (a read may end inside one).
fn whole_pages(bytes: &[u8]) -> &[u8] {
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

/// The TITLE ffprobe reads at the start of an Ogg stream.
fn probed_title(bytes: &[u8]) -> String {
    let args = [
        "-v",
        "error",
        "-show_entries",
        "stream_tags",
        "-of",
        "json",
        "-",
    ];
    let out = piped("ffprobe", &args, bytes);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tags = v["streams"][0]["tags"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    tags.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("title"))
        .and_then(|(_, v)| v.as_str())
        .unwrap_or_default()
        .to_string()
}

fn wait_for(server: &Server, name: &str, value: f64) {
    poll_until(
        60,
        &format!("drift_{name} = {value}"),
        || metric(server, name),
        |v| *v == value,
    );
}

#[test]
fn ogg_opus_decodes_with_titles_resumes_exactly_and_runs_only_while_listened_to() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 6);
    let mut server = Server::start(&lib, &dir.path().join("data"), ARGS);
    let (fp, _) = create_session(&server);

    let boot = get_json(&server.url(&format!("/stream/bootstrap?session={fp}"))).unwrap();
    assert_eq!(boot["opusBitrate"], 96);
    let urls: Vec<(&str, &str)> = boot["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["url"].as_str().unwrap(), s["mime"].as_str().unwrap()))
        .collect();
    assert!(urls.contains(&(&format!("/stream/{fp}.opus")[..], "audio/ogg; codecs=opus")));

    // An MP3 listener alone does not start the Opus encoder.
    let (mut mp3, _) = open(&server.url(&format!("/stream/{fp}")));
    read_bytes(&mut mp3, 50_000, Duration::from_secs(20));
    assert_eq!(metric(&server, "opus_encoders"), 0.0);
    drop(mp3);

    // 45 s of Ogg Opus: the lead at once, the rest at 3× real time.
    let (mut r, start) = open(&server.url(&format!("/stream/{fp}.opus")));
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "audio/ogg; codecs=opus"
    );
    let mut bytes = read_bytes(&mut r, 200_000, Duration::from_secs(60));
    assert_eq!(metric(&server, "opus_encoders"), 1.0);
    assert_eq!(metric(&server, "opus_listeners"), 1.0);
    bytes.extend(read_bytes(&mut r, 400_000, Duration::from_secs(60)));
    drop(r);
    let bytes = whole_pages(&bytes).to_vec();

    let (a, errors) = decode(&bytes);
    assert!(errors.is_empty(), "ffmpeg: {errors}");
    // Chained links at track changes, each with its title and an 80 ms pre-skip.
    let chain = links(&bytes);
    println!("links (pre-skip, title, packets): {chain:?}");
    assert!(chain.len() >= 2, "no track change in 45 s: {chain:?}");
    assert!(
        chain.iter().all(|l| l.0 == 3840 && !l.1.is_empty()),
        "{chain:?}"
    );
    assert!(chain.windows(2).all(|w| w[0].1 != w[1].1));
    // ffmpeg drops every link's pre-skip: no gap, no repeat.
    let audible: usize = chain.iter().map(|l| l.2.saturating_sub(4)).sum();
    assert_eq!(a.len() / 2, audible * 960, "decoded samples");
    assert_eq!(probed_title(&bytes), chain[0].1, "ffprobe reads the title");
    assert!(metric(&server, "opus_bytes_sent_total") >= bytes.len() as f64);

    // A reconnection from 10.01 s after the start joins at the packet holding it.
    let from = start + 10.01;
    let (mut r, pos) = open(&server.url(&format!("/stream/{fp}.opus?from={from}")));
    let packet = (from * 44_100.0 / 882.0).floor();
    assert!((pos - packet * 0.02).abs() < 1e-6, "{pos} for {from}");
    let again = whole_pages(&read_bytes(&mut r, 60_000, Duration::from_secs(30))).to_vec();
    drop(r);
    let (b, errors) = decode(&again);
    // A player joining in a later track reads that track's title.
    assert_eq!(probed_title(&again), links(&again)[0].1);
    assert!(chain.iter().any(|l| l.1 == links(&again)[0].1));
    assert!(errors.is_empty(), "ffmpeg: {errors}");
    let offset = ((pos - start) * RATE).round() as usize;
    let (lag, snr) = align(&a, &b, offset, 96_000.min(b.len() / 2), 200);
    println!("resume: lag {lag} samples, SNR {snr:.1} dB");
    assert_eq!(lag, 0, "the resumed stream is {lag} samples off");
    assert!(snr > 25.0, "resumed audio differs: SNR {snr:.1} dB");

    // Killed and restarted: a player resumes from a second before the play point it had.
    // (Compared with a connection made just before the kill, which covers that span.)
    let play = get_json(&server.url(&format!("/stream/bootstrap?session={fp}"))).unwrap()
        ["position"]
        .as_f64()
        .unwrap();
    let (mut r, before) = open(&server.url(&format!("/stream/{fp}.opus?from={}", play - 2.0)));
    let d = whole_pages(&read_bytes(&mut r, 80_000, Duration::from_secs(30))).to_vec();
    let mut server = server.restart(true);
    drop(r);
    let (d, errors) = decode(&d);
    assert!(errors.is_empty(), "ffmpeg: {errors}");
    let from = play - 1.0;
    let (mut r, pos) = open(&server.url(&format!("/stream/{fp}.opus?from={from}")));
    assert!((pos - (from * 44_100.0 / 882.0).floor() * 0.02).abs() < 1e-6);
    let again = whole_pages(&read_bytes(&mut r, 60_000, Duration::from_secs(30))).to_vec();
    drop(r);
    let (c, errors) = decode(&again);
    assert!(errors.is_empty(), "ffmpeg: {errors}");
    let offset = ((pos - before) * RATE).round() as usize;
    let n = 96_000.min(c.len() / 2).min(d.len() / 2 - offset - 200);
    let (lag, snr) = align(&d, &c, offset, n, 200);
    println!("after a restart: lag {lag} samples, SNR {snr:.1} dB (a new encoder run)");
    assert_eq!(lag, 0, "the resumed stream is {lag} samples off");
    assert!(snr > 12.0, "resumed audio differs: SNR {snr:.1} dB");

    // Nobody listens to Opus: the encoder stops (10 s of clock time later).
    wait_for(&server, "opus_listeners", 0.0);
    wait_for(&server, "opus_encoders", 0.0);

    // The same errors as MP3: too far ahead, and gone.
    let r = client()
        .get(server.url(&format!("/stream/{fp}.opus?from=1e9")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = client()
        .get(server.url(&format!("/stream/{fp}.opus?from=0.5")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 410);
    server.kill();
}

#[test]
fn opus_in_fmp4_is_timed_by_the_stream_position() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 4);
    let server = Server::start(&lib, &dir.path().join("data"), ARGS);
    let (fp, _) = create_session(&server);
    let from: f64 = 3.333;
    let (mut r, pos) = open(&server.url(&format!("/stream/{fp}.opus.mp4?from={from}")));
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "audio/mp4; codecs=\"opus\""
    );
    assert!((pos - (from * 44_100.0 / 882.0).floor() * 0.02).abs() < 1e-6);
    let mut bytes = read_bytes(&mut r, 100_000, Duration::from_secs(30));
    drop(r);
    // Up to the last whole mdat; the first emsg names the track audible at the start.
    let mut i = 0;
    let mut whole = 0;
    let mut emsg = 0;
    while i + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap()) as usize;
        if i + len > bytes.len() {
            break;
        }
        if &bytes[i + 4..i + 8] == b"emsg" {
            emsg += 1;
            let t = u64::from_be_bytes(bytes[i + 16..i + 24].try_into().unwrap());
            assert!(t as f64 / RATE >= pos - 1e-6);
        }
        i += len;
        if &bytes[i - len + 4..i - len + 8] == b"mdat" {
            whole = i;
        }
    }
    bytes.truncate(whole);
    assert!(emsg >= 1, "no title");
    let path = dir.path().join("s.mp4");
    std::fs::write(&path, &bytes).unwrap();
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,sample_rate,start_time",
        ])
        .args(["-show_entries", "format=duration", "-of", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["streams"][0];
    assert_eq!(s["codec_name"], "opus");
    assert_eq!(s["sample_rate"], "48000");
    let start: f64 = s["start_time"].as_str().unwrap().parse().unwrap();
    assert!(
        (start - pos).abs() < 1e-6,
        "media time {start} = stream position {pos}"
    );
    let (pcm, errors) = decode(&bytes);
    assert!(errors.is_empty(), "ffmpeg: {errors}");
    let dur: f64 = v["format"]["duration"].as_str().unwrap().parse().unwrap();
    let decoded = pcm.len() as f64 / 2.0 / RATE;
    // The stated duration is where the media ends: its start plus what decodes.
    assert!(
        (dur - start - decoded).abs() < 0.03,
        "{dur} s stated from {start} s, {decoded} s decoded"
    );
    let mut r = client()
        .get(server.url(&format!("/stream/{fp}.opus.mp4?from=1e9")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    let _ = r.read_to_end(&mut Vec::new());
}

/// The position of the next `splice` event on a session's event stream (opened before).
fn next_splice(events: reqwest::blocking::Response) -> f64 {
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

#[test]
fn a_skip_re_encodes_the_opus_future_on_the_mp3_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 4);
    let server = Server::start(&lib, &dir.path().join("data"), ARGS);
    let (fp, token) = create_session(&server);
    // An Opus listener: the encoder has the lead (the old future) in its ring.
    let (mut r, start) = open(&server.url(&format!("/stream/{fp}.opus")));
    let old = whole_pages(&read_bytes(&mut r, 150_000, Duration::from_secs(30))).to_vec();
    let events = client()
        .get(server.url(&format!("/events/{fp}")))
        .send()
        .unwrap();
    let skip = client()
        .post(server.url(&format!("/api/sessions/{fp}/skip")))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(skip.status(), 202);
    let at = next_splice(events);
    drop(r);
    let (old, errors) = decode_at(&old, "44100");
    assert!(errors.is_empty(), "ffmpeg: {errors}");

    // What the encoder re-rendered for the lead when it started is the MP3's audio.
    let (mut r, mp3_pos) = open(&server.url(&format!("/stream/{fp}?from={start}")));
    let mp3 = read_bytes(&mut r, 100_000, Duration::from_secs(30));
    drop(r);
    // (An MP3 joined mid-stream may start with a frame whose bit reservoir lies before it.)
    let (mp3, _) = decode_at(&mp3, "44100");
    let offset = ((start - mp3_pos) * 44_100.0).round() as usize;
    let (lag, snr) = align(&mp3, &old[88_200..], offset + 44_100, 88_200, 100);
    println!("the lead encoded at the join: Opus against MP3 lag {lag} samples, SNR {snr:.1} dB");
    assert_eq!(lag, 0, "Opus is {lag} samples off the MP3");
    assert!(snr > 12.0, "Opus and MP3 differ: SNR {snr:.1} dB");

    // Past the skip's crossfade, the Opus and MP3 streams both play the new future, on one
    // timeline (ffmpeg resamples the Opus to 44.1 kHz).
    let from = at + 2.5;
    let (mut r, opus_pos) = open(&server.url(&format!("/stream/{fp}.opus?from={from}")));
    let new = whole_pages(&read_bytes(&mut r, 40_000, Duration::from_secs(30))).to_vec();
    drop(r);
    let (mut r, mp3_pos) = open(&server.url(&format!("/stream/{fp}?from={from}")));
    let mp3 = read_bytes(&mut r, 80_000, Duration::from_secs(30));
    drop(r);
    let (new, errors) = decode_at(&new, "44100");
    assert!(errors.is_empty(), "ffmpeg: {errors}");
    // (An MP3 joined mid-stream may start with a frame whose bit reservoir lies before it.)
    let (mp3, _) = decode_at(&mp3, "44100");
    let offset = ((opus_pos - mp3_pos) * 44_100.0).round() as usize;
    let (lag, snr) = align(&mp3, &new, offset, 44_100, 100);
    println!("after a skip: Opus against MP3 lag {lag} samples, SNR {snr:.1} dB");
    assert_eq!(lag, 0, "Opus is {lag} samples off the MP3 after the splice");
    assert!(
        snr > 12.0,
        "Opus and MP3 differ after the splice: SNR {snr:.1} dB"
    );

    // The Opus sent before the skip had the old future there: the ring was encoded again.
    let offset = ((opus_pos - start) * 44_100.0).round() as usize;
    assert!(
        old.len() / 2 > offset + 44_100,
        "the first read covers the span"
    );
    let (_, before) = align(&old, &new, offset, 44_100, 0);
    println!("the same span before the skip: SNR {before:.1} dB");
    assert!(
        before < 3.0,
        "the Opus ring still held the old future ({before:.1} dB)"
    );
}
