//! MP3 frame splitter: finds frame headers (sync word, version, layer, bitrate, sample rate,
//! padding) in a byte stream and cuts it into whole frames, skipping anything between them.
//! Pure: bytes in, frames out, independent of how the input is split.

/// MPEG audio version.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Version {
    Mpeg1,
    Mpeg2,
    Mpeg25,
}

/// Channel mode as written in the header.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ChannelMode {
    Stereo,
    JointStereo,
    DualChannel,
    Mono,
}

/// Every field of a frame header, plus the derived frame length and sample count.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    pub version: Version,
    /// 1, 2 or 3.
    pub layer: u8,
    /// True when a 16-bit CRC follows the header.
    pub crc: bool,
    pub bitrate_kbps: u32,
    pub sample_rate: u32,
    pub padding: bool,
    pub private: bool,
    pub channel_mode: ChannelMode,
    pub mode_extension: u8,
    pub copyright: bool,
    pub original: bool,
    pub emphasis: u8,
}

const BITRATES_V1: [[u32; 15]; 3] = [
    [
        0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ],
    [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ],
    [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ],
];
const BITRATES_V2: [[u32; 15]; 2] = [
    [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];

impl FrameHeader {
    /// Parses four header bytes; `None` when they are not a usable header (no sync, a reserved
    /// value, or the free-format bitrate, whose frame length cannot be known from the header).
    pub fn parse(b: &[u8]) -> Option<FrameHeader> {
        if b.len() < 4 || b[0] != 0xFF || b[1] & 0xE0 != 0xE0 {
            return None;
        }
        let version = match (b[1] >> 3) & 0b11 {
            0b00 => Version::Mpeg25,
            0b10 => Version::Mpeg2,
            0b11 => Version::Mpeg1,
            _ => return None,
        };
        let layer = match (b[1] >> 1) & 0b11 {
            0b01 => 3,
            0b10 => 2,
            0b11 => 1,
            _ => return None,
        };
        let bitrate_index = (b[2] >> 4) as usize;
        if bitrate_index == 0 || bitrate_index == 15 {
            return None;
        }
        let bitrate_kbps = match version {
            Version::Mpeg1 => BITRATES_V1[layer as usize - 1][bitrate_index],
            _ => BITRATES_V2[usize::from(layer != 1)][bitrate_index],
        };
        let base_rate = match (b[2] >> 2) & 0b11 {
            0 => 44_100,
            1 => 48_000,
            2 => 32_000,
            _ => return None,
        };
        let sample_rate = match version {
            Version::Mpeg1 => base_rate,
            Version::Mpeg2 => base_rate / 2,
            Version::Mpeg25 => base_rate / 4,
        };
        let emphasis = b[3] & 0b11;
        if emphasis == 0b10 {
            return None;
        }
        Some(FrameHeader {
            version,
            layer,
            crc: b[1] & 1 == 0,
            bitrate_kbps,
            sample_rate,
            padding: b[2] & 0b10 != 0,
            private: b[2] & 1 != 0,
            channel_mode: match b[3] >> 6 {
                0 => ChannelMode::Stereo,
                1 => ChannelMode::JointStereo,
                2 => ChannelMode::DualChannel,
                _ => ChannelMode::Mono,
            },
            mode_extension: (b[3] >> 4) & 0b11,
            copyright: b[3] & 0b1000 != 0,
            original: b[3] & 0b100 != 0,
            emphasis,
        })
    }

    /// Samples per channel carried by one frame.
    pub fn samples(&self) -> u32 {
        match (self.layer, self.version) {
            (1, _) => 384,
            (2, _) | (3, Version::Mpeg1) => 1152,
            _ => 576,
        }
    }

    /// Length of the whole frame in bytes, header included.
    pub fn frame_len(&self) -> usize {
        let pad = u32::from(self.padding);
        let len = if self.layer == 1 {
            (12 * self.bitrate_kbps * 1000 / self.sample_rate + pad) * 4
        } else {
            self.samples() / 8 * self.bitrate_kbps * 1000 / self.sample_rate + pad
        };
        len as usize
    }

    /// Whether `other` can belong to the same stream (a false sync rarely matches all of these).
    fn same_stream(&self, other: &FrameHeader) -> bool {
        self.version == other.version
            && self.layer == other.layer
            && self.sample_rate == other.sample_rate
    }
}

/// One whole frame, header included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mp3Frame {
    pub header: FrameHeader,
    pub data: Vec<u8>,
}

