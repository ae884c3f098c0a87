//! MP3 encoder: LAME (mp3lame-encoder) CBR, 44.1 kHz joint stereo, output cut into whole frames
//! by our own splitter so every chunk can start a listener's stream on a frame boundary.
use super::mp3_frames::{FrameSplitter, Mp3Frame};
use mp3lame_encoder::{Builder, FlushNoGap, InterleavedPcm, Mode, Quality};
use serde::{Deserialize, Serialize};

/// A CBR bitrate Drift streams at.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct Bitrate(u16);

impl Bitrate {
    pub const ALLOWED: [u16; 5] = [128, 160, 192, 256, 320];
    pub const DEFAULT: Bitrate = Bitrate(192);
    pub fn kbps(self) -> u16 {
        self.0
    }
    fn lame(self) -> mp3lame_encoder::Bitrate {
        use mp3lame_encoder::Bitrate as B;
        match self.0 {
            128 => B::Kbps128,
            160 => B::Kbps160,
            256 => B::Kbps256,
            320 => B::Kbps320,
            _ => B::Kbps192,
        }
    }
}

impl TryFrom<u16> for Bitrate {
    type Error = String;
    fn try_from(kbps: u16) -> Result<Bitrate, String> {
        if Bitrate::ALLOWED.contains(&kbps) {
            Ok(Bitrate(kbps))
        } else {
            Err(format!(
                "bitrate {kbps} kbps is not one of 128, 160, 192, 256, 320"
            ))
        }
    }
}
impl From<Bitrate> for u16 {
    fn from(b: Bitrate) -> u16 {
        b.0
    }
}
impl std::str::FromStr for Bitrate {
    type Err = String;
    fn from_str(s: &str) -> Result<Bitrate, String> {
        let kbps: u16 = s
            .trim()
            .parse()
            .map_err(|_| format!("'{s}' is not a bitrate in kbps"))?;
        Bitrate::try_from(kbps)
    }
}

/// LAME failed; the caller stops this stream (it cannot skip around an encoder fault).
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("LAME would not start: {0:?}")]
    Build(mp3lame_encoder::BuildError),
    #[error("LAME failed to encode: {0:?}")]
    Encode(mp3lame_encoder::EncodeError),
}

/// LAME's `-q` algorithm quality for streaming: 5 is LAME's "good quality, fast" setting, about
/// twice the speed of 2 with no audible difference at 192 kbps.
pub const STREAM_QUALITY: u8 = 5;

/// Encodes interleaved stereo f32 (in −1..1) to whole MP3 frames.
pub struct Mp3Encoder {
    lame: mp3lame_encoder::Encoder,
    splitter: FrameSplitter,
    bytes: Vec<u8>,
}

impl Mp3Encoder {
    pub fn new(bitrate: Bitrate, quality: u8) -> Result<Mp3Encoder, EncodeError> {
        // Every LAME `-q` value maps to itself (ffmpeg's `-compression_level` is the same knob,
        // which the benchmark relies on for a same-job comparison); above 9 means 9.
        let quality = match quality {
            0 => Quality::Best,
            1 => Quality::SecondBest,
            2 => Quality::NearBest,
            3 => Quality::VeryNice,
            4 => Quality::Nice,
            5 => Quality::Good,
            6 => Quality::Decent,
            7 => Quality::Ok,
            8 => Quality::SecondWorst,
            _ => Quality::Worst,
        };
        let build = || -> Result<mp3lame_encoder::Encoder, mp3lame_encoder::BuildError> {
            let mut b = Builder::new().ok_or(mp3lame_encoder::BuildError::NoMem)?;
            b.set_num_channels(2)?;
            b.set_sample_rate(crate::units::SAMPLE_RATE)?;
            b.set_brate(bitrate.lame())?;
            b.set_mode(Mode::JointStereo)?;
            b.set_quality(quality)?;
            // A stream is bare frames: no Xing/LAME header frame, no ID3.
            b.set_to_write_vbr_tag(false)?;
            b.build()
        };
        Ok(Mp3Encoder {
            lame: build().map_err(EncodeError::Build)?,
            splitter: FrameSplitter::new(),
            bytes: Vec::new(),
        })
    }

    /// Encodes `pcm` and appends every frame it completes to `out`.
    pub fn encode(&mut self, pcm: &[f32], out: &mut Vec<Mp3Frame>) -> Result<(), EncodeError> {
        self.bytes.clear();
        self.bytes
            .reserve(mp3lame_encoder::max_required_buffer_size(pcm.len() / 2));
        self.lame
            .encode_to_vec(InterleavedPcm(pcm), &mut self.bytes)
            .map_err(EncodeError::Encode)?;
        self.splitter.push(&self.bytes, out);
        Ok(())
    }

    /// Encodes what LAME still holds (padding the last frame) and appends the final frames.
    pub fn finish(&mut self, out: &mut Vec<Mp3Frame>) -> Result<(), EncodeError> {
        self.bytes.clear();
        self.bytes.reserve(7200);
        self.lame
            .flush_to_vec::<FlushNoGap>(&mut self.bytes)
            .map_err(EncodeError::Encode)?;
        self.splitter.push(&self.bytes, out);
        self.splitter.finish(out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_whole_cbr_frames_of_the_chosen_bitrate() {
        for kbps in Bitrate::ALLOWED {
            let mut enc = Mp3Encoder::new(Bitrate::try_from(kbps).unwrap(), 7).unwrap();
            let tone: Vec<f32> = (0..44_100)
                .flat_map(|i| {
                    let v = (i as f32 * 0.0627).sin() * 0.3;
                    [v, v]
                })
                .collect();
            let mut frames = Vec::new();
            for piece in tone.chunks(2 * 1000) {
                enc.encode(piece, &mut frames).unwrap();
            }
            enc.finish(&mut frames).unwrap();
            // One second (38.3 frames) plus LAME's delay and the flush: 38 to 41 frames.
            assert!(
                (38..=41).contains(&frames.len()),
                "{kbps}: {}",
                frames.len()
            );
            for f in &frames {
                assert_eq!(f.header.bitrate_kbps, kbps as u32);
                assert_eq!(f.header.sample_rate, 44_100);
                assert_eq!(f.data.len(), f.header.frame_len());
            }
        }
    }

    #[test]
    fn bitrates_outside_the_list_are_refused() {
        assert!("192".parse::<Bitrate>().is_ok());
        assert!("200".parse::<Bitrate>().unwrap_err().contains("not one of"));
        assert!("fast".parse::<Bitrate>().is_err());
    }
}
