//! Decode pipeline: any supported file → interleaved f32 stereo at 44.1 kHz (symphonia, then
//! rubato for other rates; mono is upmixed and more than two channels are downmixed).
use super::resample::{ResampleError, StereoResampler};
use crate::units::{Frames, CHANNELS, SAMPLE_RATE};
use std::fs::File;
use std::io::ErrorKind;
use std::path::Path;
use symphonia::core::audio::{Channels, SampleBuffer};
use symphonia::core::codecs::{Decoder, DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// Why a file could not be decoded. Every variant means "skip this track" to the caller.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("cannot open file: {0}")]
    Open(#[from] std::io::Error),
    #[error("not a supported audio file: {0}")]
    Unsupported(String),
    #[error("the file has no audio track")]
    NoAudioTrack,
    #[error("undecodable audio: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Resample(#[from] ResampleError),
}

/// Consecutive undecodable packets after which a file counts as corrupt rather than glitchy.
const MAX_CONSECUTIVE_BAD_PACKETS: usize = 32;

/// A pull decoder yielding Drift's PCM format. The same file always yields the same samples,
/// however the reads are sized.
pub struct PcmReader {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track_id: u32,
    resampler: Option<StereoResampler>,
    /// Decoded output not yet handed out, and the read offset into it.
    ready: Vec<f32>,
    ready_at: usize,
    scratch: Vec<f32>,
    ended: bool,
    /// Packets that failed to decode and were skipped (a glitch, not a failure).
    pub skipped_packets: usize,
    /// Sample rate of the file itself.
    pub source_rate: u32,
}

impl PcmReader {
    pub fn open(path: &Path) -> Result<PcmReader, DecodeError> {
        let file = File::open(path)?;
        if file.metadata()?.len() == 0 {
            return Err(DecodeError::Unsupported("the file is empty".into()));
        }
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let opts = FormatOptions {
            enable_gapless: true,
            ..Default::default()
        };
        let probed = symphonia::default::get_probe()
            .format(&hint, mss, &opts, &MetadataOptions::default())
            .map_err(|e| DecodeError::Unsupported(e.to_string()))?;
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or(DecodeError::NoAudioTrack)?;
        let track_id = track.id;
        let source_rate = track.codec_params.sample_rate.unwrap_or(SAMPLE_RATE);
        let decoder = symphonia::default::get_codecs()
            .make(&track.codec_params, &DecoderOptions::default())
            .map_err(|e| DecodeError::Unsupported(e.to_string()))?;
        let resampler = if source_rate != SAMPLE_RATE {
            Some(StereoResampler::new(source_rate)?)
        } else {
            None
        };
        Ok(PcmReader {
            format,
            decoder,
            track_id,
            resampler,
            ready: Vec::new(),
            ready_at: 0,
            scratch: Vec::new(),
            ended: false,
            skipped_packets: 0,
            source_rate,
        })
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

    /// Decodes the next packet into `ready`. Returns false at the end of the file.
    fn refill(&mut self) -> Result<bool, DecodeError> {
        let mut bad = 0;
        while !self.ended {
            let packet = match self.format.next_packet() {
                Ok(p) => p,
                // A truncated file ends where its data ends; that is not an error.
                Err(SymError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => {
                    self.end();
                    break;
                }
                Err(SymError::ResetRequired) => {
                    self.end();
                    break;
                }
                Err(e) => return Err(DecodeError::Corrupt(e.to_string())),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
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
            let spec = *decoded.spec();
            if decoded.frames() == 0 {
                continue;
            }
            let mut buf = SampleBuffer::<f32>::new(decoded.capacity() as u64, spec);
            buf.copy_interleaved_ref(decoded);
            self.scratch.clear();
            to_stereo(buf.samples(), spec.channels, &mut self.scratch);
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

    fn end(&mut self) {
        self.ended = true;
        if let Some(r) = &mut self.resampler {
            r.finish(&mut self.ready);
        }
    }
}

/// Decodes a whole file into memory (for analysis).
pub fn decode_all(path: &Path) -> Result<Vec<f32>, DecodeError> {
    let mut reader = PcmReader::open(path)?;
    let mut out = Vec::new();
    while reader.read(&mut out, Frames(1 << 16))? != Frames::ZERO {}
    Ok(out)
}

/// Mixes interleaved audio with `channels` layout down (or up) to interleaved stereo.
fn to_stereo(input: &[f32], channels: Channels, out: &mut Vec<f32>) {
    let n = channels.count().max(1);
    match n {
        1 => out.extend(input.iter().flat_map(|&s| [s, s])),
        2 => out.extend_from_slice(input),
        _ => {
            // Weight of each source channel in (left, right); the LFE is left out.
            let weights: Vec<(f32, f32)> = channels.iter().map(side_weights).collect();
            let (sum_l, sum_r) = weights
                .iter()
                .fold((0.0, 0.0), |(a, b), (l, r)| (a + l, b + r));
            let (norm_l, norm_r) = (1.0 / sum_l.max(1.0), 1.0 / sum_r.max(1.0));
            for frame in input.chunks_exact(n) {
                let (mut l, mut r) = (0.0, 0.0);
                for (s, (wl, wr)) in frame.iter().zip(&weights) {
                    l += s * wl;
                    r += s * wr;
                }
                out.push(l * norm_l);
                out.push(r * norm_r);
            }
        }
    }
}

fn side_weights(c: Channels) -> (f32, f32) {
    const HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
    let left = Channels::FRONT_LEFT
        | Channels::REAR_LEFT
        | Channels::SIDE_LEFT
        | Channels::FRONT_LEFT_CENTRE
        | Channels::REAR_LEFT_CENTRE;
    let right = Channels::FRONT_RIGHT
        | Channels::REAR_RIGHT
        | Channels::SIDE_RIGHT
        | Channels::FRONT_RIGHT_CENTRE
        | Channels::REAR_RIGHT_CENTRE;
    if left.contains(c) {
        (1.0, 0.0)
    } else if right.contains(c) {
        (0.0, 1.0)
    } else if c == Channels::LFE1 {
        (0.0, 0.0)
    } else {
        (HALF, HALF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mono_is_duplicated_and_surround_folds_down() {
        let mut out = Vec::new();
        to_stereo(&[0.5, -0.5], Channels::FRONT_CENTRE, &mut out);
        assert_eq!(out, vec![0.5, 0.5, -0.5, -0.5]);
        out.clear();
        let five_one = Channels::FRONT_LEFT
            | Channels::FRONT_RIGHT
            | Channels::FRONT_CENTRE
            | Channels::LFE1
            | Channels::REAR_LEFT
            | Channels::REAR_RIGHT;
        to_stereo(&[1.0, 0.0, 0.0, 1.0, 0.0, 0.0], five_one, &mut out);
        assert!(out[0] > 0.0 && out[1] == 0.0, "{out:?}");
        assert!(out.iter().all(|s| s.abs() <= 1.0));
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
    }
}
