//! `kill -9` cycles: the server is killed at random moments — while the library scans new
//! files, while sessions render, while a save is in flight, while sessions persist — and after
//! every kill the store passes SQLite's checks, every session is still there and not behind the
//! position it saved, and a player resuming with `?from=` the end of its buffer gets exactly
//! that position and the same music. `DRIFT_KILL_CYCLES` (default 8) and `DRIFT_KILL_SEED`.
use crate::common::*;
use crate::support::*;
use drift::audio::mp3_frames::Mp3Frame;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// The station clock runs 3× real time: a session persists every second of real time.
const ARGS: &[&str] = &[
    "--lead",
    "8",
    "--time-scale",
    "3",
    "--idle-timeout",
    "6",
    "--sessions-per-minute",
    "0",
];
/// Sessions made at most (each one resumed renders on every restart).
const MAX_SESSIONS: usize = 5;

/// What a cycle's kill is aimed at.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Aim {
    /// New files were added to the library before the start: the kill lands in their analysis.
    Scan,
    /// Just after sessions resumed and listeners joined: engines render their lead.
    Render,
    /// While `GET /api/sessions/{fp}/save` is in flight.
    Save,
    /// Anywhere in a second of real time: sessions persist every 3 s of clock time.
    Persist,
}
const AIMS: [Aim; 4] = [Aim::Scan, Aim::Render, Aim::Save, Aim::Persist];

/// A player cut off by a kill: what it had received, and the catalog it was rendered from.
struct Cut {
    fp: String,
    start: f64,
    frames: Vec<Mp3Frame>,
    tracks: u64,
    /// The checkpoint the restarted server renders from (read from the store after the kill).
    checkpoint: f64,
}

#[derive(Default, Debug)]
struct Tally {
    aims: HashMap<String, usize>,
    /// Kills while the library had files left to analyse.
    in_scan: usize,
    /// Kills while a save response was still arriving.
    in_save: usize,
    resumed: usize,
    /// Players whose buffer ended before the checkpoint the session saved (see check_resumes).
    before_checkpoint: usize,
    compared: usize,
    /// Compared resumes whose decoded audio is identical to what the player had.
    identical_audio: usize,
    /// Resumes whose audio was not compared (the catalog grew meanwhile, or too little audio).
    not_compared: usize,
    identical_frames: usize,
    compared_frames: usize,
    min_snr: f64,
}

