//! The demo library: distinct synthetic tracks (tempo, key, timbre, density, loudness, silent
//! edges) written as MP3 (our LAME) and WAV with tags, so Drift plays out of the box and tests
//! have real material. Deterministic for a given seed. (No FLAC: the pure-Rust encoder's frames
//! are not readable by symphonia 0.5, and lofty 0.22 mis-tags its output.)
mod synth;

pub use synth::synthesize;

use crate::audio::encode::{Bitrate, Mp3Encoder};
use crate::units::SAMPLE_RATE;
use lofty::config::WriteOptions;
use lofty::file::{AudioFile, TaggedFileExt};
use lofty::tag::{Accessor, Tag};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub tracks: usize,
    pub seed: u64,
    pub min_secs: f64,
    pub max_secs: f64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            tracks: 16,
            seed: 1,
            min_secs: 30.0,
            max_secs: 90.0,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    Mp3,
    Wav,
}

impl Format {
    fn ext(self) -> &'static str {
        match self {
            Format::Mp3 => "mp3",
            Format::Wav => "wav",
        }
    }
}

/// Everything that makes one demo track what it is.
#[derive(Clone, Debug)]
pub struct TrackSpec {
    pub title: String,
    pub artist: String,
    pub album: String,
    pub bpm: f64,
    /// Key: pitch class of the tonic (0 = C) and mode.
    pub root: u8,
    pub minor: bool,
    /// 0 = dark (triangle waves, filter at 300 Hz) … 1 = bright (saws, filter at 6.3 kHz).
    pub brightness: f64,
    /// 0 = sparse (kick, snare, bass) … 1 = busy (sixteenth hats, arpeggio).
    pub density: f64,
    /// Gain relative to a peak of −1 dBFS; spreads the library's loudness over ≥ 20 LU.
    pub level_db: f64,
    pub lead_silence_secs: f64,
    pub tail_silence_secs: f64,
    /// Length of the music's fade-in: a few hundredths of a second is a cold start, seconds a
    /// swelling intro.
    pub intro_secs: f64,
    /// Length of the music's fade-out: a few hundredths of a second is a cold ending, 10 s a
    /// long natural fade.
    pub outro_secs: f64,
    /// Track number on its album (the order the artist's album's tracks were made in).
    pub number: u32,
    pub duration_secs: f64,
    pub format: Format,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot encode {0}: {1}")]
    Encode(PathBuf, String),
    #[error("cannot tag {0}: {1}")]
    Tag(PathBuf, String),
}

const ARTISTS: [&str; 5] = [
    "Low Orbit",
    "Marram Grass",
    "The Quiet Engines",
    "Sodium Lamps",
    "Kestrel Ward",
];
const WORDS: [&str; 16] = [
    "Harbour",
    "Static",
    "Amber",
    "Northbound",
    "Glass",
    "Tidal",
    "Copper",
    "Night Bus",
    "Lantern",
    "Drift",
    "Saltmarsh",
    "Relay",
    "Ember",
    "Meridian",
    "Fathom",
    "Signal",
];
const SECOND: [&str; 8] = [
    "Lights", "Hours", "Line", "Theory", "Garden", "Motion", "Weather", "Bloom",
];
const ALBUMS: [&str; 3] = ["Demo Tapes", "Synthetic Weather", "Night Radio"];

