//! Operations: `/health` for probes and `/metrics` in Prometheus text format.
use super::App;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;
use std::fmt::Write;
use std::sync::atomic::Ordering;

pub async fn health(State(app): State<App>) -> impl IntoResponse {
    let library = app.library.snapshot();
    Json(json!({
        "status": "ok",
        "instanceId": app.instance_id,
        "tracks": app.catalog().len(),
        "scanComplete": library.scans > 0,
        "library": library,
        "sessions": app.registry.running().len(),
        "storage": app.storage.status(),
    }))
}

/// `GET /api/library`: how far the library scan is (files known, analysed, failed, pending,
/// the rate and the time left).
pub async fn library(State(app): State<App>) -> impl IntoResponse {
    Json(app.library.snapshot())
}

pub async fn metrics(State(app): State<App>) -> impl IntoResponse {
    let sessions: Vec<_> = app.registry.running().iter().map(|s| s.metrics()).collect();
    let listeners: usize = sessions.iter().map(|s| s.listeners).sum();
    let ring_bytes: usize = sessions.iter().map(|s| s.ring_bytes).sum();
    let m = &app.metrics;
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP drift_{name} {help}\n# TYPE drift_{name} {kind}\ndrift_{name} {value}"
        );
    };
    metric(
        "sessions",
        "gauge",
        "Sessions with a running engine.",
        sessions.len() as u64,
    );
    metric(
        "listeners",
        "gauge",
        "Open audio responses.",
        listeners as u64,
    );
    metric(
        "listeners_total",
        "counter",
        "Audio responses ever opened.",
        m.listeners_total.load(Ordering::Relaxed),
    );
    metric(
        "bytes_sent_total",
        "counter",
        "Audio bytes sent to listeners.",
        m.bytes_sent.load(Ordering::Relaxed),
    );
    metric(
        "slow_listener_drops_total",
        "counter",
        "Listeners dropped for falling behind the ring.",
        m.slow_listener_drops.load(Ordering::Relaxed),
    );
    metric(
        "events_clients_total",
        "counter",
        "Event streams ever opened.",
        m.events_clients.load(Ordering::Relaxed),
    );
    metric(
        "sessions_refused_full_total",
        "counter",
        "Sessions refused because the station was full (503).",
        m.sessions_refused_full.load(Ordering::Relaxed),
    );
    metric(
        "sessions_rate_limited_total",
        "counter",
        "Session creations refused by the per-client limit (429).",
        m.sessions_rate_limited.load(Ordering::Relaxed),
    );
    let opus_listeners: usize = sessions.iter().map(|s| s.opus_listeners).sum();
    metric(
        "opus_listeners",
        "gauge",
        "Open Opus responses (.opus, .opus.mp4; also in drift_listeners).",
        opus_listeners as u64,
    );
    let encoders = sessions.iter().filter(|s| s.opus_encoding).count();
    metric(
        "opus_encoders",
        "gauge",
        "Sessions running an Opus encoder (only while someone listens to Opus).",
        encoders as u64,
    );
    metric(
        "opus_bytes_sent_total",
        "counter",
        "Audio bytes sent to Opus listeners (also in drift_bytes_sent_total).",
        m.opus_bytes_sent.load(Ordering::Relaxed),
    );
    metric(
        "ring_bytes",
        "gauge",
        "Audio held in broadcast rings.",
        ring_bytes as u64,
    );
    metric(
        "tracks",
        "gauge",
        "Playable tracks in the library.",
        app.catalog().len() as u64,
    );
    let underruns: u64 = sessions.iter().map(|s| s.underruns).sum();
    metric(
        "engine_underruns_total",
        "counter",
        "Times an engine fell behind its play point.",
        underruns,
    );
    let rtf = sessions
        .iter()
        .map(|s| s.realtime_factor)
        .fold(0.0f64, f64::max);
    let _ = writeln!(
        out,
        "# HELP drift_encoder_realtime_factor Audio seconds rendered per second of engine thread time (best session).\n# TYPE drift_encoder_realtime_factor gauge\ndrift_encoder_realtime_factor {rtf:.1}"
    );
    let _ = writeln!(
        out,
        "# HELP drift_session_snapshots_unreadable_total Saved sessions whose snapshot could not be read (they started a new stream).\n# TYPE drift_session_snapshots_unreadable_total counter\ndrift_session_snapshots_unreadable_total {}",
        app.registry.unreadable_snapshots()
    );
    let library = app.library.snapshot();
    let _ = writeln!(
        out,
        "# HELP drift_library_files Audio files in the library by state.\n# TYPE drift_library_files gauge"
    );
    for (state, n) in [
        ("analysed", library.analysed),
        ("failed", library.failed),
        ("pending", library.pending),
    ] {
        let _ = writeln!(out, "drift_library_files{{state=\"{state}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP drift_library_scanning 1 while a library scan runs.\n# TYPE drift_library_scanning gauge\ndrift_library_scanning {}",
        library.scanning as u8
    );
    app.outputs.metrics(&mut out);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
