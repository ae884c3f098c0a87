//! The Opus streams against a real `drift serve`: Ogg Opus decoded by ffmpeg with zero errors
//! and its titles, `?from=` reconnections joining sample-exactly (also after `kill -9` and a
//! restart), the encoder running only while someone listens to Opus, and Opus in fMP4.
mod common;
#[path = "common/opus.rs"]
mod opus;
use common::*;
use opus::*;
use std::io::Read;
use std::process::Command;
use std::time::Duration;

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
    let (_dir, mut server, fp, _) = opus_session(6);

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
    let (dir, server, fp, _) = opus_session(4);
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
