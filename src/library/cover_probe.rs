//! Whether a file embeds a picture, found by walking its tag structure (ID3v2 frames, FLAC
//! metadata blocks, MP4 atoms, RIFF/AIFF chunks, Vorbis comments) and seeking past bodies, so a
//! 50 MB cover costs a few header reads, not 50 MB. lofty can skip pictures but then cannot
//! say whether there was one.
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// How far into an Ogg file the comment header (where a picture's key sits) is looked for.
const OGG_SEARCH_BYTES: u64 = 1 << 20;
/// Containers nested deeper than this are not followed (a loop of atoms is not a picture).
const MAX_DEPTH: usize = 6;

/// Whether `path` embeds a picture in a tag Drift reads. False when unsure or unreadable.
pub fn has_embedded_picture(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let mut r = BufReader::new(file);
    probe(&mut r, len).unwrap_or(false) || ape_has_picture(&mut r, len).unwrap_or(false)
}

fn probe<R: Read + Seek>(r: &mut R, len: u64) -> std::io::Result<bool> {
    let mut magic = [0u8; 12];
    r.read_exact(&mut magic)?;
    r.seek(SeekFrom::Start(0))?;
    match &magic {
        [b'I', b'D', b'3', ..] => {
            // An ID3v2 tag may sit in front of MP3, AAC or FLAC: look in it, then after it.
            let Some((picture, end)) = id3v2(r, 0)? else {
                return Ok(false);
            };
            if picture {
                return Ok(true);
            }
            r.seek(SeekFrom::Start(end))?;
            let mut next = [0u8; 4];
            Ok(r.read_exact(&mut next).is_ok() && &next == b"fLaC" && flac_blocks(r)?)
        }
        [b'f', b'L', b'a', b'C', ..] => {
            r.seek(SeekFrom::Start(4))?;
            flac_blocks(r)
        }
        [b'O', b'g', b'g', b'S', ..] => ogg_comment_has_picture(r),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'A', b'V', b'E'] => chunks(r, 12, len, false),
        [b'F', b'O', b'R', b'M', _, _, _, _, b'A', b'I', b'F', _] => chunks(r, 12, len, true),
        [_, _, _, _, b'f', b't', b'y', b'p', ..] => atoms(r, 0, len, 0),
        _ => Ok(false),
    }
}

/// Reads the ID3v2 tag starting at `at`: whether it has a picture frame, and where it ends.
fn id3v2<R: Read + Seek>(r: &mut R, at: u64) -> std::io::Result<Option<(bool, u64)>> {
    r.seek(SeekFrom::Start(at))?;
    let mut h = [0u8; 10];
    r.read_exact(&mut h)?;
    if &h[..3] != b"ID3" {
        return Ok(None);
    }
    let syncsafe = |b: &[u8]| b.iter().fold(0u64, |n, &x| (n << 7) | (x & 0x7F) as u64);
    let version = h[3];
    let end = at + 10 + syncsafe(&h[6..10]);
    let (id_len, header_len) = if version == 2 { (3, 6) } else { (4, 10) };
    let mut pos = at + 10;
    while pos + header_len <= end {
        r.seek(SeekFrom::Start(pos))?;
        let mut fh = [0u8; 10];
        r.read_exact(&mut fh[..header_len as usize])?;
        let id = &fh[..id_len];
        if id.iter().all(|&b| b == 0) {
            break; // padding
        }
        let size = match version {
            2 => u64::from_be_bytes([0, 0, 0, 0, 0, fh[3], fh[4], fh[5]]),
            3 => u32::from_be_bytes([fh[4], fh[5], fh[6], fh[7]]) as u64,
            _ => syncsafe(&fh[4..8]),
        };
        if (id == b"APIC" || id == b"PIC") && size > 0 {
            return Ok(Some((true, end)));
        }
        pos += header_len + size;
    }
    Ok(Some((false, end)))
}

/// Walks FLAC metadata block headers (the reader is just past `fLaC`) for a PICTURE block.
fn flac_blocks<R: Read + Seek>(r: &mut R) -> std::io::Result<bool> {
    loop {
        let mut h = [0u8; 4];
        r.read_exact(&mut h)?;
        let size = u32::from_be_bytes([0, h[1], h[2], h[3]]) as i64;
        if h[0] & 0x7F == 6 && size > 0 {
            return Ok(true);
        }
        if h[0] & 0x80 != 0 {
            return Ok(false);
        }
        r.seek(SeekFrom::Current(size))?;
    }
}

