//! Engine tests of beat-aligned transitions on generated click tracks, each measured by the
//! real analysis (its grid checked against the clicks made): close tempi click together in
//! the decoded output, distant tempi are not aligned, and a checkpoint inside an aligned
//! overlap resumes sample for sample.
use super::transition_tests::{first, pcm_blocks, playing_in_order, run, wav_track, Run, SR};
use super::*;
use crate::model::BeatGrid;
use crate::station::transition::{TransitionKind, TransitionRecord};
use std::f64::consts::TAU;
use std::path::Path;

/// A click track: 30 ms bursts of `hz`, one per beat from `first` s.
fn clicks(bpm: f64, hz: f64, first: f64, secs: f64) -> (Vec<f64>, BeatGrid) {
    let period = 60.0 * SR / bpm;
    let n = (secs * SR) as usize;
    let mut v = vec![0.0; n];
    let first = first * SR;
    let mut beat = first;
    let mut last = first;
    while beat + 0.03 * SR < n as f64 {
        let b0 = beat.round() as usize;
        for i in 0..(0.03 * SR) as usize {
            let t = i as f64 / SR;
            v[b0 + i] = (TAU * hz * t).sin() * (-t / 0.008).exp() * 0.5;
        }
        last = beat;
        beat += period;
    }
    let grid = BeatGrid {
        first_beat: first,
        last_beat: last,
        period,
        confidence: 1.0,
    };
    (v, grid)
}

/// The click track as a file and a track whose ends and beat grid are what analysis measures
/// of it (checked against the clicks made: period within 0.05 %, anchors within 2 ms).
fn click_track(dir: &Path, name: &str, bpm: f64, hz: f64, first: f64, secs: f64) -> Track {
    let (mut v, truth) = clicks(bpm, hz, first, secs);
    // A dance track's outro: the last 4 s fade out (a click track that stops dead is a cold
    // ending, which is never beat-mixed over).
    let n = v.len();
    let fade = (4.0 * SR) as usize;
    for (i, s) in v[n - fade..].iter_mut().enumerate() {
        *s *= 1.0 - i as f64 / fade as f64;
    }
    let mut t = wav_track(dir, name, &v);
    let stereo: Vec<f32> = v.iter().flat_map(|&s| [s as f32, s as f32]).collect();
    let measured = crate::analysis::analyse(&stereo);
    let grid = measured.beats.expect("a click track has a beat grid");
    assert!(
        (grid.period / truth.period - 1.0).abs() < 5e-4,
        "{grid:?} vs {truth:?}"
    );
    for (m, t) in [
        (grid.first_beat, truth.first_beat),
        (grid.last_beat, truth.last_beat),
    ] {
        let off = ((m - t) / truth.period)
            .rem_euclid(1.0)
            .min(1.0 - ((m - t) / truth.period).rem_euclid(1.0));
        assert!(off * truth.period < 0.002 * SR, "{grid:?} vs {truth:?}");
    }
    t.analysis.beats = Some(grid);
    t.analysis.ends = measured.ends;
    t.analysis.cue_in = measured.cue_in;
    t.analysis.cue_out = measured.cue_out;
    t
}

/// Onsets (s) of clicks in the `hz` band of the left channel between `from` and `to` s: the
/// moment a 5 ms demodulated envelope first reaches half of the click's peak.
fn onsets(pcm: &[f32], hz: f64, from: f64, to: f64) -> Vec<f64> {
    let w = (0.005 * SR) as usize;
    let (s, e) = (
        (from * SR) as usize,
        ((to * SR) as usize).min(pcm.len() / 2),
    );
    let mut sums = vec![(0.0f64, 0.0f64); e - s + 1];
    for i in s..e {
        let (x, ph) = (pcm[i * 2] as f64, TAU * hz * i as f64 / SR);
        let (re, im) = sums[i - s];
        sums[i - s + 1] = (re + x * ph.cos(), im + x * ph.sin());
    }
    let env: Vec<f64> = (w..sums.len())
        .map(|i| {
            let (re, im) = (sums[i].0 - sums[i - w].0, sums[i].1 - sums[i - w].1);
            2.0 * (re * re + im * im).sqrt() / w as f64
        })
        .collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < env.len() {
        if env[i] < 0.02 {
            i += 1;
            continue;
        }
        let end = (i + (0.015 * SR) as usize).min(env.len());
        let peak = env[i..end].iter().cloned().fold(0.0, f64::max);
        let back = i.saturating_sub(w);
        let onset = (back..end).find(|&j| env[j] >= peak / 2.0).unwrap();
        found.push((s + onset + w) as f64 / SR);
        i += (0.1 * SR) as usize;
    }
    found
}

