//! What a session tells its listeners: the one source of SSE payloads (serde, tagged by type).
//! Every event carries the stream position it refers to, in seconds, so a client acts when its
//! audio reaches that point rather than when the message arrives.
use crate::model::{Track, TrackId};
use serde::Serialize;

/// A track as listeners see it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackInfo {
    pub id: TrackId,
    pub title: String,
    pub artist: String,
    pub album: String,
    /// Audible length in seconds (cue-in to cue-out).
    pub duration: f64,
    /// Stream position (s) at which it becomes audible, when it is placed in this stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
}

impl TrackInfo {
    pub fn new(track: &Track, start: Option<f64>) -> TrackInfo {
        TrackInfo {
            id: track.id.clone(),
            title: track.tags.title.clone(),
            artist: track.tags.artist.clone(),
            album: track.tags.album.clone(),
            duration: track.analysis.playable().secs(),
            start,
        }
    }
}

/// Now playing, with how far into it the session's play point is.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NowPlaying {
    #[serde(flatten)]
    pub track: TrackInfo,
    pub elapsed: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum StationEvent {
    /// First message on every events connection.
    #[serde(rename_all = "camelCase")]
    Hello {
        instance_id: String,
        fingerprint: String,
        position: f64,
        now_playing: Option<NowPlaying>,
        next: Option<TrackInfo>,
    },
    /// At least every two seconds.
    #[serde(rename_all = "camelCase")]
    Heartbeat {
        position: f64,
        now_playing: Option<NowPlaying>,
        next: Option<TrackInfo>,
        listeners: usize,
    },
    /// A new track becomes audible at `position`.
    Track { position: f64, track: TrackInfo },
    /// The audio from `position` on was re-rendered (skip, steer): replace buffered audio.
    Splice { position: f64, reason: String },
    /// Audio connections are about to end; reconnect after `retry_after` seconds.
    #[serde(rename_all = "camelCase")]
    Restart { reason: String, retry_after: f64 },
}

impl StationEvent {
    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            StationEvent::Hello { .. } => "hello",
            StationEvent::Heartbeat { .. } => "heartbeat",
            StationEvent::Track { .. } => "track",
            StationEvent::Splice { .. } => "splice",
            StationEvent::Restart { .. } => "restart",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_tagged_with_camel_case_fields() {
        let e = StationEvent::Restart {
            reason: "refresh".into(),
            retry_after: 0.5,
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], "restart");
        assert_eq!(v["retryAfter"], 0.5);
        assert_eq!(e.name(), "restart");
        let s = StationEvent::Splice {
            position: 12.5,
            reason: "skip".into(),
        };
        assert_eq!(serde_json::to_value(&s).unwrap()["position"], 12.5);
    }
}