/// Incremental splitter. Push bytes in any pieces; whole frames come out.
#[derive(Default)]
pub struct FrameSplitter {
    buf: Vec<u8>,
    /// Header of the last accepted frame: while in sync, a frame is accepted as soon as it is
    /// complete; out of sync, a candidate must be confirmed by the header that follows it.
    synced: Option<FrameHeader>,
    /// Bytes of an ID3v2 tag still to drop.
    id3_left: usize,
    /// Bytes that were not part of any frame (tags, garbage), for diagnostics.
    pub skipped_bytes: u64,
}

impl FrameSplitter {
    pub fn new() -> FrameSplitter {
        FrameSplitter::default()
    }

    /// Adds bytes and appends every frame they complete to `out`.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<Mp3Frame>) {
        self.buf.extend_from_slice(data);
        self.split(out, false);
    }

    /// Ends the input: a last frame that is complete but unconfirmed is still emitted.
    pub fn finish(&mut self, out: &mut Vec<Mp3Frame>) {
        self.split(out, true);
        self.skipped_bytes += self.buf.len() as u64;
        self.buf.clear();
    }

    fn split(&mut self, out: &mut Vec<Mp3Frame>, at_end: bool) {
        let mut at = 0;
        loop {
            if self.id3_left > 0 {
                let drop = self.id3_left.min(self.buf.len() - at);
                self.id3_left -= drop;
                self.skipped_bytes += drop as u64;
                at += drop;
                if self.id3_left > 0 {
                    break;
                }
            }
            let rest = &self.buf[at..];
            if rest.len() < 4 {
                break;
            }
            if self.synced.is_none() && rest.starts_with(b"ID3") {
                if rest.len() < 10 {
                    break;
                }
                // Syncsafe size: 7 bits per byte, plus the 10-byte header (and a footer flag).
                let size = rest[6..10]
                    .iter()
                    .fold(0usize, |a, &b| (a << 7) | (b & 0x7F) as usize);
                self.id3_left = 10 + size + if rest[5] & 0x10 != 0 { 10 } else { 0 };
                continue;
            }
            let header = match FrameHeader::parse(rest) {
                Some(h) if self.synced.is_none_or(|s| s.same_stream(&h)) => h,
                _ => {
                    self.synced = None;
                    self.skipped_bytes += 1;
                    at += 1;
                    continue;
                }
            };
            let len = header.frame_len();
            if rest.len() < len {
                if at_end && self.synced.is_some() {
                    // The input was cut in the middle of this frame (a stream read up to a
                    // byte count): the rest is its beginning, not a place to look for frames.
                    // Looking would accept a false sync in the audio data as a last frame.
                    self.skipped_bytes += rest.len() as u64;
                    at += rest.len();
                    break;
                }
                if at_end {
                    self.synced = None;
                    self.skipped_bytes += 1;
                    at += 1;
                    continue;
                }
                break;
            }
            let confirmed = if self.synced.is_some() {
                true
            } else if rest.len() >= len + 4 {
                FrameHeader::parse(&rest[len..]).is_some_and(|next| next.same_stream(&header))
            } else if at_end {
                true
            } else {
                break;
            };
            if !confirmed {
                self.skipped_bytes += 1;
                at += 1;
                continue;
            }
            out.push(Mp3Frame {
                header,
                data: rest[..len].to_vec(),
            });
            self.synced = Some(header);
            at += len;
        }
        self.buf.drain(..at);
    }
}

/// Splits a whole byte buffer into frames (convenience for files and tests).
pub fn split_all(data: &[u8]) -> Vec<Mp3Frame> {
    let mut s = FrameSplitter::new();
    let mut out = Vec::new();
    s.push(data, &mut out);
    s.finish(&mut out);
    out
}

#[cfg(test)]
#[path = "mp3_frames_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "mp3_frames_props.rs"]
mod props;
