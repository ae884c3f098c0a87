//! Property tests of the cover probe on damaged files: walking the tags of random or mutated
//! ID3v2, FLAC, RIFF, MP4 and APE skeletons ends (true, false or an error) within a
//! bounded number of reads and seeks, and never panics.
use super::*;
use crate::fuzz::{check, mutate, random_bytes, FuzzRng};
use rand::Rng;
use std::io::Cursor;

/// A reader over bytes that fails the test after too many reads and seeks: a walk that loops
/// over the same headers would otherwise hang the scanner for ever.
struct Bounded {
    inner: Cursor<Vec<u8>>,
    ops: u32,
}

impl Bounded {
    fn tick(&mut self) {
        self.ops += 1;
        assert!(self.ops < 100_000, "the probe does not end");
    }
}

impl Read for Bounded {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.tick();
        self.inner.read(buf)
    }
}

impl Seek for Bounded {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.tick();
        self.inner.seek(to)
    }
}

/// Runs both probes, as `has_embedded_picture` does.
fn probe_bytes(data: Vec<u8>) -> bool {
    let len = data.len() as u64;
    let mut r = Bounded {
        inner: Cursor::new(data),
        ops: 0,
    };
    probe(&mut r, len).unwrap_or(false) || ape_has_picture(&mut r, len).unwrap_or(false)
}

fn be32(n: usize) -> [u8; 4] {
    (n as u32).to_be_bytes()
}

fn atom(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    [&be32(body.len() + 8)[..], kind, body].concat()
}

/// An ID3v2.3 tag holding one APIC frame.
fn id3_tag(picture: &[u8]) -> Vec<u8> {
    let frame = [b"APIC", &be32(picture.len())[..], &[0, 0], picture].concat();
    let size = frame.len();
    let syncsafe = [size >> 21, size >> 14, size >> 7, size].map(|b| (b & 0x7F) as u8);
    [b"ID3\x03\x00\x00", &syncsafe[..], &frame].concat()
}

/// A file of one container kind with a picture where Drift's tag reader looks for it.
fn skeleton(rng: &mut FuzzRng) -> Vec<u8> {
    let mut picture = random_bytes(rng, 64);
    picture.push(0xD8);
    match rng.gen_range(0..5) {
        0 => [id3_tag(&picture), vec![0xFF, 0xFB, 0x90, 0x64]].concat(),
        1 => {
            let info = [&[0u8][..], &be32(34)[1..], &[0u8; 34]].concat();
            let pic = [&[0x86u8][..], &be32(picture.len())[1..], &picture].concat();
            [b"fLaC", &info[..], &pic].concat()
        }
        2 => {
            let tag = id3_tag(&picture);
            let chunk = [b"id3 ", &(tag.len() as u32).to_le_bytes()[..], &tag].concat();
            [b"RIFF", &[0u8; 4][..], b"WAVE", &chunk].concat()
        }
        3 => {
            let ilst = atom(b"ilst", &atom(b"covr", &picture));
            let meta = atom(b"meta", &[&[0u8; 4][..], &ilst].concat());
            let moov = atom(b"moov", &atom(b"udta", &meta));
            [atom(b"ftyp", b"M4A \0\0\0\0"), moov].concat()
        }
        _ => {
            let item = [
                &(picture.len() as u32).to_le_bytes()[..],
                &[0; 4],
                b"Cover Art (Front)\0",
                &picture,
            ]
            .concat();
            let mut footer = b"APETAGEX".to_vec();
            footer.extend(2000u32.to_le_bytes());
            footer.extend(((item.len() + 32) as u32).to_le_bytes());
            footer.extend(1u32.to_le_bytes());
            footer.resize(32, 0);
            [
                &[0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0, 0, 0, 0, 0][..],
                &item,
                &footer,
            ]
            .concat()
        }
    }
}

#[test]
fn every_skeleton_has_its_picture_found() {
    check("cover skeletons", 100, |rng| {
        assert!(probe_bytes(skeleton(rng)));
    });
}

#[test]
fn damaged_tags_end_without_a_panic() {
    check("cover damaged", 1000, |rng| {
        let data = if rng.gen_bool(0.8) {
            let valid = skeleton(rng);
            mutate(rng, &valid)
        } else {
            random_bytes(rng, 600)
        };
        probe_bytes(data);
    });
}

/// An MP4 atom whose 64-bit size is 2^64 − 8, after an 8-byte atom: the offset wrapped back
/// to 0 (an overflow panic in debug builds, the same atoms walked for ever in release).
#[test]
fn a_64_bit_atom_size_that_wraps_the_offset_ends_the_walk() {
    let mut data = atom(b"ftyp", b"");
    data.extend_from_slice(&[0, 0, 0, 1]);
    data.extend_from_slice(b"wrap");
    data.extend_from_slice(&(u64::MAX - 7).to_be_bytes());
    assert!(!probe_bytes(data));
}
