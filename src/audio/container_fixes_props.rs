//! Property tests of the container work-arounds on damaged files: reading an MP4 edit list or
//! walking FLAC metadata blocks of random or mutated bytes ends (with a value or an error),
//! never panics or loops, and the FLAC walk keeps a bounded list of patches.
use super::*;
use crate::fuzz::{check, mutate, random_bytes, FuzzRng};
use rand::Rng;
use std::io::Write;

fn atom(kind: &[u8; 4], parts: &[&[u8]]) -> Vec<u8> {
    let body: Vec<u8> = parts.concat();
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend(body);
    out
}

/// An M4A skeleton: moov with mvhd, and a sound trak whose edit list skips `skip` frames.
fn m4a(rng: &mut FuzzRng) -> Vec<u8> {
    let scale = |s: u32| [&[0u8; 12][..], &s.to_be_bytes(), &[0u8; 4]].concat();
    let mvhd = atom(b"mvhd", &[&scale(1000)]);
    let mdhd = atom(b"mdhd", &[&scale(44_100)]);
    let hdlr = atom(b"hdlr", &[&[0u8; 8], b"soun", &[0u8; 12]]);
    let skip: u32 = rng.gen_range(0..5000);
    let elst = atom(
        b"elst",
        &[
            &[0, 0, 0, 0],
            &1u32.to_be_bytes(),
            &3000u32.to_be_bytes(),
            &skip.to_be_bytes(),
        ],
    );
    let trak = atom(
        b"trak",
        &[&atom(b"edts", &[&elst]), &atom(b"mdia", &[&mdhd, &hdlr])],
    );
    let moov = atom(b"moov", &[&mvhd, &trak]);
    [atom(b"ftyp", &[b"M4A ", &[0u8; 4]]), moov].concat()
}

fn temp_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut tmp = tempfile::NamedTempFile::new().unwrap();
    tmp.write_all(bytes).unwrap();
    tmp
}

#[test]
fn the_edit_list_of_a_valid_skeleton_is_read() {
    check("mp4 edit valid", 20, |rng| {
        let tmp = temp_file(&m4a(rng));
        let edit = mp4_edit(&mut tmp.reopen().unwrap(), 44_100)
            .unwrap()
            .unwrap();
        assert_eq!(edit.length, 3 * 44_100);
    });
}

#[test]
fn damaged_mp4_headers_end_without_a_panic() {
    check("mp4 edit damaged", 300, |rng| {
        let valid = m4a(rng);
        let data = if rng.gen_bool(0.8) {
            mutate(rng, &valid)
        } else {
            random_bytes(rng, 400)
        };
        let tmp = temp_file(&data);
        let _ = mp4_edit(&mut tmp.reopen().unwrap(), 44_100);
    });
}

/// A 64-bit box size that wraps the offset back to 0: a panic in debug builds (overflow) and
/// an endless loop over the same boxes in release builds.
#[test]
fn a_64_bit_box_size_that_wraps_the_offset_ends_the_search() {
    let mut data = atom(b"free", &[]);
    data.extend_from_slice(&1u32.to_be_bytes());
    data.extend_from_slice(b"wrap");
    data.extend_from_slice(&(u64::MAX - 7).to_be_bytes());
    let tmp = temp_file(&data);
    assert_eq!(mp4_edit(&mut tmp.reopen().unwrap(), 44_100).unwrap(), None);
}

#[test]
fn damaged_flac_metadata_gives_bounded_patches_and_unchanged_audio() {
    check("flac metadata", 300, |rng| {
        let mut flac = b"fLaC".to_vec();
        for last in (0..rng.gen_range(1..6)).map(|i| i == 0).rev() {
            let body = random_bytes(rng, 40);
            let kind = [0u8, 1, 4, 6][rng.gen_range(0..4)] | if last { 0x80 } else { 0 };
            flac.push(kind);
            flac.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
            flac.extend(body);
        }
        flac.extend(random_bytes(rng, 200));
        let data = mutate(rng, &flac);
        let tmp = temp_file(&data);
        let Ok(mut r) = FlacWithoutPictures::new(tmp.reopen().unwrap()) else {
            return;
        };
        assert!(r.patches.len() <= MAX_METADATA_BLOCKS);
        let mut got = Vec::new();
        r.read_to_end(&mut got).unwrap();
        assert_eq!(got.len(), data.len());
        // Only patched header bytes differ, and only in their block type.
        for (i, (a, b)) in got.iter().zip(&data).enumerate() {
            if a != b {
                assert!(r.patches.iter().any(|&(at, _)| at == i as u64));
                assert_eq!(a & 0x80, b & 0x80);
            }
        }
    });
}

/// A file of empty PICTURE blocks: one patch per 4 bytes, and a seek for each, unbounded.
#[test]
fn a_file_of_empty_metadata_blocks_is_walked_only_so_far() {
    let mut data = b"fLaC".to_vec();
    for _ in 0..100_000 {
        data.extend_from_slice(&[PICTURE, 0, 0, 0]);
    }
    let tmp = temp_file(&data);
    let r = FlacWithoutPictures::new(tmp.reopen().unwrap()).unwrap();
    assert_eq!(r.patches.len(), MAX_METADATA_BLOCKS);
}
