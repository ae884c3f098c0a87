//! The generated library `drift-bench scan` measures: music-like audio made with Debian's
//! ffmpeg in every format the benchmark covers, kept between runs, and the library with a
//! long file for the peak-memory figure.
use std::path::{Path, PathBuf};
use std::process::Command;

/// One kind of file in the benchmark library: how ffmpeg makes it from the generated WAV.
pub struct Format {
    pub name: &'static str,
    ext: &'static str,
    ffmpeg: &'static [&'static str],
}

pub const FORMATS: &[Format] = &[
    Format {
        name: "FLAC 16/44.1",
        ext: "flac",
        ffmpeg: &["-c:a", "flac"],
    },
    Format {
        name: "FLAC 24/96",
        ext: "flac",
        ffmpeg: &[
            "-af",
            "aresample=96000",
            "-c:a",
            "flac",
            "-sample_fmt",
            "s32",
        ],
    },
    Format {
        name: "MP3 320 CBR",
        ext: "mp3",
        ffmpeg: &["-c:a", "libmp3lame", "-b:a", "320k"],
    },
    Format {
        name: "MP3 V0",
        ext: "mp3",
        ffmpeg: &["-c:a", "libmp3lame", "-q:a", "0"],
    },
    Format {
        name: "AAC 256k",
        ext: "m4a",
        ffmpeg: &["-c:a", "aac", "-b:a", "256k"],
    },
    Format {
        name: "Ogg Vorbis q6",
        ext: "ogg",
        ffmpeg: &["-c:a", "libvorbis", "-q:a", "6"],
    },
    Format {
        name: "Opus 160k",
        ext: "opus",
        ffmpeg: &["-c:a", "libopus", "-b:a", "160k"],
    },
    Format {
        name: "WAV 16/44.1",
        ext: "wav",
        ffmpeg: &["-c:a", "pcm_s16le"],
    },
];

/// Lengths of the generated tracks (seconds), used in turn: 3 to 6 minutes.
const LENGTHS: [u32; 4] = [180, 240, 300, 360];
/// A generated file and its format's name.
pub struct BenchFile {
    pub format: &'static str,
    pub path: PathBuf,
}

/// Music-like test audio: two detuned tones with vibrato and tremolo, a kick on every beat
/// and a noise hi-hat on the off-beats, at a tempo and pitch set by `seed`.
fn music_expression(seed: u32) -> String {
    let f = 110.0 * 2f64.powf((seed % 12) as f64 / 12.0);
    let beat = 60.0 / (90.0 + 7.0 * (seed % 9) as f64);
    let channel = |c: u32| {
        format!(
            "0.22*sin(2*PI*{f1:.2}*t)*(0.6+0.4*sin(2*PI*0.23*t))+0.14*sin(2*PI*{f2:.2}*t+2*sin(2*PI*0.5*t))\
             +0.5*exp(-25*mod(t,{beat:.4}))*sin(2*PI*52*t)+0.1*(2*random({c})-1)*exp(-60*mod(t+{half:.4},{beat:.4}))",
            f1 = 2.0 * f + c as f64 * 0.5,
            f2 = 3.0 * f,
            half = beat / 2.0,
        )
    };
    format!("{}|{}", channel(0), channel(1))
}

/// The benchmark library, made once with ffmpeg and reused (same names, same content).
pub fn generate_library(dir: &Path, per_format: usize) -> Result<Vec<BenchFile>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for (i, format) in FORMATS.iter().enumerate() {
        for j in 0..per_format {
            let n = (i * per_format + j) as u32;
            let secs = LENGTHS[n as usize % LENGTHS.len()];
            let path = dir.join(file_name(n, format));
            if !path.exists() {
                let wav = dir.join(format!("source-{n}.wav"));
                ffmpeg_music(&wav, n, secs)?;
                ffmpeg(
                    &[&["-i", wav.to_str().unwrap_or_default()], format.ffmpeg],
                    &path,
                )?;
                let _ = std::fs::remove_file(&wav);
            }
            files.push(BenchFile {
                format: format.name,
                path,
            });
        }
    }
    Ok(files)
}

/// The name of generated file `n` of `format`.
fn file_name(n: u32, format: &Format) -> String {
    let slug: String = format
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{n:03}-{slug}.{}", format.ext)
}

pub fn ffmpeg_music(wav: &Path, seed: u32, secs: u32) -> Result<(), String> {
    let source = format!(
        "aevalsrc=exprs='{}':s=44100:d={secs}",
        music_expression(seed)
    );
    ffmpeg(&[&["-f", "lavfi", "-i", &source, "-c:a", "pcm_s16le"]], wav)
}

pub fn ffmpeg(args: &[&[&str]], out: &Path) -> Result<(), String> {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-y"])
        .args(args.iter().flat_map(|a| a.iter()))
        .arg(out)
        .status()
        .map_err(|e| format!("cannot run ffmpeg (apt-get install ffmpeg): {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("ffmpeg could not make {}", out.display()))
    }
}

/// The peak-memory library in `work`: one `minutes`-long FLAC (a generated five-minute piece
/// looped) and the first file of each format from the benchmark library; made once.
pub fn rss_library(work: &Path, minutes: u32, files_per_format: usize) -> Result<PathBuf, String> {
    let library = work.join(format!("rss-library-{minutes}"));
    std::fs::create_dir_all(&library).map_err(|e| e.to_string())?;
    let long = library.join(format!("long-{minutes}min.flac"));
    if !long.exists() {
        let piece = work.join("rss-piece.wav");
        ffmpeg_music(&piece, 99, 300)?;
        let loops = (minutes * 60).div_ceil(300).saturating_sub(1).to_string();
        let t = (minutes * 60).to_string();
        let p = piece.to_str().unwrap_or_default();
        ffmpeg(
            &[&["-stream_loop", &loops, "-i", p, "-t", &t, "-c:a", "flac"]],
            &long,
        )?;
        let _ = std::fs::remove_file(&piece);
    }
    for (i, format) in FORMATS.iter().enumerate() {
        // The first file of each format (they are numbered format by format).
        let n = (i * files_per_format) as u32;
        let src = work.join("library").join(file_name(n, format));
        let dst = library.join(file_name(n, format));
        if src.exists() && !dst.exists() {
            let _ = std::fs::copy(&src, &dst);
        }
    }
    Ok(library)
}
