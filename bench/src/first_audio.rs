//! The first-run figure of `drift-bench scan`: from `drift serve` starting on a fresh data dir
//! over a library of 2,000 files to the first audio byte of `/stream/default`, and how much of
//! the library was still waiting for analysis at that moment. A figure, not a test.
use crate::scan_files::{ffmpeg, ffmpeg_music};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Distinct generated pieces; the library's files are copies of them, each made unique by its
/// own ID3 tag (a different content hash, so each is analysed in full like a real file).
const PIECES: u32 = 8;
/// Length of each piece: about a short song, 2 MB at 128 kbps.
const PIECE_SECS: u32 = 120;

/// Starts `drift serve` on a fresh data dir over `files` generated MP3s and times the first
/// audio byte. The library is made in `work` and removed afterwards (it is gigabytes).
pub fn first_audio_byte(drift: &Path, work: &Path, files: usize) -> Result<String, String> {
    let library = work.join(format!("first-run-{files}"));
    make_library(work, &library, files)?;
    let data = work.join("first-run-data");
    let _ = std::fs::remove_dir_all(&data);
    let started = Instant::now();
    let mut child = Command::new(drift)
        .args(["serve", "--listen", "127.0.0.1:0", "--library"])
        .arg(&library)
        .arg("--data-dir")
        .arg(&data)
        .env("DRIFT_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start drift serve: {e}"))?;
    let result = time_first_byte(&mut child, started);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_dir_all(&library);
    let (first_byte, listening, pending) = result?;
    Ok(format!(
        "first run on {files} files ({PIECE_SECS} s MP3s): listening after {:.2} s, first audio byte of /stream/default after {:.2} s with {pending} files still to analyse (goal ≤ 10 s)",
        listening.as_secs_f64(),
        first_byte.as_secs_f64(),
    ))
}

/// Waits for the address, then asks for the stream until audio comes.
fn time_first_byte(
    child: &mut Child,
    started: Instant,
) -> Result<(Duration, Duration, String), String> {
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = lines
        .next()
        .ok_or("drift serve printed nothing")?
        .map_err(|e| e.to_string())?;
    let listening = started.elapsed();
    let addr = line
        .split("http://")
        .nth(1)
        .map(|s| s.trim_end_matches('/').to_string())
        .ok_or_else(|| format!("unexpected first line: {line}"))?;
    std::thread::spawn(move || for _ in lines {});
    loop {
        if started.elapsed() > Duration::from_secs(600) {
            return Err("no audio after ten minutes".into());
        }
        if let Some(first) = first_audio(&addr)? {
            let at = first.duration_since(started);
            let status = get(&addr, "/api/library").unwrap_or_default();
            let pending = status
                .split("\"pending\":")
                .nth(1)
                .and_then(|s| s.split(',').next())
                .unwrap_or("?")
                .to_string();
            return Ok((at, listening, pending));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The moment the first body byte of `/stream/default` arrived, or `None` while the server
/// answers that it is still preparing.
fn first_audio(addr: &str) -> Result<Option<Instant>, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    write!(s, "GET /stream/default HTTP/1.1\r\nHost: {addr}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).map_err(|e| e.to_string())? == 0 {
            return Ok(None);
        }
        head.push(byte[0]);
    }
    if !head.starts_with(b"HTTP/1.1 200") {
        return Ok(None);
    }
    match s.read(&mut byte) {
        Ok(1) => Ok(Some(Instant::now())),
        _ => Ok(None),
    }
}

fn get(addr: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    Some(body)
}

/// `files` MP3s: copies of [`PIECES`] generated pieces, each behind its own ID3v2 tag.
fn make_library(work: &Path, library: &Path, files: usize) -> Result<(), String> {
    std::fs::create_dir_all(library).map_err(|e| e.to_string())?;
    let mut pieces: Vec<Vec<u8>> = Vec::new();
    for seed in 0..PIECES {
        let mp3 = work.join(format!("first-run-piece-{seed}.mp3"));
        if !mp3.exists() {
            let wav = work.join("first-run-piece.wav");
            ffmpeg_music(&wav, 200 + seed, PIECE_SECS)?;
            let w = wav.to_str().unwrap_or_default();
            ffmpeg(&[&["-i", w, "-c:a", "libmp3lame", "-b:a", "128k"]], &mp3)?;
            let _ = std::fs::remove_file(&wav);
        }
        pieces.push(std::fs::read(&mp3).map_err(|e| e.to_string())?);
    }
    for i in 0..files {
        let path: PathBuf = library
            .join(format!("Artist {:02}", i % 50))
            .join(format!("{i:04} Track.mp3"));
        if path.exists() {
            continue;
        }
        std::fs::create_dir_all(path.parent().unwrap_or(library)).map_err(|e| e.to_string())?;
        let mut bytes = id3_title(&format!("Track {i}"));
        bytes.extend_from_slice(&pieces[i % pieces.len()]);
        std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A minimal ID3v2.3 tag holding one title frame.
fn id3_title(title: &str) -> Vec<u8> {
    let mut frame = b"TIT2".to_vec();
    let text_len = (title.len() + 1) as u32;
    frame.extend_from_slice(&text_len.to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0]);
    frame.extend_from_slice(title.as_bytes());
    let size = frame.len() as u32;
    // Tag sizes are "synchsafe": seven bits per byte.
    let synchsafe = [
        (size >> 21) as u8 & 0x7f,
        (size >> 14) as u8 & 0x7f,
        (size >> 7) as u8 & 0x7f,
        size as u8 & 0x7f,
    ];
    let mut tag = b"ID3\x03\x00\x00".to_vec();
    tag.extend_from_slice(&synchsafe);
    tag.extend(frame);
    tag
}
