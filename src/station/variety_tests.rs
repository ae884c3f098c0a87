//! Tests of the variety rules, on generated catalogs of artists and albums (no audio).
use super::*;
use crate::catalog::space::{dist2, FeatureSpace};
use crate::catalog::synthetic::synthetic_track;
use crate::station::walk::WalkState;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// `artists` artists with `albums` albums of `per_album` tracks each (3 minutes a track);
/// the tracks of an album sound alike, as real albums tend to.
fn albums_catalog(artists: usize, albums: usize, per_album: usize, seed: u64) -> Catalog {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut tracks = Vec::new();
    for a in 0..artists {
        for b in 0..albums {
            let (bpm, centroid) = (rng.gen_range(70.0..170.0), rng.gen_range(600.0..5000.0));
            for n in 0..per_album {
                let i = tracks.len();
                let mut t = synthetic_track(
                    i,
                    bpm * rng.gen_range(0.9..1.1),
                    centroid * rng.gen_range(0.85..1.15),
                    &mut rng,
                );
                t.tags.artist = format!("Artist {a}");
                t.tags.album = format!("Album {b}");
                t.tags.number = Some(n as u32 + 1);
                tracks.push(t);
            }
        }
    }
    Catalog::new(tracks)
}

/// Walks from the first track until `secs` of audio have been picked; returns the picks.
fn drift(cat: &Catalog, w: &mut WalkState, prefs: &Preferences, secs: f64) -> Vec<TrackId> {
    let mut last = w.next_with(cat, None, prefs).unwrap();
    let mut picks = vec![last.clone()];
    let mut audio = cat.get(&last).unwrap().analysis.playable().secs();
    while audio < secs {
        last = w.next_with(cat, Some(&last), prefs).unwrap();
        audio += cat.get(&last).unwrap().analysis.playable().secs();
        picks.push(last.clone());
    }
    picks
}

/// Every step obeys the rules: no repeat within `horizon` s of audio, no artist within
/// [`ARTIST_GAP`] tracks, no album within [`ALBUM_GAP`].
fn assert_rules(cat: &Catalog, picks: &[TrackId], horizon: f64) {
    let secs = |id: &TrackId| cat.get(id).unwrap().analysis.playable().secs();
    for (i, id) in picks.iter().enumerate() {
        let t = cat.get(id).unwrap();
        let mut gap = 0.0;
        for (back, prev) in picks[..i].iter().rev().enumerate() {
            gap += secs(prev);
            let p = cat.get(prev).unwrap();
            assert!(
                prev != id || gap >= horizon,
                "step {i}: {id} again after {gap:.0} s of audio"
            );
            if back < ARTIST_GAP {
                assert_ne!(p.tags.artist, t.tags.artist, "step {i}: artist within 3");
            }
            if back < ALBUM_GAP {
                assert_ne!(p.album_key(), t.album_key(), "step {i}: album within 10");
            }
        }
    }
}

#[test]
fn a_three_hour_drift_through_five_artists_obeys_every_rule() {
    let cat = albums_catalog(5, 4, 8, 1);
    for seed in 0..4 {
        let mut w = WalkState::new(seed);
        let picks = drift(&cat, &mut w, &Preferences::default(), 3.0 * 3600.0);
        assert!(picks.len() >= 60, "{} picks", picks.len());
        assert_rules(&cat, &picks, DEFAULT_HORIZON_SECS);
        assert_eq!(w.told, 0, "nothing had to be relaxed");
    }
}

#[test]
fn with_a_short_horizon_tracks_come_back_only_after_it() {
    let cat = albums_catalog(5, 3, 3, 2); // 45 tracks, 2¼ hours of music
    let prefs = Preferences {
        horizon_secs: 3600.0,
        ..Preferences::default()
    };
    let mut w = WalkState::new(3);
    let picks = drift(&cat, &mut w, &prefs, 10.0 * 3600.0);
    assert_rules(&cat, &picks, 3600.0);
    let distinct: HashSet<&TrackId> = picks.iter().collect();
    assert!(
        distinct.len() < picks.len(),
        "tracks came back after an hour"
    );
}

