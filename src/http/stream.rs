//! `GET /stream/{fp}`: the endless MP3 stream of a session, from its play point (or from
//! `?from=SECONDS`), with ICY metadata when asked; `GET /stream/{fp}.mp4`: the same frames as
//! fragmented MP4 (for Firefox's MediaSource), each fragment timed by its first frame's absolute
//! stream position. A listener is a cursor into the session's ring and a framing: the pump
//! below turns them into pieces to write, sharing the ring's frames.
use super::error::ApiError;
use super::App;
use crate::framing::{icy, Framing};
use crate::station::session::{Codec, ListenEnd, ListenError, Listener, OGG_PREROLL};
use crate::units::StreamPos;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use std::sync::atomic::Ordering;

#[derive(Deserialize)]
pub struct StreamQuery {
    from: Option<String>,
}

/// Frames taken per write at most (a listener at the head gets ~8 per wake; a new listener's
/// lead goes out in writes of this many). Each listener keeps room for this many.
const BATCH_FRAMES: usize = 16;

/// A listener and how its frames are framed: what one open stream response is.
pub struct Pump {
    listener: Listener,
    framing: Framing,
    app: App,
    /// Reused between writes, so a listener does not allocate per write.
    frames: Vec<Bytes>,
}

impl Pump {
    /// The next pieces to write (appended to `out`), waiting while the listener is at the
    /// head. An error ends the stream.
    pub async fn next(&mut self, out: &mut Vec<Bytes>) -> Result<(), ListenEnd> {
        loop {
            match self.listener.take(BATCH_FRAMES, &mut self.frames) {
                Ok(0) => self.listener.changed().await?,
                Ok(_) => break,
                Err(end) => {
                    if matches!(end, ListenEnd::Lagged { .. }) {
                        let drops = &self.app.metrics.slow_listener_drops;
                        drops.fetch_add(1, Ordering::Relaxed);
                    }
                    return Err(end);
                }
            }
        }
        let first = self.listener.cursor() - self.frames.len() as u64;
        let listener = &self.listener;
        let before = out.len();
        self.framing
            .wrap(first, &self.frames, &mut |i| listener.tags_at(i), out);
        self.frames.clear();
        let bytes: usize = out[before..].iter().map(|b| b.len()).sum();
        let metrics = &self.app.metrics;
        metrics
            .bytes_sent
            .fetch_add(bytes as u64, Ordering::Relaxed);
        if self.listener.codec() == Codec::Opus {
            let opus = &metrics.opus_bytes_sent;
            opus.fetch_add(bytes as u64, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// The stream a file name under `/stream/` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `{fp}`: MP3 (with ICY metadata when asked).
    Mp3,
    /// `{fp}.mp4`: MP3 in fragmented MP4.
    Mp3Mp4,
    /// `{fp}.opus`: Ogg Opus.
    Ogg,
    /// `{fp}.opus.mp4`: Opus in fragmented MP4.
    OpusMp4,
}

impl Kind {
    /// The session's fingerprint and the stream asked for.
    fn of(file: &str) -> (&str, Kind) {
        if let Some(fp) = file.strip_suffix(".opus.mp4") {
            (fp, Kind::OpusMp4)
        } else if let Some(fp) = file.strip_suffix(".opus") {
            (fp, Kind::Ogg)
        } else if let Some(fp) = file.strip_suffix(".mp4") {
            (fp, Kind::Mp3Mp4)
        } else {
            (file, Kind::Mp3)
        }
    }
}

/// What a stream request asks for, once it is known to be servable.
pub struct Opened {
    pub pump: Pump,
    /// An Opus stream (`.opus`, `.opus.mp4`).
    pub opus: bool,
    pub opus_bitrate: u32,
    pub content_type: &'static str,
    pub start: StreamPos,
    pub icy: bool,
}

/// Opens a listener for `GET /stream/{file}` with these query and headers.
pub async fn open(
    app: &App,
    file: &str,
    from: Option<&str>,
    icy_asked: bool,
) -> Result<Opened, ApiError> {
    let (fp, kind) = Kind::of(file);
    let session = super::api::session(app, fp).await?;
    let from = from.map(parse_position).transpose()?;
    let listener = match kind {
        Kind::Mp3 | Kind::Mp3Mp4 => session.listen(from),
        Kind::Ogg => session.listen_opus(from, OGG_PREROLL),
        Kind::OpusMp4 => session.listen_opus(from, 0),
    };
    let listener = listener.map_err(|e| match e {
        ListenError::Gone { .. } => ApiError::gone(e.to_string()),
        ListenError::TooFarAhead { .. } => ApiError::bad_request(e.to_string()),
    })?;
    app.metrics.listeners_total.fetch_add(1, Ordering::Relaxed);
    let icy = icy_asked && kind == Kind::Mp3;
    let framing = match kind {
        Kind::Mp3 => Framing::mp3(icy),
        Kind::Mp3Mp4 => Framing::fmp4(),
        Kind::Ogg => Framing::ogg(listener.preroll()),
        Kind::OpusMp4 => Framing::fmp4_opus(),
    };
    Ok(Opened {
        opus: matches!(kind, Kind::Ogg | Kind::OpusMp4),
        opus_bitrate: app.opus_bitrate,
        content_type: framing.content_type(),
        start: listener.start(),
        icy,
        pump: Pump {
            listener,
            framing,
            app: app.clone(),
            frames: Vec::with_capacity(BATCH_FRAMES),
        },
    })
}

/// Whether the request asks for ICY metadata (`Icy-MetaData: 1`).
pub fn wants_icy(value: Option<&[u8]>) -> bool {
    value.is_some_and(|v| v.trim_ascii() == b"1")
}

/// The response headers of a stream, as (name, value) pairs.
pub fn stream_headers(o: &Opened, bitrate: u16) -> Vec<(&'static str, String)> {
    let mut h: Vec<(&'static str, String)> = vec![
        ("content-type", o.content_type.to_string()),
        ("cache-control", "no-store".into()),
        ("x-content-type-options", "nosniff".into()),
        ("x-drift-position", num(o.start.secs())),
        ("icy-name", "Drift".into()),
        ("icy-br", bitrate.to_string()),
    ];
    if o.opus {
        // Opus streams carry their titles inside (Ogg comments, fMP4 `emsg`); icy-br is the
        // Opus bitrate.
        h[5].1 = o.opus_bitrate.to_string();
    }
    if o.icy {
        h.push(("icy-metaint", icy::METAINT.to_string()));
    }
    h
}

pub async fn stream(
    State(app): State<App>,
    Path(file): Path<String>,
    Query(q): Query<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let icy = wants_icy(headers.get("icy-metadata").map(|v| v.as_bytes()));
    let opened = open(&app, &file, q.from.as_deref(), icy).await?;
    let fields = stream_headers(&opened, app.bitrate);
    let pieces = futures_util::stream::unfold(
        (opened.pump, Vec::new()),
        |(mut pump, mut pending): (Pump, Vec<Bytes>)| async move {
            if pending.is_empty() {
                pump.next(&mut pending).await.ok()?;
                pending.reverse();
            }
            let piece = pending.pop()?;
            Some((Ok::<_, std::io::Error>(piece), (pump, pending)))
        },
    );
    let mut r = Response::new(Body::from_stream(pieces));
    for (name, value) in fields {
        if let Ok(v) = HeaderValue::from_str(&value) {
            r.headers_mut().insert(name, v);
        }
    }
    Ok(r)
}

fn num(v: f64) -> String {
    format!("{}", (v * 1e6).round() / 1e6)
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

#[cfg(test)]
mod tests {
    use super::parse_position;
    use crate::fuzz::{check, random_bytes};
    use crate::units::StreamPos;
    use rand::Rng;

    #[test]
    fn from_is_a_finite_non_negative_position_or_a_bad_request() {
        assert_eq!(parse_position(" 1.5 ").unwrap(), StreamPos::from_secs(1.5));
        for bad in ["", "-1", "NaN", "inf", "-inf", "1,5", "abc"] {
            assert!(parse_position(bad).is_err(), "{bad}");
        }
        // Absurd but finite: a position far past any session, refused later as too far ahead.
        assert_eq!(parse_position("1e308").unwrap().frames(), u64::MAX);
        check("from=", 2000, |rng| {
            let secs = rng.gen_range(0.0..1e7);
            let text = format!("{:.6}", secs);
            let want = StreamPos::from_secs(text.parse().unwrap());
            assert_eq!(parse_position(&text).unwrap(), want);
            let text = String::from_utf8_lossy(&random_bytes(rng, 24)).into_owned();
            if let Ok(pos) = parse_position(&text) {
                let v: f64 = text.trim().parse().unwrap();
                assert!(v.is_finite() && v >= 0.0 && pos == StreamPos::from_secs(v));
            }
        });
    }
}
