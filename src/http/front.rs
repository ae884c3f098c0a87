//! The server's front door. Every connection is accepted here; a `GET /stream/…` that can be
//! served is answered on the bare socket — a listener then costs a cursor, a framing and the
//! socket, with frames written straight from the session's ring in vectored writes — and
//! every other request (and any stream request that cannot be served, so its error comes from
//! the one handler) goes to the axum router through hyper's HTTP/1 connection.
use super::conn::DeadlineStream;
use super::stream::{self, Opened};
use super::App;
use axum::extract::ConnectInfo;
use axum::Router;
use bytes::Bytes;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A request head longer than this is not a stream request of ours: hyper gets it.
const PEEK: usize = 2048;
/// How every request this door serves itself begins.
const STREAM_PREFIX: &[u8] = b"GET /stream/";
/// Slices per vectored write (well under every system's IOV_MAX).
const IOV: usize = 64;

/// Accepts connections until `shutdown` completes; then open non-stream connections are
/// asked to finish (streams end when their sessions tell listeners to reconnect).
pub async fn serve(
    listener: TcpListener,
    app: App,
    router: Router,
    write_limit: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((sock, addr)) => {
                    let _ = sock.set_nodelay(true);
                    let conn = Connection { app: app.clone(), router: router.clone(), write_limit };
                    tokio::spawn(conn.run(sock, addr, stop_rx.clone()));
                }
                // Out of file descriptors and the like: wait a little instead of spinning.
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    let _ = stop_tx.send(true);
}

struct Connection {
    app: App,
    router: Router,
    write_limit: Duration,
}

impl Connection {
    async fn run(self, mut sock: TcpStream, addr: SocketAddr, stop: watch::Receiver<bool>) {
        // Both the request sniffing and hyper's connection are boxed: a task's allocation is
        // as large as its largest state, and a listener's task should hold only the stream.
        let request = Box::pin(self.stream_request(&sock)).await;
        if let Some((head_len, opened, version)) = request {
            // Consume the request head we only peeked at, then stream.
            let mut head = vec![0u8; head_len];
            if tokio::io::AsyncReadExt::read_exact(&mut sock, &mut head)
                .await
                .is_ok()
            {
                drop(head);
                self.stream(sock, opened, version).await;
            }
            return;
        }
        Box::pin(self.hyper(sock, addr, stop)).await;
    }

