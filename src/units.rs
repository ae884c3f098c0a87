//! Units as types: sample frames, stream positions and decibels, so no bare integer is ever
//! ambiguous between milliseconds, samples and frames.
use serde::{Deserialize, Serialize};
use std::ops::{Add, AddAssign, Sub};

/// The one sample rate everything inside Drift runs at (decoders resample to it).
pub const SAMPLE_RATE: u32 = 44_100;
/// Everything inside Drift is interleaved stereo.
pub const CHANNELS: usize = 2;
/// Samples per channel in one MPEG-1 Layer III frame.
pub const MP3_FRAME_SAMPLES: u64 = 1152;

/// A count of stereo sample frames at [`SAMPLE_RATE`] (one frame = one left + one right sample).
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Frames(pub u64);

impl Frames {
    pub const ZERO: Frames = Frames(0);

    /// Frames in `secs` seconds, rounded to the nearest frame; negative input gives zero.
    pub fn from_secs(secs: f64) -> Frames {
        Frames((secs.max(0.0) * SAMPLE_RATE as f64).round() as u64)
    }
    pub fn secs(self) -> f64 {
        self.0 as f64 / SAMPLE_RATE as f64
    }
    /// Number of interleaved samples these frames occupy.
    pub fn samples(self) -> usize {
        self.0 as usize * CHANNELS
    }
    pub fn saturating_sub(self, other: Frames) -> Frames {
        Frames(self.0.saturating_sub(other.0))
    }
}

impl Add for Frames {
    type Output = Frames;
    fn add(self, o: Frames) -> Frames {
        Frames(self.0 + o.0)
    }
}
impl AddAssign for Frames {
    fn add_assign(&mut self, o: Frames) {
        self.0 += o.0;
    }
}
impl Sub for Frames {
    type Output = Frames;
    fn sub(self, o: Frames) -> Frames {
        Frames(self.0 - o.0)
    }
}

/// A position in a session's stream: audio time since the stream began, in frames.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct StreamPos(pub Frames);

impl StreamPos {
    pub const START: StreamPos = StreamPos(Frames(0));
    pub fn from_secs(secs: f64) -> StreamPos {
        StreamPos(Frames::from_secs(secs))
    }
    pub fn secs(self) -> f64 {
        self.0.secs()
    }
    pub fn frames(self) -> u64 {
        self.0 .0
    }
    /// Index of the MP3 frame that contains this position.
    pub fn mp3_frame_index(self) -> u64 {
        self.0 .0 / MP3_FRAME_SAMPLES
    }
}

impl Add<Frames> for StreamPos {
    type Output = StreamPos;
    fn add(self, o: Frames) -> StreamPos {
        StreamPos(self.0 + o)
    }
}
impl Sub for StreamPos {
    type Output = Frames;
    fn sub(self, o: StreamPos) -> Frames {
        self.0 - o.0
    }
}

/// A level or gain in decibels.
#[derive(Copy, Clone, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Db(pub f64);

impl Db {
    /// The linear amplitude factor of this gain.
    pub fn amplitude(self) -> f32 {
        10f64.powf(self.0 / 20.0) as f32
    }
    /// The gain in dB of a linear amplitude factor (silence gives a very low, finite value).
    pub fn from_amplitude(a: f64) -> Db {
        Db(20.0 * a.abs().max(1e-12).log10())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_frames_round_trip() {
        assert_eq!(Frames::from_secs(1.0), Frames(44_100));
        assert_eq!(Frames(22_050).secs(), 0.5);
        assert_eq!(Frames(3).samples(), 6);
        assert_eq!(Frames::from_secs(-2.0), Frames::ZERO);
        assert_eq!(StreamPos(Frames(2305)).mp3_frame_index(), 2);
    }

    #[test]
    fn decibels_convert_to_amplitude() {
        assert!((Db(-6.0206).amplitude() - 0.5).abs() < 1e-4);
        assert!((Db::from_amplitude(0.1).0 + 20.0).abs() < 1e-9);
        assert!(Db::from_amplitude(0.0).0 < -200.0);
    }
}
