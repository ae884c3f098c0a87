//! Engine tests of the transitions `station::transition` chooses, on generated tracks whose
//! analysis is set by hand to what the test made: a long fade-out, a cold ending and an album
//! cut from one tone (click tracks are in `engine_beat_tests.rs`), then old checkpoints and the
//! transition records. They render through the real engine and measure the decoded MP3 (or,
//! for sample-exact joins, the engine's PCM).
use super::tests::tone_track;
use super::*;
use crate::audio::decode::decode_all;
use crate::model::Ends;
use crate::station::transition::{TransitionKind, TransitionRecord};
use crate::units::SAMPLE_RATE;
use std::f64::consts::TAU;
use std::path::Path;

pub(super) const SR: f64 = SAMPLE_RATE as f64;

/// Writes `samples` (mono, −1…1) as a stereo 16-bit WAV and returns it as a track that starts
/// and ends at full level (ends and beats unmeasured, loudness −16 LUFS so its gain is 0 dB;
/// tests set what they made).
pub(super) fn wav_track(dir: &Path, name: &str, samples: &[f64]) -> Track {
    // `tone_track` writes the file and the track; its tone is replaced by `samples`.
    let mut t = tone_track(dir, name, 0.0, 0.0, 0.01, None);
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&t.path, spec).unwrap();
    for v in samples {
        let s = (v * 32767.0).round() as i16;
        w.write_sample(s).unwrap();
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    let len = Frames(samples.len() as u64);
    t.analysis.duration = len;
    t.analysis.cue_out = len;
    t.analysis.loudness = Db(-16.0);
    t
}

fn sine(hz: f64, amp: f64, n: usize, from: usize) -> impl Iterator<Item = f64> {
    (from..from + n).map(move |i| (i as f64 / SR * hz * TAU).sin() * amp)
}

fn measured(t: &mut Track, intro_end: f64, outro_start: f64, cold_start: bool, cold_end: bool) {
    t.analysis.ends = Some(Ends {
        intro_end: Frames::from_secs(intro_end),
        outro_start: Frames::from_secs(outro_start),
        cold_start,
        cold_end,
    });
}

/// A shuffle seed that plays `ids` first, in that order.
pub(super) fn playing_in_order(catalog: &Catalog, ids: &[&str]) -> Scheduler {
    (0..1000)
        .map(Scheduler::shuffle)
        .find(|s| {
            let picks = s.peek(catalog, None, ids.len());
            picks.iter().map(|t| t.0.as_str()).eq(ids.iter().copied())
        })
        .expect("some seed plays them in order")
}

pub(super) struct Run {
    /// Decoded MP3 output, interleaved stereo.
    pub decoded: Vec<f32>,
    /// The engine's limited PCM from mix position 0, interleaved stereo.
    pub pcm: Vec<f32>,
    pub transitions: Vec<TransitionRecord>,
    /// What each deck put into the mix.
    pub tap: crate::station::tap::DeckTap,
}

pub(super) fn run(dir: &Path, tracks: Vec<Track>, order: &[&str], secs: f64) -> Run {
    let catalog = Arc::new(Catalog::new(tracks));
    let scheduler = playing_in_order(&catalog, order);
    let cfg = MixConfig {
        lame_quality: 7,
        ..MixConfig::default()
    };
    let mut engine = Engine::new(cfg, catalog, scheduler).unwrap();
    engine.tap_decks();
    let (mut mp3, mut pcm) = (Vec::new(), Vec::new());
    while engine.position() < StreamPos::from_secs(secs) {
        if let (Some(chunk), _) = engine.render_block().unwrap() {
            mp3.extend(chunk.bytes());
        }
        pcm.extend_from_slice(engine.last_pcm().1);
    }
    let path = dir.join("out.mp3");
    std::fs::write(&path, &mp3).unwrap();
    Run {
        decoded: decode_all(&path).unwrap(),
        pcm,
        transitions: engine.take_transitions(),
        tap: engine.take_deck_tap().unwrap(),
    }
}

/// Amplitude of the `hz` component of the left channel over `len` s from `from` s.
pub(super) fn level(pcm: &[f32], hz: f64, from: f64, len: f64) -> f64 {
    let (s, n) = ((from * SR) as usize, (len * SR) as usize);
    let (re, im) = (0..n).fold((0.0, 0.0), |(re, im), i| {
        let x = pcm[(s + i) * 2] as f64;
        let ph = TAU * hz * i as f64 / SR;
        (re + x * ph.cos(), im + x * ph.sin())
    });
    2.0 * (re * re + im * im).sqrt() / n as f64
}

