//! Damaged and hostile session snapshots (what the store hands back after a restart): read with
//! `Snapshot::parse` and restored with `Session::start` (and an engine from the checkpoint), a
//! snapshot must give an error or a session that renders, never a panic, and never an
//! allocation far beyond its own size. Snapshots are a real one mutated at the JSON level
//! (numbers made extreme, tracks renamed to ones that are gone, arrays emptied or repeated,
//! fields dropped) and at the byte level.
mod common;
#[path = "../src/fuzz.rs"]
#[allow(dead_code)]
mod fuzz;

use drift::catalog::{Catalog, LiveCatalog};
use drift::config::MixConfig;
use drift::model::{Analysis, Features, Mode, Tags, Track, TrackId};
use drift::station::clock::RealClock;
use drift::station::engine::{Engine, EngineEvent};
use drift::station::scheduler::Scheduler;
use drift::station::session::{Persist, Session, SessionParams, Snapshot, Start};
use drift::units::{Db, Frames, StreamPos};
use fuzz::{check, mutate, FuzzRng};
use rand::Rng;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A short stereo tone in a WAV file, as a track with features (the drift walk needs a space).
fn tone(dir: &Path, i: usize) -> Track {
    let path = dir.join(format!("t{i}.wav"));
    let secs = 2.0 + i as f64 * 0.5;
    let hz = 220.0 * (i + 1) as f64;
    common::write_tone(&path, secs, hz);
    let duration = Frames::from_secs(secs);
    Track {
        id: TrackId(format!("t{i}")),
        path,
        tags: Tags {
            title: format!("Tone {i}"),
            ..Tags::default()
        },
        analysis: Analysis {
            duration,
            loudness: Db(-14.0 - i as f64),
            true_peak: Db(-10.0),
            loudness_range: 0.0,
            cue_in: Frames::ZERO,
            cue_out: duration,
            features: Some(Features {
                bpm: 80.0 + 15.0 * i as f64,
                beat_strength: 0.5,
                centroid_hz: hz * 2.0,
                rolloff_hz: hz * 4.0,
                flatness: 0.1 * i as f64,
                crest_db: 3.0,
                onset_rate: 1.0,
                key: i as u8,
                mode: if i.is_multiple_of(2) {
                    Mode::Major
                } else {
                    Mode::Minor
                },
                key_strength: 0.5,
            }),
            ends: None,
            beats: None,
        },
    }
}

fn params() -> SessionParams {
    SessionParams {
        lead: Frames::from_secs(2.0),
        history: Frames::from_secs(4.0),
        mix: MixConfig {
            crossfade: Frames::from_secs(0.5),
            lame_quality: 7,
            ..MixConfig::default()
        },
        idle_timeout: Duration::from_secs(60),
        opus_bitrate: 96,
    }
}

/// A real snapshot of a session that has played through a few crossfades.
fn real_snapshot(catalog: &Arc<LiveCatalog>) -> Value {
    let mut engine = Engine::new(params().mix, catalog.current(), Scheduler::drift(7)).unwrap();
    let mut timeline = Vec::new();
    while engine.position() < StreamPos::from_secs(6.0) {
        for e in engine.render_block().unwrap().1 {
            if let EngineEvent::TrackStarted { pos, track } = e {
                timeline.push((pos, track));
            }
        }
    }
    let cp = engine.checkpoint();
    json!({
        "checkpoint": cp,
        "play_pos": cp.pos,
        "timeline": timeline,
        "saved_at_ms": 1,
        "listening": true,
    })
}

