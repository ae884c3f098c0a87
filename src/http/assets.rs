//! The web client, embedded in the binary (rust-embed): `/` is `index.html`; anything that is
//! not an embedded file is a JSON 404, so no path outside the web assets is ever served.
use super::error::ApiError;
use axum::http::{header, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "web/"]
#[exclude = "test/*"]
#[exclude = "e2e/*"]
#[exclude = "bench/*"]
#[exclude = "node_modules/*"]
struct Web;

pub async fn asset(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    match Web::get(path) {
        Some(file) => {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
            let mut r = file.data.into_owned().into_response();
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
                h.insert(header::CONTENT_TYPE, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            r
        }
        None => ApiError::not_found(format!("no such page: /{path}")).into_response(),
    }
}
