//! Decode pipeline: any supported file → interleaved f32 stereo, at the file's own rate
//! ([`PcmReader::open_native`]) or at 44.1 kHz ([`PcmReader::open`], through rubato). symphonia
//! demuxes everything and decodes all but Opus, which goes to libopus (`super::opus`); mono is
//! upmixed and more than two channels are folded down (`super::downmix`).
use super::container_fixes::{aiff_overcount, mp4_edit, FlacWithoutPictures};
use super::downmix::to_stereo;
use super::opus::OpusSource;
use super::resample::{ResampleError, StereoResampler};
use super::sniff::{sniff, unsupported_reason, Format, SNIFF_BYTES};
use crate::units::{Frames, CHANNELS, SAMPLE_RATE};
use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::Path;
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{
    Decoder, DecoderOptions, CODEC_TYPE_AAC, CODEC_TYPE_NULL, CODEC_TYPE_OPUS,
};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader, Packet};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::{Limit, MetadataOptions};
use symphonia::core::probe::Hint;

/// Why a file could not be decoded. Every variant means "skip this track" to the caller; the
/// message is what the scan report shows, so it names the problem in a listener's words.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("cannot open file: {0}")]
    Open(#[from] std::io::Error),
    /// Not audio Drift can decode: empty, not audio at all, or a format without a decoder
    /// ("WavPack is not supported").
    #[error("{0}")]
    Unsupported(String),
    #[error("the file has no audio track")]
    NoAudioTrack,
    #[error("undecodable audio: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Resample(#[from] ResampleError),
}

/// Consecutive undecodable packets after which a file counts as corrupt rather than glitchy.
pub(super) const MAX_CONSECUTIVE_BAD_PACKETS: usize = 32;

/// Tag bytes symphonia may keep in memory per file. Tags and pictures are lofty's job
/// (`library::tags`); the decoder needs none. (symphonia 0.5.5's readers do not yet enforce
/// these limits; they state the intent and take effect when they do.)
const METADATA_LIMITS: MetadataOptions = MetadataOptions {
    limit_metadata_bytes: Limit::Maximum(1 << 20),
    limit_visual_bytes: Limit::Maximum(0),
};

/// A pull decoder yielding Drift's PCM format: interleaved stereo f32, at 44.1 kHz unless opened
/// native. The same file always yields the same samples, however the reads are sized.
pub struct PcmReader {
    source: Source,
    resampler: Option<StereoResampler>,
    /// Decoded output not yet handed out, and the read offset into it.
    ready: Vec<f32>,
    ready_at: usize,
    /// One block of stereo at the source rate, before resampling.
    scratch: Vec<f32>,
    ended: bool,
    /// The track's length at the source rate (after gapless trimming), if the headers say.
    source_frames: Option<u64>,
    /// Packets that failed to decode and were skipped (a glitch, not a failure).
    pub skipped_packets: usize,
    /// Sample rate of the file itself (what [`PcmReader::open_native`] yields).
    pub source_rate: u32,
}

/// Where decoded blocks come from.
enum Source {
    Symphonia(SymphoniaSource),
    Opus(OpusSource),
}

impl PcmReader {
    /// Opens a file for decoding to interleaved stereo at [`SAMPLE_RATE`].
    pub fn open(path: &Path) -> Result<PcmReader, DecodeError> {
        let mut reader = PcmReader::open_native(path)?;
        if reader.source_rate != SAMPLE_RATE {
            reader.resampler = Some(StereoResampler::new(reader.source_rate)?);
        }
        Ok(reader)
    }

