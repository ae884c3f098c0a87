//! Love and ban: `POST /api/sessions/{fp}/love` and `/ban` (the owner's, for the session's
//! current track or a named one), `GET /api/bans` (the undo list) and `DELETE /api/bans/{track}`
//! (unban). Marks are library-wide; every session's walk reads them at its next pick, and a
//! session playing a track that is banned skips it (see `session::runner`).
use super::api::owned;
use super::error::ApiError;
use super::App;
use crate::model::{Mark, TrackId};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// A track's counts and marks as every track JSON shows them (`marks`).
pub fn marks_json(m: &Mark) -> Value {
    json!({
        "loved": m.loved,
        "banned": m.banned(),
        "plays": m.plays,
        "skips": m.skips,
        "loves": m.loves,
    })
}

/// Adds `marks` to a track JSON object that has an `id` (nothing otherwise).
pub fn add_marks(app: &App, track: &mut Value) {
    let Some(id) = track.get("id").and_then(Value::as_str) else {
        return;
    };
    let mark = app.catalog.marks.get(&TrackId(id.to_string()));
    track["marks"] = marks_json(&mark);
}

/// The body of love and ban: both fields optional, and so is the body itself.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkBody {
    /// The track (default: the session's current one).
    track: Option<String>,
    /// Love: `true` (the default) loves, `false` takes the love back. Not for ban.
    loved: Option<bool>,
}

fn parse_body(body: &Bytes) -> Result<MarkBody, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(MarkBody::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be JSON like {{\"track\": \"<id>\"}} (both fields optional): {e}"
        ))
    })
}

/// The track named in the body, or the one the session plays now; 404 when unknown.
async fn target(
    app: &App,
    fp: &str,
    headers: &HeaderMap,
    body: &MarkBody,
) -> Result<TrackId, ApiError> {
    let h = owned(app, fp, headers).await?;
    let id = match &body.track {
        Some(id) => TrackId(id.clone()),
        None => h
            .now_and_next()
            .now_playing
            .map(|n| n.track.id)
            .ok_or_else(|| ApiError::not_found("nothing is playing in this session yet"))?,
    };
    if app.catalog().get(&id).is_none() {
        return Err(ApiError::not_found("no such track"));
    }
    Ok(id)
}

fn answer(app: &App, id: &TrackId, mark: &Mark) -> Json<Value> {
    let mut track = json!({ "id": id });
    if let Some(t) = app.catalog().get(id) {
        track = json!({ "id": id, "title": t.tags.title, "artist": t.tags.artist,
                        "album": t.tags.album });
    }
    track["marks"] = marks_json(mark);
    Json(json!({ "track": track, "bannedAt": mark.banned_at }))
}

/// What a love or ban request asks: `Love(loved)` or `Ban`.
enum Ask {
    Love(bool),
    Ban,
}

/// Love or ban for the owner of session `fp`: the body's track (default: the current one).
async fn mark(
    app: App,
    fp: &str,
    headers: &HeaderMap,
    body: &Bytes,
    ban: bool,
) -> Result<Json<Value>, ApiError> {
    let body = parse_body(body)?;
    let ask = match (ban, body.loved) {
        (true, Some(_)) => return Err(ApiError::bad_request("'loved' is for /love, not /ban")),
        (true, None) => Ask::Ban,
        (false, loved) => Ask::Love(loved.unwrap_or(true)),
    };
    let id = target(&app, fp, headers, &body).await?;
    let (a, i) = (app.clone(), id.clone());
    let now = unix_ms();
    let changed = tokio::task::spawn_blocking(move || match ask {
        Ask::Love(loved) => a.catalog.marks.love(&i, loved),
        Ask::Ban => a.catalog.marks.ban(&i, now),
    });
    let mark = changed.await.map_err(ApiError::internal)?;
    Ok(answer(&app, &id, &mark))
}

/// `POST /api/sessions/{fp}/love`: `{"track"?: id, "loved"?: bool}`; `loved` defaults to true
/// (so repeating it is harmless); `false` takes the love back.
pub async fn love(
    State(app): State<App>,
    Path(fp): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    mark(app, &fp, &headers, &body, false).await
}

/// `POST /api/sessions/{fp}/ban`: `{"track"?: id}`. The track never plays again in any
/// session (until unbanned); playing now, it is skipped; planned next, it is replaced.
pub async fn ban(
    State(app): State<App>,
    Path(fp): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    mark(app, &fp, &headers, &body, true).await
}

/// `GET /api/bans`: banned tracks, the latest first, with when (ms since the UNIX epoch).
pub async fn bans(State(app): State<App>) -> Json<Value> {
    let catalog = app.catalog();
    let bans: Vec<Value> = app
        .catalog
        .marks
        .banned()
        .into_iter()
        .map(|(id, at)| {
            let t = catalog.get(&id);
            json!({
                "id": id,
                "title": t.map(|t| t.tags.title.clone()),
                "artist": t.map(|t| t.tags.artist.clone()),
                "album": t.map(|t| t.tags.album.clone()),
                "bannedAt": at,
            })
        })
        .collect();
    Json(json!({ "bans": bans }))
}

/// `DELETE /api/bans/{track}`: lifts a ban (404 when the track is not banned).
pub async fn unban(
    State(app): State<App>,
    Path(track): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = TrackId(track);
    let (a, i) = (app.clone(), id.clone());
    let mark = tokio::task::spawn_blocking(move || a.catalog.marks.unban(&i))
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("this track is not banned"))?;
    Ok(answer(&app, &id, &mark))
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