/// Restores `text` as the registry does (a session started from it, then stopped) and renders
/// a little from its checkpoint here, where a panic in the engine fails the case (on a
/// session's own thread it would only end that thread).
fn restore(catalog: &Arc<LiveCatalog>, text: &str) {
    let Ok(snapshot) = Snapshot::parse(text) else {
        return;
    };
    let checkpoint = snapshot.checkpoint.clone();
    let persist: Persist = Arc::new(|_: &Snapshot| {});
    let started = Session::start(Start {
        fingerprint: "fp".into(),
        owner: "owner".into(),
        params: params(),
        catalog: catalog.clone(),
        clock: Arc::new(RealClock::new()),
        restore: Some(snapshot),
        seed: 7,
        persist,
    });
    if let Ok(session) = started {
        let _ = session.now_and_next();
        session.stop();
    }
    let Ok(mut engine) = Engine::from_checkpoint(params().mix, catalog.current(), &checkpoint)
    else {
        return;
    };
    for _ in 0..8 {
        if engine.render_block().is_err() {
            break;
        }
    }
    let _ = engine.checkpoint();
}

/// Extreme values a damaged number field might hold: negative, fractional, past what JSON
/// integers of serde's types take, and large positions up to 2^40 frames (eight centuries).
/// Positions near u64::MAX are left to `positions_near_u64_max_*` below.
fn extreme(rng: &mut FuzzRng) -> Value {
    let choices = [
        json!(1u64 << 40),
        json!((1u64 << 40) - 1_000),
        json!(i64::MIN),
        json!(-1),
        json!(0),
        json!(1e308),
        json!(-1e308),
        json!(u64::MAX as f64 * 2.0),
        json!(4_294_967_295u64),
        json!(0.5),
        json!(3.4e38),
    ];
    choices[rng.gen_range(0..choices.len())].clone()
}

/// Changes one random node of `v` (depth-first, so every node has a chance).
fn mutate_value(rng: &mut FuzzRng, v: &mut Value) {
    let children = match v {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        _ => 0,
    };
    if children > 0 && rng.gen_bool(0.75) {
        let i = rng.gen_range(0..children);
        let child = match v {
            Value::Array(a) => &mut a[i],
            Value::Object(o) => o.values_mut().nth(i).unwrap(),
            _ => unreachable!(),
        };
        return mutate_value(rng, child);
    }
    match v {
        Value::Number(_) => *v = extreme(rng),
        Value::String(s) => *s = ["gone", "", "t0", "t99"][rng.gen_range(0..4)].into(),
        Value::Array(a) if !a.is_empty() => match rng.gen_range(0..3) {
            0 => a.clear(),
            1 => a.truncate(rng.gen_range(0..a.len())),
            // Repeated, to at most 64 entries: a deck costs a decoder and a second of audio,
            // so more is the memory case below, not something to pile up in every run.
            _ => {
                let copy = a.clone();
                while a.len() + copy.len() <= 64 {
                    a.extend(copy.iter().cloned());
                }
            }
        },
        Value::Object(o) if !o.is_empty() => {
            let key = o.keys().nth(rng.gen_range(0..o.len())).unwrap().clone();
            o.remove(&key);
        }
        _ => {
            *v = if rng.gen_bool(0.5) {
                Value::Null
            } else {
                extreme(rng)
            }
        }
    }
}

fn library() -> (tempfile::TempDir, Arc<LiveCatalog>) {
    let dir = tempfile::tempdir().unwrap();
    let tracks = (0..4).map(|i| tone(dir.path(), i)).collect();
    let catalog = Arc::new(LiveCatalog::new(Catalog::new(tracks)));
    (dir, catalog)
}

#[test]
fn the_real_snapshot_restores() {
    let (_dir, catalog) = library();
    let snapshot = real_snapshot(&catalog);
    let text = snapshot.to_string();
    assert!(Snapshot::parse(&text).is_ok(), "{text}");
    restore(&catalog, &text);
}

#[test]
fn damaged_snapshots_give_an_error_or_a_session_never_a_panic() {
    let (_dir, catalog) = library();
    let snapshot = real_snapshot(&catalog);
    let start_rss = rss_mib();
    check("snapshot json", 250, |rng| {
        let mut v = snapshot.clone();
        for _ in 0..rng.gen_range(1..=3) {
            mutate_value(rng, &mut v);
        }
        let text = v.to_string();
        let text = if rng.gen_bool(0.2) {
            String::from_utf8_lossy(&mutate(rng, text.as_bytes())).into_owned()
        } else {
            text
        };
        restore(&catalog, &text);
        let grown = rss_mib().saturating_sub(start_rss);
        assert!(grown < 256, "resident memory grew by {grown} MiB");
    });
}

