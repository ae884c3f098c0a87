//! Engine tests on generated tone files: timeline, loudness, failure handling, checkpoints, and
//! the heard lengths the walk counts for its no-repeat horizon.
use super::*;
use crate::audio::decode::decode_all;
use crate::model::{Analysis, Tags};
use crate::units::SAMPLE_RATE;
use std::path::Path;

/// Writes a stereo 16-bit WAV tone and returns it as a track with a measured analysis.
/// `claimed` overrides the analysed length (a file that shrank after it was scanned).
pub(crate) fn tone_track(
    dir: &Path,
    name: &str,
    hz: f64,
    amp: f64,
    secs: f64,
    claimed: Option<f64>,
) -> Track {
    let path = dir.join(format!("{name}.wav"));
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    let n = (secs * SAMPLE_RATE as f64) as usize;
    let mut meter = ebur128::EbuR128::new(2, SAMPLE_RATE, ebur128::Mode::I).unwrap();
    let mut pcm = Vec::with_capacity(n * 2);
    for i in 0..n {
        let v = (i as f64 / SAMPLE_RATE as f64 * hz * std::f64::consts::TAU).sin() * amp;
        let s = (v * 32767.0).round() as i16;
        w.write_sample(s).unwrap();
        w.write_sample(s).unwrap();
        pcm.extend([s as f32 / 32768.0; 2]);
    }
    w.finalize().unwrap();
    meter.add_frames_f32(&pcm).unwrap();
    let duration = Frames::from_secs(claimed.unwrap_or(secs));
    Track {
        id: TrackId(name.into()),
        path,
        tags: Tags {
            title: name.into(),
            artist: "Test".into(),
            album: String::new(),
            album_artist: String::new(),
            disc: None,
            number: None,
        },
        analysis: Analysis {
            duration,
            loudness: Db(meter.loudness_global().unwrap()),
            true_peak: Db::from_amplitude(amp),
            loudness_range: 0.0,
            cue_in: Frames::ZERO,
            cue_out: duration,
            features: None,
            ends: None,
            beats: None,
        },
    }
}

fn config(crossfade: f64) -> MixConfig {
    MixConfig {
        crossfade: Frames::from_secs(crossfade),
        lame_quality: 7,
        ..MixConfig::default()
    }
}

/// Renders until `secs` of stream; returns the MP3 bytes and events.
fn render(engine: &mut Engine, secs: f64) -> (Vec<u8>, Vec<EngineEvent>) {
    let mut bytes = Vec::new();
    let mut events = Vec::new();
    let end = StreamPos::from_secs(secs);
    while engine.position() < end {
        let (chunk, ev) = engine.render_block().unwrap();
        if let Some(c) = chunk {
            assert_eq!(
                c.pos,
                StreamPos(Frames(bytes_frames(&bytes) * MP3_FRAME_SAMPLES)).max(c.pos)
            );
            bytes.extend(c.bytes());
        }
        events.extend(ev);
    }
    (bytes, events)
}

/// Where each track started in the mix (s): the `TrackStarted` positions less the output
/// latency.
fn mix_starts(events: &[EngineEvent]) -> Vec<f64> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::TrackStarted { pos, .. } => Some(pos.secs() - OUTPUT_LATENCY.secs()),
            _ => None,
        })
        .collect()
}

fn bytes_frames(bytes: &[u8]) -> u64 {
    crate::audio::mp3_frames::split_all(bytes).len() as u64
}

fn decode_bytes(dir: &Path, name: &str, bytes: &[u8]) -> Vec<f32> {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    decode_all(&p).unwrap()
}

fn three_tones(dir: &Path) -> Arc<Catalog> {
    Arc::new(Catalog::new(vec![
        tone_track(dir, "a", 220.0, 0.5, 12.0, None),
        tone_track(dir, "b", 330.0, 0.05, 12.0, None),
        tone_track(dir, "c", 495.0, 0.2, 12.0, None),
    ]))
}