#[test]
fn a_small_library_relaxes_album_then_artist_then_horizon_and_still_plays() {
    // Two artists, one album each, three tracks: 18 minutes of music.
    let cat = albums_catalog(2, 1, 3, 4);
    let mut w = WalkState::new(5);
    let picks = drift(&cat, &mut w, &Preferences::default(), 3.0 * 3600.0);
    assert!(picks.len() >= 60);
    for (i, id) in picks.iter().enumerate().skip(1) {
        assert_ne!(id, &picks[i - 1], "a track back to back");
    }
    // All six tracks keep coming round: the oldest plays become eligible again.
    let tail: HashSet<&TrackId> = picks[picks.len() - 20..].iter().collect();
    assert_eq!(tail.len(), 6);
    assert_eq!(w.told, RELAXED_ALBUM | RELAXED_ARTIST | RELAXED_HORIZON);

    // Five artists, one album each, two tracks: the album rule alone has to give.
    let cat = albums_catalog(5, 1, 4, 6);
    let mut w = WalkState::new(1);
    let picks = drift(&cat, &mut w, &Preferences::default(), 3600.0);
    assert_eq!(w.told, RELAXED_ALBUM);
    for win in picks.windows(ARTIST_GAP + 1) {
        let t = |id| &cat.get(id).unwrap().tags.artist;
        let last = t(&win[ARTIST_GAP]);
        assert!(win[..ARTIST_GAP].iter().all(|id| t(id) != last));
    }
}

#[test]
fn a_relaxed_rule_is_told_once() {
    let cat = albums_catalog(1, 1, 2, 1);
    let mut told = 0;
    let level = LEVELS[2];
    tell_relaxed(&mut told, level, &cat, 3600.0);
    assert_eq!(told, RELAXED_ALBUM | RELAXED_ARTIST);
    let before = told;
    tell_relaxed(&mut told, level, &cat, 3600.0);
    tell_relaxed(&mut told, LEVELS[0], &cat, 3600.0);
    assert_eq!(told, before);
    tell_relaxed(&mut told, LEVELS[6], &cat, 3600.0);
    assert_eq!(told, RELAXED_ALBUM | RELAXED_ARTIST | RELAXED_HORIZON);
}

#[test]
fn a_steady_drift_steps_about_as_far_as_nearest_neighbours_lie() {
    // 40 artists of 5 albums of 10 tracks: 2000 tracks.
    let cat = albums_catalog(40, 5, 10, 7);
    let space = FeatureSpace::build(&cat);
    let point = |id: &TrackId| *space.point(cat.index_of(id).unwrap()).unwrap();
    let median = |mut v: Vec<f32>| {
        v.sort_by(f32::total_cmp);
        v[v.len() / 2]
    };
    // Typical distance from a track to its nearest other track.
    let nn = median(
        (0..cat.len())
            .map(|i| space.nearest(space.point(i).unwrap(), 2)[1].1.sqrt())
            .collect(),
    );
    let mut w = WalkState::new(2);
    let picks = drift(&cat, &mut w, &Preferences::default(), 24.0 * 3600.0);
    let steps: Vec<f32> = picks
        .windows(2)
        .map(|p| dist2(&point(&p[0]), &point(&p[1])).sqrt())
        .collect();
    let walked = median(steps);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let random = median(
        (0..500)
            .map(|_| {
                let (a, b) = (rng.gen_range(0..cat.len()), rng.gen_range(0..cat.len()));
                dist2(space.point(a).unwrap(), space.point(b).unwrap()).sqrt()
            })
            .collect(),
    );
    println!("median step {walked:.2}, nearest neighbour {nn:.2}, random pair {random:.2}");
    assert!(walked < nn * 2.5, "steps {walked:.2} vs neighbours {nn:.2}");
    assert!(
        walked < random * 0.5,
        "steps {walked:.2} vs random {random:.2}"
    );
}

#[test]
fn banned_tracks_never_play_and_loved_ones_come_more_often() {
    let cat = albums_catalog(10, 4, 10, 8);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let ids: Vec<TrackId> = cat.tracks().iter().map(|t| t.id.clone()).collect();
    let banned: HashSet<TrackId> = ids.iter().filter(|_| rng.gen_bool(0.3)).cloned().collect();
    let loved: HashSet<TrackId> = ids.iter().filter(|_| rng.gen_bool(0.3)).cloned().collect();
    let share = |prefs: &Preferences| {
        let mut n = (0, 0);
        for seed in 0..6 {
            let picks = drift(&cat, &mut WalkState::new(seed), prefs, 8.0 * 3600.0);
            for id in &picks {
                assert!(!prefs.banned.contains(id), "a banned track played");
                n.0 += loved.contains(id) as usize;
                n.1 += 1;
            }
        }
        n.0 as f64 / n.1 as f64
    };
    let plain = share(&Preferences {
        banned: banned.clone(),
        loved: HashSet::new(),
        ..Preferences::default()
    });
    let with_love = share(&Preferences {
        banned: banned.clone(),
        loved: loved.clone(),
        ..Preferences::default()
    });
    let base = loved.difference(&banned).count() as f64 / (ids.len() - banned.len()) as f64;
    println!("loved share {with_love:.2}, unloved walk {plain:.2}, library {base:.2}");
    assert!(with_love > plain * 1.15, "{with_love:.2} vs {plain:.2}");
}

