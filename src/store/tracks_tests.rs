//! Tests of the library tables: applying scan results and reading tracks, files and failures.
use super::*;
use crate::model::{BeatGrid, Ends, Mode};

fn stat(path: &str) -> FileStat {
    FileStat {
        path: PathBuf::from(path),
        size: 1234,
        mtime_ns: 1_700_000_000_000_000_000,
    }
}

fn tags(title: &str) -> Tags {
    Tags {
        title: title.into(),
        artist: "Artist".into(),
        album: String::new(),
        disc: None,
        number: None,
    }
}

fn analysis() -> Analysis {
    Analysis {
        duration: Frames(441_000),
        loudness: Db(-14.5),
        true_peak: Db(-0.8),
        loudness_range: 6.25,
        cue_in: Frames(4410),
        cue_out: Frames(436_590),
        features: Some(Features {
            bpm: 123.25,
            beat_strength: 0.5,
            centroid_hz: 1500.0,
            rolloff_hz: 4000.0,
            flatness: 0.125,
            crest_db: 12.5,
            onset_rate: 3.75,
            key: 3,
            mode: Mode::Minor,
            key_strength: 0.75,
        }),
        ends: Some(Ends {
            intro_end: Frames(8820),
            outro_start: Frames(400_000),
            cold_start: true,
            cold_end: false,
        }),
        beats: Some(BeatGrid {
            first_beat: 4410.25,
            last_beat: 4410.25 + 17.0 * 22_050.5,
            period: 22_050.5,
            confidence: 0.875,
        }),
    }
}

fn analysed(path: &str, id: &str, title: &str) -> FileChange {
    FileChange::Analysed {
        file: stat(path),
        id: TrackId(id.into()),
        tags: tags(title),
        analysis: analysis(),
    }
}

#[test]
fn analysed_tracks_round_trip_in_id_order() {
    let mut store = Store::open_in_memory().unwrap();
    store
        .apply(&[
            analysed("/m/b.flac", "bbb", "B"),
            analysed("/m/a.flac", "aaa", "A"),
        ])
        .unwrap();
    let tracks = store.tracks().unwrap();
    assert_eq!(tracks.len(), 2);
    assert_eq!(tracks[0].id, TrackId("aaa".into()));
    assert_eq!(tracks[0].path, PathBuf::from("/m/a.flac"));
    assert_eq!(tracks[0].tags, tags("A"));
    assert_eq!(tracks[0].analysis, analysis());
    assert_eq!(
        store.track(&TrackId("bbb".into())).unwrap(),
        Some(tracks[1].clone())
    );
    assert_eq!(store.track(&TrackId("zzz".into())).unwrap(), None);
    let file = store.file(Path::new("/m/a.flac")).unwrap().unwrap();
    assert_eq!(file.stat, stat("/m/a.flac"));
    assert_eq!(file.track_id, Some(TrackId("aaa".into())));
    assert_eq!(store.analysed_ids().unwrap().len(), 2);
}

#[test]
fn copies_in_one_batch_and_reuse_refresh_tags() {
    let mut store = Store::open_in_memory().unwrap();
    // The copy comes first in the batch: the track must still be written before it.
    let copy = FileChange::Reused {
        file: stat("/m/0-copy.flac"),
        id: TrackId("aaa".into()),
        tags: tags("Copy"),
    };
    store
        .apply(&[copy, analysed("/m/a.flac", "aaa", "A")])
        .unwrap();
    let tracks = store.tracks().unwrap();
    assert_eq!(tracks.len(), 1, "two files, one track");
    assert_eq!(tracks[0].path, PathBuf::from("/m/0-copy.flac"));
    assert_eq!(store.files().unwrap().len(), 2);
}

#[test]
fn failures_are_recorded_and_replaced_by_success() {
    let mut store = Store::open_in_memory().unwrap();
    let failed = FileChange::Failed {
        file: stat("/m/x.mp3"),
        reason: "not audio".into(),
    };
    store.apply(&[failed]).unwrap();
    assert_eq!(
        store.failures().unwrap(),
        vec![(PathBuf::from("/m/x.mp3"), "not audio".to_string())]
    );
    assert!(store.tracks().unwrap().is_empty());
    store.apply(&[analysed("/m/x.mp3", "xxx", "X")]).unwrap();
    assert!(store.failures().unwrap().is_empty());
    assert_eq!(store.tracks().unwrap().len(), 1);
}

#[test]
fn removing_the_last_file_hides_the_track_but_keeps_its_analysis() {
    let mut store = Store::open_in_memory().unwrap();
    store.apply(&[analysed("/m/a.flac", "aaa", "A")]).unwrap();
    store
        .apply(&[FileChange::Removed {
            path: PathBuf::from("/m/a.flac"),
        }])
        .unwrap();
    assert!(store.tracks().unwrap().is_empty());
    assert_eq!(store.track(&TrackId("aaa".into())).unwrap(), None);
    assert!(store
        .analysed_ids()
        .unwrap()
        .contains(&TrackId("aaa".into())));
    assert!(store.file(Path::new("/m/a.flac")).unwrap().is_none());
}

