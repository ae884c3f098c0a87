//! Splices on the Opus streams against a real `drift serve`: a skip re-encodes the Opus future
//! on the MP3's timeline, also when it comes as the first Opus listener has just started the
//! encoder.
mod common;
#[path = "common/opus.rs"]
mod opus;
use common::*;
use opus::*;
use std::time::Duration;

#[test]
fn a_skip_re_encodes_the_opus_future_on_the_mp3_timeline() {
    let (_dir, server, fp, token) = opus_session(4);
    // An Opus listener: the encoder has the lead (the old future) in its ring.
    let (mut r, start) = open(&server.url(&format!("/stream/{fp}.opus")));
    let old = whole_pages(&read_bytes(&mut r, 150_000, Duration::from_secs(30))).to_vec();
    let events = events(&server, &fp);
    skip(&server, &fp, &token);
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

    let (opus_pos, new) = same_future(&server, &fp, at + 2.5);

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

#[test]
fn a_skip_as_the_first_opus_listener_joins_re_encodes_from_the_splice() {
    let (_dir, server, fp, token) = opus_session(4);
    let events = events(&server, &fp);
    // The first Opus listener starts the encoder, which re-renders the lead; the skip comes at
    // once, while it does or just after: the encoder starts again from the splice, and
    // nothing of the old future is left in the ring after it.
    let (mut r, _) = open(&server.url(&format!("/stream/{fp}.opus")));
    skip(&server, &fp, &token);
    let at = next_splice(events);
    let (old, errors) = decode(whole_pages(&read_bytes(
        &mut r,
        60_000,
        Duration::from_secs(30),
    )));
    assert!(errors.is_empty(), "ffmpeg: {errors}");
    assert!(!old.is_empty());
    drop(r);
    same_future(&server, &fp, at + 2.5);
}

fn skip(server: &Server, fp: &str, token: &str) {
    let skip = client()
        .post(server.url(&format!("/api/sessions/{fp}/skip")))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(skip.status(), 202);
}

/// Opus and MP3 from `from` play the same audio on one timeline (ffmpeg resamples the Opus to
/// 44.1 kHz): the Opus stream's position and its decode.
fn same_future(server: &Server, fp: &str, from: f64) -> (f64, Vec<f32>) {
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
    println!("from {from:.2} after a skip: Opus against MP3 lag {lag} samples, SNR {snr:.1} dB");
    assert_eq!(lag, 0, "Opus is {lag} samples off the MP3 after the splice");
    assert!(
        snr > 12.0,
        "Opus and MP3 differ after the splice: SNR {snr:.1} dB"
    );
    (opus_pos, new)
}
