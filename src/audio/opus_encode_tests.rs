//! Tests of the aligned Opus encoder: decoded packets line up with the stream timeline.
use super::*;
use crate::units::{Frames, SAMPLE_RATE};

const TONES: [(f64, f64); 4] = [(97.1, 0.2), (440.3, 0.2), (1234.5, 0.15), (3210.7, 0.1)];

/// The test signal at a time in seconds (a sum of unrelated tones, the same on both channels
/// but for a sign, so any stereo handling error shows).
fn signal(t: f64) -> f64 {
    TONES
        .iter()
        .map(|(f, a)| a * (2.0 * std::f64::consts::PI * f * t).sin())
        .sum()
}

/// Feeds the signal as mix PCM from mix position `start` in blocks of `block` frames, and
/// returns every packet handed out.
fn encode(start: u64, block: u64, secs: f64, first_emit: u64) -> Vec<(u64, Bytes)> {
    let mut enc = OpusStream::new(96, first_emit).unwrap();
    let mut out = Vec::new();
    let mut at = start;
    while (at as f64) < secs * SAMPLE_RATE as f64 {
        let pcm: Vec<f32> = (at..at + block)
            .flat_map(|q| {
                let v = signal(q as f64 / SAMPLE_RATE as f64) as f32;
                [v, -v]
            })
            .collect();
        enc.push(StreamPos(Frames(at)), &pcm, &mut out).unwrap();
        at += block;
    }
    out
}

/// Decodes consecutive packets to 48 kHz stereo.
fn decode(packets: &[(u64, Bytes)]) -> Vec<f32> {
    let mut dec = opus::Decoder::new(OPUS_RATE, opus::Channels::Stereo).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0f32; PACKET_SAMPLES * 2];
    for w in packets.windows(2) {
        assert_eq!(w[1].0, w[0].0 + 1, "packets are consecutive");
    }
    for (_, p) in packets {
        let n = dec.decode_float(p, &mut buf, false).unwrap();
        assert_eq!(n, PACKET_SAMPLES);
        out.extend_from_slice(&buf[..n * 2]);
    }
    out
}

/// Best lag (48 kHz samples, decoded vs expected) within ±`span`, and the SNR at lag 0.
fn align(decoded: &[f32], first_packet: u64, skip: usize, span: i64) -> (i64, f64) {
    // Decoded sample i has stream time (first_packet × 960 + i) / 48000 s, which is mix time
    // that less MP3_DELAY / 44100 s.
    let expected = |i: i64| {
        let t = (first_packet as f64 * PACKET_SAMPLES as f64 + i as f64) / OPUS_RATE as f64
            - MP3_DELAY as f64 / SAMPLE_RATE as f64;
        signal(t)
    };
    let n = decoded.len() / 2;
    let range = skip as i64 + span..n as i64 - span;
    let corr = |lag: i64| -> f64 {
        range
            .clone()
            .map(|i| decoded[i as usize * 2] as f64 * expected(i - lag))
            .sum()
    };
    let best = (-span..=span)
        .max_by(|a, b| corr(*a).total_cmp(&corr(*b)))
        .unwrap();
    let (mut sig, mut err) = (0.0, 0.0);
    for i in range {
        let want = expected(i);
        let (l, r) = (
            decoded[i as usize * 2] as f64,
            decoded[i as usize * 2 + 1] as f64,
        );
        sig += 2.0 * want * want;
        err += (l - want).powi(2) + (r + want).powi(2);
    }
    (best, 10.0 * (sig / err).log10())
}

#[test]
fn packet_n_decodes_to_stream_positions_n_times_882() {
    // Blocks of 1152 frames (the engine's) starting at zero; hand out from packet 10 on.
    let packets = encode(0, 1152, 3.0, 10);
    assert_eq!(packets[0].0, 10);
    let decoded = decode(&packets);
    let (lag, snr) = align(&decoded, 10, 4 * PACKET_SAMPLES, 40);
    assert_eq!(
        lag, 0,
        "decoded audio is {lag} samples off the stream timeline"
    );
    assert!(snr > 20.0, "SNR {snr:.1} dB");
}

#[test]
fn an_encoder_started_later_from_any_split_stays_on_the_same_timeline() {
    // Started mid-stream at a mix position that is no packet boundary, in odd block sizes.
    let start = 44_100 + 517;
    let first = first_exact_packet(StreamPos(Frames(start)));
    let packets = encode(start, 333, 3.0, first);
    assert_eq!(packets[0].0, first);
    let decoded = decode(&packets);
    let (lag, snr) = align(&decoded, first, 4 * PACKET_SAMPLES, 40);
    assert_eq!(lag, 0);
    assert!(snr > 20.0, "SNR {snr:.1} dB");
}

#[test]
fn packet_positions_and_the_first_exact_packet() {
    assert_eq!(packet_index(StreamPos(Frames(881))), 0);
    assert_eq!(packet_index(packet_pos(7)), 7);
    // PCM exact from mix position 0 is stream position 1105: chunk 2 (1764) is the first
    // whole chunk, and packets settle two later.
    assert_eq!(first_exact_packet(StreamPos::START), 4);
}