    /// The request, if it is a stream request that can be served: the length of its head,
    /// the opened listener and the HTTP minor version.
    async fn stream_request(&self, sock: &TcpStream) -> Option<(usize, Opened, u8)> {
        let mut buf = vec![0u8; PEEK];
        // The head usually arrives in one segment; a client that dribbles it goes to hyper.
        let mut n = 0;
        for _ in 0..20 {
            n = sock.peek(&mut buf).await.ok()?;
            // Anything else is hyper's at once, however slowly its head arrives.
            let prefix = n.min(STREAM_PREFIX.len());
            if buf[..prefix] != STREAM_PREFIX[..prefix] {
                return None;
            }
            if n == 0 || buf[..n].windows(4).any(|w| w == b"\r\n\r\n") || n == PEEK {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let head = parse_stream_head(&buf[..n])?;
        drop(buf);
        let opened = stream::open(&self.app, &head.file, head.from.as_deref(), head.icy);
        Some((head.len, opened.await.ok()?, head.version))
    }

    /// Sends the response head, then frames until the listener's stream ends or the client
    /// stops taking them.
    async fn stream(self, mut sock: TcpStream, opened: Opened, version: u8) {
        let mut head = format!("HTTP/1.{version} 200 OK\r\n");
        for (name, value) in stream::stream_headers(&opened, self.app.bitrate) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(concat!(
            "access-control-allow-origin: *\r\n",
            "access-control-expose-headers: icy-metaint, icy-name, icy-br, x-drift-position\r\n",
            "connection: close\r\n\r\n"
        ));
        let mut pump = opened.pump;
        let mut pieces = vec![Bytes::from(head)];
        loop {
            if pieces.is_empty() && pump.next(&mut pieces).await.is_err() {
                break;
            }
            match tokio::time::timeout(self.write_limit, write_all(&mut sock, &mut pieces)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => break,
                Err(_) => {
                    let drops = &self.app.metrics.slow_listener_drops;
                    drops.fetch_add(1, Ordering::Relaxed);
                    tracing::info!("dropping a listener that stopped reading");
                    break;
                }
            }
        }
        let _ = sock.shutdown().await;
    }

    /// Any other request: axum behind hyper, with the client's address for the handlers and
    /// a write deadline for clients that stop reading.
    async fn hyper(self, sock: TcpStream, addr: SocketAddr, mut stop: watch::Receiver<bool>) {
        let io = TokioIo::new(DeadlineStream::new(
            sock,
            self.write_limit,
            self.app.metrics.clone(),
        ));
        let router = self.router;
        let svc = tower::service_fn(move |mut req: axum::extract::Request<_>| {
            req.extensions_mut().insert(ConnectInfo(addr));
            tower::ServiceExt::oneshot(router.clone(), req)
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .serve_connection(io, TowerToHyperService::new(svc))
            .with_upgrades();
        tokio::pin!(conn);
        tokio::select! {
            _ = conn.as_mut() => {}
            _ = async { stop.wait_for(|s| *s).await.is_ok() } => {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
        }
    }
}

/// A stream request's head, as far as the front door needs it.
#[derive(Debug, PartialEq)]
struct StreamHead {
    /// Bytes of the request head (what is consumed before streaming).
    len: usize,
    /// What follows `/stream/`: a session, with `.mp4` for the fragmented MP4 stream.
    file: String,
    from: Option<String>,
    icy: bool,
    /// HTTP/1.x minor version.
    version: u8,
}

/// The head of a `GET /stream/{file}` request, complete in `buf`; `None` for anything else
/// (other methods and paths, the bootstrap, partial or malformed heads), which hyper answers.
fn parse_stream_head(buf: &[u8]) -> Option<StreamHead> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        _ => return None,
    };
    if req.method != Some("GET") {
        return None;
    }
    let target = req.path?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let file = path.strip_prefix("/stream/")?;
    if file.is_empty() || file.contains('/') || file == "bootstrap" {
        return None;
    }
    let from = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "from")
        .map(|(_, v)| v.into_owned());
    let icy = req
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("icy-metadata"))
        .map(|h| h.value);
    Some(StreamHead {
        len,
        file: file.to_string(),
        from,
        icy: stream::wants_icy(icy),
        version: req.version.unwrap_or(1),
    })
}

/// Writes every piece (vectored, resuming after short writes) and empties `pieces`. The
/// slice array is built inside each poll, so it is not part of every listener's future.
async fn write_all(sock: &mut TcpStream, pieces: &mut Vec<Bytes>) -> io::Result<()> {
    let mut first = 0;
    while first < pieces.len() {
        let mut written = std::future::poll_fn(|cx| {
            let mut iov = [IoSlice::new(&[]); IOV];
            let count = (pieces.len() - first).min(IOV);
            for (slot, piece) in iov.iter_mut().zip(&pieces[first..first + count]) {
                *slot = IoSlice::new(piece);
            }
            std::pin::Pin::new(&mut *sock).poll_write_vectored(cx, &iov[..count])
        })
        .await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        while written > 0 {
            let len = pieces[first].len();
            if written >= len {
                written -= len;
                first += 1;
            } else {
                pieces[first] = pieces[first].slice(written..);
                written = 0;
            }
        }
    }
    pieces.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz;
    use rand::Rng;

    #[test]
    fn stream_heads_are_recognised_and_everything_else_goes_to_hyper() {
        let head = b"GET /stream/abc.mp4?x=1&from=12.5 HTTP/1.0\r\nIcy-MetaData: 1\r\n\r\nrest";
        let h = parse_stream_head(head).unwrap();
        assert_eq!(h.len, head.len() - 4);
        assert_eq!(
            (h.file.as_str(), h.from.as_deref()),
            ("abc.mp4", Some("12.5"))
        );
        assert!(h.icy);
        assert_eq!(h.version, 0);
        for other in [
            &b"GET /stream/bootstrap HTTP/1.1\r\n\r\n"[..],
            b"POST /stream/abc HTTP/1.1\r\n\r\n",
            b"GET /stream/abc HTTP/1.1\r\nHost: x\r\n",
            b"GET /stream/a/b HTTP/1.1\r\n\r\n",
            b"GET /events/abc HTTP/1.1\r\n\r\n",
            b"GET /stream/ HTTP/1.1\r\n\r\n",
        ] {
            assert_eq!(
                parse_stream_head(other),
                None,
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }

    #[test]
    fn random_and_mutated_heads_never_panic_and_stay_inside_the_input() {
        let valid = b"GET /stream/fp?from=3 HTTP/1.1\r\nHost: h\r\nIcy-MetaData: 1\r\n\r\n";
        fuzz::check("front door heads", 4_000, |rng| {
            let input = if rng.gen_bool(0.3) {
                fuzz::random_bytes(rng, 200)
            } else {
                fuzz::mutate(rng, valid)
            };
            if let Some(h) = parse_stream_head(&input) {
                assert!(h.len <= input.len());
                assert!(!h.file.is_empty() && !h.file.contains('/'));
            }
        });
    }
}
