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
        album_artist: String::new(),
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

/// The file at `path` is track `id`, already analysed, with `tags`.
fn reused(path: &str, id: &str, tags: &Tags) -> FileChange {
    FileChange::Reused {
        file: stat(path),
        id: TrackId(id.into()),
        tags: tags.clone(),
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
        .apply(&[reused("/m/n2.flac", "nnn", &renumbered)])
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

#[test]
fn the_album_artist_round_trips_and_tags_read_now_are_not_read_again() {
    let mut store = Store::open_in_memory().unwrap();
    let mixed = Tags {
        album: "The Mix".into(),
        album_artist: "DJ Night".into(),
        number: Some(2),
        ..tags("M")
    };
    store
        .apply(&[
            FileChange::Analysed {
                file: stat("/m/m.flac"),
                id: TrackId("mmm".into()),
                tags: mixed.clone(),
                analysis: analysis(),
            },
            FileChange::Pending {
                file: stat("/m/p.flac"),
            },
            FileChange::Described {
                path: PathBuf::from("/m/p.flac"),
                tags: mixed.clone(),
                duration: None,
            },
        ])
        .unwrap();
    assert_eq!(store.tracks().unwrap()[0].tags, mixed);
    assert!(store.tracks_with_old_tags().unwrap().is_empty());
    let described: Option<String> = store
        .conn
        .query_row(
            "SELECT album_artist FROM files WHERE path = '/m/p.flac'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(described.as_deref(), Some("DJ Night"));

    // As migration 9 leaves a track known before it: no album artist, tags of version 0.
    store
        .conn
        .execute("UPDATE tracks SET album_artist = '', tags_version = 0", [])
        .unwrap();
    let old: HashSet<TrackId> = [TrackId("mmm".into())].into();
    assert_eq!(store.tracks_with_old_tags().unwrap(), old);
    assert_eq!(store.tracks().unwrap()[0].tags.album_artist, "");
    // Its tags read again (a `Reused` of the same file) bring the album artist back.
    store.apply(&[reused("/m/m.flac", "mmm", &mixed)]).unwrap();
    assert_eq!(store.tracks().unwrap()[0].tags, mixed);
    assert!(store.tracks_with_old_tags().unwrap().is_empty());
}

#[test]
fn tracks_stored_before_the_album_artist_open_without_one_and_with_old_tags() {
    use crate::store::{DB_FILE, MIGRATIONS};
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    for sql in &MIGRATIONS[..8] {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "user_version", 8).unwrap();
    conn.execute(
        "INSERT INTO tracks (id, title, artist, album, duration_frames, loudness, true_peak,
             loudness_range, cue_in, cue_out, analysed_at, features_version, disc, track_number)
         VALUES ('aaa', 'A', 'Artist', 'Mix', 441000, -14.5, -1.0, 6.0, 0, 441000, 1, ?1, 1, 3)",
        [FEATURES_VERSION],
    )
    .unwrap();
    conn.execute_batch(
        "INSERT INTO files (path, size, mtime_ns, track_id) VALUES ('/m/a.flac', 1, 2, 'aaa')",
    )
    .unwrap();
    drop(conn);
    let store = Store::open(dir.path()).unwrap();
    let tracks = store.tracks().unwrap();
    assert_eq!(tracks[0].tags.album_artist, "");
    assert_eq!(tracks[0].tags.number, Some(3));
    let old: HashSet<TrackId> = [TrackId("aaa".into())].into();
    assert_eq!(store.tracks_with_old_tags().unwrap(), old);
    assert_eq!(store.analysed_ids().unwrap(), old, "its analysis is kept");
}