/// Walks RIFF (little-endian sizes) or AIFF (big-endian) chunks from `at` to `end` for an
/// ID3v2 chunk with a picture, which is where lofty reads a WAV's or AIFF's pictures.
fn chunks<R: Read + Seek>(
    r: &mut R,
    mut at: u64,
    end: u64,
    big_endian: bool,
) -> std::io::Result<bool> {
    while at + 8 <= end {
        r.seek(SeekFrom::Start(at))?;
        let mut h = [0u8; 8];
        r.read_exact(&mut h)?;
        let raw = [h[4], h[5], h[6], h[7]];
        let size = if big_endian {
            u32::from_be_bytes(raw)
        } else {
            u32::from_le_bytes(raw)
        } as u64;
        if h[..4].eq_ignore_ascii_case(b"id3 ") && id3v2(r, at + 8)?.is_some_and(|(pic, _)| pic) {
            return Ok(true);
        }
        // Chunks are padded to an even length.
        at += 8 + size + (size & 1);
    }
    Ok(false)
}

/// Walks MP4 atoms from `at` to `end` down moov/udta/meta/ilst to a `covr` atom.
fn atoms<R: Read + Seek>(r: &mut R, mut at: u64, end: u64, depth: usize) -> std::io::Result<bool> {
    while end.saturating_sub(at) >= 8 && depth <= MAX_DEPTH {
        r.seek(SeekFrom::Start(at))?;
        let mut h = [0u8; 8];
        r.read_exact(&mut h)?;
        let mut size = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as u64;
        let mut body = at + 8;
        if size == 1 {
            let mut large = [0u8; 8];
            r.read_exact(&mut large)?;
            size = u64::from_be_bytes(large);
            body += 8;
        } else if size == 0 {
            size = end - at; // to the end of the enclosing atom
        }
        // A 64-bit size can point past any file, and wrap `at` back to an atom already seen.
        let next = match at.checked_add(size) {
            Some(next) if size >= body - at => next,
            _ => return Ok(false),
        };
        let atom_end = next.min(end);
        // Children start after the header; `meta` has a version and flags before its own.
        let children = match &h[4..8] {
            b"covr" => return Ok(size > body - at),
            b"moov" | b"udta" | b"ilst" => Some(body),
            b"meta" => Some(body + 4),
            _ => None,
        };
        if let Some(first) = children {
            if atoms(r, first, atom_end, depth + 1)? {
                return Ok(true);
            }
        }
        at = next;
    }
    Ok(false)
}

/// Whether an APE tag at the end of the file (before an ID3v1 tag, if any) has a cover item,
/// walking item headers and seeking past values.
fn ape_has_picture<R: Read + Seek>(r: &mut R, len: u64) -> std::io::Result<bool> {
    for id3v1 in [0, 128] {
        let Some(footer_at) = len.checked_sub(32 + id3v1) else {
            continue;
        };
        r.seek(SeekFrom::Start(footer_at))?;
        let mut f = [0u8; 32];
        r.read_exact(&mut f)?;
        if &f[..8] != b"APETAGEX" {
            continue;
        }
        let word = |i: usize| u32::from_le_bytes([f[i], f[i + 1], f[i + 2], f[i + 3]]) as u64;
        // The size counts the items and this footer, not a header.
        let (size, count) = (word(12), word(16));
        let Some(mut at) = (footer_at + 32).checked_sub(size) else {
            return Ok(false);
        };
        for _ in 0..count.min(1024) {
            r.seek(SeekFrom::Start(at))?;
            let mut h = [0u8; 8];
            r.read_exact(&mut h)?;
            let value_len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as u64;
            let mut key = Vec::new();
            (&mut *r).take(256).read_until_nul(&mut key)?;
            if key.len() >= 9 && key[..9].eq_ignore_ascii_case(b"cover art") && value_len > 0 {
                return Ok(true);
            }
            at += 8 + key.len() as u64 + 1 + value_len;
            if at >= footer_at {
                break;
            }
        }
        return Ok(false);
    }
    Ok(false)
}

/// Reading a NUL-terminated string (the NUL is consumed, not kept).
trait ReadUntilNul {
    fn read_until_nul(&mut self, out: &mut Vec<u8>) -> std::io::Result<()>;
}

impl<R: Read> ReadUntilNul for R {
    fn read_until_nul(&mut self, out: &mut Vec<u8>) -> std::io::Result<()> {
        let mut byte = [0u8; 1];
        while self.read(&mut byte)? == 1 && byte[0] != 0 {
            out.push(byte[0]);
        }
        Ok(())
    }
}

/// Looks for a picture key in the first megabyte of an Ogg file, where its comment header is.
fn ogg_comment_has_picture<R: Read + Seek>(r: &mut R) -> std::io::Result<bool> {
    let mut head = Vec::new();
    r.take(OGG_SEARCH_BYTES).read_to_end(&mut head)?;
    let keys: [&[u8]; 2] = [b"METADATA_BLOCK_PICTURE=", b"COVERART="];
    Ok(keys
        .iter()
        .any(|key| head.windows(key.len()).any(|w| w.eq_ignore_ascii_case(key))))
}

#[cfg(test)]
#[path = "cover_probe_props.rs"]
mod props;
