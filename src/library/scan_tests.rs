//! Scan tests that need the store's insides: tracks analysed before features existed (or by an
//! older extractor) are analysed again, once, without touching the others.
use super::*;
use crate::analysis::test_signals::{drums, Pattern};
use crate::store::FileChange;
use crate::units::SAMPLE_RATE;
use std::path::Path;

/// A library of two short drum loops as 16-bit WAV.
fn library(dir: &Path) -> PathBuf {
    let lib = dir.join("music");
    std::fs::create_dir_all(&lib).unwrap();
    for (name, bpm) in [("slow.wav", 90.0), ("fast.wav", 150.0)] {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(lib.join(name), spec).unwrap();
        for s in drums(Pattern::Clicks, bpm, 8.0, 1) {
            w.write_sample((s * 32767.0) as i16).unwrap();
        }
        w.finalize().unwrap();
    }
    lib
}

fn run(lib: &Path, store: &mut Store) -> ScanReport {
    scan(&[lib.to_path_buf()], store, &ScanOptions::default()).unwrap()
}

#[test]
fn tracks_without_features_are_analysed_again_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let first = run(&lib, &mut store);
    assert_eq!((first.analysed, first.unchanged), (2, 0), "{first:?}");
    let tracks = store.tracks().unwrap();
    for t in &tracks {
        let f = t.analysis.features.as_ref().expect("features after a scan");
        let want = if t.path.ends_with("slow.wav") {
            90.0
        } else {
            150.0
        };
        assert!((f.bpm / want - 1.0).abs() < 0.02, "{t:?}");
    }

    // As if the slow track had been analysed by a Drift without features.
    let slow = tracks
        .iter()
        .find(|t| t.path.ends_with("slow.wav"))
        .unwrap();
    let file = store.file(&slow.path).unwrap().unwrap();
    let mut analysis = slow.analysis.clone();
    analysis.features = None;
    store
        .apply(&[FileChange::Analysed {
            file: file.stat,
            id: slow.id.clone(),
            tags: slow.tags.clone(),
            analysis,
        }])
        .unwrap();
    assert_eq!(store.analysed_ids().unwrap().len(), 1);

    let second = run(&lib, &mut store);
    assert_eq!(
        (second.analysed, second.unchanged, second.reused),
        (1, 1, 0),
        "{second:?}"
    );
    assert_eq!(
        store.tracks().unwrap(),
        tracks,
        "the same track, features again"
    );

    let third = run(&lib, &mut store);
    assert_eq!((third.analysed, third.unchanged), (0, 2), "{third:?}");
}

#[test]
fn tracks_known_before_the_album_artist_get_it_from_the_next_scan_without_analysis() {
    use lofty::config::WriteOptions;
    use lofty::tag::{Accessor, ItemKey, Tag, TagExt, TagType};
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    // One DJ mix of two producers' tracks, and a copy of one of them elsewhere.
    for (n, (name, artist)) in [("slow.wav", "Producer A"), ("fast.wav", "Producer B")]
        .into_iter()
        .enumerate()
    {
        let mut tag = Tag::new(TagType::Id3v2);
        tag.set_artist(artist.into());
        tag.set_album("Live at the Club".into());
        tag.insert_text(ItemKey::AlbumArtist, "DJ Night".into());
        tag.insert_text(ItemKey::TrackNumber, (n + 1).to_string());
        tag.save_to_path(lib.join(name), WriteOptions::default())
            .unwrap();
    }
    std::fs::create_dir(lib.join("copies")).unwrap();
    std::fs::copy(lib.join("slow.wav"), lib.join("copies/slow.wav")).unwrap();
    let data = dir.path().join("data");
    let mut store = Store::open(&data).unwrap();
    let first = run(&lib, &mut store);
    assert_eq!(first.analysed + first.reused, 3, "{first:?}");
    let tracks = store.tracks().unwrap();
    assert_eq!(tracks.len(), 2, "the copy is the same track");
    assert!(tracks.iter().all(|t| t.tags.album_artist == "DJ Night"));
    let (a, b) = (&tracks[0], &tracks[1]);
    assert!(a.follows_on_album(b) || b.follows_on_album(a), "{tracks:?}");
    drop(store);

    // What migration 9 leaves of a library scanned before it.
    let conn = rusqlite::Connection::open(data.join(crate::store::DB_FILE)).unwrap();
    conn.execute_batch(
        "UPDATE tracks SET album_artist = '', tags_version = 0;
         UPDATE files SET album_artist = NULL;",
    )
    .unwrap();
    drop(conn);
    let mut store = Store::open(&data).unwrap();
    assert!(store
        .tracks()
        .unwrap()
        .iter()
        .all(|t| t.tags.album_artist.is_empty()));
    assert_eq!(store.tracks_with_old_tags().unwrap().len(), 2);

    let second = run(&lib, &mut store);
    assert_eq!(
        (
            second.analysed,
            second.unchanged,
            second.retagged,
            second.reused
        ),
        (0, 3, 2, 0),
        "tags read once per track, no audio analysed: {second:?}"
    );
    assert_eq!(store.tracks().unwrap(), tracks, "the album artist is back");
    assert!(store.tracks_with_old_tags().unwrap().is_empty());
    let third = run(&lib, &mut store);
    assert_eq!((third.unchanged, third.retagged), (3, 0), "{third:?}");
}