#[test]
fn click_tracks_at_close_tempi_click_together_through_the_overlap() {
    let dir = tempfile::tempdir().unwrap();
    // The incoming track's first click is at 0.37 s, so a transition that ignored the beats
    // would put its clicks ~120 ms off the outgoing ones.
    let a = click_track(dir.path(), "c120", 120.0, 800.0, 0.25, 10.0);
    let b = click_track(dir.path(), "c121", 121.0, 5000.0, 0.37, 10.0);
    let out = run(dir.path(), vec![a, b], &["c120", "c121"], 9.6);
    let t = first(&out);
    assert_eq!(t.kind, TransitionKind::BeatAligned { beats: 8 }, "{t:?}");
    assert!(t.beat_offset.unwrap().abs() <= 1.0, "{t:?}");
    let (from, to) = (t.at.secs(), t.at.secs() + t.overlap.secs());
    let outgoing = onsets(&out.decoded, 800.0, from - 0.1, to + 0.1);
    let incoming = onsets(&out.decoded, 5000.0, from - 0.1, to + 0.1);
    let mut offsets: Vec<f64> = incoming
        .iter()
        .filter_map(|i| {
            let near = outgoing
                .iter()
                .map(|o| (o - i).abs())
                .fold(f64::MAX, f64::min);
            (near < 0.25).then_some(near)
        })
        .collect();
    assert!(offsets.len() >= 5, "{incoming:?} / {outgoing:?}");
    offsets.sort_by(f64::total_cmp);
    let median = offsets[offsets.len() / 2];
    assert!(median <= 0.015, "median offset {median:.4} s: {offsets:?}");
    // What the transition report measures on the decks agrees with the decoded clicks.
    let (heard, tapped) = (signed_offset(&out, t), tapped_offset(&out, t));
    assert!((heard - tapped).abs() < 0.003, "{heard} vs {tapped}");
}

/// How far the incoming clicks fall after the outgoing ones (s, signed) in the middle of the
/// overlap of `t`, on the decoded output: each incoming click against the nearest outgoing
/// one, and a straight line through those offsets (the tempi differ, so they drift) read at
/// the middle.
fn signed_offset(out: &Run, t: &TransitionRecord) -> f64 {
    let (from, to) = (t.at.secs(), t.at.secs() + t.overlap.secs());
    let outgoing = onsets(&out.decoded, 800.0, from - 0.1, to + 0.1);
    let pairs: Vec<(f64, f64)> = onsets(&out.decoded, 5000.0, from - 0.1, to + 0.1)
        .iter()
        .filter_map(|i| {
            let o = outgoing
                .iter()
                .min_by(|a, b| (*a - i).abs().total_cmp(&(*b - i).abs()))?;
            ((i - o).abs() < 0.25).then_some((*i, i - o))
        })
        .collect();
    assert!(pairs.len() >= 5, "{pairs:?}");
    let n = pairs.len() as f64;
    let (mt, mo) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (t, o)| (a + t / n, b + o / n));
    let (sto, stt) = pairs.iter().fold((0.0, 0.0), |(a, b), (t, o)| {
        (a + (t - mt) * (o - mo), b + (t - mt) * (t - mt))
    });
    mo + sto / stt * ((from + to) / 2.0 - mt)
}

/// The beat period of the click track named `id` (its name says its tempo).
fn a_period(id: &TrackId) -> f64 {
    60.0 * SR / id.0[1..].parse::<f64>().unwrap()
}

