//! Work-arounds for what symphonia 0.5.5's demuxers get wrong or do wastefully: the AIFF
//! reader overstates the length, the MP4 reader ignores the edit list (so AAC's encoder priming
//! plays as silence), and the FLAC reader keeps every embedded picture in memory for as long as
//! the file is decoded (a 50 MB cover per deck, for nothing).
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use symphonia::core::codecs::{
    CodecParameters, CODEC_TYPE_PCM_ALAW, CODEC_TYPE_PCM_F32BE, CODEC_TYPE_PCM_F32LE,
    CODEC_TYPE_PCM_F64BE, CODEC_TYPE_PCM_F64LE, CODEC_TYPE_PCM_MULAW,
};
use symphonia::core::io::MediaSource;

/// Frames symphonia 0.5.5's AIFF reader counts past the end of the sound data. It takes the
/// SSND chunk's length as the audio's, but that length includes the chunk's 8-byte offset and
/// block-size fields, which it has already read: so it states and decodes 8 bytes too many,
/// which are the next chunk's header (an audible click) or nothing at the end of the file.
pub(super) fn aiff_overcount(params: &CodecParameters) -> u64 {
    let bytes_per_sample = match params.codec {
        CODEC_TYPE_PCM_F32BE | CODEC_TYPE_PCM_F32LE => 4,
        CODEC_TYPE_PCM_F64BE | CODEC_TYPE_PCM_F64LE => 8,
        CODEC_TYPE_PCM_ALAW | CODEC_TYPE_PCM_MULAW => 1,
        _ => params.bits_per_coded_sample.unwrap_or(16).div_ceil(8) as u64,
    };
    let channels = params.channels.map_or(1, |c| c.count()) as u64;
    8 / (bytes_per_sample * channels).max(1)
}

/// FLAC metadata block types (FLAC format, METADATA_BLOCK_HEADER).
const PADDING: u8 = 1;
const PICTURE: u8 = 6;
/// Metadata blocks walked at most. Real files have a handful; a damaged one whose blocks are
/// all empty would otherwise cost a seek and a patch per 4 bytes of the file, for every open.
const MAX_METADATA_BLOCKS: usize = 1024;

/// A FLAC file as symphonia should see it: every PICTURE block's header says PADDING instead,
/// which the reader skips with a seek. Only those header bytes differ from the file.
pub(super) struct FlacWithoutPictures {
    file: File,
    /// (file offset, byte to show there instead).
    patches: Vec<(u64, u8)>,
    pos: u64,
    len: u64,
}

impl FlacWithoutPictures {
    /// Walks the metadata block headers of `file` (which starts with `fLaC`).
    pub(super) fn new(mut file: File) -> std::io::Result<FlacWithoutPictures> {
        let len = file.metadata()?.len();
        let mut patches = Vec::new();
        let mut at = 4;
        for _ in 0..MAX_METADATA_BLOCKS {
            if at + 4 > len {
                break;
            }
            file.seek(SeekFrom::Start(at))?;
            let mut h = [0u8; 4];
            file.read_exact(&mut h)?;
            if h[0] & 0x7F == PICTURE {
                patches.push((at, (h[0] & 0x80) | PADDING));
            }
            if h[0] & 0x80 != 0 {
                break; // the last metadata block
            }
            at += 4 + u32::from_be_bytes([0, h[1], h[2], h[3]]) as u64;
        }
        file.seek(SeekFrom::Start(0))?;
        Ok(FlacWithoutPictures {
            file,
            patches,
            pos: 0,
            len,
        })
    }
}

