//! Unit tests of the transition rules on hand-made analyses.
use super::*;
use crate::model::{Ends, Tags};
use crate::units::Db;

fn secs(s: f64) -> Frames {
    Frames::from_secs(s)
}

/// A track of `len` seconds, audible from 0.5 s to `len - 0.5` s, with the given ends and beats.
fn track(id: &str, len: f64, ends: Option<Ends>, beats: Option<BeatGrid>) -> Track {
    Track {
        id: TrackId(id.into()),
        path: format!("{id}.wav").into(),
        tags: Tags::default(),
        analysis: Analysis {
            duration: secs(len),
            loudness: Db(-16.0),
            true_peak: Db(-1.0),
            loudness_range: 3.0,
            cue_in: secs(0.5),
            cue_out: secs(len - 0.5),
            features: None,
            ends,
            beats,
        },
    }
}

/// Measured ends: `intro` s of quiet intro after cue-in (0: a cold start), a fall of `fall` s
/// before cue-out (0: a cold ending).
fn ends(len: f64, intro: f64, fall: f64) -> Option<Ends> {
    Some(Ends {
        intro_end: secs(0.5 + intro),
        outro_start: secs(len - 0.5 - fall),
        cold_start: intro == 0.0,
        cold_end: fall == 0.0,
    })
}

/// A click-track grid at `bpm` with its first beat at 1 s.
fn grid(len: f64, bpm: f64, confidence: f64) -> Option<BeatGrid> {
    let period = 60.0 * 44_100.0 / bpm;
    let first = 44_100.0;
    let beats = ((secs(len - 1.0).0 as f64 - first) / period).floor();
    Some(BeatGrid {
        first_beat: first,
        last_beat: first + beats * period,
        period,
        confidence,
    })
}

fn cfg() -> MixConfig {
    MixConfig::default()
}

#[test]
fn unmeasured_tracks_get_the_ordinary_crossfade_ending_at_cue_out() {
    let (a, b) = (track("a", 60.0, None, None), track("b", 60.0, None, None));
    let p = plan(&a, &b, &cfg());
    assert_eq!(p.kind, TransitionKind::Crossfade);
    assert_eq!(p.overlap, secs(5.0));
    assert_eq!(p.start + p.overlap, a.analysis.cue_out);
    assert_eq!((p.fade_out, p.fade_in), (p.overlap, p.overlap));
    assert_eq!(p.entry, b.analysis.cue_in);
}

#[test]
fn a_natural_fade_out_is_overlapped_from_where_it_falls_and_not_faded_again() {
    let a = track("a", 60.0, ends(60.0, 0.0, 6.0), None);
    let b = track("b", 60.0, ends(60.0, 0.0, 0.0), None);
    let p = plan(&a, &b, &cfg());
    assert_eq!(p.start, a.analysis.ends.unwrap().outro_start);
    assert_eq!(
        p.overlap,
        secs(6.0),
        "the whole fall, longer than the crossfade"
    );
    assert_eq!(p.fade_out, TAIL_FADE, "only a tail fade at cue-out");
    assert_eq!(p.fade_in, DECLICK, "a cold start comes in at full level");
    // A fall longer than the cap: the incoming track still comes in where it starts.
    let a = track("a", 60.0, ends(60.0, 0.0, 20.0), None);
    let p = plan(&a, &b, &cfg());
    assert_eq!(p.start, a.analysis.ends.unwrap().outro_start);
    assert_eq!(p.overlap, secs(8.0));
    assert_eq!(p.fade_out, TAIL_FADE);
}

#[test]
fn a_quiet_intro_plays_under_the_outgoing_track_at_full_gain() {
    let a = track("a", 60.0, ends(60.0, 0.0, 1.0), None);
    let b = track("b", 60.0, ends(60.0, 6.0, 0.0), None);
    let p = plan(&a, &b, &cfg());
    assert_eq!(p.kind, TransitionKind::Crossfade);
    // The outgoing track fades over the last crossfade (5 s); of the 6 s intro, the 3 s the
    // 8 s cap leaves play before it, so the incoming body arrives as the fade begins.
    assert_eq!(
        p.overlap,
        secs(8.0),
        "the crossfade and what fits of the intro"
    );
    assert_eq!(
        p.entry,
        b.analysis.cue_in + secs(3.0),
        "3 s of the intro unheard"
    );
    assert_eq!(p.start + p.overlap, a.analysis.cue_out);
    assert_eq!(p.fade_in, DECLICK);
    assert_eq!(
        p.fade_out,
        secs(5.0),
        "the outgoing fades over the last crossfade"
    );
    // A quiet intro under a natural fade-out: neither is faded, and the intro's body arrives
    // where the fall begins.
    let a = track("a", 60.0, ends(60.0, 0.0, 4.0), None);
    let p = plan(&a, &b, &cfg());
    assert_eq!((p.fade_in, p.fade_out), (DECLICK, TAIL_FADE));
    assert_eq!(p.overlap, secs(8.0));
    assert_eq!(p.start + secs(4.0), a.analysis.ends.unwrap().outro_start);
    assert_eq!(p.entry, b.analysis.cue_in + secs(2.0));
}

