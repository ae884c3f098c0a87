//! Albums and journeys: `GET /api/albums?query=` (the library's albums), `POST
//! /api/sessions/{fp}/album {album}` (play an album in order from the next track),
//! `POST /api/sessions/{fp}/journey {track, minutes}` (drift to a track in about that many
//! minutes) and `DELETE …/album`, `DELETE …/journey` (cancel: the drift goes on from where it
//! is). Changes are owner only; the answer carries the next track and the plan, as the
//! session's state (`plan`, see [`plan_view`]) shows it.
use super::api::owned;
use super::error::ApiError;
use super::App;
use crate::catalog::albums::{album, albums};
use crate::catalog::Catalog;
use crate::model::TrackId;
use crate::station::events::TrackInfo;
use crate::station::plan_queue::{Plan, PlanReason};
use crate::station::session::{Choice, Session};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// Journey lengths the owner may ask for (minutes).
const MINUTES: std::ops::RangeInclusive<f64> = 1.0..=180.0;
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;

#[derive(Deserialize)]
pub struct AlbumQuery {
    query: Option<String>,
    q: Option<String>,
    limit: Option<String>,
}

/// Every word of the query must appear in the album's title or artist.
pub async fn list(
    State(app): State<App>,
    Query(q): Query<AlbumQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = match q.limit.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_LIMIT,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "'limit' must be a whole number from 1 to {MAX_LIMIT}"
                ))
            })?,
    };
    let words: Vec<String> = q
        .query
        .or(q.q)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let catalog = app.catalog();
    let found: Vec<_> = albums(&catalog)
        .into_iter()
        .filter(|a| {
            let hay = format!("{} {}", a.title, a.artist).to_lowercase();
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .collect();
    let list: Vec<Value> = found
        .iter()
        .take(limit)
        .map(|a| {
            json!({
                "id": a.id,
                "title": a.title,
                "artist": a.artist,
                "tracks": a.tracks.len(),
                "duration": a.duration,
            })
        })
        .collect();
    Ok(Json(json!({ "total": found.len(), "albums": list })))
}

/// The owner's session and the request's JSON object with its non-empty string `field`.
async fn request(
    app: &App,
    fp: &str,
    headers: &HeaderMap,
    bytes: &[u8],
    field: &str,
) -> Result<(std::sync::Arc<Session>, Value, String), ApiError> {
    let h = owned(app, fp, headers).await?;
    let b = serde_json::from_slice::<Value>(bytes)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| ApiError::bad_request("the body must be a JSON object"))?;
    let value = b[field]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request(format!("'{field}' (an id) is required")))?
        .to_string();
    Ok((h, b, value))
}

/// Sends the plan to the engine; answers 202 with the next track and the plan.
async fn apply(app: &App, h: &Session, plan: Option<Plan>) -> Result<Response, ApiError> {
    let next = super::steering::send(app, h, Choice::Plan(plan)).await?;
    let body = json!({ "next": next, "plan": plan_view(&app.catalog(), h) });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

pub async fn play_album(
    State(app): State<App>,
    Path(fp): Path<String>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let (h, _, id) = request(&app, &fp, &headers, &bytes, "album").await?;
    let found = album(&app.catalog(), &id)
        .ok_or_else(|| ApiError::not_found(format!("no album with id '{id}'")))?;
    apply(&app, &h, Some(Plan::album(found.id, found.tracks))).await
}

pub async fn start_journey(
    State(app): State<App>,
    Path(fp): Path<String>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let (h, b, id) = request(&app, &fp, &headers, &bytes, "track").await?;
    let minutes = b["minutes"]
        .as_f64()
        .filter(|m| MINUTES.contains(m))
        .ok_or_else(|| {
            ApiError::bad_request("'minutes' must be a number of minutes from 1 to 180")
        })?;
    let catalog = app.catalog();
    let dest = TrackId(id.clone());
    let index = catalog
        .index_of(&dest)
        .ok_or_else(|| ApiError::not_found(format!("no track with id '{id}'")))?;
    if catalog.tracks()[index].analysis.features.is_none() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_analysed",
            "this track's sound is not analysed yet: no path through the library leads to it",
        ));
    }
    if app.catalog.marks.get(&dest).banned_at.is_some() {
        return Err(ApiError::banned("drift to it"));
    }
    if h.heard().0.as_ref() == Some(&dest) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_there",
            "this track is playing now",
        ));
    }
    apply(&app, &h, Some(Plan::journey(dest, minutes))).await
}

/// `DELETE …/album` and `DELETE …/journey`: 409 when the session is not playing one.
async fn cancel(
    app: &App,
    fp: &str,
    headers: &HeaderMap,
    journey: bool,
) -> Result<Response, ApiError> {
    let h = owned(app, fp, headers).await?;
    let playing = h
        .plan()
        .is_some_and(|(p, _)| matches!(p.reason, PlanReason::Journey { .. }) == journey);
    if !playing {
        let what = if journey { "journey" } else { "album" };
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "nothing_to_cancel",
            format!("the session is not on a {what}"),
        ));
    }
    apply(app, &h, None).await
}

pub async fn cancel_journey(
    State(app): State<App>,
    Path(fp): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    cancel(&app, &fp, &headers, true).await
}

pub async fn cancel_album(
    State(app): State<App>,
    Path(fp): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    cancel(&app, &fp, &headers, false).await
}

/// The session's album or journey for its state: `kind` ("album" or "journey"), `left`
/// (planned tracks not yet audible), `path` (those tracks, in order), and the album (`album`:
/// id, title, artist) or the journey's `destination` and `minutes`. Null without one.
pub fn plan_view(catalog: &Catalog, h: &Session) -> Value {
    let Some((plan, left)) = h.plan() else {
        return Value::Null;
    };
    let info = |id: &TrackId| catalog.get(id).map(|t| TrackInfo::new(t, None));
    let path: Vec<TrackInfo> = plan.tracks[plan.tracks.len() - left.min(plan.tracks.len())..]
        .iter()
        .filter_map(info)
        .collect();
    match &plan.reason {
        PlanReason::Album { id } => {
            let first = plan.tracks.first().and_then(|t| catalog.get(t));
            json!({
                "kind": "album",
                "album": {
                    "id": id,
                    "title": first.map(|t| t.tags.album.clone()),
                    "artist": first.map(|t| t.album_artist().to_string()),
                },
                "left": left,
                "path": path,
            })
        }
        PlanReason::Journey {
            destination,
            minutes,
        } => json!({
            "kind": "journey",
            "destination": info(destination),
            "minutes": minutes,
            "left": left,
            "path": path,
        }),
    }
}