#[test]
fn kill_9_at_random_moments_loses_nothing() {
    let cycles: usize = env_or("DRIFT_KILL_CYCLES", 8);
    let seed: u64 = env_or("DRIFT_KILL_SEED", rand::random::<u32>() as u64);
    println!("kill -9 cycles: {cycles}, seed {seed} (DRIFT_KILL_SEED={seed} repeats it)");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), 3);
    let data = dir.path().join("data");
    let mut sessions: Vec<String> = Vec::new();
    let mut saved: HashMap<String, f64> = HashMap::new();
    let mut cuts: Vec<Cut> = Vec::new();
    let mut tally = Tally {
        min_snr: f64::INFINITY,
        ..Tally::default()
    };
    let mut tones = 0;
    // Files known and analysed after the last kill: a kill may stop a scan, never undo it.
    let mut files_before = (0, 0);
    let offset = rng.gen_range(0..AIMS.len());
    for cycle in 0..cycles {
        let aim = AIMS[(cycle + offset) % AIMS.len()];
        *tally.aims.entry(format!("{aim:?}")).or_default() += 1;
        if aim == Aim::Scan {
            for _ in 0..rng.gen_range(3..=5) {
                tones += 1;
                let secs = rng.gen_range(8.0..20.0);
                let path = lib.join(format!("tone-{tones:03}.wav"));
                write_tone(&path, secs, 150.0 + 23.0 * tones as f64);
            }
        }
        let mut server = Server::launch(&lib, &data, "127.0.0.1:0", ARGS);
        let mut listeners = Vec::new();
        let mut tracks_at_start = 0;
        if aim == Aim::Scan && cycle > 0 {
            // Nothing else: the kill lands in the scan of the files just added.
            std::thread::sleep(Duration::from_millis(rng.gen_range(10..400)));
        } else {
            wait_playable(&server);
            tracks_at_start = tracks(&server);
            check_resumes(&server, dir.path(), &mut cuts, &mut tally);
            check_sessions(&server, &sessions, &saved);
            if sessions.len() < MAX_SESSIONS {
                sessions.push(create(&server));
            }
            let mut open = vec![sessions.last().unwrap().clone()];
            if sessions.len() > 1 && rng.gen_bool(0.5) {
                open.push(sessions[rng.gen_range(0..sessions.len() - 1)].clone());
            }
            for fp in &open {
                listeners.push(Recorder::open(&server.base, fp));
            }
            match aim {
                Aim::Render => sleep_ms(rng.gen_range(0..300)),
                Aim::Persist => sleep_ms(rng.gen_range(0..1000)),
                _ => {
                    sleep_ms(rng.gen_range(200..1200));
                    let url = server.url(&format!(
                        "/api/sessions/{}/save?seconds={}",
                        open[0],
                        rng.gen_range(1..4)
                    ));
                    let save = std::thread::spawn(move || client().get(url).send()?.bytes());
                    sleep_ms(rng.gen_range(0..30));
                    if !save.is_finished() {
                        tally.in_save += 1;
                    }
                }
            }
        }
        // What the library was doing a moment before the kill, and what the catalog held.
        let health = get_json(&server.url("/health")).unwrap_or_default();
        if health["library"]["pending"].as_u64().unwrap_or(0) > 0 {
            tally.in_scan += 1;
        }
        let tracks_at_kill = health["tracks"].as_u64().unwrap_or(0);
        server.kill();
        for listener in listeners {
            let (fp, start) = (listener.fp.clone(), listener.start);
            let frames = listener.finish();
            // Whether the catalog stayed the same while this audio was rendered (the cycle's
            // engines started after `tracks_at_start`): only then must a re-render match.
            let tracks = if tracks_at_start == tracks_at_kill {
                tracks_at_kill
            } else {
                0
            };
            cuts.retain(|c| c.fp != fp);
            cuts.push(Cut {
                fp,
                start,
                frames,
                tracks,
                checkpoint: 0.0,
            });
        }
        let store = check_store(&data);
        let files = (store.files.0, store.files.1);
        assert!(
            files.0 >= files_before.0 && files.1 >= files_before.1,
            "cycle {cycle}: files (known, analysed) went from {files_before:?} to {files:?}"
        );
        files_before = files;
        for cut in &mut cuts {
            let snapshot = store.sessions.get(&cut.fp).and_then(|s| s.as_ref());
            cut.checkpoint = snapshot.map_or(0.0, |s| s.checkpoint.pos.secs());
        }
        for fp in &sessions {
            let snapshot = store.sessions.get(fp).unwrap_or_else(|| {
                panic!("cycle {cycle}: session {fp} is gone from the store after the kill")
            });
            let pos = snapshot.as_ref().map_or(0.0, |s| s.play_pos.secs());
            let before = saved.insert(fp.clone(), pos).unwrap_or(0.0);
            assert!(pos >= before, "{fp}: saved {pos:.3} after {before:.3}");
        }
        println!(
            "cycle {cycle}: {aim:?}, {} sessions, files {:?}, {:.1} s",
            sessions.len(),
            store.files,
            started.elapsed().as_secs_f64()
        );
    }
    // Once more, to the end of the scan: every file on disk is in the catalog.
    let server = Server::launch(&lib, &data, "127.0.0.1:0", ARGS);
    wait_playable(&server);
    check_resumes(&server, dir.path(), &mut cuts, &mut tally);
    check_sessions(&server, &sessions, &saved);
    let on_disk = std::fs::read_dir(&lib).unwrap().count() as u64;
    let deadline = Instant::now() + Duration::from_secs(120);
    let health = loop {
        let h = get_json(&server.url("/health")).unwrap();
        if h["library"]["pending"] == 0 && h["scanComplete"] == true || Instant::now() > deadline {
            break h;
        }
        sleep_ms(200);
    };
    let library = &health["library"];
    assert_eq!(
        (library["known"].as_u64(), library["failed"].as_u64()),
        (Some(on_disk), Some(0)),
        "{health}"
    );
    assert_eq!(health["tracks"].as_u64(), Some(on_disk), "{health}");
    println!(
        "kill -9: {cycles} cycles in {:.1} s, seed {seed}: {tally:?}",
        started.elapsed().as_secs_f64()
    );
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

/// Waits until the server answers and has something to play.
fn wait_playable(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while tracks(server) == 0 {
        assert!(Instant::now() < deadline, "the server never had tracks");
        sleep_ms(50);
    }
}