    /// Opens a file for decoding to interleaved stereo at its own rate ([`Self::source_rate`]),
    /// for measurements that must not depend on a resampler.
    pub fn open_native(path: &Path) -> Result<PcmReader, DecodeError> {
        let mut file = File::open(path)?;
        if file.metadata()?.len() == 0 {
            return Err(DecodeError::Unsupported("the file is empty".into()));
        }
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        (&mut file)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut head)?;
        if let Some(reason) = unsupported_reason(path, &head) {
            return Err(DecodeError::Unsupported(reason));
        }
        file.seek(SeekFrom::Start(0))?;
        let media: Box<dyn MediaSource> = match sniff(&head) {
            Some(Format::Flac) => Box::new(FlacWithoutPictures::new(file)?),
            _ => Box::new(file),
        };
        let mss = MediaSourceStream::new(media, Default::default());
        // The extension is only a hint: symphonia probes the content, so an MP3 named `.flac`
        // still plays.
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let opts = FormatOptions {
            enable_gapless: true,
            ..Default::default()
        };
        let probed = symphonia::default::get_probe()
            .format(&hint, mss, &opts, &METADATA_LIMITS)
            .map_err(|e| {
                let what = "not an audio format Drift can read";
                // "end of stream" or "core (probe): no suitable format reader found" add
                // nothing for a listener; a malformed header's message does.
                DecodeError::Unsupported(match e {
                    SymError::IoError(_) | SymError::Unsupported(_) => what.into(),
                    e => format!("{what} ({e})"),
                })
            })?;
        // Tags read before the container (ID3v2 in front of an MP3) are not needed here.
        drop(probed.metadata);
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or(DecodeError::NoAudioTrack)?
            .clone();
        let (source, source_rate, source_frames) = if track.codec_params.codec == CODEC_TYPE_OPUS {
            // Only Ogg gives the end trim (the last page's granule position) this way.
            let in_ogg = sniff(&head) == Some(Format::Ogg);
            let opus = OpusSource::new(format, &track, in_ogg)?;
            let frames = opus.frames();
            (Source::Opus(opus), super::opus::RATE, frames)
        } else {
            let params = &track.codec_params;
            let rate = params
                .sample_rate
                .ok_or_else(|| DecodeError::Corrupt("the sample rate is not stated".into()))?;
            let decoder = symphonia::default::get_codecs()
                .make(params, &DecoderOptions::default())
                .map_err(|e| {
                    DecodeError::Unsupported(format!("the codec is not supported ({e})"))
                })?;
            let is_aiff = sniff(&head) == Some(Format::Aiff);
            // AAC starts with the encoder's priming and decodes whole 1024-sample frames past
            // the end: the MP4 edit list says which part is the music.
            let edit = match params.codec {
                CODEC_TYPE_AAC => mp4_edit(&mut File::open(path)?, rate).ok().flatten(),
                _ => None,
            };
            let frames = match (params.n_frames, edit) {
                (_, Some(edit)) => Some(edit.length),
                (Some(n), _) if is_aiff => Some(n.saturating_sub(aiff_overcount(params))),
                (n, _) => n,
            };
            let limit = frames.filter(|_| params.codec == CODEC_TYPE_AAC || is_aiff);
            let source = SymphoniaSource {
                format,
                decoder,
                track_id: track.id,
                skipped_packets: 0,
                to_skip: edit.map_or(0, |e| e.skip),
                limit,
                given: 0,
            };
            (Source::Symphonia(source), rate, frames)
        };
        Ok(PcmReader {
            source,
            resampler: None,
            ready: Vec::new(),
            ready_at: 0,
            scratch: Vec::new(),
            ended: false,
            source_frames,
            skipped_packets: 0,
            source_rate,
        })
    }

    /// The track's length in 44.1 kHz frames as the container's headers state it (after
    /// gapless trimming), or `None` when they do not. Decoding yields exactly this many frames
    /// from an intact file; [`Self::open_native`] yields [`Self::source_frames`].
    pub fn expected_frames(&self) -> Option<Frames> {
        self.source_frames
            .map(|n| Frames(to_output_rate(n, self.source_rate)))
    }

    /// The track's length in frames at [`Self::source_rate`], if the headers state it.
    pub fn source_frames(&self) -> Option<u64> {
        self.source_frames
    }

    /// Appends up to `max` frames to `out`; returns how many. Zero means the file has ended.
    pub fn read(&mut self, out: &mut Vec<f32>, max: Frames) -> Result<Frames, DecodeError> {
        let want = max.samples();
        let mut given = 0;
        while given < want {
            if self.ready_at == self.ready.len() {
                self.ready.clear();
                self.ready_at = 0;
                if !self.refill()? {
                    break;
                }
                continue;
            }
            let take = (want - given).min(self.ready.len() - self.ready_at);
            out.extend_from_slice(&self.ready[self.ready_at..self.ready_at + take]);
            self.ready_at += take;
            given += take;
        }
        Ok(Frames((given / CHANNELS) as u64))
    }

    /// Discards `n` frames (decoding them: exact, unlike a container seek). Returns how many.
    pub fn skip(&mut self, n: Frames) -> Result<Frames, DecodeError> {
        let mut skipped = Frames::ZERO;
        let mut sink = Vec::new();
        while skipped < n {
            sink.clear();
            let step = Frames((n - skipped).0.min(65_536));
            let got = self.read(&mut sink, step)?;
            if got == Frames::ZERO {
                break;
            }
            skipped += got;
        }
        Ok(skipped)
    }

    /// Decodes blocks into `ready` until it holds something. Returns false at the end.
    fn refill(&mut self) -> Result<bool, DecodeError> {
        while !self.ended {
            self.scratch.clear();
            let more = match &mut self.source {
                Source::Symphonia(s) => s.next_block(&mut self.scratch),
                Source::Opus(o) => o.next_block(&mut self.scratch),
            };
            self.skipped_packets = match &self.source {
                Source::Symphonia(s) => s.skipped_packets,
                Source::Opus(o) => o.skipped_packets(),
            };
            if !more? {
                self.ended = true;
                if let Some(r) = &mut self.resampler {
                    r.finish(&mut self.ready);
                }
                break;
            }
            match &mut self.resampler {
                Some(r) => r.push(&self.scratch, &mut self.ready),
                None => self.ready.extend_from_slice(&self.scratch),
            }
            if !self.ready.is_empty() {
                return Ok(true);
            }
        }
        Ok(!self.ready.is_empty())
    }
}

