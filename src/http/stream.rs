//! `GET /stream/{fp}`: the endless MP3 stream of a session, from its play point (or from
//! `?from=SECONDS`), with ICY metadata when asked, following the ring with its own cursor.
//! `GET /stream/{fp}.mp4`: the same frames as fragmented MP4 (for Firefox's MediaSource); each
//! fragment's decode time is its first frame's absolute stream position.
use super::error::ApiError;
use super::icy::{IcyInterleaver, METAINT};
use super::App;
use crate::station::broadcast::{frame_index, frame_pos};
use crate::station::registry::Handle;
use crate::units::StreamPos;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::watch;

#[derive(Deserialize)]
pub struct StreamQuery {
    from: Option<String>,
}

/// Frames sent per write at most: a new listener's lead goes out in a few large writes.
const BATCH_FRAMES: usize = 96;
/// How long a listener at the head waits for more frames before writing (about 4 frames).
const COALESCE: std::time::Duration = std::time::Duration::from_millis(100);

pub async fn stream(
    State(app): State<App>,
    Path(fp): Path<String>,
    Query(q): Query<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (fp, mp4) = match fp.strip_suffix(".mp4") {
        Some(base) => (base.to_string(), true),
        None => (fp, false),
    };
    let handle = super::api::session(&app, &fp)?;
    let from = q.from.as_deref().map(parse_position).transpose()?;
    let icy = !mp4
        && headers
            .get("icy-metadata")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "1");
    let cursor = start_cursor(&app, &handle, from)?;
    let listener = Listener::new(app.clone(), handle.clone());
    let body = Body::from_stream(futures_util::stream::unfold(
        StreamState {
            rx: handle.shared.head.subscribe(),
            generation: handle.shared.lock().generation,
            cursor,
            icy: icy.then(|| IcyInterleaver::new(METAINT)),
            mp4: mp4.then_some(0),
            listener,
        },
        next_piece,
    ));
    let mut r = Response::new(body);
    let h = r.headers_mut();
    let mime = if mp4 { "audio/mp4" } else { "audio/mpeg" };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-drift-position", num(frame_pos(cursor).secs()));
    h.insert("icy-name", HeaderValue::from_static("Drift"));
    h.insert("icy-br", num(app.bitrate as f64));
    if icy {
        h.insert("icy-metaint", num(METAINT as f64));
    }
    Ok(r)
}

fn num(v: f64) -> HeaderValue {
    HeaderValue::from_str(&format!("{}", (v * 1e6).round() / 1e6))
        .expect("a number is a valid header")
}

/// Parses `from=SECONDS`: finite and not negative.
pub fn parse_position(s: &str) -> Result<StreamPos, ApiError> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(StreamPos::from_secs(v)),
        _ => Err(ApiError::bad_request(format!(
            "'from' must be a position in seconds, not '{s}'"
        ))),
    }
}

/// The first frame to send: the one containing `from`, else the session's play point.
fn start_cursor(app: &App, handle: &Handle, from: Option<StreamPos>) -> Result<u64, ApiError> {
    let st = handle.shared.lock();
    let play = st.play_pos(app.clock.now());
    let Some(from) = from else {
        return Ok(frame_index(play).clamp(st.ring.tail(), st.ring.head()));
    };
    let idx = frame_index(from);
    if idx < st.ring.tail() {
        return Err(ApiError::gone(format!(
            "position {:.3} s is no longer held (the oldest is {:.3} s)",
            from.secs(),
            frame_pos(st.ring.tail()).secs()
        )));
    }
    let horizon = play + handle.shared.params.lead + crate::units::Frames::from_secs(30.0);
    if from > horizon {
        return Err(ApiError::bad_request(format!(
            "position {:.3} s is too far ahead of the session ({:.3} s)",
            from.secs(),
            play.secs()
        )));
    }
    Ok(idx)
}

/// Counts a listener while its response is open.
struct Listener {
    app: App,
    handle: Arc<Handle>,
}

impl Listener {
    fn new(app: App, handle: Arc<Handle>) -> Listener {
        handle.shared.lock().listeners += 1;
        app.metrics.listeners_total.fetch_add(1, Ordering::Relaxed);
        Listener { app, handle }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let mut st = self.handle.shared.lock();
        st.listeners = st.listeners.saturating_sub(1);
        let _ = &self.app;
    }
}

struct StreamState {
    rx: watch::Receiver<(u64, u64)>,
    generation: u64,
    cursor: u64,
    icy: Option<IcyInterleaver>,
    /// For `.mp4`: fragments sent so far (the init segment goes first).
    mp4: Option<u32>,
    listener: Listener,
}

/// The next piece of the body, waiting for the engine when the listener is at the head. The
/// stream ends on refresh (a new generation) or when the listener fell out of the ring.
async fn next_piece(mut s: StreamState) -> Option<(Result<Bytes, std::io::Error>, StreamState)> {
    loop {
        let (frames, titles) = {
            let shared = &s.listener.handle.shared;
            let st = shared.lock();
            if st.generation != s.generation {
                return None;
            }
            match st.ring.read(s.cursor, BATCH_FRAMES) {
                Err(lag) => {
                    tracing::info!(session = %shared.fingerprint, "dropping a slow listener ({} frames behind)", lag.tail - lag.cursor);
                    s.listener
                        .app
                        .metrics
                        .slow_listener_drops
                        .fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                Ok((frames, _)) if frames.is_empty() => (frames, Vec::new()),
                Ok((frames, _)) => {
                    let titles: Vec<String> = if s.icy.is_some() {
                        let catalog = shared.catalog();
                        (0..frames.len() as u64)
                            .map(|i| {
                                st.track_at(frame_pos(s.cursor + i))
                                    .and_then(|(_, id)| catalog.get(id))
                                    .map(|t| t.display_name())
                                    .unwrap_or_else(|| "Drift".into())
                            })
                            .collect()
                    } else {
                        Vec::new()
                    };
                    (frames, titles)
                }
            }
        };
        if frames.is_empty() {
            if s.rx.changed().await.is_err() {
                return None;
            }
            // A listener at the head holds a lead of audio: gather a few frames per write
            // instead of waking and writing for every 26 ms frame (that was most of the CPU
            // per listener). A refresh is noticed on the next pass, at most this much later.
            tokio::time::sleep(COALESCE).await;
            continue;
        }
        let first = s.cursor;
        s.cursor += frames.len() as u64;
        let mut out = Vec::with_capacity(frames.iter().map(|f| f.len()).sum::<usize>() + 64);
        if let Some(sent) = &mut s.mp4 {
            if *sent == 0 {
                out.extend(crate::audio::fmp4::init_segment());
            }
            *sent += 1;
            let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_ref()).collect();
            out.extend(crate::audio::fmp4::fragment(*sent, first, &refs));
            s.listener
                .app
                .metrics
                .bytes_sent
                .fetch_add(out.len() as u64, Ordering::Relaxed);
            return Some((Ok(Bytes::from(out)), s));
        }
        match &mut s.icy {
            Some(icy) => {
                for (f, title) in frames.iter().zip(&titles) {
                    icy.push(f, title, &mut out);
                }
            }
            None => frames.iter().for_each(|f| out.extend_from_slice(f)),
        }
        s.listener
            .app
            .metrics
            .bytes_sent
            .fetch_add(out.len() as u64, Ordering::Relaxed);
        return Some((Ok(Bytes::from(out)), s));
    }
}
