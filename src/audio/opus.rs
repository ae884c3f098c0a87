//! Opus decoding: symphonia demuxes (Ogg, or Matroska/WebM), libopus decodes at 48 kHz, and
//! this module applies what the Ogg Opus mapping (RFC 7845) asks of a player: the header's
//! output gain, dropping the first pre-skip samples, and ending at the last page's granule
//! position. symphonia 0.5 has no Opus decoder; libopus is the reference one.
use super::decode::{next_packet, DecodeError, MAX_CONSECUTIVE_BAD_PACKETS};
use std::ops::Range;
use symphonia::core::formats::{FormatReader, Track};

/// The rate libopus decodes at (Opus has no other; the header's "input rate" is informative).
pub(super) const RATE: u32 = 48_000;
/// Samples per channel in the longest Opus packet (120 ms).
const MAX_PACKET_FRAMES: usize = 5_760;

/// One Opus stream being decoded to stereo at [`RATE`].
pub(super) struct OpusSource {
    format: Box<dyn FormatReader>,
    track_id: u32,
    decoder: opus::Decoder,
    trim: Trim,
    /// Granule position of the next sample libopus will produce.
    at: u64,
    /// One packet's decoded stereo.
    pcm: Vec<f32>,
    skipped_packets: usize,
}

impl OpusSource {
    /// Sets up libopus for `track`. `in_ogg` says whether the demuxer's stated length is the
    /// last Ogg page's granule position (Matroska states no such end trim).
    pub(super) fn new(
        format: Box<dyn FormatReader>,
        track: &Track,
        in_ogg: bool,
    ) -> Result<OpusSource, DecodeError> {
        let params = &track.codec_params;
        let head = params
            .extra_data
            .as_deref()
            .ok_or_else(|| DecodeError::Unsupported("the Opus header is missing".into()))
            .and_then(|b| OpusHead::parse(b).map_err(DecodeError::Unsupported))?;
        if head.streams != 1 || head.channels > 2 {
            return Err(DecodeError::Unsupported(format!(
                "Opus with {} channels in {} streams (surround) is not supported",
                head.channels, head.streams
            )));
        }
        let libopus = |e: opus::Error| DecodeError::Corrupt(format!("libopus: {e}"));
        // A stereo decoder also decodes mono streams, duplicating the channel.
        let mut decoder = opus::Decoder::new(RATE, opus::Channels::Stereo).map_err(libopus)?;
        decoder.set_gain(head.gain_q8.into()).map_err(libopus)?;
        let start = params.start_ts;
        let trim = Trim {
            start,
            pre_skip: head.pre_skip.into(),
            // With gapless on, symphonia's Ogg reader states n_frames as the last page's
            // granule position less the stream's start: the end the encoder meant.
            end: params.n_frames.filter(|_| in_ogg).map(|n| start + n),
        };
        Ok(OpusSource {
            format,
            track_id: track.id,
            decoder,
            trim,
            at: start,
            pcm: vec![0.0; MAX_PACKET_FRAMES * 2],
            skipped_packets: 0,
        })
    }

    /// The track's length at [`RATE`], when the container states its end.
    pub(super) fn frames(&self) -> Option<u64> {
        self.trim.frames()
    }

    pub(super) fn skipped_packets(&self) -> usize {
        self.skipped_packets
    }

