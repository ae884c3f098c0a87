//! Opus encoding of a session's mix, aligned to the stream timeline: the limited 44.1 kHz PCM
//! that goes into LAME is resampled to 48 kHz (rubato, in chunks of 882 frames = 960 at 48 kHz
//! = one 20 ms packet) and encoded by libopus so that packet n decodes to exactly stream
//! positions [n × 882, (n + 1) × 882) — the same timeline as the MP3 frames, titles and `from`.
//!
//! Alignment: a PCM sample at mix position q is heard in the MP3 stream at q + [`MP3_DELAY`]
//! (LAME's encoder and decoder delays), so it gets that stream position here too. Chunk j of
//! the resampler holds stream positions [j × 882, (j + 1) × 882); its 960 output samples come
//! out [`Resampler::output_delay`] (480) samples late. libopus's decoder output lags its
//! encoder's input by the lookahead (312 samples at 48 kHz), so the encoder input of packet n
//! is taken that much later: 48 kHz stream time n × 960 + lookahead, i.e. resampler output
//! index n × 960 + lookahead + 480. Decoding packet n then yields stream time n × 960 exactly.
use crate::units::{StreamPos, CHANNELS};
use bytes::Bytes;
use rubato::{FftFixedIn, Resampler};

/// Stream frames (44.1 kHz) per Opus packet: 20 ms.
pub const PACKET_FRAMES: u64 = 882;
/// Samples per channel (48 kHz) per Opus packet.
pub const PACKET_SAMPLES: usize = 960;
/// The only rate libopus works at here.
pub const OPUS_RATE: u32 = 48_000;
/// From a sample entering LAME to its stream position: LAME's encoder (576) and decoder (529)
/// delays, as in [`crate::station::engine::OUTPUT_LATENCY`].
pub const MP3_DELAY: u64 = 576 + 529;
/// Largest Opus packet (RFC 6716).
const MAX_PACKET: usize = 1275;
/// Packets after the first exact PCM before a packet is exact: its resampler chunk and the
/// previous one (the FFT resampler's overlap) must both hold exact PCM, and the encoder's
/// lookahead reaches into the next chunk.
const SETTLE_PACKETS: u64 = 2;

/// The packet that holds stream position `pos`.
pub fn packet_index(pos: StreamPos) -> u64 {
    pos.frames() / PACKET_FRAMES
}

/// Stream position at which packet `n` starts.
pub fn packet_pos(n: u64) -> StreamPos {
    StreamPos(crate::units::Frames(n * PACKET_FRAMES))
}

/// The first packet an encoder can make exactly when the PCM it is fed is exact from mix
/// position `exact_from` on (what it was fed before only warms it up).
pub fn first_exact_packet(exact_from: StreamPos) -> u64 {
    (exact_from.frames() + MP3_DELAY).div_ceil(PACKET_FRAMES) + SETTLE_PACKETS
}