impl Read for FlacWithoutPictures {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        let range = self.pos..self.pos + n as u64;
        for &(at, byte) in &self.patches {
            if range.contains(&at) {
                buf[(at - self.pos) as usize] = byte;
            }
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for FlacWithoutPictures {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.pos = self.file.seek(to)?;
        Ok(self.pos)
    }
}

impl MediaSource for FlacWithoutPictures {
    fn is_seekable(&self) -> bool {
        true
    }
    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

/// The part of an MP4 audio track that is the music, from its edit list: skip the first
/// `skip` frames (the encoder's priming), then play `length` frames (at the track's rate).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Mp4Edit {
    pub skip: u64,
    pub length: u64,
}

/// Reads the edit list of the first sound track of an MP4 file (moov/trak/edts/elst), with the
/// movie's and the track's time scales to state it in the track's samples.
pub(super) fn mp4_edit(file: &mut File, rate: u32) -> std::io::Result<Option<Mp4Edit>> {
    let len = file.metadata()?.len();
    let Some((moov, moov_end)) = find_atom(file, 0, len, b"moov")? else {
        return Ok(None);
    };
    let Some((mvhd, _)) = find_atom(file, moov, moov_end, b"mvhd")? else {
        return Ok(None);
    };
    let movie_scale = read_timescale(file, mvhd)?;
    let mut at = moov;
    while let Some((trak, trak_end)) = find_atom(file, at, moov_end, b"trak")? {
        at = trak_end;
        let Some((mdia, mdia_end)) = find_atom(file, trak, trak_end, b"mdia")? else {
            continue;
        };
        let Some((hdlr, _)) = find_atom(file, mdia, mdia_end, b"hdlr")? else {
            continue;
        };
        if &read_at::<4>(file, hdlr + 8)? != b"soun" {
            continue;
        }
        let Some((mdhd, _)) = find_atom(file, mdia, mdia_end, b"mdhd")? else {
            return Ok(None);
        };
        let media_scale = read_timescale(file, mdhd)?;
        let Some((edts, edts_end)) = find_atom(file, trak, trak_end, b"edts")? else {
            return Ok(None);
        };
        let Some((elst, _)) = find_atom(file, edts, edts_end, b"elst")? else {
            return Ok(None);
        };
        let [version, ..] = read_at::<4>(file, elst)?;
        // The first entry; an empty edit (media time −1) or a list of several is left alone.
        if u32::from_be_bytes(read_at::<4>(file, elst + 4)?) != 1 {
            return Ok(None);
        }
        let (duration, media_time) = if version == 1 {
            let d = u64::from_be_bytes(read_at::<8>(file, elst + 8)?);
            (d, i64::from_be_bytes(read_at::<8>(file, elst + 16)?))
        } else {
            let d = u32::from_be_bytes(read_at::<4>(file, elst + 8)?) as u64;
            (d, i32::from_be_bytes(read_at::<4>(file, elst + 12)?) as i64)
        };
        // A zero duration (some muxers' way of saying "all of it") states nothing.
        if media_time < 0 || duration == 0 || movie_scale == 0 || media_scale == 0 {
            return Ok(None);
        }
        let to_rate = |n: u128, scale: u64| (n * rate as u128 / scale as u128) as u64;
        return Ok(Some(Mp4Edit {
            skip: to_rate(media_time as u128, media_scale),
            length: to_rate(duration as u128, movie_scale),
        }));
    }
    Ok(None)
}

/// The first atom of `kind` among those from `at` to `end`: (its body's offset, its end).
fn find_atom(
    file: &mut File,
    mut at: u64,
    end: u64,
    kind: &[u8; 4],
) -> std::io::Result<Option<(u64, u64)>> {
    while end.saturating_sub(at) >= 8 {
        let h = read_at::<8>(file, at)?;
        let mut size = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as u64;
        let mut body = at + 8;
        if size == 1 {
            size = u64::from_be_bytes(read_at::<8>(file, at + 8)?);
            body += 8;
        } else if size == 0 {
            size = end - at;
        }
        // A 64-bit size can point past the end of any file (and wrap `at` back to a box
        // already seen, looping for ever).
        let next = match at.checked_add(size) {
            Some(next) if size >= body - at => next,
            _ => return Ok(None),
        };
        if &h[4..8] == kind {
            return Ok(Some((body, next.min(end))));
        }
        at = next;
    }
    Ok(None)
}

/// The time scale of an `mvhd` or `mdhd` atom whose body starts at `body`.
fn read_timescale(file: &mut File, body: u64) -> std::io::Result<u64> {
    let [version, ..] = read_at::<4>(file, body)?;
    let offset = if version == 1 { 20 } else { 12 };
    Ok(u32::from_be_bytes(read_at::<4>(file, body + offset)?) as u64)
}

fn read_at<const N: usize>(file: &mut File, at: u64) -> std::io::Result<[u8; N]> {
    let mut b = [0u8; N];
    file.seek(SeekFrom::Start(at))?;
    file.read_exact(&mut b)?;
    Ok(b)
}

#[cfg(test)]
#[path = "container_fixes_props.rs"]
mod props;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn picture_blocks_read_as_padding_and_nothing_else_changes() {
        let mut flac = b"fLaC".to_vec();
        flac.extend_from_slice(&[0x00, 0, 0, 2, 0xAA, 0xBB]); // STREAMINFO (shortened)
        flac.extend_from_slice(&[PICTURE, 0, 0, 3, 1, 2, 3]);
        flac.extend_from_slice(&[0x80 | PICTURE, 0, 0, 1, 9]); // the last block
        flac.extend_from_slice(b"frames");
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        tmp.write_all(&flac).unwrap();
        let mut expected = flac.clone();
        expected[10] = PADDING;
        expected[17] = 0x80 | PADDING;
        // Read whole, and in pieces of every size: the same bytes.
        for piece in 1..=expected.len() {
            let mut r = FlacWithoutPictures::new(tmp.reopen().unwrap()).unwrap();
            let mut got = Vec::new();
            let mut buf = vec![0; piece];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, expected, "pieces of {piece}");
        }
        let mut r = FlacWithoutPictures::new(tmp.reopen().unwrap()).unwrap();
        r.seek(SeekFrom::Start(17)).unwrap();
        let mut one = [0u8; 1];
        r.read_exact(&mut one).unwrap();
        assert_eq!(one[0], 0x80 | PADDING);
    }
}