/// The longest run (s) of near-silence in the left channel after `skip` s.
fn longest_quiet(pcm: &[f32], skip: f64) -> f64 {
    let (mut run, mut longest) = (0usize, 0usize);
    for frame in pcm.chunks(2).skip((skip * SR) as usize) {
        run = if frame[0].abs() < 0.01 { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest as f64 / SR
}

fn db(x: f64) -> f64 {
    20.0 * x.log10()
}

/// The first transition of a run.
pub(super) fn first(run: &Run) -> &TransitionRecord {
    run.transitions.first().expect("a transition")
}

/// Stream seconds at which a record's incoming track starts in the mix.
pub(super) fn mix_secs(r: &TransitionRecord) -> f64 {
    r.at.secs() - OUTPUT_LATENCY.secs()
}

#[test]
fn a_long_fade_out_is_overlapped_not_faded_again_and_the_next_comes_in_where_it_falls() {
    let dir = tempfile::tempdir().unwrap();
    // "fade": 4 s at full level, then 10 s falling 40 dB (4 dB/s): 7 dB down at 5.75 s
    // (outro start), 30 dB down at 11.5 s (cue-out).
    let fade_db = |t: f64| -4.0 * (t - 4.0).max(0.0);
    let n = (14.0 * SR) as usize;
    let samples: Vec<f64> = sine(220.0, 0.4, n, 0)
        .enumerate()
        .map(|(i, v)| v * 10f64.powf(fade_db(i as f64 / SR) / 20.0))
        .collect();
    let mut a = wav_track(dir.path(), "fade", &samples);
    a.analysis.cue_out = Frames::from_secs(11.5);
    measured(&mut a, 0.0, 5.75, true, false);
    let mut b = wav_track(
        dir.path(),
        "full",
        &sine(330.0, 0.4, (12.0 * SR) as usize, 0).collect::<Vec<_>>(),
    );
    measured(&mut b, 0.0, 12.0, true, true);
    let out = run(dir.path(), vec![a, b], &["fade", "full"], 12.5);

    let t = first(&out);
    assert_eq!(t.kind, TransitionKind::Crossfade);
    assert!(
        (mix_secs(t) - 5.75).abs() < 0.01,
        "starts at the outro: {t:?}"
    );
    assert!(
        (t.overlap.secs() - 5.75).abs() < 0.01,
        "covers the fall: {t:?}"
    );
    let lat = OUTPUT_LATENCY.secs();
    let pcm = &out.decoded;
    let full_a = level(pcm, 220.0, 1.0, 1.0);
    let full_b = level(pcm, 330.0, 9.0, 1.0);
    // The incoming track is silent until the outro start, then at full level at once.
    assert!(level(pcm, 330.0, 5.75 + lat - 0.3, 0.2) < 0.01 * full_b);
    let first = level(pcm, 330.0, 5.75 + lat + 0.05, 0.2);
    assert!(db(first / full_b).abs() < 1.0, "{first} vs {full_b}");
    // Through the overlap (up to the 1 s tail fade) the fading track keeps its own level:
    // nothing fades it again on top.
    let mut t0 = 5.9;
    while t0 < 10.3 {
        let own = full_a * 10f64.powf(fade_db(t0 + 0.05) / 20.0);
        let got = level(pcm, 220.0, t0 + lat, 0.1);
        assert!(
            db(got / own).abs() < 1.0,
            "at {t0:.1} s: {got} vs its own {own}"
        );
        t0 += 0.1;
    }
    assert!(longest_quiet(pcm, 0.2) < 0.05, "a gap in the mix");
}

#[test]
fn a_cold_ending_is_not_faded_and_the_next_track_starts_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = wav_track(
        dir.path(),
        "cold",
        &sine(220.0, 0.35, (5.0 * SR) as usize, 0).collect::<Vec<_>>(),
    );
    measured(&mut a, 0.0, 5.0, true, true);
    let mut b = wav_track(
        dir.path(),
        "next",
        &sine(330.0, 0.35, (6.0 * SR) as usize, 0).collect::<Vec<_>>(),
    );
    measured(&mut b, 0.0, 6.0, true, true);
    let out = run(dir.path(), vec![a, b], &["cold", "next"], 7.0);
    let t = first(&out);
    assert_eq!(t.kind, TransitionKind::Cold);
    assert!(t.overlap.secs() <= 0.5, "{t:?}");
    assert!(
        (mix_secs(t) + t.overlap.secs() - 5.0).abs() < 0.01,
        "on the ending: {t:?}"
    );
    let (pcm, lat) = (&out.decoded, OUTPUT_LATENCY.secs());
    let full_a = level(pcm, 220.0, 1.0, 1.0);
    // The ending plays at full level, alone, up to its last half second: nothing fades over it
    // and the next track has not started.
    let late = level(pcm, 220.0, 4.4 + lat, 0.3);
    assert!(db(late / full_a).abs() < 0.5, "{late} vs {full_a}");
    let full_b = level(pcm, 330.0, 6.0, 0.5);
    let before_b = level(pcm, 330.0, 4.4 + lat, 0.3);
    assert!(before_b < 0.01 * full_b, "{before_b} vs {full_b}");
    // Right after the ending, the next track is at full level.
    let early_b = level(pcm, 330.0, 5.0 + lat + 0.02, 0.3);
    assert!(db(early_b / full_b).abs() < 0.5, "{early_b} vs {full_b}");
    assert!(longest_quiet(pcm, 0.2) < 0.05, "a gap in the mix");
}

#[test]
fn an_album_cut_from_one_tone_joins_without_a_seam_or_a_step_in_level() {
    let dir = tempfile::tempdir().unwrap();
    // One 220 Hz tone cut in three at points that are not zero crossings.
    let cuts = [0, 110_037, 220_111, 330_000];
    let mut tracks = Vec::new();
    for (k, w) in cuts.windows(2).enumerate() {
        let v: Vec<f64> = sine(220.0, 0.5, w[1] - w[0], w[0]).collect();
        let mut t = wav_track(dir.path(), &format!("part{}", k + 1), &v);
        // A compilation: each part by its own artist, the album by its album artist.
        t.tags.artist = format!("Artist {k}");
        t.tags.album_artist = "Band".into();
        t.tags.album = "One Tone".into();
        t.tags.number = Some(k as u32 + 1);
        // Measured 3 dB apart, as an album's tracks are: each one's own gain would step at
        // the joins; the album plays at the first one's.
        t.analysis.loudness = Db(t.analysis.loudness.0 + 3.0 * k as f64);
        // Cues inside the file: the joins must use the real ends, not the cues.
        t.analysis.cue_in = Frames(2_000);
        t.analysis.cue_out = t.analysis.duration - Frames(3_000);
        tracks.push(t);
    }
    let out = run(dir.path(), tracks, &["part1", "part2", "part3"], 5.3);
    let kinds: Vec<_> = out.transitions.iter().map(|t| t.kind).collect();
    assert_eq!(kinds, [TransitionKind::Gapless; 2], "{:?}", out.transitions);
    assert!(out.transitions.iter().all(|t| t.overlap == Frames::ZERO));
    // The joins sit where the files meet: part 1 plays from its cue-in to its real end.
    let join1 = mix_secs(&out.transitions[0]);
    assert!(
        (join1 - (110_037 - 2_000) as f64 / SR).abs() < 1e-6,
        "{join1}"
    );
    // The largest sample-to-sample step anywhere (both joins included) is the tone's own.
    let step = |from: f64, to: f64| {
        let left: Vec<f32> = out.pcm.chunks(2).map(|f| f[0]).collect();
        left[(from * SR) as usize..(to * SR) as usize]
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0f32, f32::max)
    };
    let own = step(0.5, 1.0);
    let all = step(0.3, 5.2);
    assert!(mix_secs(&out.transitions[1]) < 5.0);
    assert!(
        all <= own * 1.02 + 2e-5,
        "a step of {all} at a join, the tone's own is {own}"
    );
}

