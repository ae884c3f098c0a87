//! Measuring one audio file: decode it in fixed-size reads and stream them through the
//! [`Analyser`], so a track of any length costs a few MB. Decoder panics are caught here:
//! untrusted bytes must cost one file, not the scan.
use crate::analysis::Analyser;
use crate::audio::decode::PcmReader;
use crate::model::Analysis;
use crate::units::{Frames, SAMPLE_RATE};
use lofty::config::ParseOptions;
use lofty::file::AudioFile;
use lofty::probe::Probe;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// Shorter decoded audio than this is not a track (a truncated or broken file, a click).
pub const MIN_DURATION: Frames = Frames(SAMPLE_RATE as u64 / 2);
/// Frames decoded per read: large enough that per-read overhead vanishes, small enough
/// (512 KB of samples) to stay in cache and keep memory flat.
const READ: Frames = Frames(1 << 16);

/// Decodes and analyses one file; `Err` says why it cannot be a track.
pub fn analyse_file(path: &Path) -> Result<Analysis, String> {
    catch_unwind(AssertUnwindSafe(|| measure(path)))
        .unwrap_or_else(|_| Err("the decoder crashed on this file".into()))
}

fn measure(path: &Path) -> Result<Analysis, String> {
    // The file's own rate: no resampler (cheaper), and the meters see the file's own samples;
    // the Analyser reports positions in 44.1 kHz frames, as the resampler would output them.
    let mut reader = PcmReader::open_native(path).map_err(|e| e.to_string())?;
    let expected = reader.expected_frames().or_else(|| header_length(path));
    let mut analyser = Analyser::new(reader.source_rate, expected);
    let mut buf = Vec::with_capacity(READ.samples());
    loop {
        buf.clear();
        if reader.read(&mut buf, READ).map_err(|e| e.to_string())? == Frames::ZERO {
            break;
        }
        analyser.push(&buf);
    }
    let analysis = analyser.finish();
    if analysis.duration < MIN_DURATION {
        return Err(format!(
            "only {:.2} s of audio could be decoded (at least {:.1} s needed)",
            analysis.duration.secs(),
            MIN_DURATION.secs()
        ));
    }
    Ok(analysis)
}

/// The track's length in Drift frames as lofty reads it from the headers, for the formats
/// whose decoder does not state one; `None` when nothing says.
fn header_length(path: &Path) -> Option<Frames> {
    let file = Probe::open(path)
        .ok()?
        .guess_file_type()
        .ok()?
        .options(
            ParseOptions::new()
                .read_tags(false)
                .read_cover_art(false)
                .read_properties(true),
        )
        .read()
        .ok()?;
    let secs = file.properties().duration().as_secs_f64();
    (secs > 0.0).then(|| Frames::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, rate: u32, secs: f64) {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..(secs * rate as f64) as usize {
            let t = i as f64 / rate as f64;
            let s = (8000.0 * (std::f64::consts::TAU * 440.0 * t).sin()) as i16;
            w.write_sample(s).unwrap();
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    fn a_file_is_measured_with_its_length_from_the_headers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tone.wav");
        write_wav(&path, 44_100, 3.0);
        assert_eq!(header_length(&path), Some(Frames(3 * 44_100)));
        let a = analyse_file(&path).unwrap();
        assert_eq!(a.duration, Frames(3 * 44_100));
        assert!(a.features.is_some());
        assert_eq!(
            a,
            crate::analysis::analyse(&crate::audio::decode::decode_all(&path).unwrap())
        );
    }

    /// ffmpeg's `ebur128` filter on `path`: integrated loudness (LUFS) and true peak (dBFS).
    fn ffmpeg_ebur128(path: &Path) -> Option<(f64, f64)> {
        let out = std::process::Command::new("ffmpeg")
            .args(["-hide_banner", "-nostats", "-nostdin", "-i"])
            .arg(path)
            .args(["-af", "ebur128=peak=true", "-f", "null", "-"])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stderr);
        let summary = &text[text.rfind("Summary:")?..];
        let field = |name: &str| -> Option<f64> {
            let at = summary.find(name)? + name.len();
            summary[at..].split_whitespace().next()?.parse().ok()
        };
        Some((field("I:")?, field("Peak:")?))
    }

    #[test]
    fn loudness_and_true_peak_agree_with_ffmpeg() {
        use crate::analysis::test_signals::{drums, sine, Pattern};
        let dir = tempfile::tempdir().unwrap();
        let mut music = drums(Pattern::Backbeat, 104.0, 12.0, 4);
        for (m, s) in music.iter_mut().zip(sine(331.0, 12.0, 0.3)) {
            *m = (*m + s).clamp(-1.0, 1.0);
        }
        let quiet: Vec<f32> = music.iter().map(|s| s * 0.05).collect();
        for (name, pcm) in [("music.wav", &music), ("quiet.wav", &quiet)] {
            let path = dir.path().join(name);
            let spec = hound::WavSpec {
                channels: 2,
                sample_rate: SAMPLE_RATE,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            let mut w = hound::WavWriter::create(&path, spec).unwrap();
            for s in pcm.iter() {
                w.write_sample((s * 32767.0) as i16).unwrap();
            }
            w.finalize().unwrap();
            let Some((lufs, peak)) = ffmpeg_ebur128(&path) else {
                eprintln!("ffmpeg is not installed: comparison skipped");
                return;
            };
            let a = analyse_file(&path).unwrap();
            assert!(
                (a.loudness.0 - lufs).abs() <= 0.1,
                "{name}: {a:?} vs {lufs}"
            );
            assert!(
                (a.true_peak.0 - peak).abs() <= 0.2,
                "{name}: {a:?} vs {peak}"
            );
        }
    }

    #[test]
    fn too_short_and_broken_files_are_reasons_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let short = dir.path().join("click.wav");
        write_wav(&short, 44_100, 0.2);
        assert!(analyse_file(&short).unwrap_err().contains("only 0.20 s"));
        let junk = dir.path().join("junk.flac");
        std::fs::write(&junk, b"fLaC this is not really flac").unwrap();
        assert!(analyse_file(&junk).is_err());
    }
}
