//! HTTP: the axum server, one module per resource, and the formats it speaks (ICY).
pub mod admission;
pub mod api;
pub mod assets;
pub mod conn;
pub mod error;
pub mod events;
pub mod front;
pub mod journey;
pub mod marks;
pub mod ops;
pub mod outputs;
pub mod steering;
pub mod stream;
pub mod tracks;

use crate::catalog::{Catalog, LiveCatalog};
use crate::station::clock::Clock;
use crate::station::registry::Registry;
use axum::http::{header, HeaderName, Method};
use axum::routing::{delete, get, post};
use axum::Router;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use tower_http::cors::{Any, CorsLayer};

/// Counters for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    pub bytes_sent: AtomicU64,
    pub listeners_total: AtomicU64,
    pub slow_listener_drops: AtomicU64,
    pub events_clients: AtomicU64,
    /// Sessions refused because the station renders as many as it may (`503 full`).
    pub sessions_refused_full: AtomicU64,
    /// Session creations refused by the per-client limit (`429`).
    pub sessions_rate_limited: AtomicU64,
    /// Audio bytes sent to Opus listeners (also in `bytes_sent`).
    pub opus_bytes_sent: AtomicU64,
}

/// What every handler can reach.
pub struct AppState {
    /// Changes every time the server process starts; clients soft-restart when it does.
    pub instance_id: String,
    pub registry: Registry,
    pub catalog: Arc<LiveCatalog>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    pub bitrate: u16,
    /// Opus bitrate in kbps of the `.opus` and `.opus.mp4` streams.
    pub opus_bitrate: u32,
    /// How far the library scan is (for /health, /api/library and the 503 of a station that
    /// has nothing to play yet).
    pub library: Arc<crate::library::status::LibraryProgress>,
    /// Whether the store's writes succeed (a full disk), for /health.
    pub storage: Arc<crate::store::StorageHealth>,
    /// The per-client limit on creating sessions (`--sessions-per-minute`).
    pub creates: admission::CreateLimiter,
    /// Sessions pushed to Icecast servers (`--icecast-out`, `/api/sessions/{fp}/outputs`).
    pub outputs: crate::output::Outputs,
}

pub type App = Arc<AppState>;

impl AppState {
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.current()
    }
}

/// The whole HTTP surface.
pub fn router(app: App) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            HeaderName::from_static("icy-metadata"),
            header::RANGE,
            header::CONTENT_TYPE,
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([
            HeaderName::from_static("icy-metaint"),
            HeaderName::from_static("icy-name"),
            HeaderName::from_static("icy-br"),
            HeaderName::from_static("x-drift-position"),
            header::CONTENT_DISPOSITION,
        ]);
    Router::new()
        .route("/health", get(ops::health))
        .route("/metrics", get(ops::metrics))
        .route("/stream/bootstrap", get(api::bootstrap))
        .route("/stream/{fp}", get(stream::stream))
        .route("/events/{fp}", get(events::events))
        .route("/api/sessions", post(api::create))
        .route("/api/sessions/{fp}", get(api::state))
        .route("/api/sessions/{fp}/skip", post(api::skip))
        .route("/api/sessions/{fp}/refresh", post(api::refresh))
        .route("/api/sessions/{fp}/save", get(api::save))
        .route("/api/sessions/{fp}/directions", get(steering::directions))
        .route("/api/sessions/{fp}/steer", post(steering::steer))
        .route("/api/sessions/{fp}/next", post(steering::next))
        .route("/api/sessions/{fp}/love", post(marks::love))
        .route("/api/sessions/{fp}/ban", post(marks::ban))
        .route("/api/bans", get(marks::bans))
        .route("/api/bans/{track}", delete(marks::unban))
        .route(
            "/api/sessions/{fp}/album",
            post(journey::play_album).delete(journey::cancel_album),
        )
        .route(
            "/api/sessions/{fp}/journey",
            post(journey::start_journey).delete(journey::cancel_journey),
        )
        .route(
            "/api/sessions/{fp}/outputs",
            get(outputs::list).post(outputs::add),
        )
        .route("/api/sessions/{fp}/outputs/{id}", delete(outputs::remove))
        .route("/api/albums", get(journey::list))
        .route("/api/library", get(ops::library))
        .route("/api/tracks", get(tracks::search))
        .route("/api/tracks/{id}/cover", get(tracks::cover))
        .route("/listen/{file}", get(api::m3u))
        .fallback(assets::asset)
        .layer(cors)
        .with_state(app)
}
