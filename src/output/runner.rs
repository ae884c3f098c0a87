//! One output's task: find the session, connect to Icecast as a source (`PUT`, or `SOURCE` when
//! the server is older), then send the session's frames at real time from its play point (at
//! most `AHEAD` in front of it: Icecast bursts its own buffer to new listeners), set the title
//! in step with the audio, and after any loss try again (see `backoff`). It holds a listener of
//! the session the whole time, so the session keeps playing while the output is down.
use super::backoff::{self, Backoff};
use super::protocol::{self, Method, StreamInfo, Verdict};
use super::{Output, OutputState, Resolver};
use crate::station::broadcast::frame_index;
use crate::station::session::{ListenEnd, Listener, Session};
use crate::units::Frames;
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// How far the source runs ahead of the play point at most.
const AHEAD: Frames = Frames(44_100);
/// How often the sender wakes to send what the play point has reached (real time).
const TICK: Duration = Duration::from_millis(100);
/// Frames taken from the ring per read at most.
const BATCH: usize = 16;
/// Opening a connection and getting the server's answer, each.
const HANDSHAKE: Duration = Duration::from_secs(10);
/// A write that takes longer than this means the server or the network is gone.
const WRITE: Duration = Duration::from_secs(15);
/// A title update is given up after this long.
const METADATA: Duration = Duration::from_secs(3);
/// The audio waits this long at most for a title update, so the title lands in step with its
/// track without Icecast's listeners running out of audio behind a slow update.
const TITLE_HOLD: Duration = Duration::from_millis(300);

/// How one connection ended.
enum End {
    /// Never connected, or lost the connection: try again soon.
    Lost(String),
    /// Refused for a reason a person must fix: try again slowly.
    Refused(String),
}

pub async fn run(out: Arc<Output>, resolve: Resolver, info: StreamInfo) {
    let mut backoff = Backoff::default();
    let mut method = Method::Put;
    // Keeps the session playing between connections.
    let mut keep: Option<Listener> = None;
    let mut first = true;
    loop {
        if !first {
            out.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        first = false;
        if out.state() != OutputState::Failed {
            out.set(OutputState::Connecting, None);
        }
        let started = Instant::now();
        let end = match resolve(out.url.session_name().to_string()).await {
            Ok(session) => {
                out.found(session.fingerprint());
                if keep.is_none() {
                    keep = session.listen(None).ok();
                }
                connect_and_stream(&out, &session, &info, &mut method, &mut keep).await
            }
            Err(why) => End::Lost(format!("no session to send: {why}")),
        };
        if started.elapsed() >= backoff::HEALTHY {
            backoff.reset();
        }
        let jitter: f64 = rand::random();
        let (state, why, wait) = match end {
            End::Lost(why) => (OutputState::Retrying, why, backoff.next(jitter)),
            End::Refused(why) => (OutputState::Failed, why, backoff.refused(jitter)),
        };
        tracing::warn!(
            output = out.id,
            "Icecast output to {}: {why}; trying again in {:.1} s",
            out.url,
            wait.as_secs_f64()
        );
        out.set(state, Some(why));
        tokio::time::sleep(wait).await;
    }
}

/// One connection: handshake (falling back to `SOURCE` once), then stream until it breaks.
async fn connect_and_stream(
    out: &Output,
    session: &Session,
    info: &StreamInfo,
    method: &mut Method,
    keep: &mut Option<Listener>,
) -> End {
    let stream = loop {
        let (stream, verdict) = match handshake(out, *method, info).await {
            Ok(v) => v,
            Err(why) => return End::Lost(why),
        };
        match verdict {
            Verdict::Go => break stream,
            Verdict::TryOldMethod if *method == Method::Put => {
                tracing::info!(
                    output = out.id,
                    "{} does not take PUT: using SOURCE",
                    out.url.authority()
                );
                *method = Method::Source;
            }
            v => {
                let why = protocol::explain(&v, &out.url);
                return if v.is_permanent() {
                    End::Refused(why)
                } else {
                    End::Lost(why)
                };
            }
        }
    };
    // Carry on from the play point; the new listener exists before the old one goes, so the
    // session never sees none.
    let listener = match session.listen(None) {
        Ok(l) => l,
        Err(e) => return End::Lost(e.to_string()),
    };
    *keep = Some(listener);
    let Some(listener) = keep.as_mut() else {
        return End::Lost("no listener".into());
    };
    out.set(OutputState::Streaming, None);
    tracing::info!(
        output = out.id,
        "Icecast output to {} is streaming",
        out.url
    );
    let (reader, writer) = stream.into_split();
    let mut sender = Sender {
        out,
        session,
        writer,
        title: String::new(),
        updating: None,
        frames: Vec::with_capacity(BATCH),
    };
    tokio::select! {
        why = sender.stream(listener) => End::Lost(why),
        why = closed(reader) => End::Lost(why),
    }
}

/// Connects, sends the source request and reads the answer.
async fn handshake(
    out: &Output,
    method: Method,
    info: &StreamInfo,
) -> Result<(TcpStream, Verdict), String> {
    let authority = out.url.authority();
    let mut stream = timeout(HANDSHAKE, TcpStream::connect(&authority))
        .await
        .map_err(|_| format!("no answer from {authority} within {HANDSHAKE:?}"))?
        .map_err(|e| format!("cannot connect to {authority}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let head = protocol::source_request(&out.url, method, info);
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| format!("{authority} closed the connection: {e}"))?;
    let (answer, rest) = timeout(HANDSHAKE, read_answer(&mut stream))
        .await
        .map_err(|_| format!("{authority} did not answer the source request"))??;
    let mut body = rest;
    if answer.status >= 300 {
        // The reason may be in the body ("Mountpoint in use"): take what comes at once.
        let mut buf = [0u8; 1024];
        if let Ok(Ok(n)) = timeout(Duration::from_millis(300), stream.read(&mut buf)).await {
            body.extend_from_slice(&buf[..n]);
        }
    }
    let body = String::from_utf8_lossy(&body);
    Ok((stream, protocol::verdict(method, &answer, &body)))
}

/// Reads a response head; returns it and the bytes after it.
async fn read_answer(stream: &mut TcpStream) -> Result<(protocol::Answer, Vec<u8>), String> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("the connection broke during the handshake: {e}"))?;
        if n == 0 {
            return Err("the server closed the connection without an answer".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(a) = protocol::parse_answer(&buf)? {
            let rest = buf.split_off(a.head_len);
            return Ok((a, rest));
        }
    }
}

/// Resolves when the server closes the connection (a source gets nothing back otherwise).
async fn closed(mut reader: OwnedReadHalf) -> String {
    let mut buf = [0u8; 256];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) => return "the server closed the connection".into(),
            Ok(_) => {}
            Err(e) => return format!("the connection broke: {e}"),
        }
    }
}