    /// Decodes packets until one has samples of the track, appending them to `out`
    /// (interleaved stereo at [`RATE`]). Returns false at the end of the track.
    pub(super) fn next_block(&mut self, out: &mut Vec<f32>) -> Result<bool, DecodeError> {
        let mut bad = 0;
        while self.trim.end.is_none_or(|end| self.at < end) {
            let Some(packet) = next_packet(self.format.as_mut(), self.track_id)? else {
                return Ok(false);
            };
            let frames = match self
                .decoder
                .decode_float(&packet.data, &mut self.pcm, false)
            {
                Ok(n) => n,
                Err(e) if bad < MAX_CONSECUTIVE_BAD_PACKETS => {
                    tracing::debug!("skipping an undecodable Opus packet: {e}");
                    bad += 1;
                    self.skipped_packets += 1;
                    // Keep the timeline: the packet's samples are missing, not shifted.
                    self.at += packet.dur;
                    continue;
                }
                Err(e) => return Err(DecodeError::Corrupt(format!("libopus: {e}"))),
            };
            let keep = self.trim.keep(self.at, frames);
            self.at += frames as u64;
            if !keep.is_empty() {
                out.extend_from_slice(&self.pcm[keep.start * 2..keep.end * 2]);
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// The fields of the Opus identification header ("OpusHead", RFC 7845 §5.1) a player needs.
#[derive(Debug, PartialEq)]
struct OpusHead {
    channels: u8,
    /// Samples (at 48 kHz) of encoder warm-up at the start, to drop.
    pre_skip: u16,
    /// Gain to apply to the output, in 1/256 dB (Q7.8).
    gain_q8: i16,
    /// Elementary Opus streams per packet: more than one needs a multistream decoder.
    streams: u8,
}

impl OpusHead {
    fn parse(b: &[u8]) -> Result<OpusHead, String> {
        if b.len() < 19 || &b[..8] != b"OpusHead" {
            return Err("the Opus header is missing or damaged".into());
        }
        // Major version 0 is the only one defined; later majors may change the layout.
        if b[8] >> 4 != 0 {
            return Err(format!("Opus header version {} is not supported", b[8]));
        }
        let mapping_family = b[18];
        let streams = match mapping_family {
            0 => 1,
            _ => *b.get(19).ok_or("the Opus channel mapping is cut short")?,
        };
        Ok(OpusHead {
            channels: b[9],
            pre_skip: u16::from_le_bytes([b[10], b[11]]),
            gain_q8: i16::from_le_bytes([b[16], b[17]]),
            streams,
        })
    }
}

/// Which decoded samples belong to the track, in granule positions (samples at 48 kHz): the
/// decoder starts at `start`, its first `pre_skip` samples are the encoder's warm-up (RFC 7845
/// §4.2), and nothing at or after `end`, the last page's granule position, is audio (§4.5).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Trim {
    start: u64,
    pre_skip: u64,
    end: Option<u64>,
}

impl Trim {
    /// The part of a block of `n` samples decoded from granule position `at` that is the track,
    /// as indices into the block.
    fn keep(self, at: u64, n: usize) -> Range<usize> {
        let block_end = at + n as u64;
        let first = (self.start + self.pre_skip).clamp(at, block_end);
        let last = self.end.unwrap_or(u64::MAX).clamp(first, block_end);
        (first - at) as usize..(last - at) as usize
    }

    /// The track's length, when its end is known.
    fn frames(self) -> Option<u64> {
        self.end
            .map(|end| end.saturating_sub(self.start + self.pre_skip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(channels: u8, pre_skip: u16, gain: i16, family: u8) -> Vec<u8> {
        let mut b = b"OpusHead\x01".to_vec();
        b.push(channels);
        b.extend_from_slice(&pre_skip.to_le_bytes());
        b.extend_from_slice(&44_100u32.to_le_bytes());
        b.extend_from_slice(&gain.to_le_bytes());
        b.push(family);
        if family != 0 {
            b.extend_from_slice(&[3, 2, 0, 4, 1, 2, 3, 5]);
        }
        b
    }

    #[test]
    fn the_header_gives_pre_skip_gain_and_streams() {
        let parsed = OpusHead::parse(&head(2, 312, -256, 0)).unwrap();
        assert_eq!(
            parsed,
            OpusHead {
                channels: 2,
                pre_skip: 312,
                gain_q8: -256,
                streams: 1
            }
        );
        assert_eq!(OpusHead::parse(&head(6, 312, 0, 1)).unwrap().streams, 3);
        let whole = head(2, 312, 0, 0);
        for len in 0..whole.len() {
            assert!(OpusHead::parse(&whole[..len]).is_err(), "cut at {len}");
        }
        assert!(OpusHead::parse(&head(6, 312, 0, 1)[..19]).is_err());
        let mut v2 = whole.clone();
        v2[8] = 0x10;
        assert!(OpusHead::parse(&v2).is_err());
    }

    #[test]
    fn pre_skip_is_dropped_and_the_end_is_the_last_granule() {
        // 312 samples of warm-up; the last page says the stream ends at granule 48,312: one
        // second of audio. Packets of 960 samples (20 ms).
        let trim = Trim {
            start: 0,
            pre_skip: 312,
            end: Some(48_312),
        };
        assert_eq!(trim.frames(), Some(48_000));
        assert_eq!(trim.keep(0, 960), 312..960);
        assert_eq!(trim.keep(960, 960), 0..960);
        // The packet holding the end: 48,000..48,960 keeps 312 samples.
        assert_eq!(trim.keep(48_000, 960), 0..312);
        assert_eq!(trim.keep(48_960, 960), 0..0);
        // Summed over the packets, exactly the stated length.
        let kept: usize = (0..52).map(|i| trim.keep(i * 960, 960).len()).sum();
        assert_eq!(kept as u64, 48_000);
    }

    #[test]
    fn edge_cases_of_the_trim() {
        // Pre-skip longer than the first packet: the first packets are dropped whole.
        let long = Trim {
            start: 0,
            pre_skip: 3_840,
            end: None,
        };
        assert_eq!(long.keep(0, 960), 960..960);
        assert_eq!(long.keep(2_880, 960), 960..960);
        assert_eq!(long.keep(3_840, 960), 0..960);
        assert_eq!(long.frames(), None);
        // An end inside the pre-skip (a file shorter than its warm-up): nothing is audio.
        let tiny = Trim {
            start: 0,
            pre_skip: 312,
            end: Some(100),
        };
        assert_eq!(tiny.keep(0, 960), 312..312);
        assert_eq!(tiny.frames(), Some(0));
        // A stream that begins at a later granule position (cut from a longer one).
        let later = Trim {
            start: 96_000,
            pre_skip: 312,
            end: Some(96_000 + 10_312),
        };
        assert_eq!(later.keep(96_000, 960), 312..960);
        assert_eq!(later.frames(), Some(10_000));
    }
}
