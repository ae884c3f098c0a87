//! Session resources: bootstrap, create, state, skip, refresh, save, and the M3U for players.
use super::admission::ClientKey;
use super::error::ApiError;
use super::App;
use crate::station::registry::RegistryError;
use crate::station::session::Session;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
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
    if e.is_empty_library() {
        return ApiError::preparing(&app.library.snapshot());
    }
    if let RegistryError::Full {
        playing,
        retry_after,
        ..
    } = e
    {
        app.metrics
            .sessions_refused_full
            .fetch_add(1, Ordering::Relaxed);
        return ApiError::full(playing, retry_after);
    }
    if let RegistryError::Store(e) = &e {
        if e.is_disk_full() {
            return ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "disk_full",
                "the server's disk is full: a new session cannot be saved until space is freed \
                 (sessions already playing go on)",
            );
        }
    }
    ApiError::internal(e)
}

/// The session named `fp` (`default` names the default session), or a 404. A running session
/// is found at once; finding a parked or saved one reads the store and starts its engine, which
/// is done off the async workers.
pub async fn session(app: &App, fp: &str) -> Result<Arc<Session>, ApiError> {
    if fp != "default" && !valid_fingerprint(fp) {
        return Err(ApiError::not_found("no such session"));
    }
    if let Some(s) = app.registry.find_running(fp) {
        return Ok(s);
    }
    let (a, name) = (app.clone(), fp.to_string());
    let found = tokio::task::spawn_blocking(move || match name.as_str() {
        "default" => a.registry.default_session().map(Some),
        fp => a.registry.get(fp),
    })
    .await
    .map_err(ApiError::internal)?;
    found
        .map_err(|e| registry_error(app, e))?
        .ok_or_else(|| ApiError::not_found("no such session"))
}

fn describe(app: &App, h: &Session) -> Value {
    let fp = h.fingerprint();
    json!({
        "fingerprint": fp,
        "streamUrl": format!("/stream/{fp}"),
        "fmp4Url": format!("/stream/{fp}.mp4"),
        "eventsUrl": format!("/events/{fp}"),
        "mime": "audio/mpeg",
        "bitrate": app.bitrate,
        "opusBitrate": app.opus_bitrate,
        "streams": [
            {"codec": "mp3", "container": "mpeg", "url": format!("/stream/{fp}"), "mime": "audio/mpeg"},
            {"codec": "mp3", "container": "mp4", "url": format!("/stream/{fp}.mp4"), "mime": "audio/mp4; codecs=\"mp3\""},
            {"codec": "opus", "container": "ogg", "url": format!("/stream/{fp}.opus"), "mime": "audio/ogg; codecs=opus"},
            {"codec": "opus", "container": "mp4", "url": format!("/stream/{fp}.opus.mp4"), "mime": "audio/mp4; codecs=\"opus\""},
        ],
        "sampleRate": crate::units::SAMPLE_RATE,
        "instanceId": app.instance_id,
        "position": h.position().secs(),
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
    let h = session(&app, q.session.as_deref().unwrap_or("default")).await?;
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

pub(super) async fn owned(
    app: &App,
    fp: &str,
    headers: &HeaderMap,
) -> Result<Arc<Session>, ApiError> {
    let h = session(app, fp).await?;
    if !h.is_owner(owner_token(headers, h.fingerprint())) {
        return Err(ApiError::forbidden());
    }
    Ok(h)
}

/// `POST /api/sessions`: a new session, within the client's share (`--sessions-per-minute`)
/// and the station's capacity (`--max-sessions`).
pub async fn create(
    State(app): State<App>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
) -> Result<Response, ApiError> {
    let key = ClientKey::of(client.ip());
    if let Err(wait) = app.creates.take(key, Instant::now()) {
        app.metrics
            .sessions_rate_limited
            .fetch_add(1, Ordering::Relaxed);
        return Err(ApiError::rate_limited(wait));
    }
    let a = app.clone();
    let created = tokio::task::spawn_blocking(move || a.registry.create())
        .await
        .map_err(ApiError::internal)?;
    let h = created.map_err(|e| {
        // Not created: the client keeps its allowance for when there is a place.
        app.creates.refund(key);
        registry_error(&app, e)
    })?;
    let mut body = describe(&app, &h);
    body["ownerToken"] = json!(h.owner_token());
    let cookie = format!(
        "{}={}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax",
        owner_cookie(h.fingerprint()),
        h.owner_token()
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
    let h = session(&app, &fp).await?;
    let o = h.overview();
    let history: Vec<Value> = o
        .history
        .iter()
        .map(|t| json!({"position": t.start, "id": t.id, "title": t.title, "artist": t.artist}))
        .collect();
    let (mut now_playing, mut next) = (json!(o.now.now_playing), json!(o.now.next));
    super::marks::add_marks(&app, &mut now_playing);
    super::marks::add_marks(&app, &mut next);
    Ok(Json(json!({
        "fingerprint": h.fingerprint(),
        "position": o.now.position.secs(),
        "nowPlaying": now_playing,
        "next": next,
        "listeners": o.listeners,
        "renderedAhead": o.rendered_ahead.secs(),
        "history": history,
        "owner": h.is_owner(owner_token(&headers, h.fingerprint())),
        "instanceId": app.instance_id,
        "plan": super::journey::plan_view(&app.catalog(), &h),
    })))
}

pub async fn skip(
    State(app): State<App>,
    Path(fp): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let h = owned(&app, &fp, &headers).await?;
    if let Some(now) = h.now_and_next().now_playing {
        app.catalog.marks.skipped(&now.track.id);
    }
    h.skip();
    Ok((StatusCode::ACCEPTED, Json(json!({"status": "skipping"}))).into_response())
}

pub async fn refresh(
    State(app): State<App>,
    Path(fp): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let h = owned(&app, &fp, &headers).await?;
    h.restart_listeners("refresh", 0.5);
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
    let h = session(&app, &fp).await?;
    let history = h.history_limit().secs();
    let seconds = match q.seconds.as_deref().map(|s| s.trim().parse::<f64>()) {
        None => 60f64.min(history),
        Some(Ok(v)) if v.is_finite() && v > 0.0 && v <= history => v,
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "'seconds' must be a number of seconds between 0 and {history:.0}"
            )))
        }
    };
    let clip = h
        .clip(crate::units::Frames::from_secs(seconds))
        .ok_or_else(|| ApiError::not_found("nothing has played in this session yet"))?;
    // The frames are the ring's own: sent as they are, never copied into one buffer.
    let length: usize = clip.frames.iter().map(|f| f.len()).sum();
    let body = axum::body::Body::from_stream(futures_util::stream::iter(
        clip.frames.into_iter().map(Ok::<_, std::io::Error>),
    ));
    let mut r = body.into_response();
    let hd = r.headers_mut();
    hd.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/mpeg"));
    hd.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    let disposition = format!("attachment; filename=\"{}\"", clip.file_name);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        hd.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

pub async fn m3u(
    State(app): State<App>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let fp = file
        .strip_suffix(".m3u")
        .ok_or_else(|| ApiError::not_found("playlists are /listen/{session}.m3u"))?;
    let h = session(&app, fp).await?;
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
