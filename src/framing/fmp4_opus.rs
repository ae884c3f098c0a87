//! Fragmented MP4 for Opus packets (`audio/mp4; codecs="opus"`, which Chromium's and
//! Firefox's MediaSource take): an init segment with an `Opus` sample entry and its `dOps`
//! box (ISO/IEC 14496-12 with the Opus-in-ISOBMFF mapping), timescale 48 kHz, then a `moof` +
//! `mdat` per batch of 20 ms packets with `tfdt` = packet number × 960, so the media timeline
//! is the stream position in seconds, as in the MP3 fMP4.
//!
//! Titles: an `emsg` box (version 1) before the fragment in which a track becomes audible,
//! with scheme [`TITLE_SCHEME`], value `"1"`, timescale 48000, `presentation_time` = the
//! 48 kHz time (stream seconds × 48000) of the first packet of the new track, duration
//! 0xFFFFFFFF (until the next one), and the title ("Artist - Title", UTF-8) as message data.
//! The first fragment of a response is preceded by one for the track audible at its start.
//! MediaSource ignores `emsg`; the page reads the top-level boxes itself.
use super::fmp4::{audio_entry, be32, boxed, full, init, timed_fragment_header};
use crate::audio::opus_encode::{OPUS_RATE, PACKET_SAMPLES};

/// The `emsg` scheme of Drift's track titles.
pub const TITLE_SCHEME: &str = "urn:drift:title";

/// The init segment for stereo Opus (track id 1, 48 kHz timescale) with this pre-skip in
/// 48 kHz samples (0 for a stream that starts at a packet it decodes from).
pub fn init_segment(pre_skip: u16, input_rate: u32) -> Vec<u8> {
    init(
        OPUS_RATE,
        &sample_entry(pre_skip, input_rate),
        PACKET_SAMPLES as u32,
    )
}

/// The `Opus` sample entry with its `dOps` (big-endian, unlike the Ogg `OpusHead`).
fn sample_entry(pre_skip: u16, input_rate: u32) -> Vec<u8> {
    let entry = audio_entry(OPUS_RATE);
    let mut dops = vec![0u8, 2]; // version, output channel count
    dops.extend(pre_skip.to_be_bytes());
    dops.extend(input_rate.to_be_bytes());
    dops.extend(0i16.to_be_bytes()); // output gain
    dops.push(0); // channel mapping family 0: mono or stereo
    boxed(b"Opus", &[&entry, &boxed(b"dOps", &[&dops])])
}

/// Everything of a fragment before its packets' bytes, for packets of these sizes, the first
/// being packet `first_packet`; `sequence` counts fragments from 1.
pub fn fragment_header(
    sequence: u32,
    first_packet: u64,
    sizes: impl ExactSizeIterator<Item = usize> + Clone,
) -> Vec<u8> {
    let duration = PACKET_SAMPLES as u32;
    timed_fragment_header(sequence, first_packet * duration as u64, duration, sizes)
}

/// An `emsg` naming the track audible from packet `packet` on; `id` numbers the messages.
pub fn title_message(packet: u64, id: u32, title: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(be32(OPUS_RATE)); // timescale
    body.extend((packet * PACKET_SAMPLES as u64).to_be_bytes()); // presentation time
    body.extend(be32(u32::MAX)); // duration: until the next title
    body.extend(be32(id));
    body.extend(TITLE_SCHEME.as_bytes());
    body.push(0);
    body.extend(b"1\0");
    body.extend(title.as_bytes());
    full(b"emsg", 1, 0, &body)
}

#[cfg(test)]
#[path = "fmp4_opus_tests.rs"]
mod tests;