#[test]
fn hostile_values_that_restore_today_stay_that_way() {
    let (_dir, catalog) = library();
    let snapshot = real_snapshot(&catalog);
    // Every track the checkpoint names is gone from the library.
    restore(&catalog, &snapshot.to_string().replace("\"t", "\"gone-t"));
    let edits = [
        ("/checkpoint/mix_pos", json!(u64::MAX)),
        ("/checkpoint/decks/1/start", json!(u64::MAX)),
        ("/checkpoint/transition/at", json!(u64::MAX)),
        ("/checkpoint/transition/crossfade", json!(u64::MAX)),
        ("/timeline/0/0", json!(u64::MAX)),
        ("/checkpoint/scheduler/picks", json!(u64::MAX)),
        ("/checkpoint/scheduler/heading", json!(vec![3e38; 12])),
        (
            "/checkpoint/scheduler",
            json!({"kind": "shuffle", "seed": 1, "round": u64::MAX, "index": u64::MAX}),
        ),
    ];
    for (path, value) in edits {
        let mut v = snapshot.clone();
        *v.pointer_mut(path).unwrap() = value;
        restore(&catalog, &v.to_string());
    }
    // A timeline of 100,000 entries costs memory in proportion to its text, no more.
    let mut v = snapshot.clone();
    let entries = v["timeline"].as_array().unwrap().clone();
    v["timeline"] = Value::Array(entries.iter().cycle().take(100_000).cloned().collect());
    let before = rss_mib();
    restore(&catalog, &v.to_string());
    assert!(rss_mib().saturating_sub(before) < 64);
}

/// A position near u64::MAX in a checkpoint would overflow the engine's position arithmetic
/// (in `Snapshot::caught_up` for a play point of a session that had listeners, in `Fade::end`
/// from `Engine::from_checkpoint`, in `Deck::mix_into` and `start_next` from `render_block`):
/// `Snapshot::parse` refuses positions and lengths past `MAX_POSITION`.
#[test]
fn positions_near_u64_max_give_an_error_not_a_panic() {
    let (_dir, catalog) = library();
    let snapshot = real_snapshot(&catalog);
    for path in [
        "/play_pos",
        "/checkpoint/pos",
        "/checkpoint/decks/1/fade_out/len",
        "/checkpoint/decks/1/fade_out/start",
        "/checkpoint/decks/1/fade_in/len",
    ] {
        let mut v = snapshot.clone();
        *v.pointer_mut(path).unwrap() = json!(u64::MAX);
        assert!(Snapshot::parse(&v.to_string()).is_err(), "{path}");
        restore(&catalog, &v.to_string());
    }
}

/// Every deck of a checkpoint opens a decoder and reads a second ahead, so a checkpoint with
/// 4,000 decks (its two repeated: 560 KiB of JSON; a real one has two or three) took about 14 s
/// and 500–870 MiB of resident memory to restore: `Snapshot::parse` refuses more decks than
/// can sound at once.
#[test]
fn a_checkpoint_with_thousands_of_decks_costs_little() {
    let (_dir, catalog) = library();
    let mut v = real_snapshot(&catalog);
    let decks = v["checkpoint"]["decks"].as_array().unwrap().clone();
    v["checkpoint"]["decks"] = Value::Array(decks.iter().cycle().take(4_000).cloned().collect());
    let before = rss_mib();
    restore(&catalog, &v.to_string());
    let grown = rss_mib().saturating_sub(before);
    assert!(grown < 64, "resident memory grew by {grown} MiB");
}

/// Resident memory of this test process, in MiB.
fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        / 1024
}