#[derive(Debug, thiserror::Error)]
pub enum OpusEncodeError {
    #[error("libopus: {0}")]
    Opus(#[from] opus::Error),
    #[error("cannot build the 48 kHz resampler: {0}")]
    Resampler(#[from] rubato::ResamplerConstructionError),
}

/// One run of the Opus encoder over a contiguous span of the mix.
pub struct OpusStream {
    encoder: opus::Encoder,
    resampler: FftFixedIn<f32>,
    /// libopus's lookahead in 48 kHz samples.
    lookahead: u64,
    /// Stream position of the next input frame; `None` before the first.
    next_in: Option<u64>,
    /// Planar input of the chunk being filled.
    pending: [Vec<f32>; CHANNELS],
    /// Resampled interleaved stereo; `resampled[0]` has resampler output index `out_base`.
    resampled: Vec<f32>,
    out_base: u64,
    /// The next packet to encode.
    next_packet: u64,
    /// Packets before this one are warm-up and are not handed out.
    first_emit: u64,
    scratch: Vec<u8>,
}

impl OpusStream {
    /// An encoder at `kbps` that hands out packets from `first_emit` on.
    pub fn new(kbps: u32, first_emit: u64) -> Result<OpusStream, OpusEncodeError> {
        let mut encoder =
            opus::Encoder::new(OPUS_RATE, opus::Channels::Stereo, opus::Application::Audio)?;
        encoder.set_bitrate(opus::Bitrate::Bits(kbps as i32 * 1000))?;
        let lookahead = encoder.get_lookahead()?.max(0) as u64;
        let resampler = FftFixedIn::new(
            crate::units::SAMPLE_RATE as usize,
            OPUS_RATE as usize,
            PACKET_FRAMES as usize,
            1,
            CHANNELS,
        )?;
        Ok(OpusStream {
            encoder,
            resampler,
            lookahead,
            next_in: None,
            pending: [Vec::new(), Vec::new()],
            resampled: Vec::new(),
            out_base: 0,
            next_packet: 0,
            first_emit,
            scratch: vec![0; MAX_PACKET],
        })
    }

    /// Mix position of the next PCM frame this stream expects (`None` before the first).
    pub fn next_pcm(&self) -> Option<StreamPos> {
        self.next_in
            .map(|s| StreamPos(crate::units::Frames(s - MP3_DELAY)))
    }

    /// Feeds interleaved stereo PCM whose first frame has mix position `at` (as
    /// `Engine::last_pcm` gives it); appends the packets that completed, with their numbers.
    /// PCM already fed is ignored, so overlapping spans may be pushed.
    pub fn push(
        &mut self,
        at: StreamPos,
        pcm: &[f32],
        out: &mut Vec<(u64, Bytes)>,
    ) -> Result<(), OpusEncodeError> {
        let s = at.frames() + MP3_DELAY;
        let frames = (pcm.len() / CHANNELS) as u64;
        let next = *self.next_in.get_or_insert_with(|| {
            // Start at a chunk boundary, so the resampler's chunks are the stream's packets.
            let start = s.div_ceil(PACKET_FRAMES) * PACKET_FRAMES;
            let chunk = start / PACKET_FRAMES;
            self.out_base = chunk * PACKET_SAMPLES as u64;
            self.next_packet = chunk;
            start
        });
        debug_assert!(s <= next, "a gap in the PCM fed to the Opus encoder");
        let skip = next.saturating_sub(s).min(frames) as usize;
        for f in pcm[skip * CHANNELS..].chunks_exact(CHANNELS) {
            self.pending[0].push(f[0]);
            self.pending[1].push(f[1]);
            if self.pending[0].len() == PACKET_FRAMES as usize {
                self.resample_chunk();
            }
        }
        self.next_in = Some(next.max(s + frames));
        self.encode_ready(out)
    }

    fn resample_chunk(&mut self) {
        let planar = self
            .resampler
            .process(&self.pending, None)
            .expect("a resampler chunk has the size it asked for");
        for (l, r) in planar[0].iter().zip(&planar[1]) {
            self.resampled.extend([*l, *r]);
        }
        self.pending.iter_mut().for_each(Vec::clear);
    }

    fn encode_ready(&mut self, out: &mut Vec<(u64, Bytes)>) -> Result<(), OpusEncodeError> {
        let delay = self.lookahead + self.resampler.output_delay() as u64;
        loop {
            let from = self.next_packet * PACKET_SAMPLES as u64 + delay;
            let end = from + PACKET_SAMPLES as u64;
            let held = self.out_base + (self.resampled.len() / CHANNELS) as u64;
            if end > held {
                return Ok(());
            }
            let a = (from - self.out_base) as usize * CHANNELS;
            let b = (end - self.out_base) as usize * CHANNELS;
            let n = self
                .encoder
                .encode_float(&self.resampled[a..b], &mut self.scratch)?;
            if self.next_packet >= self.first_emit {
                out.push((self.next_packet, Bytes::copy_from_slice(&self.scratch[..n])));
            }
            self.next_packet += 1;
            // Drop what no later packet reads.
            self.resampled.drain(..b);
            self.out_base = end;
        }
    }
}

#[cfg(test)]
#[path = "opus_encode_tests.rs"]
mod tests;
