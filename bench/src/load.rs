//! The load generator of `drift-bench listeners` and `sessions`: a crowd of raw HTTP/1.1 listeners on the
//! bench's own tokio runtime that read and discard an endless stream, counting bytes and
//! noticing every disconnect (a drop), and a prober timing request → first body byte.
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Connects in flight at once: enough to join thousands in seconds, few enough not to overflow
/// a server's accept queue (icecast2 listens with a backlog of 5; a dropped SYN costs the
/// listener a second before the kernel retries).
const JOINING: usize = 4;
/// Read buffer per listener: ten thousand of them must fit in memory next to the servers.
const READ_BUF: usize = 8 * 1024;
/// A listener takes what has arrived this often, as a player filling its buffer does. Waking
/// per packet instead would cost the load generator more CPU than the server it measures, on
/// the same two cores.
const READ_EVERY: Duration = Duration::from_millis(200);
/// Longest response head accepted.
const MAX_HEAD: usize = 16 * 1024;

/// Where one listener is.
const CONNECTING: u8 = 0;
const STREAMING: u8 = 1;
const DROPPED: u8 = 2;
const FAILED: u8 = 3;

/// A GET request for `path`, as a player would send it.
pub fn request(addr: SocketAddr, path: &str, close: bool) -> Vec<u8> {
    let connection = if close { "Connection: close\r\n" } else { "" };
    format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: drift-bench\r\nAccept: */*\r\n{connection}\r\n"
    )
    .into_bytes()
}

/// An HTTP response whose head has been read.
pub struct Response {
    pub stream: TcpStream,
    pub status: u16,
    /// Body bytes that came with the head.
    pub body: Vec<u8>,
    /// When the first byte of the response arrived.
    pub first_byte: Instant,
}

/// Connects, sends `request` and reads the response head. `connected` is called once the
/// connection is established (the crowd lets the next listener in then).
pub async fn open(
    addr: SocketAddr,
    request: &[u8],
    connected: impl FnOnce(),
) -> io::Result<Response> {
    let mut s = TcpStream::connect(addr).await?;
    connected();
    s.write_all(request).await?;
    let mut got = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    let mut first_byte = None;
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed before the end of the response head",
            ));
        }
        first_byte.get_or_insert_with(Instant::now);
        got.extend_from_slice(&buf[..n]);
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let status = std::str::from_utf8(&got[..end])
                .ok()
                .and_then(|h| h.split_whitespace().nth(1))
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            return Ok(Response {
                stream: s,
                status,
                body: got.split_off(end + 4),
                first_byte: first_byte.unwrap_or_else(Instant::now),
            });
        }
        if got.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "response head too long",
            ));
        }
    }
}

/// A whole short response (for `/health`): status and body.
pub async fn get(addr: SocketAddr, path: &str) -> io::Result<(u16, String)> {
    whole(addr, &request(addr, path, true)).await
}

/// A whole short response to a POST without a body (`POST /api/sessions`): status and body.
pub async fn post(addr: SocketAddr, path: &str) -> io::Result<(u16, String)> {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: drift-bench\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    whole(addr, request.as_bytes()).await
}

/// Sends `request` (which asks to close the connection) and reads the response to its end.
async fn whole(addr: SocketAddr, request: &[u8]) -> io::Result<(u16, String)> {
    let mut r = open(addr, request, || ()).await?;
    r.stream.read_to_end(&mut r.body).await?;
    Ok((r.status, String::from_utf8_lossy(&r.body).into_owned()))
}

/// Request timings: to the first byte of the response and to the first byte of audio.
#[derive(Default)]
pub struct FirstBytes {
    pub head: Vec<Duration>,
    pub audio: Vec<Duration>,
    pub failed: u32,
}

/// Times `n` requests for `path`, one after another, from before the connect.
pub async fn first_byte_times(addr: SocketAddr, path: &str, n: u32) -> FirstBytes {
    let req = request(addr, path, false);
    let mut t = FirstBytes::default();
    for _ in 0..n {
        let t0 = Instant::now();
        let r = async {
            let mut r = open(addr, &req, || ()).await?;
            if r.status != 200 {
                return Err(io::Error::other(format!("status {}", r.status)));
            }
            if r.body.is_empty() {
                let mut one = [0u8; 1];
                if r.stream.read(&mut one).await? == 0 {
                    return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
                }
            }
            Ok((r.first_byte - t0, t0.elapsed()))
        }
        .await;
        match r {
            Ok((head, audio)) => {
                t.head.push(head);
                t.audio.push(audio);
            }
            Err(_) => t.failed += 1,
        }
    }
    t
}

/// Waits for data, then reads everything already received. Returns the bytes read; zero means
/// the stream ended.
async fn drain(s: &mut TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    let mut total = s.read(buf).await?;
    if total == 0 {
        return Ok(0);
    }
    loop {
        match s.try_read(buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(total),
            Err(e) => return Err(e),
        }
    }
}

/// Listeners, started in steps, each with its own byte counter: many of one stream
/// (`grow_to`) or one of each (`join`).
pub struct Crowd {
    addr: SocketAddr,
    bytes: Arc<[AtomicU64]>,
    state: Arc<[AtomicU8]>,
    joining: Arc<Semaphore>,
    tasks: JoinSet<()>,
}

/// The crowd at one moment.
pub struct Snapshot {
    pub at: Instant,
    /// Body bytes received so far, per listener started.
    pub bytes: Vec<u64>,
    /// Whether each of them was streaming (joined and not dropped).
    pub streaming_now: Vec<bool>,
    pub streaming: usize,
    pub dropped: usize,
    pub failed: usize,
}

impl Snapshot {
    pub fn total_bytes(&self) -> u64 {
        self.bytes.iter().sum()
    }
}

impl Crowd {
    pub fn new(addr: SocketAddr, capacity: usize) -> Crowd {
        Crowd {
            addr,
            bytes: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
            state: (0..capacity).map(|_| AtomicU8::new(CONNECTING)).collect(),
            joining: Arc::new(Semaphore::new(JOINING)),
            tasks: JoinSet::new(),
        }
    }

    pub fn started(&self) -> usize {
        self.tasks.len()
    }

    /// Starts listeners of the stream at `path` until `n` have been started (capped at the
    /// crowd's capacity).
    pub fn grow_to(&mut self, path: &str, n: usize) {
        let request: Arc<[u8]> = request(self.addr, path, false).into();
        while self.tasks.len() < n.min(self.bytes.len()) {
            self.spawn(request.clone());
        }
    }

    /// Starts one more listener, of the stream at `path`; false when the crowd is full.
    pub fn join(&mut self, path: &str) -> bool {
        if self.tasks.len() >= self.bytes.len() {
            return false;
        }
        self.spawn(request(self.addr, path, false).into());
        true
    }

    /// Starts listener number `self.started()`, sending `request`.
    fn spawn(&mut self, request: Arc<[u8]>) {
        let (i, addr) = (self.tasks.len(), self.addr);
        let (bytes, state, joining) =
            (self.bytes.clone(), self.state.clone(), self.joining.clone());
        self.tasks.spawn(async move {
            let permit = joining.acquire_owned().await;
            let Ok(Response {
                stream: mut s,
                status: 200,
                body,
                ..
            }) = open(addr, &request, move || drop(permit)).await
            else {
                state[i].store(FAILED, Ordering::Relaxed);
                return;
            };
            bytes[i].fetch_add(body.len() as u64, Ordering::Relaxed);
            state[i].store(STREAMING, Ordering::Relaxed);
            let mut buf = vec![0u8; READ_BUF];
            // The stream is endless: any end is a drop.
            while let Ok(n @ 1..) = drain(&mut s, &mut buf).await {
                bytes[i].fetch_add(n as u64, Ordering::Relaxed);
                tokio::time::sleep(READ_EVERY).await;
            }
            state[i].store(DROPPED, Ordering::Relaxed);
        });
    }

    /// Waits until no started listener is still connecting, up to `limit`.
    pub async fn joined(&self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        let n = self.started();
        loop {
            let waiting = self.state[..n]
                .iter()
                .filter(|s| s.load(Ordering::Relaxed) == CONNECTING)
                .count();
            if waiting == 0 {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let n = self.started();
        let count = |want: u8| {
            self.state[..n]
                .iter()
                .filter(|s| s.load(Ordering::Relaxed) == want)
                .count()
        };
        Snapshot {
            at: Instant::now(),
            bytes: self.bytes[..n]
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect(),
            streaming_now: self.state[..n]
                .iter()
                .map(|s| s.load(Ordering::Relaxed) == STREAMING)
                .collect(),
            streaming: count(STREAMING),
            dropped: count(DROPPED),
            failed: count(FAILED),
        }
    }

    /// Hangs up every listener (the bench leaving is not a drop) and waits until they are gone.
    pub async fn stop(&mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}
