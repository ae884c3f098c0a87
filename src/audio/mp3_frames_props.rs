//! Property tests of the MP3 frame splitter on random and mutated input: it never panics,
//! every frame it returns is a whole valid frame cut from the input in order, every input byte
//! is either in a frame or counted as skipped, the pieces the input arrives in change nothing,
//! and it never holds more than one frame and a header beyond what it has not yet decided on.
use super::*;
use crate::fuzz::{check, in_order_within, mutate, random_bytes, random_pieces, FuzzRng};
use rand::Rng;

/// The longest frame any valid header declares (MPEG-2.5 Layer II, 160 kbps at 8 kHz).
fn max_frame_len() -> usize {
    let mut max = 0;
    for b1 in 0xE0..=0xFFu8 {
        for b2 in 0..=0xFFu8 {
            if let Some(h) = FrameHeader::parse(&[0xFF, b1, b2, 0]) {
                max = max.max(h.frame_len());
            }
        }
    }
    max
}

/// A valid stream: an optional ID3v2 tag, then 1–40 frames of one version, layer and sample
/// rate with random bitrates, padding and payload. Returns the bytes and the frames in it.
fn valid_stream(rng: &mut FuzzRng) -> (Vec<u8>, Vec<Vec<u8>>) {
    let (b1, rate_bits) = loop {
        let b1 = 0xE0 | rng.gen_range(0..0x20u8);
        let rate_bits = rng.gen_range(0..3u8) << 2;
        if FrameHeader::parse(&[0xFF, b1, 0x10 | rate_bits, 0]).is_some() {
            break (b1, rate_bits);
        }
    };
    let mut data = Vec::new();
    if rng.gen_bool(0.3) {
        let body = random_bytes(rng, 300);
        let n = body.len();
        let size = [(n >> 21) as u8, (n >> 14) as u8, (n >> 7) as u8, n as u8].map(|b| b & 0x7F);
        data.extend_from_slice(b"ID3\x04\x00\x00");
        data.extend_from_slice(&size);
        data.extend_from_slice(&body);
    }
    let mut frames = Vec::new();
    for _ in 0..rng.gen_range(1..=40) {
        let b2 = (rng.gen_range(1..15u8) << 4) | rate_bits | rng.gen_range(0..2u8) << 1;
        let b3 = loop {
            let b3: u8 = rng.gen();
            if b3 & 0b11 != 0b10 {
                break b3;
            }
        };
        let header = [0xFF, b1, b2, b3];
        let len = FrameHeader::parse(&header)
            .expect("valid header")
            .frame_len();
        let mut f = header.to_vec();
        f.extend((4..len).map(|_| rng.gen::<u8>()));
        data.extend_from_slice(&f);
        frames.push(f);
    }
    (data, frames)
}

/// Splits `data` fed in `pieces`, checking the buffer bound after every push; returns the
/// frames and the skipped byte count.
fn split_pieces(pieces: &[&[u8]], bound: usize) -> (Vec<Mp3Frame>, u64) {
    let mut s = FrameSplitter::new();
    let mut out = Vec::new();
    for p in pieces {
        s.push(p, &mut out);
        assert!(
            s.buf.len() < bound,
            "holds {} bytes undecided (bound {bound})",
            s.buf.len()
        );
    }
    s.finish(&mut out);
    (out, s.skipped_bytes)
}

/// Every invariant that holds whatever the input.
fn check_invariants(data: &[u8], rng: &mut FuzzRng, bound: usize) {
    let (whole, skipped) = split_pieces(&[data], data.len().max(bound) + 1);
    let parts: Vec<&[u8]> = whole.iter().map(|f| f.data.as_slice()).collect();
    assert!(
        in_order_within(&parts, data),
        "frames are not cut from the input"
    );
    for f in &whole {
        assert_eq!(FrameHeader::parse(&f.data), Some(f.header));
        assert_eq!(f.data.len(), f.header.frame_len());
    }
    let framed: usize = parts.iter().map(|p| p.len()).sum();
    assert_eq!(
        framed as u64 + skipped,
        data.len() as u64,
        "bytes unaccounted"
    );
    let (pieced, pieced_skipped) = split_pieces(&random_pieces(rng, data), bound);
    assert_eq!(
        pieced, whole,
        "the pieces the input came in changed the frames"
    );
    assert_eq!(pieced_skipped, skipped);
}

#[test]
fn a_valid_stream_comes_back_frame_for_frame_however_it_is_cut() {
    let bound = max_frame_len() + 4;
    check("mp3 valid stream", 300, |rng| {
        let (data, frames) = valid_stream(rng);
        let (got, _) = split_pieces(&random_pieces(rng, &data), bound);
        let got: Vec<Vec<u8>> = got.into_iter().map(|f| f.data).collect();
        assert_eq!(got, frames);
    });
}

#[test]
fn random_bytes_give_only_valid_frames_and_bounded_buffering() {
    let bound = max_frame_len() + 4;
    check("mp3 random bytes", 300, |rng| {
        let data = random_bytes(rng, 6000);
        check_invariants(&data, rng, bound);
    });
}

#[test]
fn mutated_streams_give_only_valid_frames_and_bounded_buffering() {
    let bound = max_frame_len() + 4;
    check("mp3 mutated stream", 400, |rng| {
        let (data, _) = valid_stream(rng);
        let data = mutate(rng, &data);
        check_invariants(&data, rng, bound);
    });
}

#[test]
fn a_huge_id3_size_is_skipped_without_buffering_it() {
    // A tag that claims 256 MiB in a few bytes: the splitter counts it down, holds nothing.
    let mut s = FrameSplitter::new();
    let mut out = Vec::new();
    s.push(b"ID3\x04\x00\x10\x7F\x7F\x7F\x7F", &mut out);
    s.push(&[0xFF; 5000], &mut out);
    assert!(out.is_empty());
    assert!(s.buf.is_empty());
    s.finish(&mut out);
    assert_eq!(s.skipped_bytes, 5010);
}
