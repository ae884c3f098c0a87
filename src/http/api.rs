//! Session resources: bootstrap, create, state, skip, refresh, save, and the M3U for players.
use super::admission::ClientKey;
use super::conn::ClientAddr;
use super::error::ApiError;
use super::App;
use crate::station::broadcast::frame_pos;
use crate::station::events::StationEvent;
use crate::station::registry::{Handle, RegistryError};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// Fingerprints are URL-safe base64; anything else cannot name a session.
fn valid_fingerprint(fp: &str) -> bool {
    (1..=64).contains(&fp.len())
        && fp
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn registry_error(app: &App, e: RegistryError) -> ApiError {
    match e {
        RegistryError::Engine(crate::station::engine::EngineError::EmptyLibrary) => {
            ApiError::preparing(&app.library.snapshot())
        }
        RegistryError::Full {
            playing,
            retry_after,
            ..
        } => {
            app.metrics
                .sessions_refused_full
                .fetch_add(1, Ordering::Relaxed);
            ApiError::full(playing, retry_after)
        }
        e => ApiError::internal(e),
    }
}

/// The session named `fp` (`default` names the default session), or a 404.
pub fn session(app: &App, fp: &str) -> Result<Arc<Handle>, ApiError> {
    if fp == "default" {
        return app
            .registry
            .default_session()
            .map_err(|e| registry_error(app, e));
    }
    if !valid_fingerprint(fp) {
        return Err(ApiError::not_found("no such session"));
    }
    app.registry
        .get(fp)
        .map_err(|e| registry_error(app, e))?
        .ok_or_else(|| ApiError::not_found("no such session"))
}

fn describe(app: &App, h: &Handle) -> Value {
    let fp = h.fingerprint();
    let position = h.shared.lock().play_pos(app.clock.now()).secs();
    json!({
        "fingerprint": fp,
        "streamUrl": format!("/stream/{fp}"),
        "fmp4Url": format!("/stream/{fp}.mp4"),
        "eventsUrl": format!("/events/{fp}"),
        "mime": "audio/mpeg",
        "bitrate": app.bitrate,
        "sampleRate": crate::units::SAMPLE_RATE,
        "instanceId": app.instance_id,
        "position": position,
    })
}

#[derive(Deserialize)]
pub struct BootstrapQuery {
    session: Option<String>,
}

pub async fn bootstrap(
    State(app): State<App>,
    Query(q): Query<BootstrapQuery>,
) -> Result<Json<Value>, ApiError> {
    let h = session(&app, q.session.as_deref().unwrap_or("default"))?;
    Ok(Json(describe(&app, &h)))
}

fn owner_cookie(fp: &str) -> String {
    format!("drift_owner_{fp}")
}

/// The owner token the request carries: its cookie, or an `Authorization: Bearer` header.
fn owner_token<'a>(headers: &'a HeaderMap, fp: &str) -> Option<&'a str> {
    let name = owner_cookie(fp);
    let from_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v);
    from_cookie.or_else(|| {
        headers
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")
    })
}

pub(super) fn owned(app: &App, fp: &str, headers: &HeaderMap) -> Result<Arc<Handle>, ApiError> {
    let h = session(app, fp)?;
    if !h.is_owner(owner_token(headers, h.fingerprint())) {
        return Err(ApiError::forbidden());
    }
    Ok(h)
}

