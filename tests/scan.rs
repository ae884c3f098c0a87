//! Integration tests of the library scan against a generated library: incremental rescans,
//! renames, deletions, broken files and real-world formats made with ffmpeg.
use drift::library::scan::{scan, ScanError, ScanOptions, ScanReport};
use drift::model::{Track, TrackId};
use drift::store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

/// Writes a 16-bit WAV: a sine of `freq` Hz at half scale on every channel.
fn write_wav(path: &Path, secs: f64, freq: f64, rate: u32, channels: u16) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(secs * rate as f64) as u64 {
        let s = (std::f64::consts::TAU * freq * i as f64 / rate as f64).sin() * 16_000.0;
        for _ in 0..channels {
            w.write_sample(s as i16).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// A library of three two-second tones, a store, and the scan options tests use.
fn library() -> (tempfile::TempDir, PathBuf, Store) {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("music");
    std::fs::create_dir_all(lib.join("album")).unwrap();
    write_wav(&lib.join("a.wav"), 2.0, 220.0, 44_100, 2);
    write_wav(&lib.join("album/b.WAV"), 2.0, 330.0, 44_100, 2);
    write_wav(&lib.join("album/c.wav"), 2.0, 440.0, 44_100, 2);
    std::fs::write(lib.join("album/cover.jpg"), b"not audio, not considered").unwrap();
    let store = Store::open(&dir.path().join("data")).unwrap();
    (dir, lib, store)
}

fn run(lib: &Path, store: &mut Store) -> ScanReport {
    let report = scan(
        &[lib.to_path_buf()],
        store,
        &ScanOptions {
            progress: true,
            threads: 0,
        },
    )
    .unwrap();
    assert_eq!(
        report.seen,
        report.unchanged + report.analysed + report.reused + report.failed,
        "{report:?}"
    );
    report
}

fn by_name(store: &Store, name: &str) -> Option<Track> {
    let tracks = store.tracks().unwrap();
    tracks
        .into_iter()
        .find(|t| t.path.file_name().is_some_and(|n| n == name))
}

#[test]
fn first_scan_analyses_and_second_reads_nothing() {
    let (_dir, lib, mut store) = library();
    let first = run(&lib, &mut store);
    assert_eq!(
        (first.seen, first.analysed, first.failed),
        (3, 3, 0),
        "{first:?}"
    );
    assert!(first.tracks_per_sec > 0.0);
    let tracks = store.tracks().unwrap();
    assert_eq!(tracks.len(), 3);
    assert!(
        tracks.windows(2).all(|w| w[0].id < w[1].id),
        "ordered by id"
    );
    for t in &tracks {
        assert_eq!(t.id.0.len(), 32);
        assert!((t.analysis.duration.secs() - 2.0).abs() < 0.01, "{t:?}");
        assert!(
            t.analysis.loudness.0 > -15.0 && t.analysis.loudness.0 < -3.0,
            "{t:?}"
        );
        assert!(t.path.is_absolute() && t.path.exists());
        assert_eq!(t.tags.artist, "Unknown artist");
        assert_eq!(store.track(&t.id).unwrap().as_ref(), Some(t));
    }
    assert_eq!(by_name(&store, "b.WAV").unwrap().tags.title, "b");

    let second = run(&lib, &mut store);
    assert_eq!(
        (second.unchanged, second.analysed, second.reused),
        (3, 0, 0)
    );
    assert_eq!(store.tracks().unwrap(), tracks);
}

#[test]
fn renamed_and_copied_files_keep_their_track_without_analysis() {
    let (_dir, lib, mut store) = library();
    run(&lib, &mut store);
    let before = by_name(&store, "a.wav").unwrap();
    std::fs::create_dir_all(lib.join("moved")).unwrap();
    std::fs::rename(lib.join("a.wav"), lib.join("moved/Renamed.wav")).unwrap();
    std::fs::copy(lib.join("album/c.wav"), lib.join("c copy.wav")).unwrap();
    let report = run(&lib, &mut store);
    assert_eq!(report.analysed, 0, "{report:?}");
    assert_eq!((report.reused, report.removed), (2, 1), "{report:?}");
    let after = by_name(&store, "Renamed.wav").unwrap();
    assert_eq!(after.id, before.id);
    assert_eq!(after.analysis, before.analysis);
    assert_eq!(
        after.tags.title, "Renamed",
        "an untagged file's title follows its name"
    );
    assert_eq!(store.tracks().unwrap().len(), 3, "a copy is the same track");
}

#[test]
fn changed_and_deleted_files_update_the_library() {
    let (_dir, lib, mut store) = library();
    run(&lib, &mut store);
    let old = by_name(&store, "c.wav").unwrap();
    std::fs::remove_file(lib.join("a.wav")).unwrap();
    write_wav(&lib.join("album/c.wav"), 3.0, 550.0, 44_100, 2);
    let report = run(&lib, &mut store);
    assert_eq!(
        (report.removed, report.analysed, report.unchanged),
        (1, 1, 1)
    );
    assert!(by_name(&store, "a.wav").is_none());
    let new = by_name(&store, "c.wav").unwrap();
    assert_ne!(new.id, old.id);
    assert!((new.analysis.duration.secs() - 3.0).abs() < 0.01);
    assert_eq!(store.track(&old.id).unwrap(), None);
    assert_eq!(store.tracks().unwrap().len(), 2);
}

/// Collects formatted log output so the test can count warning lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn broken_files_are_recorded_with_reasons_and_warned_about_once() {
    let (_dir, lib, mut store) = library();
    std::fs::write(lib.join("notes.mp3"), "just some text\n".repeat(200)).unwrap();
    std::fs::write(lib.join("empty.flac"), b"").unwrap();
    let noise: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(lib.join("random.wav"), &noise).unwrap();
    write_wav(&lib.join("whole.wav"), 1.0, 100.0, 44_100, 2);
    let whole = std::fs::read(lib.join("whole.wav")).unwrap();
    std::fs::write(lib.join("truncated.wav"), &whole[..2_000]).unwrap();
    std::fs::remove_file(lib.join("whole.wav")).unwrap();

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let report = tracing::subscriber::with_default(subscriber, || run(&lib, &mut store));
    assert_eq!((report.analysed, report.failed), (3, 4), "{report:?}");
    assert_eq!(store.tracks().unwrap().len(), 3);

    let failures = store.failures().unwrap();
    let names: Vec<_> = failures
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["empty.flac", "notes.mp3", "random.wav", "truncated.wav"]
    );
    let reason = |name: &str| &failures[names.iter().position(|n| *n == name).unwrap()].1;
    assert_eq!(reason("empty.flac"), "the file is empty");
    assert!(
        reason("truncated.wav").contains("0.01 s of audio"),
        "{}",
        reason("truncated.wav")
    );
    assert!(failures.iter().all(|(_, r)| !r.is_empty()));

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 4, "{log}");
    for name in ["empty.flac", "notes.mp3", "random.wav", "truncated.wav"] {
        assert_eq!(
            warnings.iter().filter(|l| l.contains(name)).count(),
            1,
            "{log}"
        );
    }

    // Unchanged broken files are not retried (nor warned about again).
    let again = run(&lib, &mut store);
    assert_eq!((again.unchanged, again.failed), (7, 0), "{again:?}");
    assert_eq!(store.failures().unwrap(), failures);
}

