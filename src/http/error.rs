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
    pub extra: Option<(&'static str, serde_json::Value)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: None,
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
            extra: Some(("library", serde_json::to_value(library).unwrap_or_default())),
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
        if let Some((key, value)) = self.extra {
            body[key] = value;
        }
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
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
