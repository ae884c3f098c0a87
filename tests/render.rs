//! The offline pipeline end to end: scan a generated library with broken files in it, render
//! with the real binary, and check the result with ffmpeg (a decoder no one here wrote) and
//! with EBU R128 measurements; then the checkpoint promise on real music.
mod common;
use drift::catalog::Catalog;
use drift::config::MixConfig;
use drift::library::scan::{scan, ScanOptions};
use drift::station::engine::{Engine, EngineEvent};
use drift::station::scheduler::Scheduler;
use drift::store::Store;
use drift::units::{Frames, StreamPos};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

fn broken_files(lib: &Path) {
    std::fs::write(lib.join("notes.mp3"), "not audio at all\n".repeat(100)).unwrap();
    std::fs::write(lib.join("empty.wav"), b"").unwrap();
    std::fs::write(
        lib.join("noise.wav"),
        (0..50_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let mp3 = std::fs::read_dir(lib)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "mp3") && !p.ends_with("notes.mp3"))
        .unwrap();
    let bytes = std::fs::read(&mp3).unwrap();
    std::fs::write(lib.join("truncated.mp3"), &bytes[..bytes.len() / 3]).unwrap();
}

fn drift(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_drift"))
        .args(args)
        .env("DRIFT_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn render_survives_broken_files_and_ffmpeg_decodes_it_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let lib = common::library(dir.path(), 5);
    broken_files(&lib);
    let data = dir.path().join("data");
    let (ok, out, err) = drift(&[
        "scan",
        "--library",
        lib.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    for name in ["notes.mp3", "empty.wav", "noise.wav"] {
        assert!(
            out.contains(&format!("skipped {}", lib.join(name).display())),
            "{name} not reported: {out}"
        );
    }
    let output = dir.path().join("mix.mp3");
    let report_path = dir.path().join("report.json");
    let (ok, out, err) = drift(&[
        "render",
        "--library",
        lib.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--seconds",
        "75",
        "--output",
        output.to_str().unwrap(),
        "--seed",
        "4",
        "--report",
        report_path.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(
        out.lines().filter(|l| l.contains(" - ")).count() >= 4,
        "track list: {out}"
    );

    let dec = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&output)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        dec.status.success() && dec.stderr.is_empty(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&dec.stderr)
    );
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(&output)
        .output()
        .unwrap();
    let secs: f64 = String::from_utf8_lossy(&probe.stdout)
        .trim()
        .parse()
        .unwrap();
    assert!((secs - 75.0).abs() <= 1152.0 / 44_100.0, "duration {secs}");

    // Loudness per track (between crossfades) and true peak, measured on the decoded output.
    let pcm = drift::audio::decode::decode_all(&output).unwrap();
    // The transition report: every transition with its kind, overlap and entry, and the
    // mix's loudness around it.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let joins = report["transitions"].as_array().unwrap();
    assert!(joins.len() >= 3, "{report}");
    assert_eq!(
        report["summary"]["transitions"].as_u64(),
        Some(joins.len() as u64)
    );
    for t in joins {
        for field in [
            "at",
            "overlap",
            "entry",
            "before",
            "during",
            "after",
            "minShortTerm",
        ] {
            assert!(t[field].is_f64(), "{field} in {t}");
        }
        assert!(
            t["kind"]["type"].is_string() && t["to"]["name"].is_string(),
            "{t}"
        );
        assert!(t["silence"].as_f64().unwrap() <= 0.3, "a gap: {t}");
    }
    // Between two transitions one track plays alone: its level is its source's over the same
    // span, gained to the target and through the engine's limiter (−2 dBFS ceiling; a track
    // whose peaks are high for its loudness cannot be raised all the way).
    let mut alone = 0;
    for w in joins.windows(2) {
        let (this, next) = (&w[0], &w[1]);
        let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
        let (start, entry) = (f(this, "at"), f(this, "entry"));
        let (a, b) = (start + f(this, "overlap") + 0.5, f(next, "at") - 0.5);
        if b - a < 3.0 {
            continue;
        }
        alone += 1;
        let name = this["to"]["name"].as_str().unwrap();
        let source = lib
            .read_dir()
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.to_string_lossy().ends_with(&format!("{name}.mp3"))
                    || p.to_string_lossy().ends_with(&format!("{name}.wav"))
            })
            .unwrap_or_else(|| panic!("no file for {name}"));
        let raw = drift::audio::decode::decode_all(&source).unwrap();
        let analysis = drift::analysis::analyse(&raw);
        let at = |t: f64| ((t - start + entry) * 44_100.0) as usize;
        let mut gained = raw[at(a) * 2..at(b) * 2].to_vec();
        let gain = drift::units::Db(-16.0 - analysis.loudness.0).amplitude();
        gained.iter_mut().for_each(|s| *s *= gain);
        drift::audio::dsp::Limiter::new(drift::units::Db(-2.0)).process(&mut gained);
        let expected = lufs(&gained);
        // Within 0.75 LU: the live limiter also remembers what came before, and MP3 coding.
        let heard = lufs(&pcm[(a * 44_100.0) as usize * 2..(b * 44_100.0) as usize * 2]);
        assert!(
            (heard - expected).abs() <= 0.75,
            "{name}, {a:.1}–{b:.1} s: {heard:.2} LUFS, its source gained and limited {expected:.2}"
        );
    }
    assert!(
        alone >= 2,
        "only {alone} tracks heard alone for 3 s: {report}"
    );
    let mut m = ebur128::EbuR128::new(2, 44_100, ebur128::Mode::TRUE_PEAK).unwrap();
    m.add_frames_f32(&pcm).unwrap();
    let tp = 20.0
        * (0..2)
            .map(|c| m.true_peak(c).unwrap())
            .fold(0.0, f64::max)
            .log10();
    assert!(tp <= -1.0, "true peak {tp:.2} dBTP");
    // No silence longer than a second (cue points skip the silent edges).
    let mut quiet = 0;
    for f in pcm.chunks(2).skip(44_100) {
        quiet = if f[0].abs().max(f[1].abs()) < 0.003 {
            quiet + 1
        } else {
            0
        };
        assert!(quiet < 44_100, "a second of silence in the render");
    }
}

#[test]
fn bad_cli_input_gets_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = drift(&[
        "render",
        "--library",
        "/nonexistent/music",
        "--seconds",
        "10",
        "--output",
        "x.mp3",
    ]);
    assert!(!ok && err.contains("is not a folder"), "{err}");
    let (ok, _, err) = drift(&[
        "render",
        "--seconds",
        "-3",
        "--output",
        "x.mp3",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("--seconds"), "{err}");
    let (ok, _, err) = drift(&[
        "render",
        "--seconds",
        "10",
        "--output",
        "x.mp3",
        "--bitrate",
        "200",
    ]);
    assert!(!ok && err.contains("not one of"), "{err}");
}

/// Render 120 s; an engine built from the checkpoint at 47 s (and one mid-crossfade) renders
/// the rest with the same decoded audio.
#[test]
fn checkpoints_on_real_music_resume_the_same_audio() {
    let dir = tempfile::tempdir().unwrap();
    let lib = common::library(dir.path(), 6);
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    scan(&[lib], &mut store, &ScanOptions::default()).unwrap();
    let catalog = Arc::new(Catalog::new(store.tracks().unwrap()));
    let cfg = MixConfig {
        lame_quality: 7,
        ..MixConfig::default()
    };
    let mut engine = Engine::new(cfg.clone(), catalog.clone(), Scheduler::shuffle(11)).unwrap();
    let mut frames = Vec::new();
    let mut checkpoints = Vec::new();
    let mut starts: Vec<Frames> = Vec::new();
    let mut pcm = std::collections::HashMap::new();
    while engine.position() < StreamPos::from_secs(120.0) {
        let p = engine.position();
        if (p >= StreamPos::from_secs(47.0) && checkpoints.is_empty())
            || (checkpoints.len() == 1
                && starts.iter().any(|s: &Frames| {
                    s.secs() > 55.0
                        && p >= StreamPos(*s + Frames::from_secs(2.0))
                        && p < StreamPos(*s + Frames::from_secs(3.0))
                }))
        {
            checkpoints.push(engine.checkpoint());
        }
        let (chunk, events) = engine.render_block().unwrap();
        let (at, block) = engine.last_pcm();
        pcm.insert(at, block.to_vec());
        for e in events {
            if let EngineEvent::TrackStarted { pos, .. } = e {
                starts.push(pos.0);
            }
        }
        if let Some(c) = chunk {
            frames.extend(c.frames);
        }
    }
    assert_eq!(
        checkpoints.len(),
        2,
        "the second checkpoint falls in a crossfade"
    );
    assert_eq!(
        checkpoints[1].decks.len(),
        2,
        "mid-crossfade: {:?}",
        checkpoints[1]
    );
    for cp in &checkpoints {
        let mut resumed = Engine::from_checkpoint(cfg.clone(), catalog.clone(), cp).unwrap();
        let mut again = Vec::new();
        while resumed.position() < StreamPos::from_secs(120.0) {
            if let Some(c) = resumed.render_block().unwrap().0 {
                again.extend(c.frames);
            }
            // What goes into the encoder is the same, sample for sample, from the checkpoint on.
            let (at, block) = resumed.last_pcm();
            if at >= cp.pos {
                assert_eq!(
                    pcm.get(&at).map(|b| b.as_slice()),
                    Some(block),
                    "PCM differs at {:.3} s",
                    at.secs()
                );
            }
        }
        let first = cp.pos.mp3_frame_index() as usize;
        let orig: Vec<u8> = frames[first..]
            .iter()
            .flat_map(|f| f.data.clone())
            .collect();
        let new: Vec<u8> = again.iter().flat_map(|f| f.data.clone()).collect();
        let a = decode(&dir.path().join("a.mp3"), &orig);
        let b = decode(&dir.path().join("b.mp3"), &new);
        assert!(
            (a.len() as i64 - b.len() as i64).abs() <= 2 * 1152,
            "{} vs {}",
            a.len(),
            b.len()
        );
        let skip = 2 * 1152 * 2;
        let n = a.len().min(b.len());
        // LAME's bit reservoir starts empty in the new encoder, so its quantisation noise
        // differs for a while; every second must still match far above that noise.
        for (k, (ca, cb)) in a[skip..n]
            .chunks(88_200)
            .zip(b[skip..n].chunks(88_200))
            .enumerate()
        {
            let sig: f64 = ca.iter().map(|x| (*x as f64).powi(2)).sum();
            let err: f64 = ca
                .iter()
                .zip(cb)
                .map(|(x, y)| ((x - y) as f64).powi(2))
                .sum();
            let snr = 10.0 * (sig / err.max(1e-20)).log10();
            assert!(
                snr > 25.0,
                "from {:.1} s, second {k}: SNR {snr:.1} dB",
                cp.pos.secs()
            );
        }
    }
}

fn decode(path: &Path, bytes: &[u8]) -> Vec<f32> {
    std::fs::write(path, bytes).unwrap();
    drift::audio::decode::decode_all(path).unwrap()
}

/// Integrated loudness of interleaved stereo 44.1 kHz.
fn lufs(pcm: &[f32]) -> f64 {
    let mut m = ebur128::EbuR128::new(2, 44_100, ebur128::Mode::I).unwrap();
    m.add_frames_f32(pcm).unwrap();
    m.loudness_global().unwrap()
}
