//! Icecast's source protocol, pure: the request head a source sends (`PUT`, or `SOURCE` for
//! servers older than Icecast 2.4), what the server's answer means for the output, and the
//! metadata request that sets the title listeners see.
use super::url::IcecastUrl;
use base64::Engine as _;

/// How the source request is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Icecast 2.4 and later: `PUT` over HTTP/1.1, with `Expect: 100-continue`.
    Put,
    /// Older servers (Icecast 2.3, Shoutcast-style relays): `SOURCE` over HTTP/1.0.
    Source,
}

/// What the stream is, for the `ice-*` headers (listeners' directories show them).
#[derive(Clone, Debug)]
pub struct StreamInfo {
    pub name: String,
    pub description: String,
    pub genre: String,
    pub bitrate_kbps: u16,
    pub sample_rate: u32,
    pub channels: u8,
}

const USER_AGENT: &str = concat!("Drift/", env!("CARGO_PKG_VERSION"));

/// `Basic` credentials for the `Authorization` header.
fn basic_auth(url: &IcecastUrl) -> String {
    let pair = format!("{}:{}", url.user, url.password());
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// A header value with no line breaks or other control characters (a title could hold them).
fn clean(v: &str) -> String {
    v.chars().filter(|c| !c.is_control()).collect()
}

/// The request head that starts a source: after it (and the server's go-ahead) the body is
/// the MP3 stream itself, for as long as the source runs.
pub fn source_request(url: &IcecastUrl, method: Method, info: &StreamInfo) -> String {
    let (verb, version) = match method {
        Method::Put => ("PUT", "HTTP/1.1"),
        Method::Source => ("SOURCE", "HTTP/1.0"),
    };
    let mut h = format!(
        "{verb} {mount} {version}\r\nHost: {host}\r\nAuthorization: {auth}\r\nUser-Agent: {USER_AGENT}\r\n\
         Content-Type: audio/mpeg\r\nice-name: {name}\r\nice-description: {description}\r\n\
         ice-genre: {genre}\r\nice-public: 0\r\n\
         ice-audio-info: ice-bitrate={br};ice-samplerate={sr};ice-channels={ch}\r\n",
        mount = url.mount,
        host = url.authority(),
        auth = basic_auth(url),
        name = clean(&info.name),
        description = clean(&info.description),
        genre = clean(&info.genre),
        br = info.bitrate_kbps,
        sr = info.sample_rate,
        ch = info.channels,
    );
    if method == Method::Put {
        h.push_str("Expect: 100-continue\r\n");
    }
    h.push_str("\r\n");
    h
}

/// A server's answer: its status and reason, and how many bytes the head took.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub reason: String,
    pub head_len: usize,
}

/// Reads a response head from the start of `buf`: `Ok(None)` while it is incomplete.
pub fn parse_answer(buf: &[u8]) -> Result<Option<Answer>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut r = httparse::Response::new(&mut headers);
    match r.parse(buf) {
        Ok(httparse::Status::Complete(n)) => Ok(Some(Answer {
            status: r.code.unwrap_or(0),
            reason: r.reason.unwrap_or("").trim().to_string(),
            head_len: n,
        })),
        Ok(httparse::Status::Partial) if buf.len() > 16 * 1024 => {
            Err("the server's answer has no end".into())
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(format!(
            "the server did not answer in HTTP ({e}): is this an Icecast server?"
        )),
    }
}

/// What the answer to a source request means for the output.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Send the stream.
    Go,
    /// The server does not take `PUT`: try `SOURCE`.
    TryOldMethod,
    /// Wrong user or password: retried slowly, it will not fix itself soon.
    BadPassword,
    /// Another source holds the mount: retried slowly.
    MountInUse,
    /// Anything else (the server starting, overloaded, a proxy's error): retried with backoff.
    Other(String),
}