#[test]
fn tracks_follow_each_other_with_crossfades_ending_at_cue_out() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = three_tones(dir.path());
    let mut engine = Engine::new(config(3.0), catalog, Scheduler::shuffle(1)).unwrap();
    let (bytes, events) = render(&mut engine, 30.0);
    let starts = mix_starts(&events);
    // 12 s tracks with 3 s crossfades: each next one starts 9 s after the previous.
    assert_eq!(starts, vec![0.0, 9.0, 18.0, 27.0], "{events:?}");
    let pcm = decode_bytes(dir.path(), "out.mp3", &bytes);
    let secs = pcm.len() as f64 / 2.0 / SAMPLE_RATE as f64;
    assert!((secs - 30.0).abs() < 0.05, "{secs}");
}

#[test]
fn every_track_is_gained_to_the_target_and_peaks_stay_under_the_ceiling() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = three_tones(dir.path());
    let mut engine = Engine::new(config(1.0), catalog, Scheduler::shuffle(3)).unwrap();
    let (bytes, events) = render(&mut engine, 33.0);
    let pcm = decode_bytes(dir.path(), "out.mp3", &bytes);
    let starts: Vec<f64> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::TrackStarted { pos, .. } => Some(pos.secs()),
            _ => None,
        })
        .collect();
    // Measure each track away from the crossfades.
    for w in starts.windows(2) {
        let (a, b) = (w[0] + 1.5, w[1] - 0.5);
        let part = &pcm[(a * 44_100.0) as usize * 2..(b * 44_100.0) as usize * 2];
        let mut m =
            ebur128::EbuR128::new(2, SAMPLE_RATE, ebur128::Mode::I | ebur128::Mode::TRUE_PEAK)
                .unwrap();
        m.add_frames_f32(part).unwrap();
        let lufs = m.loudness_global().unwrap();
        assert!((lufs + 16.0).abs() <= 1.0, "track at {a}: {lufs} LUFS");
    }
    let mut m = ebur128::EbuR128::new(2, SAMPLE_RATE, ebur128::Mode::TRUE_PEAK).unwrap();
    m.add_frames_f32(&pcm).unwrap();
    let tp = (0..2).map(|c| m.true_peak(c).unwrap()).fold(0.0, f64::max);
    assert!(
        20.0 * tp.log10() <= -1.0,
        "true peak {} dBTP",
        20.0 * tp.log10()
    );
}

#[test]
fn a_track_that_ends_early_fades_out_and_the_next_starts() {
    let dir = tempfile::tempdir().unwrap();
    // "short" claims 12 s but has only 5 s of audio.
    let catalog = Arc::new(Catalog::new(vec![
        tone_track(dir.path(), "short", 300.0, 0.3, 5.0, Some(12.0)),
        tone_track(dir.path(), "zlong", 400.0, 0.3, 12.0, None),
    ]));
    let mut engine = Engine::new(config(2.0), catalog, Scheduler::shuffle(0)).unwrap();
    let (bytes, events) = render(&mut engine, 20.0);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, EngineEvent::TrackFailed { track, .. } if track.0 == "short")),
        "{events:?}"
    );
    let pcm = decode_bytes(dir.path(), "out.mp3", &bytes);
    // No stretch of near-silence longer than 0.5 s after the start.
    let mut quiet = 0;
    for frame in pcm.chunks(2).skip(4096) {
        quiet = if frame[0].abs() < 0.01 { quiet + 1 } else { 0 };
        assert!(quiet < 22_050, "silence in the mix");
    }
}

#[test]
fn an_engine_from_a_checkpoint_renders_the_same_audio() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = three_tones(dir.path());
    let cfg = config(3.0);
    let mut engine = Engine::new(cfg.clone(), catalog.clone(), Scheduler::shuffle(9)).unwrap();
    // Mid-crossfade: the second track starts at 9 s.
    let (_, _) = render(&mut engine, 10.0);
    let cp = engine.checkpoint();
    let json = serde_json::to_string(&cp).unwrap();
    let cp: Checkpoint = serde_json::from_str(&json).unwrap();
    assert_eq!(cp.decks.len(), 2, "{cp:?}");
    let (tail, ev_a) = render(&mut engine, 30.0);
    let mut resumed = Engine::from_checkpoint(cfg, catalog, &cp).unwrap();
    assert_eq!(resumed.position(), cp.pos);
    let (again, ev_b) = render(&mut resumed, 30.0);
    assert_eq!(ev_a, ev_b);
    let a = decode_bytes(dir.path(), "a.mp3", &tail);
    let b = decode_bytes(dir.path(), "b.mp3", &again);
    assert!(
        (a.len() as i64 - b.len() as i64).abs() <= 2 * 1152,
        "{} vs {}",
        a.len(),
        b.len()
    );
    // Skip the first frames (their bit reservoir lies before the cut), compare the rest: the
    // encoder gets bit-identical PCM after the pre-roll, so this is far above any audible bound.
    let skip = 2 * 1152 * 2;
    let n = a.len().min(b.len());
    let (diff, sig) = a[skip..n]
        .iter()
        .zip(&b[skip..n])
        .fold((0.0f64, 0.0f64), |(d, s), (x, y)| {
            (d + ((x - y) as f64).powi(2), s + (*x as f64).powi(2))
        });
    let snr = 10.0 * (sig / diff.max(1e-20)).log10();
    assert!(snr > 90.0, "resumed audio differs: SNR {snr:.1} dB");
}