/// The beat offset (s) the transition report measures on the decks' envelopes.
fn tapped_offset(out: &Run, t: &TransitionRecord) -> f64 {
    use crate::station::tap::{beat_offset, HOP};
    let at = StreamPos(t.at.0 - OUTPUT_LATENCY);
    let (a, b) = (
        out.tap.find(&t.from, at).unwrap(),
        out.tap.find(&t.to, at).unwrap(),
    );
    let (from, to) = (at.0 .0 / HOP, (at.0 .0 + t.overlap.0) / HOP);
    let periods = (a_period(&t.from), a_period(&t.to));
    beat_offset(&a.span(from, to), &b.span(from, to), from, periods).unwrap()
}

#[test]
fn the_measured_beat_offset_of_an_unaligned_crossfade_is_the_clicks_own() {
    let dir = tempfile::tempdir().unwrap();
    let a = click_track(dir.path(), "c120", 120.0, 800.0, 0.25, 10.0);
    let mut b = click_track(dir.path(), "c121", 121.0, 5000.0, 0.37, 10.0);
    // No confidence in the incoming grid: a crossfade by loudness, beats wherever they fall.
    b.analysis.beats.as_mut().unwrap().confidence = 0.1;
    let out = run(dir.path(), vec![a, b], &["c120", "c121"], 9.6);
    let t = first(&out);
    assert_eq!(t.kind, TransitionKind::Crossfade, "{t:?}");
    let (heard, tapped) = (signed_offset(&out, t), tapped_offset(&out, t));
    assert!(heard.abs() > 0.03, "the clicks happen to coincide: {heard}");
    assert!((heard - tapped).abs() < 0.003, "{heard} vs {tapped}");
}

#[test]
fn click_tracks_at_distant_tempi_are_not_beat_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let a = click_track(dir.path(), "c90", 90.0, 800.0, 0.25, 6.0);
    let b = click_track(dir.path(), "c140", 140.0, 5000.0, 0.25, 6.0);
    let out = run(dir.path(), vec![a, b], &["c90", "c140"], 4.0);
    let t = first(&out);
    assert_eq!(t.kind, TransitionKind::Crossfade, "{t:?}");
    assert_eq!(t.beat_offset, None);
}

#[test]
fn a_checkpoint_inside_a_beat_aligned_overlap_resumes_sample_for_sample() {
    let dir = tempfile::tempdir().unwrap();
    let a = click_track(dir.path(), "c120", 120.0, 800.0, 0.25, 10.0);
    let b = click_track(dir.path(), "c121", 121.0, 5000.0, 0.37, 10.0);
    let catalog = Arc::new(Catalog::new(vec![a, b]));
    let cfg = MixConfig {
        lame_quality: 7,
        ..MixConfig::default()
    };
    let scheduler = playing_in_order(&catalog, &["c120", "c121"]);
    let mut engine = Engine::new(cfg.clone(), catalog.clone(), scheduler).unwrap();
    pcm_blocks(&mut engine, StreamPos::from_secs(7.0));
    let t = first_of(engine.take_transitions());
    assert!(
        matches!(t.kind, TransitionKind::BeatAligned { .. }),
        "{t:?}"
    );
    let cp = engine.checkpoint();
    let incoming = cp.decks.iter().find(|d| d.track.0 == "c121").unwrap();
    assert!(
        incoming.entry.unwrap() > Frames::ZERO,
        "enters on its beat: {cp:?}"
    );
    let cp: Checkpoint = serde_json::from_str(&serde_json::to_string(&cp).unwrap()).unwrap();
    let until = StreamPos::from_secs(9.6);
    let original = pcm_blocks(&mut engine, until);
    let mut resumed = Engine::from_checkpoint(cfg, catalog, &cp).unwrap();
    let again = pcm_blocks(&mut resumed, until);
    let after = |b: &Vec<(StreamPos, Vec<f32>)>| -> Vec<(StreamPos, Vec<f32>)> {
        b.iter()
            .filter(|(p, _)| *p >= cp.mix_pos)
            .cloned()
            .collect()
    };
    let (x, y) = (after(&original), after(&again));
    assert!(
        x.len() > 50 && x.len() == y.len(),
        "{} vs {}",
        x.len(),
        y.len()
    );
    assert!(x == y, "the resumed engine mixes different PCM");
}

fn first_of(mut records: Vec<TransitionRecord>) -> TransitionRecord {
    assert!(!records.is_empty());
    records.remove(0)
}
