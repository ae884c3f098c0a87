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

/// The event id in a `Last-Event-ID` header: a decimal `u64` (what `sse` writes), spaces
/// around it allowed. Anything else is no id at all: the client then gets `hello` and live
/// events, as on a first connection.
pub fn parse_last_event_id(header: &str) -> Option<u64> {
    header.trim().parse().ok()
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
        .and_then(parse_last_event_id);
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

#[cfg(test)]
mod tests {
    use super::parse_last_event_id;
    use crate::fuzz::{check, random_bytes};
    use rand::Rng;

    #[test]
    fn last_event_id_reads_what_the_server_writes_and_nothing_else() {
        assert_eq!(parse_last_event_id(" 42 "), Some(42));
        assert_eq!(parse_last_event_id(&u64::MAX.to_string()), Some(u64::MAX));
        for bad in [
            "",
            "-1",
            "1.5",
            "18446744073709551616",
            "abc",
            "0x10",
            "1 2",
        ] {
            assert_eq!(parse_last_event_id(bad), None, "{bad}");
        }
        check("last-event-id", 2000, |rng| {
            let n: u64 = rng.gen();
            assert_eq!(parse_last_event_id(&n.to_string()), Some(n));
            let text = String::from_utf8_lossy(&random_bytes(rng, 24)).into_owned();
            if let Some(id) = parse_last_event_id(&text) {
                assert_eq!(text.trim().trim_start_matches('+').parse::<u64>(), Ok(id));
            }
        });
    }
}
