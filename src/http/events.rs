//! `GET /events/{fp}`: server-sent events. `hello` first, then what was missed since
//! `Last-Event-ID` (while the log still has it), then live events; keep-alive comments between.
use super::error::ApiError;
use super::App;
use crate::station::events::StationEvent;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

fn sse(id: Option<u64>, e: &StationEvent) -> Event {
    let ev = Event::default()
        .event(e.name())
        .data(serde_json::to_string(e).unwrap_or_default());
    match id {
        Some(id) => ev.id(id.to_string()),
        None => ev,
    }
}

pub async fn events(
    State(app): State<App>,
    Path(fp): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let session = super::api::session(&app, &fp).await?;
    app.metrics.events_clients.fetch_add(1, Ordering::Relaxed);
    let last_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let sub = session.subscribe(last_id);
    let now = session.now_and_next();
    let hello = StationEvent::Hello {
        instance_id: app.instance_id.clone(),
        fingerprint: session.fingerprint().to_string(),
        position: now.position.secs(),
        now_playing: now.now_playing,
        next: now.next,
    };
    let mut first = vec![sse(None, &hello)];
    first.extend(sub.missed.iter().map(|(id, e)| sse(Some(*id), e)));
    let (rx, seen) = (sub.live, sub.seen);
    let live = stream::unfold((rx, seen), |(mut rx, seen)| async move {
        loop {
            match rx.recv().await {
                Ok((id, _)) if id <= seen => continue,
                Ok((id, e)) => return Some((sse(Some(id), &e), (rx, seen))),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    let all = stream::iter(first).chain(live).map(Ok);
    Ok(Sse::new(all).keep_alive(KeepAlive::new().interval(Duration::from_secs(10))))
}
