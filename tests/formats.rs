//! Every common audio format plays: a library with one ffmpeg-made file of each format (tags and
//! cover art included) is scanned by the `drift` binary and checked against ffprobe (duration)
//! and ffmpeg's ebur128 filter (loudness), decoded exactly by `PcmReader`, and rendered into a
//! mix that ffmpeg decodes without errors. Unsupported and broken files get clear reasons.
mod formats_support;

use drift::audio::decode::{decode_all, PcmReader};
use drift::library::tags::{cover_art, read_header};
use drift::store::Store;
use drift::units::{Frames, SAMPLE_RATE};
use formats_support::{drift, ebur128_lufs, ffmpeg, ffprobe_secs, library, MUSIC_SECS, SURROUND};
use std::path::Path;

/// One MP3 frame of slack for lossy formats whose padding ffprobe counts (AAC has no gapless
/// information symphonia reads; ffprobe counts MP3 and Opus padding).
const DURATION_SLACK_SECS: f64 = 2.0 * 1152.0 / 44_100.0;

#[test]
fn every_format_is_scanned_with_its_tags_duration_loudness_and_cover() {
    let lib = library();
    let data = tempfile::tempdir().unwrap();
    let out = drift(&["scan", "--library", lib.dir(), "--data-dir"], data.path());
    let store = Store::open(data.path()).unwrap();
    let failures = store.failures().unwrap();
    assert!(failures.is_empty(), "{failures:?}\n{out}");
    let tracks = store.tracks().unwrap();
    assert_eq!(tracks.len(), lib.cases.len(), "{out}");
    // ebur128 runs are the slow part: all at once, one thread each.
    let reference: Vec<(f64, f64)> = std::thread::scope(|s| {
        let runs: Vec<_> = lib
            .cases
            .iter()
            .map(|c| s.spawn(|| (ebur128_lufs(&c.path), ffprobe_secs(&c.path))))
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for (case, (lufs, secs)) in lib.cases.iter().zip(reference) {
        let name = case.name;
        let track = tracks
            .iter()
            .find(|t| t.path.file_name().unwrap() == name)
            .unwrap_or_else(|| panic!("{name} is not a track"));
        assert_eq!(track.tags.title, case.title(), "{name}");
        assert_eq!(track.tags.artist, "Drift Test Ensemble", "{name}");
        assert_eq!(track.tags.album, "Every Format", "{name}");
        let got = track.analysis.duration.secs();
        assert!(
            (got - secs).abs() <= DURATION_SLACK_SECS,
            "{name}: {got} s, ffprobe {secs} s"
        );
        let loudness = track.analysis.loudness.0;
        eprintln!(
            "{name:18} {got:.4} s (ffprobe {secs:.4}), {loudness:.2} LUFS (ebur128 {lufs:.1})"
        );
        assert!(
            (loudness - lufs).abs() <= 0.5,
            "{name}: {loudness} LUFS, ebur128 {lufs}"
        );
        let (mime, bytes) = cover_art(&case.path).unwrap_or_else(|| panic!("{name}: no cover"));
        assert_eq!(
            (mime.as_str(), bytes.as_slice()),
            ("image/png", lib.cover()),
            "{name}"
        );
        let header = read_header(&case.path);
        assert_eq!(header.tags, track.tags, "{name}");
        assert!(header.has_cover, "{name}: the probe missed the cover");
        let stated = header
            .duration
            .unwrap_or_else(|| panic!("{name}: no duration"));
        assert!(
            (stated.secs() - secs).abs() <= DURATION_SLACK_SECS,
            "{name}: header says {} s, ffprobe {secs} s",
            stated.secs()
        );
    }
}

/// Decodes with reads of `step` frames; returns the samples.
fn read_all(reader: &mut PcmReader, step: u64) -> Vec<f32> {
    let mut out = Vec::new();
    while reader.read(&mut out, Frames(step)).unwrap() != Frames::ZERO {}
    out
}

#[test]
fn decoding_is_exact_deterministic_and_matches_the_stated_length() {
    let lib = library();
    for case in &lib.cases {
        let name = case.name;
        let mut native = PcmReader::open_native(&case.path).unwrap();
        assert_eq!(native.source_rate, case.rate, "{name}");
        let samples = read_all(&mut native, 4096);
        let frames = (samples.len() / 2) as u64;
        if case.exact {
            // Lossless, or lossy with gapless information: exactly what was encoded.
            let encoded = (MUSIC_SECS * case.rate as f64).round() as u64;
            assert_eq!(frames, encoded, "{name}: decoded length at the source rate");
            assert_eq!(
                native.source_frames(),
                Some(encoded),
                "{name}: stated length"
            );
        }
        let mut reader = PcmReader::open(&case.path).unwrap();
        let expected = reader.expected_frames();
        let a = read_all(&mut reader, 1000);
        if let Some(expected) = expected {
            assert_eq!(Frames((a.len() / 2) as u64), expected, "{name}");
        }
        assert!(
            !case.exact || expected.is_some(),
            "{name}: no stated length"
        );
        // The same samples however the reads are sized.
        let b = read_all(&mut PcmReader::open(&case.path).unwrap(), 7919);
        assert!(a == b, "{name}: reads of different sizes differ");
        assert!(a.iter().all(|s| s.is_finite() && s.abs() <= 1.5), "{name}");
    }
}

/// Lossy codecs delay their output (encoder delay, priming, pre-skip) and pad the end; the
/// container says by how much. Decoded, each file is as long as what was encoded and aligned
/// with it: the MP3s through the LAME header, AAC through the MP4 edit list, Vorbis and Opus
/// through Ogg granule positions (Opus was encoded from the same music made at 48 kHz).
#[test]
fn lossy_files_decode_to_exactly_the_encoded_samples_and_in_place() {
    let lib = library();
    let wav = lib.path("pcm16.wav");
    for name in ["cbr.mp3", "vbr.mp3", "aac.m4a", "vorbis.ogg", "opus.opus"] {
        let reference = decode_all(&wav).unwrap();
        let decoded = decode_all(&lib.path(name)).unwrap();
        assert_eq!(
            decoded.len(),
            reference.len(),
            "{name}: encoder delay and padding trimmed"
        );
        // Aligned, not shifted: the decoded signal correlates best with the reference at lag 0.
        let corr = |lag: usize| -> f64 {
            (0..40_000)
                .map(|i| {
                    decoded[2 * (10_000 + i + lag)] as f64 * reference[2 * (10_000 + i)] as f64
                })
                .sum()
        };
        let at_zero = corr(0);
        assert!((1..64).all(|lag| corr(lag) < at_zero), "{name}: misaligned");
    }
}

#[test]
fn the_whole_library_renders_and_ffmpeg_decodes_the_mix_cleanly() {
    let lib = library();
    let data = tempfile::tempdir().unwrap();
    let mix = data.path().join("mix.mp3");
    let seconds = (lib.cases.len() as f64 * (MUSIC_SECS - 1.0)).to_string();
    let listing = drift(
        &[
            "render",
            "--library",
            lib.dir(),
            "--crossfade",
            "1",
            "--seconds",
            &seconds,
            "--output",
            mix.to_str().unwrap(),
            "--data-dir",
        ],
        data.path(),
    );
    assert!(!listing.contains("skipped"), "{listing}");
    check_mix(&mix);
    // The drift walk goes by sound, not by format: whatever it did not reach plays alone.
    for case in lib.cases.iter().filter(|c| !listing.contains(&c.title())) {
        let alone = tempfile::tempdir().unwrap();
        let music = alone.path().join("music");
        std::fs::create_dir_all(&music).unwrap();
        std::fs::copy(&case.path, music.join(case.name)).unwrap();
        let mix = alone.path().join("mix.mp3");
        let args = [
            "render",
            "--library",
            music.to_str().unwrap(),
            "--crossfade",
            "1",
        ];
        let out = [
            "--seconds",
            "5",
            "--output",
            mix.to_str().unwrap(),
            "--data-dir",
        ];
        let listing = drift(&[&args[..], &out[..]].concat(), &alone.path().join("data"));
        assert!(listing.contains(&case.title()), "{}: {listing}", case.name);
        check_mix(&mix);
    }
}

/// ffmpeg decodes the mix without a single error.
fn check_mix(mix: &Path) {
    let errors = ffmpeg(&[
        "-v",
        "error",
        "-i",
        mix.to_str().unwrap(),
        "-f",
        "null",
        "-",
    ]);
    assert!(errors.trim().is_empty(), "ffmpeg: {errors}");
}

#[test]
fn undecodable_and_broken_files_are_reported_and_lying_names_still_play() {
    let lib = library();
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    std::fs::create_dir_all(&music).unwrap();
    let copy = |from: &str, to: &str| std::fs::copy(lib.path(from), music.join(to)).unwrap();
    copy("cbr.mp3", "really an mp3.flac");
    copy("flac16.flac", "no extension");
    let flac = std::fs::read(lib.path("flac16.flac")).unwrap();
    std::fs::write(music.join("truncated.flac"), &flac[..flac.len() / 2 + 777]).unwrap();
    let mp3 = std::fs::read(lib.path("cbr.mp3")).unwrap();
    std::fs::write(music.join("truncated.mp3"), &mp3[..mp3.len() / 2 + 333]).unwrap();
    let opus = std::fs::read(lib.path("opus.opus")).unwrap();
    std::fs::write(music.join("truncated.opus"), &opus[..opus.len() / 2 + 55]).unwrap();
    std::fs::write(music.join("empty.opus"), b"").unwrap();
    std::fs::write(music.join("text.ogg"), "not audio at all\n".repeat(300)).unwrap();
    std::fs::write(music.join("notes.txt"), "skipped, never opened").unwrap();
    // Formats we know but cannot decode; ffmpeg writes two of them, the rest are headers.
    lib.encode(&["-c:a", "wmav2"], &music.join("windows.wma"));
    lib.encode(&["-c:a", "wavpack"], &music.join("pack.wv"));
    // Opus in more than two channels needs libopus's multistream decoder, which the safe
    // binding lacks: reported, not mangled.
    lib.encode(
        &["-af", SURROUND, "-c:a", "libopus"],
        &music.join("surround.opus"),
    );
    std::fs::write(music.join("monkey.ape"), b"MAC \x96\x0f\x00\x00 and more").unwrap();
    std::fs::write(music.join("dsd.dsf"), b"DSD \x1c\x00\x00\x00 and more").unwrap();
    std::fs::write(music.join("muse.mpc"), b"MPCK and more bytes").unwrap();
    let data = dir.path().join("data");
    let out = drift(
        &["scan", "--library", music.to_str().unwrap(), "--data-dir"],
        &data,
    );
    let store = Store::open(&data).unwrap();
    let reasons: Vec<(String, String)> = store
        .failures()
        .unwrap()
        .into_iter()
        .map(|(p, r)| (p.file_name().unwrap().to_str().unwrap().to_owned(), r))
        .collect();
    let reason = |name: &str| {
        reasons
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.as_str())
            .unwrap_or_else(|| panic!("{name} not reported: {reasons:?}\n{out}"))
    };
    assert_eq!(
        reason("windows.wma"),
        "Windows Media Audio is not supported"
    );
    assert_eq!(reason("pack.wv"), "WavPack is not supported");
    assert_eq!(
        reason("monkey.ape"),
        "Monkey's Audio (APE) is not supported"
    );
    assert_eq!(reason("dsd.dsf"), "DSD audio (DSF) is not supported");
    assert_eq!(reason("muse.mpc"), "Musepack is not supported");
    assert_eq!(reason("empty.opus"), "the file is empty");
    assert!(
        reason("text.ogg").contains("not an audio format"),
        "{reasons:?}"
    );
    assert!(reason("surround.opus").contains("surround"), "{reasons:?}");
    assert_eq!(reasons.len(), 8, "{reasons:?}");
    let tracks = store.tracks().unwrap();
    let secs = |name: &str| {
        tracks
            .iter()
            .find(|t| t.path.file_name().unwrap() == name)
            .unwrap_or_else(|| panic!("{name} is not a track: {reasons:?}"))
            .analysis
            .duration
            .secs()
    };
    assert!((secs("really an mp3.flac") - MUSIC_SECS).abs() < 0.01);
    assert!((secs("no extension") - MUSIC_SECS).abs() < 0.01);
    // Truncated mid-frame: what is there plays.
    for name in ["truncated.flac", "truncated.mp3", "truncated.opus"] {
        let got = secs(name);
        assert!(
            got > MUSIC_SECS * 0.4 && got < MUSIC_SECS * 0.6,
            "{name}: {got} s"
        );
    }
    assert_eq!(tracks.len(), 5);
    assert_eq!(SAMPLE_RATE, 44_100);
    assert!(Path::new(&music.join("notes.txt")).exists());
}

/// Writes a tag of `tag_type` titled "Heavy" with a picture of `bytes` bytes into `path`.
fn add_big_cover(path: &Path, tag_type: lofty::tag::TagType, png: &[u8], bytes: usize) {
    use lofty::picture::{MimeType, Picture, PictureType};
    let mut data = png.to_vec();
    data.resize(bytes, 0x5A);
    let mut tag = lofty::tag::Tag::new(tag_type);
    lofty::tag::Accessor::set_title(&mut tag, "Heavy".into());
    let picture = Picture::new_unchecked(PictureType::CoverFront, Some(MimeType::Png), None, data);
    tag.push_picture(picture);
    lofty::tag::TagExt::save_to_path(&tag, path, Default::default()).unwrap();
}

#[test]
fn huge_covers_are_found_without_being_decoded_along() {
    let lib = library();
    let dir = tempfile::tempdir().unwrap();
    // FLAC blocks hold at most 16 MiB; ID3v2 frames far more.
    let flac = dir.path().join("big cover.flac");
    std::fs::copy(lib.path("flac16.flac"), &flac).unwrap();
    add_big_cover(
        &flac,
        lofty::tag::TagType::VorbisComments,
        lib.cover(),
        15 << 20,
    );
    let mp3 = dir.path().join("big cover.mp3");
    std::fs::copy(lib.path("cbr.mp3"), &mp3).unwrap();
    add_big_cover(&mp3, lofty::tag::TagType::Id3v2, lib.cover(), 50 << 20);
    for (path, plain) in [(&flac, "flac16.flac"), (&mp3, "cbr.mp3")] {
        let header = read_header(path);
        assert!(header.has_cover, "{}", path.display());
        assert_eq!(header.tags.title, "Heavy");
        // The same samples as without the picture (FLAC's picture block reads as padding).
        assert!(decode_all(path).unwrap() == decode_all(&lib.path(plain)).unwrap());
    }
    assert_eq!(cover_art(&flac).map(|(_, b)| b.len()), Some(15 << 20));
    // lofty refuses to allocate more than 16 MiB for one picture: no cover, no failure.
    let _ = cover_art(&mp3);
}