#[test]
fn the_history_survives_a_checkpoint_round_trip_and_an_older_drifts_state_is_read() {
    let cat = albums_catalog(5, 4, 8, 9);
    let prefs = Preferences::default();
    let mut w = WalkState::new(4);
    let first = drift(&cat, &mut w, &prefs, 2.0 * 3600.0);
    let state = crate::station::scheduler::SchedulerState::Drift(w.clone());
    let json = serde_json::to_string(&state).unwrap();
    let crate::station::scheduler::SchedulerState::Drift(mut back) =
        serde_json::from_str(&json).unwrap()
    else {
        panic!("not a drift state");
    };
    assert_eq!(back, w);
    assert_eq!(back.history().len(), first.len());
    // The resumed walk goes on without repeating the first two hours.
    let mut last = first.last().unwrap().clone();
    let mut all = first.clone();
    for _ in 0..30 {
        last = back.next_with(&cat, Some(&last), &prefs).unwrap();
        all.push(last.clone());
    }
    assert_rules(&cat, &all, DEFAULT_HORIZON_SECS);

    // A state written before the history had lengths: its ids still count.
    let old = format!(
        r#"{{"seed":1,"picks":3,"heading":[],"recent":["{}","{}"],"steer":null,"queued":null}}"#,
        cat.tracks()[5].id,
        cat.tracks()[6].id
    );
    let mut w: WalkState = serde_json::from_str(&old).unwrap();
    let next = w
        .next_with(&cat, Some(&cat.tracks()[6].id), &prefs)
        .unwrap();
    assert!(w.recent.is_empty());
    let ids: Vec<&TrackId> = w.history().iter().map(|p| &p.0).collect();
    assert_eq!(ids, [&cat.tracks()[5].id, &cat.tracks()[6].id, &next]);
    assert!(Arc::strong_count(&w.played) == 1);
}

/// A level whose artist or album spacing excludes every artist or album of the library is
/// known to fail without searching; one that leaves any open, or any untagged track, is not.
#[test]
fn a_level_no_track_can_pass_is_known_without_a_search() {
    let one_artist = albums_catalog(1, 2, 4, 7);
    assert_eq!(one_artist.kinds().artists, 1);
    assert_eq!(one_artist.kinds().albums, 2);
    let mut w = WalkState::new(1);
    let prefs = Preferences::default();
    let first = w.next_with(&one_artist, None, &prefs).unwrap();
    let current = one_artist.index_of(&first);
    let rules = Rules::new(&one_artist, w.history(), current, &prefs);
    assert!(!rules.may_pass(LEVELS[0]), "the only artist was just heard");
    assert!(rules.may_pass(LEVELS[5]), "no artist or album spacing");
    // The walk still plays on, the artist rule relaxed.
    assert!(w.next_with(&one_artist, Some(&first), &prefs).is_some());
    let five = albums_catalog(5, 2, 4, 7);
    let first = five.tracks()[0].id.clone();
    let rules = Rules::new(&five, &Default::default(), five.index_of(&first), &prefs);
    assert!(rules.may_pass(LEVELS[0]));
}

/// A compilation (one album artist, an artist per track) is one album to the album rule: after
/// one of its tracks, none of the others may come within [`ALBUM_GAP`], whoever they are by.
#[test]
fn a_compilation_is_one_album_to_the_album_rule() {
    let mut tracks: Vec<crate::model::Track> = albums_catalog(4, 1, 4, 9)
        .tracks()
        .iter()
        .map(|t| (**t).clone())
        .collect();
    // The first track of each artist's album goes on "Hits" by Various Artists.
    for t in tracks.iter_mut().filter(|t| t.tags.number == Some(1)) {
        t.tags.album = "Hits".into();
        t.tags.album_artist = "Various Artists".into();
    }
    let cat = Catalog::new(tracks);
    assert_eq!(
        cat.kinds().albums,
        5,
        "four artists' albums and the compilation"
    );
    let on_hits = |i: usize| cat.tracks()[i].tags.album == "Hits";
    let current = (0..cat.len()).find(|&i| on_hits(i)).unwrap();
    let prefs = Preferences::default();
    let rules = Rules::new(&cat, &Default::default(), Some(current), &prefs);
    let level = LEVELS[0];
    assert!(level.album && level.artist);
    let by = |i: usize| cat.tracks()[i].tags.artist.clone();
    let others: Vec<usize> = (0..cat.len()).filter(|&i| by(i) != by(current)).collect();
    assert!(others.iter().any(|&i| on_hits(i)));
    for i in others {
        assert_eq!(
            rules.allows(level, i),
            !on_hits(i),
            "{}: {} by {}",
            cat.tracks()[i].tags.title,
            cat.tracks()[i].tags.album,
            by(i)
        );
    }
}