fn tracks(server: &Server) -> u64 {
    get_json(&server.url("/health")).map_or(0, |h| h["tracks"].as_u64().unwrap_or(0))
}

fn create(server: &Server) -> String {
    let r = client().post(server.url("/api/sessions")).send().unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .into()
}

/// Every session made so far answers, at or after the play position it saved.
fn check_sessions(server: &Server, sessions: &[String], saved: &HashMap<String, f64>) {
    for fp in sessions {
        let r = client()
            .get(server.url(&format!("/api/sessions/{fp}")))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "session {fp} after a restart");
        let pos = r.json::<Value>().unwrap()["position"].as_f64().unwrap();
        let before = saved.get(fp).copied().unwrap_or(0.0);
        assert!(
            pos >= before - 1e-6,
            "{fp} resumed at {pos:.3}, before its saved {before:.3}"
        );
    }
}

/// Players cut off by the last kill resume with `?from=` the end of what they had: the stream
/// starts exactly there, in whole frames; and the audio they already had, fetched again, is
/// the same music (compared where the catalog did not change meanwhile).
fn check_resumes(server: &Server, tmp: &Path, cuts: &mut Vec<Cut>, tally: &mut Tally) {
    let now_tracks = tracks(server);
    for cut in cuts.drain(..) {
        let end = cut.start + cut.frames.len() as f64 * FRAME_SECS;
        let url = server.url(&format!("/stream/{}?from={end:.6}", cut.fp));
        let mut r = client().get(url).send().unwrap();
        if cut.checkpoint > end + 1e-6 {
            // The play point had run past what this player received (an engine behind on a
            // loaded machine), and the session saved a checkpoint beyond it: the restarted
            // server holds nothing before that checkpoint, and says so.
            assert_eq!(r.status(), 410, "{}: resume at {end:.6}", cut.fp);
            tally.before_checkpoint += 1;
            continue;
        }
        assert_eq!(r.status(), 200, "{}: resume at {end:.6}", cut.fp);
        let at = position_header(&r);
        assert!((at - end).abs() < 1e-6, "asked for {end:.6}, got {at:.6}");
        let more = frames_of(&read_bytes(&mut r, 100_000, Duration::from_secs(20)));
        assert!(more.len() >= 100, "{}: {} frames", cut.fp, more.len());
        tally.resumed += 1;
        if cut.tracks == 0 || cut.tracks != now_tracks || cut.frames.len() < 40 {
            tally.not_compared += 1;
            continue;
        }
        // The last 30 frames the player had, rendered again from the saved checkpoint.
        let back = 30;
        let from = end - back as f64 * FRAME_SECS;
        let mut r = client()
            .get(server.url(&format!("/stream/{}?from={from:.6}", cut.fp)))
            .send()
            .unwrap();
        if r.status() == 410 {
            tally.not_compared += 1;
            continue; // the checkpoint lies after `from`: nothing to compare
        }
        let again = frames_of(&read_bytes(&mut r, back * 700, Duration::from_secs(20)));
        if tracks(server) != now_tracks {
            tally.not_compared += 1;
            continue; // the scan grew the catalog while the engine re-rendered
        }
        let had = &cut.frames[cut.frames.len() - back..];
        let n = back.min(again.len());
        let same = had
            .iter()
            .zip(&again[..n])
            .filter(|(a, b)| a.data == b.data);
        tally.identical_frames += same.count();
        tally.compared_frames += n;
        let snr = mp3_snr(tmp, had, &again[..n]);
        let late = mp3_snr(tmp, &had[back / 2..], &again[back / 2..n]);
        println!(
            "{}: resumed at {end:.3}, {:.2} s after the checkpoint; SNR {snr:.1} dB \
             (second half {late:.1} dB)",
            cut.fp,
            end - cut.checkpoint
        );
        tally.compared += 1;
        if snr > 200.0 {
            tally.identical_audio += 1;
        }
        tally.min_snr = tally.min_snr.min(snr);
        // The engine feeds the encoder the same PCM from a checkpoint; the decoded audio is
        // identical in most resumes, and otherwise differs at the level of MP3 quantisation
        // noise (a fresh LAME's bit reservoir and psychoacoustic memory): 38 dB at worst in
        // 100 cycles. A different track or a shifted position would be near 0 dB.
        assert!(
            snr > 30.0,
            "{}: re-rendered audio differs, SNR {snr:.1} dB",
            cut.fp
        );
    }
}
