//! Track resources: `GET /api/tracks?query=&limit=` (search the library by title, artist,
//! album or file name, with each track's analysed features) and `GET /api/tracks/{id}/cover`
//! (the cover art embedded in the file, read on demand with lofty).
use super::error::ApiError;
use super::App;
use crate::model::TrackId;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn cover(State(app): State<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::not_found("no such track"));
    }
    let path = app
        .catalog()
        .get(&TrackId(id))
        .map(|t| t.path.clone())
        .ok_or_else(|| ApiError::not_found("no such track"))?;
    let art = tokio::task::spawn_blocking(move || crate::library::tags::cover_art(&path))
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("this track has no cover art"))?;
    let (mime, bytes) = art;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    let mime = HeaderValue::from_str(&mime).unwrap_or(HeaderValue::from_static("image/jpeg"));
    h.insert(header::CONTENT_TYPE, mime);
    // A track id is a content hash: its art never changes.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400, immutable"),
    );
    Ok(r)
}

#[derive(Deserialize)]
pub struct SearchQuery {
    query: Option<String>,
    limit: Option<String>,
}

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;

/// Every word of the query must appear in the title, artist, album or file name.
pub async fn search(
    State(app): State<App>,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = match q.limit.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_LIMIT,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "'limit' must be a whole number from 1 to {MAX_LIMIT}"
                )))
            }
        },
    };
    let words: Vec<String> = q
        .query
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let catalog = app.catalog();
    let mut total = 0;
    let mut tracks = Vec::new();
    for t in catalog.tracks() {
        let file = t
            .path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let hay = format!(
            "{} {} {} {}",
            t.tags.title, t.tags.artist, t.tags.album, file
        )
        .to_lowercase();
        if !words.iter().all(|w| hay.contains(w.as_str())) {
            continue;
        }
        total += 1;
        if tracks.len() < limit {
            let features = t.analysis.features.as_ref().map(|f| {
                let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
                v["keyName"] = json!(f.key_name());
                v
            });
            let mut track = json!({
                "id": t.id,
                "title": t.tags.title,
                "artist": t.tags.artist,
                "album": t.tags.album,
                "file": file,
                "duration": t.analysis.playable().secs(),
                "loudness": t.analysis.loudness.0,
                "loudnessRange": t.analysis.loudness_range,
                "features": features,
            });
            super::marks::add_marks(&app, &mut track);
            tracks.push(track);
        }
    }
    Ok(Json(json!({ "total": total, "tracks": tracks })))
}