#[test]
fn a_cold_ending_is_not_faded_over_and_the_next_starts_on_it() {
    let a = track("a", 60.0, ends(60.0, 0.0, 0.0), None);
    for (b, overlap) in [
        (track("b", 60.0, ends(60.0, 0.0, 0.0), None), COLD_OVERLAP),
        (track("b", 60.0, None, None), COLD_OVERLAP),
        // A quiet intro swells under the ending, unfaded, and its body arrives as it stops.
        (track("b", 60.0, ends(60.0, 6.0, 0.0), None), secs(6.0)),
    ] {
        let p = plan(&a, &b, &cfg());
        assert_eq!(p.kind, TransitionKind::Cold);
        assert_eq!(p.overlap, overlap);
        assert_eq!(p.entry, b.analysis.cue_in);
        assert_eq!(p.start + p.overlap, a.analysis.cue_out, "no gap after it");
        assert_eq!(p.fade_out, DECLICK);
    }
}

#[test]
fn a_cold_start_after_a_loud_ending_gets_a_short_overlap() {
    let a = track("a", 60.0, ends(60.0, 0.0, 1.0), None);
    let b = track("b", 60.0, ends(60.0, 0.0, 0.0), None);
    let p = plan(&a, &b, &cfg());
    assert_eq!(p.kind, TransitionKind::Cold);
    assert_eq!(p.overlap, PUNCH_OVERLAP);
    assert_eq!((p.fade_in, p.fade_out), (DECLICK, PUNCH_OVERLAP));
    assert_eq!(p.start + p.overlap, a.analysis.cue_out);
}

#[test]
fn overlaps_are_capped_by_the_config_and_half_of_either_track() {
    let a = track("a", 60.0, ends(60.0, 0.0, 30.0), None);
    let b = track("b", 60.0, ends(60.0, 20.0, 0.0), None);
    let mut c = cfg();
    c.max_overlap = secs(6.0);
    assert_eq!(plan(&a, &b, &c).overlap, secs(6.0));
    let short = track("s", 7.0, ends(7.0, 0.0, 5.0), None);
    let p = plan(&short, &b, &cfg());
    assert_eq!(p.overlap, secs(3.0), "half of 6 s playable");
    assert!(
        p.start >= secs(0.5 + 3.0),
        "not before the outgoing track's middle"
    );
    assert_eq!(plan(&a, &short, &cfg()).overlap, secs(3.0));
}

#[test]
fn consecutive_album_tracks_join_gaplessly_at_the_real_end() {
    let mut a = track("a", 60.0, ends(60.0, 0.0, 6.0), grid(60.0, 120.0, 1.0));
    let mut b = track("b", 60.0, ends(60.0, 3.0, 0.0), grid(60.0, 120.0, 1.0));
    for (t, n) in [(&mut a, 4), (&mut b, 5)] {
        t.tags.artist = "Artist".into();
        t.tags.album = "Live".into();
        t.tags.number = Some(n);
    }
    let p = plan(&a, &b, &cfg());
    assert_eq!(p.kind, TransitionKind::Gapless);
    assert_eq!(p.start, a.analysis.duration, "the real end, not cue-out");
    let zero = Frames::ZERO;
    assert_eq!(
        (p.overlap, p.entry, p.fade_in, p.fade_out),
        (zero, zero, zero, zero)
    );
    // Out of order, or another disc: an ordinary transition.
    b.tags.number = Some(6);
    assert_ne!(plan(&a, &b, &cfg()).kind, TransitionKind::Gapless);
    b.tags.number = Some(5);
    b.tags.disc = Some(2);
    assert_ne!(plan(&a, &b, &cfg()).kind, TransitionKind::Gapless);
}

#[test]
fn a_compilations_consecutive_tracks_join_gaplessly_whoever_they_are_by() {
    let mut a = track("a", 60.0, ends(60.0, 0.0, 6.0), grid(60.0, 120.0, 1.0));
    let mut b = track("b", 60.0, ends(60.0, 3.0, 0.0), grid(60.0, 120.0, 1.0));
    for (t, n, artist) in [(&mut a, 4, "Producer A"), (&mut b, 5, "Producer B")] {
        t.tags.artist = artist.into();
        t.tags.album = "Live at the Club".into();
        t.tags.album_artist = "DJ Night".into();
        t.tags.number = Some(n);
    }
    let p = plan(&a, &b, &cfg());
    assert_eq!(p.kind, TransitionKind::Gapless);
    assert_eq!((p.start, p.overlap), (a.analysis.duration, Frames::ZERO));
    // Without the album artist the tracks are by two artists: two albums, an ordinary mix.
    b.tags.album_artist.clear();
    assert_ne!(plan(&a, &b, &cfg()).kind, TransitionKind::Gapless);
    // Another compiler's album of the same name does not join either.
    b.tags.album_artist = "Various Artists".into();
    assert_ne!(plan(&a, &b, &cfg()).kind, TransitionKind::Gapless);
}