/// `POST /api/sessions`: a new session, within the client's share (`--sessions-per-minute`)
/// and the station's capacity (`--max-sessions`).
pub async fn create(
    State(app): State<App>,
    ConnectInfo(client): ConnectInfo<ClientAddr>,
) -> Result<Response, ApiError> {
    let key = ClientKey::of(client.0.ip());
    if let Err(wait) = app.creates.take(key, Instant::now()) {
        app.metrics
            .sessions_rate_limited
            .fetch_add(1, Ordering::Relaxed);
        return Err(ApiError::rate_limited(wait));
    }
    let h = app.registry.create().map_err(|e| {
        // Not created: the client keeps its allowance for when there is a place.
        app.creates.refund(key);
        registry_error(&app, e)
    })?;
    let mut body = describe(&app, &h);
    body["ownerToken"] = json!(h.owner);
    let cookie = format!(
        "{}={}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax",
        owner_cookie(h.fingerprint()),
        h.owner
    );
    let mut r = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

pub async fn state(
    State(app): State<App>,
    Path(fp): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let h = session(&app, &fp)?;
    let (position, now_playing, next) = h.shared.now_and_next();
    let catalog = h.shared.catalog();
    let (listeners, history, ahead) = {
        let st = h.shared.lock();
        let history: Vec<Value> = st
            .timeline
            .iter()
            .filter(|(p, _)| *p <= position)
            .filter_map(|(p, id)| catalog.get(id).map(|t| json!({"position": p.secs(), "id": id, "title": t.tags.title, "artist": t.tags.artist})))
            .collect();
        (
            st.listeners,
            history,
            (frame_pos(st.ring.head()) - position.min(frame_pos(st.ring.head()))).secs(),
        )
    };
    Ok(Json(json!({
        "fingerprint": h.fingerprint(),
        "position": position.secs(),
        "nowPlaying": now_playing,
        "next": next,
        "listeners": listeners,
        "renderedAhead": ahead,
        "history": history,
        "owner": h.is_owner(owner_token(&headers, h.fingerprint())),
        "instanceId": app.instance_id,
    })))
}

pub async fn skip(
    State(app): State<App>,
    Path(fp): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let h = owned(&app, &fp, &headers)?;
    h.skip();
    Ok((StatusCode::ACCEPTED, Json(json!({"status": "skipping"}))).into_response())
}

pub async fn refresh(
    State(app): State<App>,
    Path(fp): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let h = owned(&app, &fp, &headers)?;
    h.shared.publish(StationEvent::Restart {
        reason: "refresh".into(),
        retry_after: 0.5,
    });
    h.shared.end_audio_responses();
    Ok((StatusCode::ACCEPTED, Json(json!({"status": "restarting"}))).into_response())
}

#[derive(Deserialize)]
pub struct SaveQuery {
    seconds: Option<String>,
}

pub async fn save(
    State(app): State<App>,
    Path(fp): Path<String>,
    Query(q): Query<SaveQuery>,
) -> Result<Response, ApiError> {
    let h = session(&app, &fp)?;
    let history = h.shared.params.history.secs();
    let seconds = match q.seconds.as_deref().map(|s| s.trim().parse::<f64>()) {
        None => 60f64.min(history),
        Some(Ok(v)) if v.is_finite() && v > 0.0 && v <= history => v,
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "'seconds' must be a number of seconds between 0 and {history:.0}"
            )))
        }
    };
    let (bytes, names) = {
        let st = h.shared.lock();
        let end = st.play_pos(app.clock.now());
        let (first, frames) = st.ring.last(crate::units::Frames::from_secs(seconds), end);
        let start = frame_pos(first);
        let catalog = h.shared.catalog();
        let mut names: Vec<String> = Vec::new();
        for (p, id) in &st.timeline {
            if *p < end
                && st
                    .timeline
                    .iter()
                    .find(|(q, _)| q > p)
                    .is_none_or(|(q, _)| *q > start)
            {
                if let Some(t) = catalog.get(id) {
                    names.push(t.display_name());
                }
            }
        }
        (frames.concat(), names)
    };
    if bytes.is_empty() {
        return Err(ApiError::not_found(
            "nothing has played in this session yet",
        ));
    }
    let name = file_name(&names);
    let mut r = bytes.into_response();
    let hd = r.headers_mut();
    hd.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/mpeg"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        hd.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// A file name from the tracks in a saved clip, safe for any file system.
fn file_name(names: &[String]) -> String {
    let joined = if names.is_empty() {
        "Drift".to_string()
    } else {
        names.join(" + ")
    };
    let clean: String = joined
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " -_+.,()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    format!("{}.mp3", clean.trim())
}

pub async fn m3u(
    State(app): State<App>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let fp = file
        .strip_suffix(".m3u")
        .ok_or_else(|| ApiError::not_found("playlists are /listen/{session}.m3u"))?;
    let h = session(&app, fp)?;
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1:8000");
    let body = format!(
        "#EXTM3U\n#EXTINF:-1,Drift\nhttp://{host}/stream/{}\n",
        h.fingerprint()
    );
    Ok(([(header::CONTENT_TYPE, "audio/x-mpegurl")], body).into_response())
}
