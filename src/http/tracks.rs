//! Track resources: `GET /api/tracks/{id}/cover`, the cover art embedded in a track's file
//! (read on demand with lofty), so the page and `mediaSession` can show it.
use super::error::ApiError;
use super::App;
use crate::library::TrackId;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

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