/// `n` frames at `rate` in 44.1 kHz frames, rounded down (as the resampler's output length).
fn to_output_rate(n: u64, rate: u32) -> u64 {
    (n as u128 * SAMPLE_RATE as u128 / rate.max(1) as u128) as u64
}

/// The next packet of `track_id`, or `None` at the end of the stream. A truncated file ends
/// where its data ends: that is not an error.
pub(super) fn next_packet(
    format: &mut dyn FormatReader,
    track_id: u32,
) -> Result<Option<Packet>, DecodeError> {
    loop {
        match format.next_packet() {
            Ok(p) if p.track_id() == track_id => return Ok(Some(p)),
            Ok(_) => continue,
            Err(SymError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => return Ok(None),
            // A new chained stream or a changed track layout: play what came before.
            Err(SymError::ResetRequired) => return Ok(None),
            Err(e) => return Err(DecodeError::Corrupt(e.to_string())),
        }
    }
}

/// Everything but Opus: symphonia demuxes and decodes.
struct SymphoniaSource {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track_id: u32,
    skipped_packets: usize,
    /// Decoded frames still to drop before the track starts (AAC's priming).
    to_skip: u64,
    /// Frames after which the track ends even if the codec decodes more.
    limit: Option<u64>,
    /// Frames appended so far.
    given: u64,
}

impl SymphoniaSource {
    /// Decodes the next packet that has audio, appending it to `out` as stereo at the source
    /// rate. Returns false at the end of the stream.
    fn next_block(&mut self, out: &mut Vec<f32>) -> Result<bool, DecodeError> {
        let mut bad = 0;
        let limit = self.limit;
        let left = |given: u64| limit.map_or(u64::MAX, |l| l.saturating_sub(given));
        while left(self.given) > 0 {
            let Some(packet) = next_packet(self.format.as_mut(), self.track_id)? else {
                return Ok(false);
            };
            let decoded = match self.decoder.decode(&packet) {
                Ok(d) => d,
                Err(SymError::DecodeError(_)) | Err(SymError::IoError(_))
                    if bad < MAX_CONSECUTIVE_BAD_PACKETS =>
                {
                    bad += 1;
                    self.skipped_packets += 1;
                    continue;
                }
                Err(e) => return Err(DecodeError::Corrupt(e.to_string())),
            };
            if decoded.frames() == 0 {
                continue;
            }
            let spec = *decoded.spec();
            let mut buf = SampleBuffer::<f32>::new(decoded.capacity() as u64, spec);
            buf.copy_interleaved_ref(decoded);
            let channels = spec.channels.count().max(1);
            let frames = (buf.samples().len() / channels) as u64;
            let dropped = frames.min(self.to_skip);
            self.to_skip -= dropped;
            let take = (frames - dropped).min(left(self.given));
            if take == 0 {
                continue;
            }
            let kept = &buf.samples()[dropped as usize * channels..][..take as usize * channels];
            to_stereo(kept, spec.channels, out);
            self.given += take;
            return Ok(true);
        }
        Ok(false)
    }
}

/// Decodes a whole file into memory at 44.1 kHz.
pub fn decode_all(path: &Path) -> Result<Vec<f32>, DecodeError> {
    let mut reader = PcmReader::open(path)?;
    let mut out = Vec::new();
    while reader.read(&mut out, Frames(1 << 16))? != Frames::ZERO {}
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_convert_to_the_output_rate_rounding_down() {
        assert_eq!(to_output_rate(48_000, 48_000), 44_100);
        assert_eq!(to_output_rate(1, 48_000), 0);
        assert_eq!(to_output_rate(1_000_001, 96_000), 459_375);
        assert_eq!(to_output_rate(123, 44_100), 123);
    }

    #[test]
    fn missing_and_non_audio_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            PcmReader::open(&dir.path().join("nope.mp3")),
            Err(DecodeError::Open(_))
        ));
        let text = dir.path().join("notes.mp3");
        std::fs::write(
            &text,
            "this is not audio, just a renamed text file\n".repeat(50),
        )
        .unwrap();
        assert!(
            PcmReader::open(&text).is_err()
                || decode_all(&text).map(|v| v.is_empty()).unwrap_or(true)
        );
        let empty = dir.path().join("empty.flac");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(
            PcmReader::open(&empty),
            Err(DecodeError::Unsupported(_))
        ));
        let wavpack = dir.path().join("song.wv");
        std::fs::write(&wavpack, b"wvpk\x20\x00\x00\x00more bytes").unwrap();
        let err = PcmReader::open(&wavpack).err().unwrap();
        assert_eq!(err.to_string(), "WavPack is not supported");
    }
}
