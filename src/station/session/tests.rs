//! The Session's methods, on generated tone tracks and a fast clock, without a server.
use super::*;
use crate::catalog::Catalog;
use crate::station::clock::ScaledClock;
use crate::station::engine::tests::tone_track;

struct Fixture {
    _dir: tempfile::TempDir,
    catalog: Arc<LiveCatalog>,
    saved: Arc<Mutex<Vec<Snapshot>>>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let tracks = (0..3)
        .map(|i| {
            tone_track(
                dir.path(),
                &format!("t{i}"),
                200.0 + 50.0 * i as f64,
                0.3,
                8.0,
                None,
            )
        })
        .collect();
    Fixture {
        _dir: dir,
        catalog: Arc::new(LiveCatalog::new(Catalog::new(tracks))),
        saved: Arc::default(),
    }
}

/// A session whose clock runs 20× real time, with a 2 s lead and 20 s of history.
fn start(f: &Fixture, restore: Option<Snapshot>) -> Session {
    let saved = f.saved.clone();
    Session::start(Start {
        fingerprint: "test-session".into(),
        owner: "owner-token".into(),
        params: SessionParams {
            lead: Frames::from_secs(2.0),
            history: Frames::from_secs(20.0),
            mix: MixConfig {
                crossfade: Frames::from_secs(1.0),
                lame_quality: 7,
                ..MixConfig::default()
            },
            idle_timeout: Duration::from_secs(600),
            opus_bitrate: 96,
        },
        catalog: f.catalog.clone(),
        clock: Arc::new(ScaledClock::new(20.0)),
        restore,
        seed: 7,
        persist: Arc::new(move |s: &Snapshot| saved.lock().unwrap().push(s.clone())),
    })
    .unwrap()
}

/// Waits (in real time) until `done` holds.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_session_handed_out_has_its_first_track_placed() {
    let f = fixture();
    let s = start(&f, None);
    let (current, heard) = s.heard();
    assert!(current.is_some());
    assert!(!heard.is_empty());
    // Audible from the encoder's latency on (a few ms of stream): before that it is next.
    let now = s.now_and_next();
    assert!(now.now_playing.is_some() || now.next.is_some());
    assert!(s.is_owner(Some("owner-token")));
    assert!(!s.is_owner(Some("owner-tokeN")) && !s.is_owner(None));
    s.stop();
    assert!(s.is_parked());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_listener_gets_the_lead_at_once_then_follows_the_head() {
    let f = fixture();
    let s = start(&f, None);
    wait_for("the lead", || {
        s.overview().rendered_ahead >= Frames::from_secs(1.5)
    });
    let mut l = s.listen(None).unwrap();
    assert_eq!(s.metrics().listeners, 1);
    let mut frames = Vec::new();
    let first = l.take(10_000, &mut frames).unwrap();
    assert!(first as f64 >= 1.5 * 44_100.0 / 1152.0, "the lead at once");
    assert_eq!(l.take(10, &mut frames), Ok(0), "then at the head");
    l.changed().await.unwrap();
    assert!(l.take(10_000, &mut frames).unwrap() > 0);
    drop(l);
    assert_eq!(s.metrics().listeners, 0);
    s.stop();
}

#[test]
fn listen_from_resumes_at_the_frame_holding_the_position_within_what_is_held() {
    let f = fixture();
    let s = start(&f, None);
    wait_for("a second played", || {
        s.position() > StreamPos::from_secs(1.0)
    });
    let l = s.listen(Some(StreamPos::from_secs(0.5))).unwrap();
    assert_eq!(l.start(), frame_pos(frame_index(StreamPos::from_secs(0.5))));
    let far = s.listen(Some(StreamPos::from_secs(1000.0)));
    assert!(matches!(far.err(), Some(ListenError::TooFarAhead { .. })));
    drop(l);
    s.stop();
}

#[test]
fn a_position_that_left_the_ring_is_gone() {
    let f = fixture();
    let s = start(&f, None);
    // 20 s of history + 2 s lead + 5 s slack: after ~30 s of stream, 0 s is gone.
    wait_for("the ring to move on", || {
        s.position() > StreamPos::from_secs(30.0)
    });
    let gone = s.listen(Some(StreamPos::from_secs(0.0)));
    assert!(matches!(gone.err(), Some(ListenError::Gone { .. })));
    s.stop();
}

#[test]
fn restart_ends_audio_responses_and_is_logged_for_event_clients() {
    let f = fixture();
    let s = start(&f, None);
    let mut l = s.listen(None).unwrap();
    let mut live = s.subscribe(None).live;
    s.restart_listeners("refresh", 0.5);
    assert_eq!(l.take(10, &mut Vec::new()), Err(ListenEnd::Restarted));
    let (id, event) = live.try_recv().unwrap();
    assert!(matches!(event, StationEvent::Restart { .. }));
    let again = s.subscribe(Some(id - 1));
    assert_eq!(again.missed.len(), 1);
    assert_eq!(again.seen, id);
    s.stop();
}

#[test]
fn a_clip_is_the_audio_before_the_play_point_named_after_its_tracks() {
    let f = fixture();
    let s = start(&f, None);
    wait_for("two seconds played", || {
        s.position() > StreamPos::from_secs(2.0)
    });
    let clip = s.clip(Frames::from_secs(1.0)).unwrap();
    assert!(
        (37..=40).contains(&clip.frames.len()),
        "{}",
        clip.frames.len()
    );
    assert!(clip.file_name.starts_with("Test - t"), "{}", clip.file_name);
    assert!(clip.file_name.ends_with(".mp3"));
    s.stop();
}

#[test]
fn steering_to_a_track_plans_it_next() {
    let f = fixture();
    let s = start(&f, None);
    let (current, _) = s.heard();
    let target = ["t0", "t1", "t2"]
        .into_iter()
        .map(|t| TrackId(t.into()))
        .find(|t| Some(t) != current.as_ref())
        .unwrap();
    let reply = s
        .steer(Choice::Track(target.clone()))
        .blocking_recv()
        .unwrap();
    assert_eq!(reply, Some(target));
    s.stop();
}

#[test]
fn a_stopped_session_saves_and_resumes_its_stream_from_the_snapshot() {
    let f = fixture();
    let s = start(&f, None);
    wait_for("some stream", || s.position() > StreamPos::from_secs(3.0));
    s.stop();
    let snapshot = f.saved.lock().unwrap().last().cloned().unwrap();
    let text = snapshot.to_json();
    let back = Snapshot::parse(&text).unwrap();
    let resumed = start(&f, Some(back));
    assert!(resumed.position() >= snapshot.play_pos);
    assert!(resumed.now_and_next().now_playing.is_some());
    resumed.stop();
    assert!(Snapshot::parse("{\"checkpoint\": 3}").is_err());
}