/// A checkpoint written before transitions were planned (no entry, fade-in, kind or beat
/// offset) restores as the plain crossfade from cue-in it described.
#[test]
fn a_checkpoint_from_before_planned_transitions_restores() {
    let json = r#"{"pos":46080,"mix_pos":51840,
        "scheduler":{"kind":"shuffle","seed":1,"round":0,"index":2},
        "decks":[{"track":"a","start":0,"fade_in":{"start":0,"len":0,"direction":"In"},
                  "fade_out":{"start":396900,"len":132300,"direction":"Out"}}],
        "transition":{"next":"b","at":396900,"crossfade":132300}}"#;
    let cp: Checkpoint = serde_json::from_str(json).unwrap();
    assert_eq!(cp.decks[0].entry, None);
    let t = cp.transition.unwrap();
    assert_eq!((t.entry, t.fade_in, t.beat_offset), (None, None, None));
    assert_eq!(t.kind, TransitionKind::Crossfade);
}

/// Blocks of the engine's PCM by mix position, until `until`.
pub(super) fn pcm_blocks(engine: &mut Engine, until: StreamPos) -> Vec<(StreamPos, Vec<f32>)> {
    let mut blocks = Vec::new();
    while engine.position() < until {
        engine.render_block().unwrap();
        let (pos, pcm) = engine.last_pcm();
        blocks.push((pos, pcm.to_vec()));
    }
    blocks
}

/// With nobody draining them (a live session), only the latest records are kept.
#[test]
fn undrained_transition_records_stay_bounded() {
    let dir = tempfile::tempdir().unwrap();
    // Three 1 s tracks with 0.2 s crossfades: a transition every 0.8 s.
    let tracks = ["t0", "t1", "t2"]
        .map(|name| tone_track(dir.path(), name, 300.0, 0.3, 1.0, None))
        .to_vec();
    let catalog = Arc::new(Catalog::new(tracks));
    let cfg = MixConfig {
        crossfade: Frames::from_secs(0.2),
        lame_quality: 9,
        ..MixConfig::default()
    };
    let mut engine = Engine::new(cfg, catalog, Scheduler::shuffle(1)).unwrap();
    pcm_blocks(&mut engine, StreamPos::from_secs(30.0));
    let records = engine.take_transitions();
    assert_eq!(records.len(), KEPT_TRANSITIONS);
    // The latest are the ones kept, in order.
    assert!(records.windows(2).all(|w| w[0].at < w[1].at));
    assert!(
        records.last().unwrap().at > StreamPos::from_secs(27.0),
        "{records:?}"
    );
    assert!(engine.take_transitions().is_empty());
}