/// The specs of a demo library: tempi spread over 70–170 BPM in pairs about 1 % apart (so some
/// transitions can be beat-aligned, as in a real library's clusters of a genre's tempo), every
/// key, dark to bright, sparse to busy, loudness over 26 dB, silent edges on some, and every
/// kind of start and ending: cold, ordinary, swelling intros and long fade-outs.
pub fn track_specs(opts: &DemoOptions) -> Vec<TrackSpec> {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let n = opts.tracks.max(1);
    // Shuffled ranks decorrelate tempo, brightness, density and level.
    let ranks = |rng: &mut ChaCha8Rng| {
        let mut r: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            r.swap(i, rng.gen_range(0..=i));
        }
        r
    };
    let (tempo, bright, dense, level) = (
        ranks(&mut rng),
        ranks(&mut rng),
        ranks(&mut rng),
        ranks(&mut rng),
    );
    let frac = |r: usize| {
        if n == 1 {
            0.5
        } else {
            r as f64 / (n - 1) as f64
        }
    };
    let pairs = n.div_ceil(2).max(2);
    let bpm = |rank: usize, jitter: f64| {
        let base = 70.0 + 96.0 * (rank / 2) as f64 / (pairs - 1) as f64;
        (base * (1.0 + 0.012 * (rank % 2) as f64) + jitter).clamp(70.0, 170.0)
    };
    let mut numbers = std::collections::HashMap::new();
    (0..n)
        .map(|i| {
            (
                i,
                opts.min_secs + (opts.max_secs - opts.min_secs) * rng.gen::<f64>(),
            )
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(i, duration_secs)| TrackSpec {
            title: format!(
                "{} {}",
                WORDS[(i + opts.seed as usize) % WORDS.len()],
                SECOND[rng.gen_range(0..SECOND.len())]
            ),
            artist: ARTISTS[i % ARTISTS.len()].to_string(),
            album: ALBUMS[i % ALBUMS.len()].to_string(),
            bpm: bpm(tempo[i], rng.gen_range(-0.2..0.2)),
            root: ((i * 7) % 12) as u8,
            minor: i % 2 == 1,
            brightness: frac(bright[i]),
            density: frac(dense[i]),
            level_db: -26.0 * frac(level[i]),
            lead_silence_secs: if i % 3 == 0 { 1.5 } else { 0.0 },
            tail_silence_secs: if i % 4 == 1 { 2.0 } else { 0.0 },
            // Short tracks (tests use 12–18 s) keep most of their length at full level.
            intro_secs: f64::min(if i % 5 == 0 { 6.0 } else { 0.02 }, duration_secs / 8.0),
            outro_secs: f64::min([10.0, 1.5, 0.03, 1.5][i % 4], duration_secs / 6.0),
            number: {
                let n = numbers
                    .entry((i % ARTISTS.len(), i % ALBUMS.len()))
                    .or_insert(0);
                *n += 1;
                *n
            },
            duration_secs,
            format: [Format::Mp3, Format::Wav][i % 2],
        })
        .collect()
}

/// Writes the library into `dir` (created if needed) and returns the files, in track order.
pub fn write_demo_library(dir: &Path, opts: &DemoOptions) -> Result<Vec<PathBuf>, DemoError> {
    std::fs::create_dir_all(dir).map_err(|source| DemoError::Io {
        path: dir.into(),
        source,
    })?;
    let specs = track_specs(opts);
    specs
        .par_iter()
        .enumerate()
        .map(|(i, spec)| {
            let name = format!(
                "{:02} - {} - {}.{}",
                i + 1,
                spec.artist,
                spec.title,
                spec.format.ext()
            );
            let path = dir.join(name);
            let pcm = synthesize(spec, opts.seed.wrapping_mul(1000) + i as u64);
            write_file(&path, spec, &pcm)?;
            tag(&path, spec)?;
            Ok(path)
        })
        .collect()
}

fn to_i16(pcm: &[f32]) -> impl Iterator<Item = i16> + '_ {
    pcm.iter()
        .map(|s| (s.clamp(-1.0, 1.0) * 32767.0).round() as i16)
}

fn write_file(path: &Path, spec: &TrackSpec, pcm: &[f32]) -> Result<(), DemoError> {
    let io = |source| DemoError::Io {
        path: path.into(),
        source,
    };
    let bytes = match spec.format {
        Format::Mp3 => {
            let enc_err = |e: crate::audio::encode::EncodeError| {
                DemoError::Encode(path.into(), e.to_string())
            };
            let mut enc = Mp3Encoder::new(Bitrate::DEFAULT, 5).map_err(enc_err)?;
            let mut frames = Vec::new();
            enc.encode(pcm, &mut frames).map_err(enc_err)?;
            enc.finish(&mut frames).map_err(enc_err)?;
            frames.into_iter().flat_map(|f| f.data).collect()
        }
        Format::Wav => {
            let spec = hound::WavSpec {
                channels: 2,
                sample_rate: SAMPLE_RATE,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            let mut cursor = std::io::Cursor::new(Vec::new());
            let mut w = hound::WavWriter::new(&mut cursor, spec)
                .map_err(|e| DemoError::Encode(path.into(), e.to_string()))?;
            for s in to_i16(pcm) {
                w.write_sample(s)
                    .map_err(|e| DemoError::Encode(path.into(), e.to_string()))?;
            }
            w.finalize()
                .map_err(|e| DemoError::Encode(path.into(), e.to_string()))?;
            cursor.into_inner()
        }
    };
    std::fs::write(path, bytes).map_err(io)
}

fn tag(path: &Path, spec: &TrackSpec) -> Result<(), DemoError> {
    let err = |e: lofty::error::LoftyError| DemoError::Tag(path.into(), e.to_string());
    let mut file = lofty::read_from_path(path).map_err(err)?;
    let kind = file.primary_tag_type();
    if file.tag(kind).is_none() {
        file.insert_tag(Tag::new(kind));
    }
    let t = file.tag_mut(kind).expect("the tag was just inserted");
    t.set_title(spec.title.clone());
    t.set_artist(spec.artist.clone());
    t.set_album(spec.album.clone());
    t.set_track(spec.number);
    file.save_to_path(path, WriteOptions::default())
        .map_err(err)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
