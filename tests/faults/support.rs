//! What the fault tests share: a listener that records what it received (so a test knows where
//! a player's buffer ended when the server died), and checks of the SQLite store made with
//! plain SQL while no server runs.
use crate::common::client;
use drift::audio::mp3_frames::{split_all, Mp3Frame};
use drift::station::session::Snapshot;
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Samples per MP3 frame and the stream's rate: a frame's length in seconds.
pub const FRAME_SECS: f64 = 1152.0 / 44_100.0;

/// An open `GET /stream/{fp}` read on its own thread until the server goes away.
pub struct Recorder {
    pub fp: String,
    /// `X-Drift-Position`: the stream position of the first byte.
    pub start: f64,
    bytes: Arc<Mutex<Vec<u8>>>,
    thread: JoinHandle<()>,
}

impl Recorder {
    pub fn open(base: &str, fp: &str) -> Recorder {
        let mut r = client()
            .get(format!("{base}/stream/{fp}"))
            .send()
            .expect("the stream answers");
        assert_eq!(r.status(), 200, "stream of {fp}");
        let start = position_header(&r);
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let sink = bytes.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 16_384];
            while let Ok(n @ 1..) = std::io::Read::read(&mut r, &mut buf) {
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Recorder {
            fp: fp.into(),
            start,
            bytes,
            thread,
        }
    }

    /// Bytes received so far.
    pub fn received(&self) -> usize {
        self.bytes.lock().unwrap().len()
    }

    /// Waits for the response to end (the server died) and returns the whole frames received.
    pub fn finish(self) -> Vec<Mp3Frame> {
        let _ = self.thread.join();
        let bytes = std::mem::take(&mut *self.bytes.lock().unwrap());
        split_all(&bytes)
    }
}

pub fn position_header(r: &reqwest::blocking::Response) -> f64 {
    r.headers()["x-drift-position"]
        .to_str()
        .unwrap()
        .parse()
        .expect("X-Drift-Position is a number")
}

/// Whole frames only: every byte of `bytes` belongs to a frame, save a cut last one.
pub fn frames_of(bytes: &[u8]) -> Vec<Mp3Frame> {
    let frames = split_all(bytes);
    let covered: usize = frames.iter().map(|f| f.data.len()).sum();
    assert!(
        bytes.len() - covered < 1500,
        "{} of {} bytes are not MP3 frames",
        bytes.len() - covered,
        bytes.len()
    );
    frames
}

/// The store as a user's data dir holds it after a crash.
pub struct StoreCheck {
    /// Saved sessions: fingerprint → snapshot (`None` before the first save).
    pub sessions: HashMap<String, Option<Snapshot>>,
    /// `files` rows: known, analysed (pointing at a track), failed, pending.
    pub files: (u64, u64, u64, u64),
}

/// Opens `data/drift.sqlite` and checks what must hold after any crash: SQLite's own
/// `integrity_check` and `foreign_key_check`, no file row pointing at a track that is not
/// completely analysed, and every saved snapshot readable.
pub fn check_store(data: &Path) -> StoreCheck {
    let conn = Connection::open(data.join(drift::store::DB_FILE)).expect("open the store");
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(integrity, ["ok"], "PRAGMA integrity_check");
    let broken_keys: i64 = conn
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(broken_keys, 0, "PRAGMA foreign_key_check");
    let half_written: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM files f LEFT JOIN tracks t ON t.id = f.track_id
             WHERE f.track_id IS NOT NULL
               AND (t.id IS NULL OR t.features IS NULL OR t.features_version = 0
                    OR f.error IS NOT NULL)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        half_written, 0,
        "file rows pointing at half-analysed tracks"
    );
    let files = conn
        .query_row(
            "SELECT COUNT(*), COUNT(track_id), COUNT(error),
                    COALESCE(SUM(track_id IS NULL AND error IS NULL), 0) FROM files",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    let mut stmt = conn
        .prepare("SELECT fingerprint, snapshot FROM sessions")
        .unwrap();
    let sessions = stmt
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })
        .unwrap()
        .map(|row| {
            let (fp, json) = row.unwrap();
            let snapshot = json.map(|j| {
                serde_json::from_str::<Snapshot>(&j)
                    .unwrap_or_else(|e| panic!("the snapshot of {fp} does not read: {e}"))
            });
            (fp, snapshot)
        })
        .collect();
    StoreCheck { sessions, files }
}