impl Verdict {
    /// Whether retrying soon can help (a restart, the network) or only a person can (a
    /// password, another source on the mount).
    pub fn is_permanent(&self) -> bool {
        matches!(self, Verdict::BadPassword | Verdict::MountInUse)
    }
}

/// Judges the answer to a `method` request. `body` is what followed the head, when any (Icecast
/// says "Mountpoint in use" in it).
pub fn verdict(method: Method, a: &Answer, body: &str) -> Verdict {
    let says_in_use = |s: &str| s.to_ascii_lowercase().contains("in use");
    match a.status {
        100 | 200..=299 => Verdict::Go,
        401 => Verdict::BadPassword,
        409 => Verdict::MountInUse,
        403 if says_in_use(&a.reason) || says_in_use(body) => Verdict::MountInUse,
        400 | 405 | 501 if method == Method::Put => Verdict::TryOldMethod,
        s => Verdict::Other(format!("the server answered {s} {}", a.reason)),
    }
}

/// The error an output shows for a verdict other than `Go`.
pub fn explain(v: &Verdict, url: &IcecastUrl) -> String {
    match v {
        Verdict::BadPassword => format!(
            "Icecast at {} refused the source password for user '{}' (401)",
            url.authority(),
            url.user
        ),
        Verdict::MountInUse => format!(
            "the mount {} on {} is in use by another source",
            url.mount,
            url.authority()
        ),
        Verdict::TryOldMethod => "the server takes neither PUT nor SOURCE".into(),
        Verdict::Other(why) => why.clone(),
        Verdict::Go => String::new(),
    }
}