/// The longest run of near-silence (in frames) after the first `skip` frames.
fn longest_quiet(pcm: &[f32], skip: usize) -> usize {
    let (mut run, mut longest) = (0, 0);
    for frame in pcm.chunks(2).skip(skip) {
        run = if frame[0].abs() < 0.01 { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

#[test]
fn a_track_removed_from_the_library_while_queued_or_playing_leaves_no_gap() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = three_tones(dir.path());
    let mut engine = Engine::new(config(2.0), catalog.clone(), Scheduler::shuffle(5)).unwrap();
    let (mut bytes, mut events) = render(&mut engine, 3.0);
    let playing = engine.playing()[0].clone();
    let queued = engine.transition().unwrap().next.clone();
    // Both files go away; the scanner publishes a catalog without the queued one (the playing
    // one's file is still open, and it plays to its end).
    std::fs::remove_file(&playing.path).unwrap();
    std::fs::remove_file(&catalog.get(&queued).unwrap().path).unwrap();
    let removed = std::collections::HashSet::from([queued.clone(), playing.id.clone()]);
    engine.set_catalog(Arc::new(catalog.updated(Vec::new(), &removed)));
    let (more, later) = render(&mut engine, 30.0);
    bytes.extend(more);
    events.extend(later);
    let started: Vec<&TrackId> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::TrackStarted { track, .. } => Some(track),
            _ => None,
        })
        .collect();
    assert_eq!(started[0], &playing.id);
    assert!(
        started[1..]
            .iter()
            .all(|t| **t != queued && **t != playing.id),
        "{events:?}"
    );
    assert!(started.len() >= 3, "the mix went on: {events:?}");
    let pcm = decode_bytes(dir.path(), "out.mp3", &bytes);
    // A crossfade's worth of quiet at most (the tones never fall silent otherwise).
    assert!(longest_quiet(&pcm, 4096) < 2 * 44_100, "a gap in the mix");
}

#[test]
fn the_walk_counts_what_was_heard_of_each_track_for_its_horizon() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = three_tones(dir.path());
    let mut engine = Engine::new(config(3.0), catalog, Scheduler::drift(1)).unwrap();
    let (_, mut events) = render(&mut engine, 20.0);
    engine.skip();
    events.extend(render(&mut engine, 26.0).1);
    let starts = mix_starts(&events);
    let crate::station::scheduler::SchedulerState::Drift(walk) = engine.scheduler_mut().state()
    else {
        panic!("a drift")
    };
    let heard: Vec<f64> = walk.history().iter().map(|p| p.1 as f64).collect();
    // Each track followed by another was heard from its start to the next one's: 9 s with a
    // 3 s crossfade, and less for the one skipped 2 s after its crossfade ended.
    assert_eq!(starts.len(), 4, "{events:?}");
    for (i, pair) in starts.windows(2).enumerate() {
        assert!(
            (heard[i] - (pair[1] - pair[0])).abs() < 1e-3,
            "{heard:?} {starts:?}"
        );
    }
    assert!((heard[1] - 9.0).abs() < 1e-3 && heard[2] < 3.0, "{heard:?}");
    // The one playing and the one planned next still count whole (12 s tone).
    assert!(
        heard[3..].iter().all(|&s| (s - 12.0).abs() < 0.1),
        "{heard:?}"
    );
}
