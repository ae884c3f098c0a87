//! What a track sounds like, as numbers with units: the drift walk measures distances between
//! tracks in these (normalised across the library) and steers along them.
use serde::{Deserialize, Serialize};

/// Major or minor, from the key profile that fits the track's chroma best.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Major,
    Minor,
}

/// Audio features of one track, computed from representative excerpts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    /// Tempo in beats per minute (onset envelope periodicity), folded into 60–200.
    pub bpm: f64,
    /// How clearly the beat stands out, 0 (no pulse) … 1 (a metronome).
    pub beat_strength: f64,
    /// Spectral centroid in Hz: brightness.
    pub centroid_hz: f64,
    /// Frequency in Hz below which 85 % of the (long-term) spectral magnitude lies.
    pub rolloff_hz: f64,
    /// Spectral flatness, 0 (pure tones) … 1 (white noise): noisiness.
    pub flatness: f64,
    /// Crest factor in dB (peak over RMS): dynamics.
    pub crest_db: f64,
    /// Detected onsets per second: density.
    pub onset_rate: f64,
    /// Pitch class of the tonic: 0 = C, 1 = C♯ … 11 = B.
    pub key: u8,
    pub mode: Mode,
    /// How well the best key profile fits (correlation, 0 … 1): how clearly tonal the track is.
    pub key_strength: f64,
}

const PITCH_CLASSES: [&str; 12] = [
    "C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B",
];

impl Features {
    /// "A minor", "E♭ major".
    pub fn key_name(&self) -> String {
        let mode = match self.mode {
            Mode::Major => "major",
            Mode::Minor => "minor",
        };
        format!("{} {mode}", PITCH_CLASSES[(self.key % 12) as usize])
    }
}