/// Where the incoming beat `beat_in` (incoming file frame) sounds, in outgoing file frames.
fn sounds_at(p: &TransitionPlan, beat_in: f64) -> f64 {
    p.start.0 as f64 + beat_in - p.entry.0 as f64
}

#[test]
fn close_tempi_are_beat_aligned_over_whole_bars_that_drift_little() {
    let a = track("a", 60.0, None, grid(60.0, 120.0, 0.9));
    let b = track("b", 60.0, None, grid(60.0, 121.0, 0.9));
    let p = plan(&a, &b, &cfg());
    assert_eq!(p.kind, TransitionKind::BeatAligned { beats: 8 });
    let (go, gi) = (a.analysis.beats.unwrap(), b.analysis.beats.unwrap());
    assert!((p.overlap.0 as f64 - 8.0 * go.period).abs() <= 0.5);
    assert!(
        (go.beat_near(p.start.0 as f64) - p.start.0 as f64).abs() <= 0.5,
        "starts on a beat"
    );
    assert!(p.start + p.overlap <= a.analysis.cue_out);
    assert!(p.beat_offset.unwrap().abs() <= 1.0, "{p:?}");
    // Every incoming beat in the overlap is within the drift bound of an outgoing beat, and
    // the incoming track enters on its first beat (within that bound).
    assert!((p.entry.0 as f64 - gi.first_beat).abs() <= MAX_BEAT_DRIFT.0 as f64);
    let k0 = ((p.entry.0 as f64 - gi.first_beat) / gi.period).ceil();
    for k in 0..=8 {
        let at = sounds_at(&p, gi.first_beat + (k0 + k as f64) * gi.period);
        let off = at - go.beat_near(at);
        assert!(
            off.abs() <= MAX_BEAT_DRIFT.0 as f64 + 1.0,
            "beat {k}: {off}"
        );
    }
    // 120 against 122.3 (1.9 %): only 4 beats keep within the bound.
    let b = track("b", 60.0, None, grid(60.0, 122.3, 0.9));
    assert_eq!(
        plan(&a, &b, &cfg()).kind,
        TransitionKind::BeatAligned { beats: 4 }
    );
    // Half tempo counts too.
    let b = track("b", 60.0, None, grid(60.0, 60.2, 0.9));
    assert!(matches!(
        plan(&a, &b, &cfg()).kind,
        TransitionKind::BeatAligned { .. }
    ));
}

#[test]
fn a_long_intro_before_the_first_beat_is_entered_a_whole_number_of_bars_early() {
    let a = track("a", 60.0, None, grid(60.0, 120.0, 1.0));
    let mut g = grid(60.0, 120.0, 1.0).unwrap();
    g.first_beat = secs(20.2).0 as f64;
    let b = track("b", 60.0, None, Some(g));
    let p = plan(&a, &b, &cfg());
    assert!(matches!(p.kind, TransitionKind::BeatAligned { .. }));
    // Bars are 2 s: the entry is 9 bars before the first beat, 1.7 s after the cue-in.
    assert_eq!(p.entry, secs(2.2));
    assert!(p.beat_offset.unwrap().abs() <= 1.0);
}

#[test]
fn distant_tempi_or_unsure_grids_are_not_aligned() {
    let a = track("a", 60.0, None, grid(60.0, 90.0, 1.0));
    let b = track("b", 60.0, None, grid(60.0, 140.0, 1.0));
    assert_eq!(plan(&a, &b, &cfg()).kind, TransitionKind::Crossfade);
    let b = track("b", 60.0, None, grid(60.0, 90.5, 0.3));
    assert_eq!(plan(&a, &b, &cfg()).kind, TransitionKind::Crossfade);
    let b = track("b", 60.0, None, None);
    assert_eq!(plan(&a, &b, &cfg()).kind, TransitionKind::Crossfade);
    // A cold ending is never beat-mixed over.
    let a = track("a", 60.0, ends(60.0, 0.0, 0.0), grid(60.0, 120.0, 1.0));
    let b = track("b", 60.0, None, grid(60.0, 120.0, 1.0));
    assert_eq!(plan(&a, &b, &cfg()).kind, TransitionKind::Cold);
}

#[test]
fn a_beat_aligned_overlap_keeps_the_loudness_fades() {
    // A natural fade-out is not faded again, even beat-aligned.
    let a = track("a", 60.0, ends(60.0, 0.0, 6.0), grid(60.0, 120.0, 1.0));
    let b = track("b", 60.0, None, grid(60.0, 120.0, 1.0));
    let p = plan(&a, &b, &cfg());
    assert_eq!(p.kind, TransitionKind::BeatAligned { beats: 16 });
    assert_eq!(p.fade_out, TAIL_FADE);
    assert_eq!(p.fade_in, DECLICK, "at full level under the natural fade");
}
