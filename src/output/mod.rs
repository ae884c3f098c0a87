//! Outputs: sessions pushed to Icecast-compatible servers as a source, so a station can grow past
//! one machine on Icecast's relays. `Outputs` is one type with a handle: add an output (from
//! `--icecast-out` or the owner's API), remove it, list what each one is doing, render its
//! metrics. Each output is a tokio task (`runner`) that holds a listener of its session (so the
//! session keeps playing), sends its MP3 frames at real time from the play point, sets the title
//! when a track becomes audible, and reconnects on its own. Outputs live as long as the server:
//! the ones added through the API are not saved.
mod backoff;
pub mod protocol;
mod runner;
pub mod url;

pub use protocol::StreamInfo;
pub use url::{IcecastUrl, UrlError};

use crate::station::session::Session;
use futures_util::future::BoxFuture;
use serde::Serialize;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Finds (or resumes) a session by name (`default` for the station's): what the output needs
/// from the server, given by whoever starts the outputs, so this module needs no HTTP.
pub type Resolver =
    Arc<dyn Fn(String) -> BoxFuture<'static, Result<Arc<Session>, String>> + Send + Sync>;

/// What an output is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputState {
    /// Opening the connection or waiting for the server's go-ahead.
    Connecting,
    /// Sending audio.
    Streaming,
    /// Lost or never got a connection (server down, network): trying again with backoff.
    Retrying,
    /// Refused for a reason only a person can fix (password, mount in use): retried slowly.
    Failed,
}

impl OutputState {
    /// The number `/metrics` shows (0 connecting, 1 streaming, 2 retrying, 3 failed).
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// One output's state, as the API and the page show it (never the password).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputView {
    pub id: u64,
    /// The address without its password.
    pub url: String,
    /// The session pushed (`default` for the station's).
    pub session: String,
    pub state: OutputState,
    pub last_error: Option<String>,
    pub bytes_sent: u64,
    /// Connection attempts after the first.
    pub reconnects: u64,
    /// When the current connection started streaming (ms since the epoch), while streaming.
    pub connected_since: Option<u64>,
}

struct Status {
    state: OutputState,
    last_error: Option<String>,
    connected_since: Option<SystemTime>,
    /// The fingerprint of the session pushed, once found (an output of `default` is listed
    /// under the default session's fingerprint).
    fingerprint: Option<String>,
}

/// One output: its address, its counters and the task that runs it.
pub struct Output {
    id: u64,
    url: IcecastUrl,
    status: Mutex<Status>,
    bytes: AtomicU64,
    reconnects: AtomicU64,
    task: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Output {
    fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, state: OutputState, error: Option<String>) {
        let mut s = self.status();
        if state == OutputState::Streaming && s.state != OutputState::Streaming {
            s.connected_since = Some(SystemTime::now());
        } else if state != OutputState::Streaming {
            s.connected_since = None;
        }
        s.state = state;
        if error.is_some() {
            s.last_error = error;
        }
    }

    fn state(&self) -> OutputState {
        self.status().state
    }

    fn found(&self, fingerprint: &str) {
        self.status().fingerprint = Some(fingerprint.to_string());
    }

    /// Whether this output pushes the session with this fingerprint.
    fn pushes(&self, fingerprint: &str) -> bool {
        self.url.session.as_deref() == Some(fingerprint)
            || self.status().fingerprint.as_deref() == Some(fingerprint)
    }

    pub fn view(&self) -> OutputView {
        let s = self.status();
        let ms = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64)
        };
        OutputView {
            id: self.id,
            url: self.url.to_string(),
            session: self.url.session_name().to_string(),
            state: s.state,
            last_error: s.last_error.clone(),
            bytes_sent: self.bytes.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            connected_since: s.connected_since.map(ms),
        }
    }
}

/// Every output of the server.
pub struct Outputs {
    list: Mutex<Vec<Arc<Output>>>,
    next_id: AtomicU64,
    resolve: Resolver,
    info: StreamInfo,
}

impl Outputs {
    /// `info` describes the stream to Icecast (`ice-*` headers); `resolve` finds sessions.
    pub fn new(info: StreamInfo, resolve: Resolver) -> Outputs {
        Outputs {
            list: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            resolve,
            info,
        }
    }

    fn list(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Output>>> {
        self.list.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts an output (on the current tokio runtime); returns what it is doing (its id).
    pub fn add(&self, url: IcecastUrl) -> OutputView {
        let output = Arc::new(Output {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            url,
            status: Mutex::new(Status {
                state: OutputState::Connecting,
                last_error: None,
                connected_since: None,
                fingerprint: None,
            }),
            bytes: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            task: Mutex::new(None),
        });
        tracing::info!(output = output.id, "Icecast output to {}", output.url);
        let task = tokio::spawn(runner::run(
            output.clone(),
            self.resolve.clone(),
            self.info.clone(),
        ));
        *output.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task.abort_handle());
        let view = output.view();
        self.list().push(output);
        view
    }

    /// The outputs of the session with this fingerprint.
    pub fn of_session(&self, fingerprint: &str) -> Vec<OutputView> {
        self.list()
            .iter()
            .filter(|o| o.pushes(fingerprint))
            .map(|o| o.view())
            .collect()
    }

    /// Stops and forgets output `id` of the session with this fingerprint; whether there was
    /// one.
    pub fn remove(&self, fingerprint: &str, id: u64) -> bool {
        let mut list = self.list();
        let Some(i) = list
            .iter()
            .position(|o| o.id == id && o.pushes(fingerprint))
        else {
            return false;
        };
        let o = list.remove(i);
        drop(list);
        stop(&o);
        tracing::info!(output = o.id, "Icecast output to {} removed", o.url);
        true
    }

    /// Stops every output (at shutdown, before sessions are saved, so none is resumed).
    pub fn stop_all(&self) {
        for o in self.list().drain(..) {
            stop(&o);
        }
    }

    pub fn all(&self) -> Vec<OutputView> {
        self.list().iter().map(|o| o.view()).collect()
    }

    /// Per-output lines for `/metrics` (labels name the output and its target, no password).
    pub fn metrics(&self, out: &mut String) {
        let families = [
            (
                "state",
                "gauge",
                "Icecast output state: 0 connecting, 1 streaming, 2 retrying, 3 failed.",
            ),
            (
                "bytes_total",
                "counter",
                "Audio bytes sent to the Icecast server.",
            ),
            (
                "reconnects_total",
                "counter",
                "Connection attempts after the first.",
            ),
        ];
        let list = self.list();
        for (name, kind, help) in families {
            let _ = writeln!(
                out,
                "# HELP drift_icecast_output_{name} {help}\n# TYPE drift_icecast_output_{name} {kind}"
            );
            for o in list.iter() {
                let v = o.view();
                let value = match name {
                    "state" => v.state.code() as u64,
                    "bytes_total" => v.bytes_sent,
                    _ => v.reconnects,
                };
                let _ = writeln!(
                    out,
                    "drift_icecast_output_{name}{{output=\"{}\",target=\"{}\",session=\"{}\"}} {value}",
                    v.id,
                    o.url.target(),
                    v.session
                );
            }
        }
    }
}

fn stop(o: &Output) {
    if let Some(t) = o.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
        t.abort();
    }
}