#[test]
fn a_missing_library_folder_stops_the_scan_and_keeps_the_store() {
    let (dir, lib, mut store) = library();
    run(&lib, &mut store);
    let missing = dir.path().join("unmounted");
    let result = scan(&[lib.clone(), missing], &mut store, &ScanOptions::default());
    assert!(
        matches!(result, Err(ScanError::Library { .. })),
        "{result:?}"
    );
    assert_eq!(store.tracks().unwrap().len(), 3);
}

#[test]
fn the_store_survives_reopening() {
    let (dir, lib, mut store) = library();
    run(&lib, &mut store);
    let tracks = store.tracks().unwrap();
    drop(store);
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    assert_eq!(store.tracks().unwrap(), tracks);
    assert_eq!(run(&lib, &mut store).unchanged, 3);
}

/// Makes a file with ffmpeg from a lavfi source; false if ffmpeg is not installed.
fn ffmpeg(args: &[&str], out: &Path) -> bool {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .arg(out)
        .status();
    match status {
        Ok(s) => {
            assert!(s.success(), "ffmpeg failed for {}", out.display());
            true
        }
        Err(_) => false,
    }
}

#[test]
fn real_world_formats_scan_with_the_right_duration() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("music");
    std::fs::create_dir_all(&lib).unwrap();
    let stereo = "sine=frequency=440:sample_rate=44100:duration=3";
    let cases: [(&str, Vec<&str>, f64); 5] = [
        (
            "vorbis.ogg",
            vec!["-f", "lavfi", "-i", stereo, "-ac", "2", "-c:a", "libvorbis"],
            3.0,
        ),
        (
            "aac.m4a",
            vec![
                "-f", "lavfi", "-i", stereo, "-ac", "2", "-c:a", "aac", "-b:a", "128k",
            ],
            3.0,
        ),
        (
            "mono48k.flac",
            vec![
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=500:sample_rate=48000:duration=2.5",
                "-ac",
                "1",
            ],
            2.5,
        ),
        (
            "surround.flac",
            vec![
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=300:sample_rate=44100:duration=2",
                "-af",
                "pan=5.1|FL=c0|FR=c0|FC=c0|LFE=c0|BL=c0|BR=c0",
            ],
            2.0,
        ),
        (
            "tagged.mp3",
            vec![
                "-f",
                "lavfi",
                "-i",
                stereo,
                "-ac",
                "2",
                "-c:a",
                "libmp3lame",
                "-metadata",
                "title=Tone",
                "-metadata",
                "artist=Generator",
            ],
            3.0,
        ),
    ];
    for (name, args, _) in &cases {
        if !ffmpeg(args, &lib.join(name)) {
            eprintln!("ffmpeg not found: skipping the real-world format test");
            return;
        }
    }
    let mut store = Store::open_in_memory().unwrap();
    let report = run(&lib, &mut store);
    assert_eq!(
        (report.analysed, report.failed),
        (cases.len(), 0),
        "{:?}",
        store.failures()
    );
    for (name, _, secs) in cases {
        let track = by_name(&store, name).unwrap();
        let got = track.analysis.duration.secs();
        assert!((got - secs).abs() <= 0.1, "{name}: {got} s, want {secs} s");
        assert!(track.analysis.loudness.0 > -30.0, "{name}: {track:?}");
    }
    let mp3 = by_name(&store, "tagged.mp3").unwrap();
    assert_eq!(mp3.display_name(), "Generator - Tone");
    assert_eq!(TrackId(mp3.id.0.clone()), mp3.id);
}