/// `%`-escapes everything but unreserved characters (a space is `%20`).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The request that sets the title of `url`'s mount to `song` ("Artist - Title"), in UTF-8 (for
/// an MP3 mount Icecast 2.4 takes ISO-8859-1 unless told).
pub fn metadata_request(url: &IcecastUrl, song: &str) -> String {
    format!(
        "GET /admin/metadata?mode=updinfo&mount={mount}&song={song}&charset=UTF-8 HTTP/1.0\r\nHost: {host}\r\n\
         Authorization: {auth}\r\nUser-Agent: {USER_AGENT}\r\n\r\n",
        mount = percent_encode(&url.mount),
        song = percent_encode(&clean(song)),
        host = url.authority(),
        auth = basic_auth(url),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> IcecastUrl {
        IcecastUrl::parse("icecast://source:pa%3Ass@ice.example:8010/drift.mp3").unwrap()
    }

    fn info() -> StreamInfo {
        StreamInfo {
            name: "Drift\r\nX-Evil: 1".into(),
            description: "A drifting mix".into(),
            genre: "Various".into(),
            bitrate_kbps: 192,
            sample_rate: 44_100,
            channels: 2,
        }
    }

    #[test]
    fn a_put_request_carries_every_header_and_asks_to_continue() {
        let h = source_request(&url(), Method::Put, &info());
        assert!(h.starts_with("PUT /drift.mp3 HTTP/1.1\r\n"), "{h}");
        assert!(h.ends_with("Expect: 100-continue\r\n\r\n"));
        // "source:pa:ss" in base64.
        assert!(h.contains("Authorization: Basic c291cmNlOnBhOnNz\r\n"));
        for line in [
            "Host: ice.example:8010",
            "Content-Type: audio/mpeg",
            "ice-name: DriftX-Evil: 1",
            "ice-description: A drifting mix",
            "ice-genre: Various",
            "ice-public: 0",
            "ice-audio-info: ice-bitrate=192;ice-samplerate=44100;ice-channels=2",
        ] {
            assert!(h.contains(&format!("\r\n{line}\r\n")), "{line} in {h}");
        }
        // One header per line: a name with a line break in it stays one line.
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        assert!(req.parse(h.as_bytes()).unwrap().is_complete());
        assert_eq!(req.headers.len(), 10);
    }

    #[test]
    fn a_source_request_is_http_1_0_without_expect() {
        let h = source_request(&url(), Method::Source, &info());
        assert!(h.starts_with("SOURCE /drift.mp3 HTTP/1.0\r\n"));
        assert!(!h.contains("Expect"));
        assert!(h.ends_with("\r\n\r\n"));
    }

    #[test]
    fn answers_parse_at_every_split_and_judge_as_the_output_needs() {
        let text = b"HTTP/1.0 403 Forbidden\r\nContent-Type: text/html\r\n\r\nMountpoint in use";
        for cut in 0..text.len() {
            let got = parse_answer(&text[..cut]).unwrap();
            let head_end = text.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            assert_eq!(got.is_some(), cut >= head_end, "cut {cut}");
        }
        let a = parse_answer(text).unwrap().unwrap();
        assert_eq!(
            (a.status, a.reason.as_str(), a.head_len),
            (403, "Forbidden", 51)
        );
        let body = std::str::from_utf8(&text[a.head_len..]).unwrap();
        assert_eq!(verdict(Method::Put, &a, body), Verdict::MountInUse);
        assert_eq!(
            verdict(Method::Put, &a, ""),
            Verdict::Other("the server answered 403 Forbidden".into())
        );
        let answer = |s: &str| parse_answer(s.as_bytes()).unwrap().unwrap();
        let put = |s: &str| verdict(Method::Put, &answer(s), "");
        assert_eq!(put("HTTP/1.1 100 Continue\r\n\r\n"), Verdict::Go);
        assert_eq!(put("HTTP/1.0 200 OK\r\n\r\n"), Verdict::Go);
        assert_eq!(
            put("HTTP/1.0 401 Authentication Required\r\n\r\n"),
            Verdict::BadPassword
        );
        assert_eq!(put("HTTP/1.1 409 Conflict\r\n\r\n"), Verdict::MountInUse);
        assert_eq!(
            put("HTTP/1.0 403 Mountpoint in use\r\n\r\n"),
            Verdict::MountInUse
        );
        for old in [
            "400 Bad Request",
            "405 Method Not Allowed",
            "501 Not Implemented",
        ] {
            let a = answer(&format!("HTTP/1.0 {old}\r\n\r\n"));
            assert_eq!(verdict(Method::Put, &a, ""), Verdict::TryOldMethod);
            assert!(matches!(verdict(Method::Source, &a, ""), Verdict::Other(_)));
        }
        assert!(put("HTTP/1.0 401 x\r\n\r\n").is_permanent());
        assert!(!put("HTTP/1.0 503 Busy\r\n\r\n").is_permanent());
        assert!(parse_answer(b"ICY 200 OK\r\n\r\n").is_err());
        assert!(parse_answer(&[b'a'; 20_000]).is_err());
    }

    #[test]
    fn the_metadata_request_escapes_the_title_and_the_mount() {
        let r = metadata_request(&url(), "Björk - A & B / C?\n");
        assert!(r.starts_with(
            "GET /admin/metadata?mode=updinfo&mount=%2Fdrift.mp3&song=Bj%C3%B6rk%20-%20A%20%26%20B%20%2F%20C%3F&charset=UTF-8 HTTP/1.0\r\n"
        ), "{r}");
        assert!(r.contains("\r\nAuthorization: Basic c291cmNlOnBhOnNz\r\n"));
        assert!(r.ends_with("\r\n\r\n"));
    }

    #[test]
    fn explanations_name_the_server_and_never_the_password() {
        let u = url();
        let bad = explain(&Verdict::BadPassword, &u);
        assert!(bad.contains("ice.example:8010") && bad.contains("401"));
        assert!(explain(&Verdict::MountInUse, &u).contains("/drift.mp3"));
        for v in [Verdict::BadPassword, Verdict::MountInUse] {
            assert!(!explain(&v, &u).contains("pa:ss"));
        }
    }
}