#[test]
fn a_failed_batch_writes_nothing() {
    let mut store = Store::open_in_memory().unwrap();
    // A reuse of content that was never analysed breaks the foreign key: the batch rolls back.
    let dangling = FileChange::Reused {
        file: stat("/m/b.flac"),
        id: TrackId("nope".into()),
        tags: tags("B"),
    };
    assert!(store
        .apply(&[analysed("/m/a.flac", "aaa", "A"), dangling])
        .is_err());
    assert!(store.files().unwrap().is_empty());
    assert!(store.analysed_ids().unwrap().is_empty());
}

#[test]
fn tracks_without_current_features_are_not_analysed_but_still_play() {
    let mut store = Store::open_in_memory().unwrap();
    let mut bare = analysed("/m/b.flac", "bbb", "B");
    if let FileChange::Analysed { analysis, .. } = &mut bare {
        analysis.features = None;
    }
    store
        .apply(&[analysed("/m/a.flac", "aaa", "A"), bare])
        .unwrap();
    let ids = store.analysed_ids().unwrap();
    assert_eq!(ids, HashSet::from([TrackId("aaa".into())]));
    let b = store.track(&TrackId("bbb".into())).unwrap().unwrap();
    assert_eq!(b.analysis.features, None);

    // Features from an older extractor are kept (the walk can use them) until re-analysed.
    store
        .conn
        .execute(
            "UPDATE tracks SET features_version = ?1",
            [FEATURES_VERSION - 1],
        )
        .unwrap();
    assert!(store.analysed_ids().unwrap().is_empty());
    let a = store.track(&TrackId("aaa".into())).unwrap().unwrap();
    assert_eq!(a.analysis, analysis());

    // Analysing again brings both up to date.
    store
        .apply(&[
            analysed("/m/a.flac", "aaa", "A"),
            analysed("/m/b.flac", "bbb", "B"),
        ])
        .unwrap();
    assert_eq!(store.analysed_ids().unwrap().len(), 2);
    assert_eq!(
        store
            .track(&TrackId("bbb".into()))
            .unwrap()
            .unwrap()
            .analysis,
        analysis()
    );
}

#[test]
fn unreadable_stored_features_read_as_none() {
    let mut store = Store::open_in_memory().unwrap();
    store.apply(&[analysed("/m/a.flac", "aaa", "A")]).unwrap();
    store
        .conn
        .execute("UPDATE tracks SET features = '{\"tempo\": 1}'", [])
        .unwrap();
    let a = store.track(&TrackId("aaa".into())).unwrap().unwrap();
    assert_eq!(a.analysis.features, None);
}

#[test]
fn disc_and_track_number_round_trip_and_reuse_updates_them() {
    let mut store = Store::open_in_memory().unwrap();
    let numbered = Tags {
        album: "An Album".into(),
        disc: Some(2),
        number: Some(7),
        ..tags("N")
    };
    store
        .apply(&[FileChange::Analysed {
            file: stat("/m/n.flac"),
            id: TrackId("nnn".into()),
            tags: numbered.clone(),
            analysis: analysis(),
        }])
        .unwrap();
    assert_eq!(store.tracks().unwrap()[0].tags, numbered);
    let renumbered = Tags {
        number: Some(8),
        disc: None,
        ..numbered
    };
    store
        .apply(&[FileChange::Reused {
            file: stat("/m/n2.flac"),
            id: TrackId("nnn".into()),
            tags: renumbered.clone(),
        }])
        .unwrap();
    assert_eq!(store.tracks().unwrap()[0].tags, renumbered);
}

#[test]
fn rows_from_before_ends_and_unreadable_ones_read_as_none() {
    let mut store = Store::open_in_memory().unwrap();
    store.apply(&[analysed("/m/a.flac", "aaa", "A")]).unwrap();
    // A row as migration 8 leaves one analysed before it: NULL ends and beats.
    store
        .conn
        .execute("UPDATE tracks SET ends = NULL, beats = NULL", [])
        .unwrap();
    let a = store.track(&TrackId("aaa".into())).unwrap().unwrap();
    assert_eq!((a.analysis.ends, a.analysis.beats), (None, None));
    assert_eq!(a.analysis.features, analysis().features);
    store
        .conn
        .execute("UPDATE tracks SET ends = '{\"fade\": 1}', beats = '[1'", [])
        .unwrap();
    let a = store.track(&TrackId("aaa".into())).unwrap().unwrap();
    assert_eq!((a.analysis.ends, a.analysis.beats), (None, None));
}