/// Sends one connection's audio.
struct Sender<'a> {
    out: &'a Output,
    session: &'a Session,
    writer: OwnedWriteHalf,
    /// The title Icecast was last given.
    title: String,
    /// A title update still on its way (aborted by the next, so an older title never lands
    /// after a newer one).
    updating: Option<tokio::task::JoinHandle<()>>,
    frames: Vec<Bytes>,
}

/// A connection's last title update ends with it: finishing later, it could land after the
/// next connection's first title.
impl Drop for Sender<'_> {
    fn drop(&mut self) {
        if let Some(update) = self.updating.take() {
            update.abort();
        }
    }
}

impl Sender<'_> {
    /// Sends frames as the play point moves, until something breaks; returns what did.
    async fn stream(&mut self, listener: &mut Listener) -> String {
        let first = listener.cursor();
        self.set_title(listener.title_at(first)).await;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if self.session.is_parked() {
                return "the session stopped".into();
            }
            let until = frame_index(self.session.position() + AHEAD);
            while listener.cursor() < until {
                let max = ((until - listener.cursor()) as usize).min(BATCH);
                match listener.take(max, &mut self.frames) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(ListenEnd::Closed) => return "the session stopped".into(),
                    // Told to reconnect (a refresh) or left behind: carry on from the play point.
                    Err(_) => match self.session.listen(None) {
                        Ok(l) => {
                            *listener = l;
                            continue;
                        }
                        Err(e) => return e.to_string(),
                    },
                }
                let start = listener.cursor() - self.frames.len() as u64;
                if let Err(why) = self.send(listener, start).await {
                    return why;
                }
            }
        }
    }

    /// Writes the frames taken (the first is frame `start`), setting the title at the frame
    /// where a new one becomes audible, before that frame goes out.
    async fn send(&mut self, listener: &Listener, start: u64) -> Result<(), String> {
        let frames = std::mem::take(&mut self.frames);
        let last = start + frames.len() as u64 - 1;
        let mut from = 0;
        if listener.title_at(last) != self.title {
            for (i, _) in frames.iter().enumerate() {
                let title = listener.title_at(start + i as u64);
                if title != self.title {
                    self.write(&frames[from..i]).await?;
                    from = i;
                    self.set_title(title).await;
                }
            }
        }
        self.write(&frames[from..]).await?;
        self.frames = frames;
        self.frames.clear();
        Ok(())
    }

    /// Writes these frames in one write (with `TCP_NODELAY`, one write per frame was a
    /// segment per frame).
    async fn write(&mut self, frames: &[Bytes]) -> Result<(), String> {
        if frames.is_empty() {
            return Ok(());
        }
        let buf = frames.concat();
        match timeout(WRITE, self.writer.write_all(&buf)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(format!("the connection broke: {e}")),
            Err(_) => return Err(format!("a write took longer than {WRITE:?}")),
        }
        self.out
            .bytes
            .fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Tells Icecast the title now audible, before the new track's first frame goes out so
    /// its listeners get the title with that frame. The audio waits for the answer at most
    /// `TITLE_HOLD` (the source is only `AHEAD` in front of Icecast's listeners); a slower
    /// update goes on beside the audio, and a failure is logged, never fatal.
    async fn set_title(&mut self, title: String) {
        let request = protocol::metadata_request(&self.out.url, &title);
        let authority = self.out.url.authority();
        let id = self.out.id;
        if let Some(older) = self.updating.take() {
            older.abort();
        }
        let mut update = tokio::spawn(async move {
            let result = timeout(METADATA, async {
                let mut s = TcpStream::connect(&authority)
                    .await
                    .map_err(|e| e.to_string())?;
                s.write_all(request.as_bytes())
                    .await
                    .map_err(|e| e.to_string())?;
                read_answer(&mut s).await.map(|(a, _)| a)
            })
            .await;
            match result {
                Ok(Ok(a)) if a.status == 200 => {}
                Ok(Ok(a)) => tracing::warn!(
                    output = id,
                    "{authority} refused the title update: {} {}",
                    a.status,
                    a.reason
                ),
                Ok(Err(why)) => tracing::warn!(output = id, "title update failed: {why}"),
                Err(_) => tracing::warn!(output = id, "title update timed out"),
            }
        });
        if timeout(TITLE_HOLD, &mut update).await.is_err() {
            tracing::debug!(
                output = id,
                "title update still on its way: the audio goes on"
            );
            self.updating = Some(update);
        }
        self.title = title;
    }
}
