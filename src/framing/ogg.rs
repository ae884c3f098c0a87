//! Ogg Opus (RFC 3533 pages, RFC 7845 mapping) for a listener's Opus packets: pages with
//! CRC, lacing and granule positions written by hand (a few dozen lines; no crate writes
//! pages for packets produced elsewhere without copying them). Pure: packets in, bytes out.
//!
//! A response is a chain of links: the first starts with `OpusHead` (pre-skip = the pre-roll
//! packets sent before the first audible one) and `OpusTags` (TITLE, ARTIST); where a new
//! track becomes audible, the link ends (EOS) and a new one starts, as Icecast's Ogg streams
//! do, so players show the new title. A new link starts with [`LINK_PREROLL`] packets sent
//! again before the track's first packet and a pre-skip covering them, so a player that resets
//! its decoder at the link decodes the new track's first packet with a converged decoder.
//! Granule positions count 48 kHz samples from each link's start, pre-skip included.
use super::Title;
use crate::audio::opus_encode::PACKET_SAMPLES;
use bytes::Bytes;
use std::collections::VecDeque;

/// Packets sent again at the start of a new link (80 ms, RFC 7845's recommended pre-roll).
pub const LINK_PREROLL: usize = 4;
/// The rate the encoder's input had (informative in `OpusHead`).
const INPUT_RATE: u32 = 44_100;
const FLAG_BOS: u8 = 2;
const FLAG_EOS: u8 = 4;

/// The CRC of Ogg pages: polynomial 0x04C11DB7, not reflected, initial value 0.
pub fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut r = (i as u32) << 24;
            for _ in 0..8 {
                r = if r & 0x8000_0000 != 0 {
                    (r << 1) ^ 0x04C1_1DB7
                } else {
                    r << 1
                };
            }
            *slot = r;
        }
        t
    });
    data.iter().fold(0u32, |crc, b| {
        (crc << 8) ^ table[((crc >> 24) as u8 ^ b) as usize]
    })
}

/// One page holding whole `packets` (at most 255 lacing values in all).
pub fn page(flags: u8, granule: u64, serial: u32, sequence: u32, packets: &[&[u8]]) -> Vec<u8> {
    let mut lacing = Vec::new();
    for p in packets {
        lacing.extend(std::iter::repeat_n(255u8, p.len() / 255));
        lacing.push((p.len() % 255) as u8);
    }
    assert!(lacing.len() <= 255, "too many packets for one page");
    let mut out =
        Vec::with_capacity(27 + lacing.len() + packets.iter().map(|p| p.len()).sum::<usize>());
    out.extend(b"OggS");
    out.push(0); // version
    out.push(flags);
    out.extend(granule.to_le_bytes());
    out.extend(serial.to_le_bytes());
    out.extend(sequence.to_le_bytes());
    out.extend([0u8; 4]); // CRC, filled below
    out.push(lacing.len() as u8);
    out.extend(lacing);
    for p in packets {
        out.extend_from_slice(p);
    }
    let crc = crc32(&out);
    out[22..26].copy_from_slice(&crc.to_le_bytes());
    out
}

/// The identification header: stereo, `pre_skip` 48 kHz samples, no gain, mapping family 0.
pub fn opus_head(pre_skip: u16) -> Vec<u8> {
    let mut h = b"OpusHead".to_vec();
    h.push(1); // version
    h.push(2); // channels
    h.extend(pre_skip.to_le_bytes());
    h.extend(INPUT_RATE.to_le_bytes());
    h.extend(0i16.to_le_bytes());
    h.push(0);
    h
}

/// The comment header: vendor "Drift", TITLE and ARTIST (when known).
pub fn opus_tags(title: &Title) -> Vec<u8> {
    let mut comments = vec![format!("TITLE={}", title.title)];
    if !title.artist.is_empty() {
        comments.push(format!("ARTIST={}", title.artist));
    }
    let mut h = b"OpusTags".to_vec();
    let vendor = b"Drift";
    h.extend((vendor.len() as u32).to_le_bytes());
    h.extend(vendor);
    h.extend((comments.len() as u32).to_le_bytes());
    for c in comments {
        h.extend((c.len() as u32).to_le_bytes());
        h.extend(c.as_bytes());
    }
    h
}

