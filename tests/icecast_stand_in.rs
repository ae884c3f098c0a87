//! The Icecast output against stand-ins for a source server (plain TCP listeners on
//! 127.0.0.1): a server that refuses `PUT` gets `SOURCE`, and a title update Icecast does not
//! answer does not hold the audio back.
mod common;

use common::{library, Server};
use drift::audio::mp3_frames::split_all;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

/// Reads a request head (up to the empty line) from `reader`, its lines trimmed.
fn read_head(reader: &mut BufReader<TcpStream>) -> String {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        head.push(line.trim().to_string());
    }
    head.join("\n")
}

/// A stand-in for an old server: `PUT` gets 405, `SOURCE` gets 200 and is read; title updates
/// are answered 200. Returns the request heads seen and the audio bytes received.
fn old_server(listener: TcpListener, audio_wanted: usize) -> (Vec<String>, Vec<u8>) {
    let (tx, rx) = mpsc::channel::<(String, Option<Vec<u8>>)>();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let (mut s, tx) = (s.unwrap(), tx.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(s.try_clone().unwrap());
                let head = read_head(&mut reader);
                if head.starts_with("PUT ") {
                    s.write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                        .unwrap();
                    let _ = tx.send((head, None));
                } else if head.starts_with("SOURCE ") {
                    s.write_all(b"HTTP/1.0 200 OK\r\n\r\n").unwrap();
                    let mut audio = vec![0u8; audio_wanted];
                    reader.read_exact(&mut audio).unwrap();
                    let _ = tx.send((head, Some(audio)));
                } else {
                    s.write_all(b"HTTP/1.0 200 OK\r\n\r\n").unwrap();
                    let _ = tx.send((head, None));
                }
            });
        }
    });
    let mut heads = Vec::new();
    loop {
        let (head, audio) = rx.recv().unwrap();
        heads.push(head);
        if let Some(audio) = audio {
            return (heads, audio);
        }
    }
}

#[test]
fn a_server_that_refuses_put_gets_source() {
    let dir = tempfile::tempdir().unwrap();
    let fake = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = fake.local_addr().unwrap().port();
    let seen = std::thread::spawn(move || old_server(fake, 100_000));
    let lib = library(dir.path(), 2);
    let out = format!("icecast://source:pw@127.0.0.1:{port}/old.mp3");
    let _server = Server::start(&lib, &dir.path().join("data"), &["--icecast-out", &out]);
    let (lines, audio) = seen.join().unwrap();
    let put = lines
        .iter()
        .find(|l| l.starts_with("PUT "))
        .expect("a PUT first");
    assert!(put.starts_with("PUT /old.mp3 HTTP/1.1"), "{put}");
    for h in [
        "Authorization: Basic c291cmNlOnB3",
        "Content-Type: audio/mpeg",
        "ice-public: 0",
        "ice-audio-info: ice-bitrate=192;ice-samplerate=44100;ice-channels=2",
        "Expect: 100-continue",
    ] {
        assert!(put.lines().any(|l| l == h), "{h} missing from {put}");
    }
    let source = lines.last().unwrap();
    let title = lines
        .iter()
        .find(|l| l.starts_with("GET /admin/metadata?mode=updinfo&mount=%2Fold.mp3&song="));
    assert!(title.is_some(), "no title update: {lines:?}");
    assert!(source.starts_with("SOURCE /old.mp3 HTTP/1.0"), "{source}");
    assert!(!source.contains("Expect"));
    // What follows is whole MP3 frames from the first byte.
    let frames = split_all(&audio);
    assert!(frames.len() > 100);
    assert_eq!(audio[0], 0xFF, "the stream starts on a frame");
}

/// Audio the stand-in below reads before it looks at the title requests: 2 s at 192 kbps,
/// more than the 1 s the output sends ahead.
const AUDIO_FIRST: usize = 48_000;

/// A stand-in that takes `PUT`, and holds the title update requests open without an answer.
/// Once `AUDIO_FIRST` bytes of audio came, it tells whether a title request is still open
/// then (`true`), or the output had given them all up first (`false`).
fn silent_metadata_server(listener: TcpListener, verdict: mpsc::Sender<bool>) {
    let (title_tx, title_rx) = mpsc::channel::<TcpStream>();
    let title_rx = std::sync::Mutex::new(Some(title_rx));
    for s in listener.incoming() {
        let mut s = s.unwrap();
        let mut reader = BufReader::new(s.try_clone().unwrap());
        let head = read_head(&mut reader);
        if !head.starts_with("PUT ") {
            // Held open: the stand-in never answers and never closes it.
            let _ = title_tx.send(s);
            continue;
        }
        s.write_all(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
        let Some(title_rx) = title_rx.lock().unwrap().take() else {
            continue;
        };
        let verdict = verdict.clone();
        std::thread::spawn(move || {
            let mut audio = vec![0u8; AUDIO_FIRST];
            reader.read_exact(&mut audio).unwrap();
            // A request the output gave up is closed (on loopback its FIN is in before the
            // audio written after it).
            let open = title_rx.try_iter().any(|t| {
                t.set_nonblocking(true).unwrap();
                matches!(t.peek(&mut [0u8; 1]), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
            });
            let _ = verdict.send(open);
            while let Ok(1..) = reader.read(&mut audio) {}
        });
    }
}

#[test]
fn audio_goes_on_while_a_title_update_is_unanswered() {
    let dir = tempfile::tempdir().unwrap();
    let fake = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = fake.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || silent_metadata_server(fake, tx));
    let lib = library(dir.path(), 2);
    let out = format!("icecast://source:pw@127.0.0.1:{port}/slow.mp3");
    let _server = Server::start(&lib, &dir.path().join("data"), &["--icecast-out", &out]);
    // A title is asked for before its track's first frame goes out; the audio must not wait
    // for the answer, which never comes (before, the output held the audio until it gave the
    // request up after 3 s: longer than Icecast's listeners had audio for).
    let open = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("no audio came");
    assert!(open, "the audio waited until the title update was given up");
}
