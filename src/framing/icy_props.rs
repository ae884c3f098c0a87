//! Property tests of the ICY interleaver and `strip`: strip(interleave(audio, titles)) gives
//! back the audio and every changed title wherever blocks fall, the pieces the audio comes in
//! change no byte, and `strip` of random or mutated bytes never panics and never yields more
//! audio than it was given.
use super::*;
use crate::fuzz::{check, mutate, random_bytes, FuzzRng};
use bytes::Bytes;
use rand::Rng;

/// Interleaves `audio` heard under `title` and appends the wire bytes to `out`.
fn push(icy: &mut IcyInterleaver, audio: &[u8], title: &str, out: &mut Vec<u8>) {
    let mut pieces = Vec::new();
    icy.push(
        &Bytes::copy_from_slice(audio),
        &mut || title.to_string(),
        &mut pieces,
    );
    out.extend(pieces.iter().flat_map(|p| p.iter()));
}

const TITLE_CHARS: &[char] = &[
    'a', 'Z', ' ', '\'', ';', '=', '’', 'é', '日', '\0', '\n', '🎵', '-',
];

fn random_title(rng: &mut FuzzRng, max: usize) -> String {
    (0..rng.gen_range(0..max))
        .map(|_| TITLE_CHARS[rng.gen_range(0..TITLE_CHARS.len())])
        .collect()
}

/// Pieces of audio, each with the title heard during it (often the same as before).
fn random_pieces(rng: &mut FuzzRng) -> Vec<(Vec<u8>, String)> {
    let mut title = random_title(rng, 60);
    (0..rng.gen_range(1..8))
        .map(|_| {
            if rng.gen_bool(0.6) {
                title = random_title(rng, 60);
            }
            (random_bytes(rng, 500), title.clone())
        })
        .collect()
}

#[test]
fn strip_of_interleave_gives_back_the_audio_and_every_new_title() {
    check("icy round trip", 300, |rng| {
        let metaint = rng.gen_range(1..300);
        let pieces = random_pieces(rng);
        let mut icy = IcyInterleaver::new(metaint);
        let mut out = Vec::new();
        for (audio, title) in &pieces {
            push(&mut icy, audio, title, &mut out);
        }
        let (audio, titles) = strip(&out, metaint);
        let sent: Vec<u8> = pieces.iter().flat_map(|(a, _)| a.clone()).collect();
        assert_eq!(audio, sent);
        // A block after every metaint bytes; it names the title only when it changed.
        let mut expected = Vec::new();
        let (mut offset, mut announced) = (0, None);
        for (a, title) in &pieces {
            for _ in 0..a.len() {
                offset += 1;
                if offset % metaint == 0 && announced != Some(title) {
                    expected.push((offset, sanitize(title)));
                    announced = Some(title);
                }
            }
        }
        assert_eq!(titles, expected);
    });
}

#[test]
fn the_pieces_the_audio_comes_in_change_no_byte() {
    check("icy pieces", 300, |rng| {
        let metaint = rng.gen_range(1..300);
        let audio = random_bytes(rng, 3000);
        let title = random_title(rng, 40);
        let mut whole = Vec::new();
        push(
            &mut IcyInterleaver::new(metaint),
            &audio,
            &title,
            &mut whole,
        );
        let mut pieced = Vec::new();
        let mut icy = IcyInterleaver::new(metaint);
        for piece in crate::fuzz::random_pieces(rng, &audio) {
            push(&mut icy, piece, &title, &mut pieced);
        }
        assert_eq!(pieced, whole);
    });
}

#[test]
fn strip_of_random_and_mutated_bytes_never_panics() {
    check("icy strip any input", 500, |rng| {
        let metaint = rng.gen_range(1..300);
        let data = if rng.gen_bool(0.5) {
            let mut valid = Vec::new();
            let long = random_title(rng, 3000);
            let audio = random_bytes(rng, 2000);
            push(&mut IcyInterleaver::new(metaint), &audio, &long, &mut valid);
            mutate(rng, &valid)
        } else {
            random_bytes(rng, 5000)
        };
        let (audio, titles) = strip(&data, metaint);
        assert!(audio.len() <= data.len());
        assert!(titles.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(titles.iter().all(|(at, _)| *at <= audio.len()));
    });
}