/// A listener's Ogg Opus writer.
pub struct OggOpus {
    /// Packets before the first audible one in the first link.
    preroll: u64,
    /// The first audible packet, once the first packet is known.
    audible: u64,
    /// The current link: serial, next page sequence number, granule so far; `None` before
    /// the first packet.
    link: Option<(u32, u32, u64)>,
    links: u32,
    title: Option<Title>,
    /// The last packets sent, for the pre-roll of a new link.
    recent: VecDeque<Bytes>,
}

impl OggOpus {
    /// A writer whose first `preroll` packets are decoder pre-roll.
    pub fn new(preroll: u64) -> OggOpus {
        OggOpus {
            preroll,
            audible: 0,
            link: None,
            links: 0,
            title: None,
            recent: VecDeque::new(),
        }
    }

    /// Appends the pages carrying `packets`, whose first is packet `first`; `title` names the
    /// track audible at a packet (asked where it may change).
    pub fn push(
        &mut self,
        first: u64,
        packets: &[Bytes],
        title: &mut dyn FnMut(u64) -> Title,
        out: &mut Vec<Bytes>,
    ) {
        if packets.is_empty() {
            return;
        }
        let mut from = 0;
        if self.link.is_none() {
            self.audible = first + self.preroll;
            let t = title(self.audible.min(first + packets.len() as u64 - 1));
            let skip = self.preroll as usize * PACKET_SAMPLES;
            self.start_link(first, skip as u16, &t, out);
            self.title = Some(t);
        }
        // Changes before the first audible packet are not shown.
        let end = first + packets.len() as u64;
        let from_packet = self.audible.clamp(first, end);
        for (at, t) in super::title_changes(from_packet, end, self.title.as_ref(), title) {
            let split = (at - first) as usize;
            self.packets(&packets[from..split], FLAG_EOS, out);
            let again: Vec<Bytes> = self.recent.iter().cloned().collect();
            let skip = again.len() * PACKET_SAMPLES;
            self.start_link(at, skip as u16, &t, out);
            self.packets(&again, 0, out);
            self.title = Some(t);
            from = split;
        }
        self.packets(&packets[from..], 0, out);
    }

    fn start_link(&mut self, first: u64, pre_skip: u16, title: &Title, out: &mut Vec<Bytes>) {
        self.links += 1;
        let serial = (first as u32).wrapping_mul(0x9E37_79B1) ^ self.links;
        out.push(page(FLAG_BOS, 0, serial, 0, &[&opus_head(pre_skip)]).into());
        out.push(page(0, 0, serial, 1, &[&opus_tags(title)]).into());
        self.link = Some((serial, 2, 0));
    }

    /// Pages for packets of the current link; `last_flags` go on the last page (EOS). An
    /// empty list with EOS makes an empty EOS page.
    fn packets(&mut self, packets: &[Bytes], last_flags: u8, out: &mut Vec<Bytes>) {
        let Some((serial, seq, granule)) = self.link.as_mut() else {
            return;
        };
        if packets.is_empty() {
            if last_flags != 0 {
                out.push(page(last_flags, *granule, *serial, *seq, &[]).into());
                *seq += 1;
            }
            return;
        }
        // Whole packets per page, at most 255 lacing values (a packet is at most 1275 bytes).
        let mut start = 0;
        while start < packets.len() {
            let mut lacing = 0;
            let mut end = start;
            while end < packets.len() && lacing + packets[end].len() / 255 < 255 {
                lacing += packets[end].len() / 255 + 1;
                end += 1;
            }
            *granule += ((end - start) * PACKET_SAMPLES) as u64;
            let flags = if end == packets.len() { last_flags } else { 0 };
            let refs: Vec<&[u8]> = packets[start..end].iter().map(|p| p.as_ref()).collect();
            out.push(page(flags, *granule, *serial, *seq, &refs).into());
            *seq += 1;
            start = end;
        }
        for p in packets {
            self.recent.push_back(p.clone());
            if self.recent.len() > LINK_PREROLL {
                self.recent.pop_front();
            }
        }
    }
}

#[cfg(test)]
#[path = "ogg_tests.rs"]
mod tests;
