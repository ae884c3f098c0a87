//! Steering a session: `GET /api/sessions/{fp}/directions` (where the music can go from the
//! current track, with preview tracks), `POST …/steer {direction}` and `POST …/next {trackId}`
//! (owner only; the answer carries the new next track, so the page updates at once).
use super::api::{owned, session};
use super::error::ApiError;
use super::App;
use crate::catalog::Catalog;
use crate::model::TrackId;
use crate::station::directions::{candidates, Direction};
use crate::station::events::TrackInfo;
use crate::station::session::{Choice, Session};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

/// Preview tracks listed per direction.
const PREVIEWS: usize = 3;

/// The session's current track (a session handed out by the registry has placed its first
/// track, so there is one), and the catalog indices steering must not offer: what it played or
/// will play soon, and banned tracks (the walk never picks them either).
fn context(app: &App, h: &Session, catalog: &Catalog) -> (Option<usize>, HashSet<usize>) {
    let (current, heard) = h.heard();
    let current = current.and_then(|id| catalog.index_of(&id));
    let banned = app.catalog.marks.prefs();
    let excluded = heard
        .iter()
        .chain(banned.banned.iter())
        .filter_map(|id| catalog.index_of(id))
        .collect();
    (current, excluded)
}

fn info(catalog: &Catalog, index: usize) -> TrackInfo {
    TrackInfo::new(&catalog.tracks()[index], None)
}

pub async fn directions(
    State(app): State<App>,
    Path(fp): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let h = session(&app, &fp).await?;
    let catalog = app.catalog();
    let (current, heard) = context(&app, &h, &catalog);
    let list = tokio::task::spawn_blocking({
        let catalog = catalog.clone();
        move || {
            let space = catalog.space();
            let Some(from) = current else {
                return Vec::new();
            };
            Direction::ALL
                .into_iter()
                .filter_map(|d| {
                    let found = candidates(space, from, d, &heard, PREVIEWS);
                    (!found.is_empty()).then(|| {
                        json!({
                            "name": d.name(),
                            "description": d.description(),
                            "preview": found.iter().map(|&i| info(&catalog, i)).collect::<Vec<_>>(),
                        })
                    })
                })
                .collect::<Vec<Value>>()
        }
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(json!({
        "current": current.map(|i| info(&catalog, i)),
        "next": h.now_and_next().next,
        "directions": list,
    })))
}

#[derive(Deserialize)]
pub struct SteerBody {
    direction: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NextBody {
    track_id: Option<String>,
}

/// Sends the choice to the engine; the next track it then plans.
pub(super) async fn send(
    app: &App,
    h: &Session,
    choice: Choice,
) -> Result<Option<TrackInfo>, ApiError> {
    let reply = h.steer(choice);
    let next = match tokio::time::timeout(Duration::from_secs(5), reply).await {
        Ok(Ok(next)) => next,
        _ => return Err(ApiError::unavailable("the session's engine did not answer")),
    };
    let catalog = app.catalog();
    Ok(next.and_then(|id| catalog.get(&id).map(|t| TrackInfo::new(t, None))))
}

/// Sends the choice to the engine and answers with the next track it planned.
async fn apply(app: &App, h: &Session, choice: Choice) -> Result<Response, ApiError> {
    let next = send(app, h, choice).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "next": next }))).into_response())
}

fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the body must be JSON: {e}")))
}

pub async fn steer(
    State(app): State<App>,
    Path(fp): Path<String>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let h = owned(&app, &fp, &headers).await?;
    let b: SteerBody = body(&bytes)?;
    let names: Vec<&str> = Direction::ALL.iter().map(|d| d.name()).collect();
    let dir = b
        .direction
        .as_deref()
        .and_then(Direction::parse)
        .ok_or_else(|| {
            ApiError::bad_request(format!("'direction' must be one of: {}", names.join(", ")))
        })?;
    let catalog = app.catalog();
    let (current, heard) = context(&app, &h, &catalog);
    // The first use of a catalog snapshot builds its feature space: not on an async worker.
    let possible = tokio::task::spawn_blocking(move || {
        current.is_some_and(|from| !candidates(catalog.space(), from, dir, &heard, 1).is_empty())
    })
    .await
    .map_err(ApiError::internal)?;
    if !possible {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_candidates",
            format!("no track in this library lies '{}' from here", dir.name()),
        ));
    }
    apply(&app, &h, Choice::Direction(dir)).await
}

pub async fn next(
    State(app): State<App>,
    Path(fp): Path<String>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let h = owned(&app, &fp, &headers).await?;
    let b: NextBody = body(&bytes)?;
    let id = b
        .track_id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("'trackId' is required"))?;
    let id = TrackId(id);
    if app.catalog().get(&id).is_none() {
        return Err(ApiError::not_found(format!("no track with id '{id}'")));
    }
    if app.catalog.marks.get(&id).banned_at.is_some() {
        return Err(ApiError::banned("play it"));
    }
    apply(&app, &h, Choice::Track(id)).await
}
