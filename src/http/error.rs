//! HTTP errors as JSON `{"error": "...", "code": "..."}`: 4xx for the caller's mistakes, 5xx only
//! for the server's own trouble, never a panic.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// More fields for the body, beside `error` and `code` (what a client needs to act).
    pub extra: Vec<(&'static str, serde_json::Value)>,
    /// Seconds for the `Retry-After` header (a 503 without one says 1).
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: Vec::new(),
            retry_after: None,
        }
    }
    /// The station renders as many sessions as it can: no new one now. The body says when to
    /// ask again (`retryAfter`, also the header), so a page can wait and say why.
    pub fn full(count: usize, retry_after: u32) -> ApiError {
        let playing = match count {
            1 => "1 session is playing".to_string(),
            n => format!("{n} sessions are playing"),
        };
        let message = format!("The station is full: {playing}. Try again in a minute.");
        ApiError {
            extra: vec![
                ("playing", count.into()),
                ("retryAfter", retry_after.into()),
            ],
            retry_after: Some(retry_after),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "full", message)
        }
    }
    /// This client created its share of sessions for now (`--sessions-per-minute`).
    pub fn rate_limited(retry_after: u32) -> ApiError {
        let message =
            format!("Too many new sessions from this address: try again in {retry_after} s.");
        ApiError {
            extra: vec![("retryAfter", retry_after.into())],
            retry_after: Some(retry_after),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
        }
    }
    /// Nothing can play yet: the library's first tracks are still being analysed. The body
    /// carries the library's progress, so a page can show it instead of an error.
    pub fn preparing(library: &crate::library::status::LibraryStatus) -> ApiError {
        let message = if library.known == 0 && library.scans > 0 {
            "the library has no audio files (add music to the library folder)".to_string()
        } else if library.scans > 0 && library.pending == 0 {
            format!(
                "none of the library's {} files can be played (`drift scan` lists why)",
                library.known
            )
        } else {
            format!("Drift is preparing your library: {}", library.summary())
        };
        ApiError {
            extra: vec![("library", serde_json::to_value(library).unwrap_or_default())],
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "preparing", message)
        }
    }
    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
    }
    pub fn bad_request(why: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", why)
    }
    pub fn forbidden() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "not_owner",
            "only the session's owner can do this (the owner token cookie is missing or wrong)",
        )
    }
    pub fn unavailable(why: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", why)
    }
    /// A banned track asked for by name (`422 banned`): unbanning it is the way.
    pub fn banned(to_do: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "banned",
            format!("this track is banned: unban it first to {to_do}"),
        )
    }
    pub fn gone(why: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::GONE, "gone", why)
    }
    pub fn internal(why: impl std::fmt::Display) -> ApiError {
        tracing::error!("internal error: {why}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.message, "code": self.code});
        for (key, value) in self.extra {
            body[key] = value;
        }
        let mut r = (self.status, Json(body)).into_response();
        let retry_after = match self.retry_after {
            Some(s) => Some(s),
            None if self.status == StatusCode::SERVICE_UNAVAILABLE => Some(1),
            None => None,
        };
        if let Some(s) = retry_after {
            r.headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from(s));
        }
        r
    }
}

/// Turns axum's own rejections (bad query strings, bad JSON) into the same JSON shape.
pub fn rejection(status: StatusCode, text: String) -> ApiError {
    let code = if status.is_client_error() {
        "bad_request"
    } else {
        "internal"
    };
    ApiError::new(status, code, text)
}
