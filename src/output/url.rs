//! Parsing an Icecast output's address, `icecast://USER:PASSWORD@HOST:PORT/MOUNT?session=FP`,
//! into its parts with a clear error for each way it can be wrong. The password is kept apart
//! and never shown: `Debug` and `Display` print the address without it.
use std::fmt;

/// Where an output sends a session: an Icecast server's address, mount and credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct IcecastUrl {
    pub host: String,
    pub port: u16,
    /// The mount, with its leading slash (`/drift.mp3`).
    pub mount: String,
    /// Icecast's source user (`source` unless the server's mount says otherwise).
    pub user: String,
    password: String,
    /// The session pushed (`None`: the station's default session).
    pub session: Option<String>,
}

/// Why an output address cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("an Icecast output address starts with icecast:// (as in icecast://source:PASSWORD@HOST:8000/MOUNT)")]
    Scheme,
    #[error("the Icecast address has no password (icecast://source:PASSWORD@HOST:PORT/MOUNT)")]
    NoPassword,
    #[error("the Icecast address has no host")]
    NoHost,
    #[error("the Icecast port must be a number from 1 to 65535, not '{0}'")]
    Port(String),
    #[error("the Icecast address has no mount (the path after the port, e.g. /drift.mp3)")]
    NoMount,
    #[error("the mount '{0}' may only hold letters, digits and - _ . / (no spaces or %)")]
    Mount(String),
    #[error("'{0}' is not a session fingerprint")]
    Session(String),
    #[error("unknown option '{0}' in the Icecast address (only session= is understood)")]
    Option(String),
    #[error("the user name or password holds a malformed %-escape")]
    Escape,
}

/// Icecast's default port, when the address names none.
pub const DEFAULT_PORT: u16 = 8000;

impl IcecastUrl {
    pub fn parse(text: &str) -> Result<IcecastUrl, UrlError> {
        let rest = text
            .trim()
            .strip_prefix("icecast://")
            .ok_or(UrlError::Scheme)?;
        // The credentials end at the last '@' (a password may hold '@' itself).
        let (userinfo, rest) = rest.rsplit_once('@').ok_or(UrlError::NoPassword)?;
        let (user, password) = userinfo.split_once(':').ok_or(UrlError::NoPassword)?;
        let (user, password) = (unescape(user)?, unescape(password)?);
        if password.is_empty() {
            return Err(UrlError::NoPassword);
        }
        let user = if user.is_empty() {
            "source".into()
        } else {
            user
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => return Err(UrlError::NoMount),
        };
        let (host, port) = match authority.strip_prefix('[').and_then(|a| a.find(']')) {
            // An IPv6 literal: `[::1]` or `[::1]:8000`.
            Some(end) => match &authority[end + 2..] {
                "" => (&authority[..end + 2], None),
                after => match after.strip_prefix(':') {
                    Some(p) => (&authority[..end + 2], Some(p)),
                    None => return Err(UrlError::NoHost),
                },
            },
            None => match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            },
        };
        if host.is_empty() || host.contains(['/', '?', '#', ' ']) {
            return Err(UrlError::NoHost);
        }
        let port = match port {
            None => DEFAULT_PORT,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => return Err(UrlError::Port(p.into())),
            },
        };
        let (mount, query) = match path.split_once('?') {
            Some((m, q)) => (m, Some(q)),
            None => (path, None),
        };
        if mount.len() < 2 {
            return Err(UrlError::NoMount);
        }
        let fine = |b: u8| b.is_ascii_alphanumeric() || b"-_./".contains(&b);
        if !mount.bytes().all(fine) || mount.contains("//") || mount.contains("..") {
            return Err(UrlError::Mount(mount.into()));
        }
        let mut session = None;
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("session", fp)) if valid_session(fp) => session = Some(fp.to_string()),
                Some(("session", fp)) => return Err(UrlError::Session(fp.into())),
                _ => return Err(UrlError::Option(pair.into())),
            }
        }
        Ok(IcecastUrl {
            host: host.into(),
            port,
            mount: mount.into(),
            user,
            password,
            session: session.filter(|s| s != "default"),
        })
    }

    /// The password, for the `Authorization` header only.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// `HOST:PORT` to connect to.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// `HOST:PORT/MOUNT`: names the output in logs and metric labels.
    pub fn target(&self) -> String {
        format!("{}:{}{}", self.host, self.port, self.mount)
    }

    /// The session's name for the registry (`default` for the station's session).
    pub fn session_name(&self) -> &str {
        self.session.as_deref().unwrap_or("default")
    }
}

/// The address without its password, as the page and the log show it.
impl fmt::Display for IcecastUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "icecast://{}@{}", self.user, self.target())?;
        if let Some(s) = &self.session {
            write!(f, "?session={s}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for IcecastUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IcecastUrl({self})")
    }
}

fn valid_session(fp: &str) -> bool {
    (1..=64).contains(&fp.len())
        && fp
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Undoes %-escapes in a user name or password (a password holding ':' or '@' is written
/// `%3A` / `%40`).
fn unescape(s: &str) -> Result<String, UrlError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).ok_or(UrlError::Escape)?;
            let hex = std::str::from_utf8(hex).map_err(|_| UrlError::Escape)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| UrlError::Escape)?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| UrlError::Escape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_address_parses_into_its_parts() {
        let u =
            IcecastUrl::parse("icecast://source:s3cr%40t@example.org:8010/live.mp3?session=Ab_-9")
                .unwrap();
        assert_eq!(u.host, "example.org");
        assert_eq!(u.port, 8010);
        assert_eq!(u.mount, "/live.mp3");
        assert_eq!(u.user, "source");
        assert_eq!(u.password(), "s3cr@t");
        assert_eq!(u.session.as_deref(), Some("Ab_-9"));
        assert_eq!(u.session_name(), "Ab_-9");
        assert_eq!(u.authority(), "example.org:8010");
    }

    #[test]
    fn defaults_fill_the_port_the_user_and_the_session() {
        let u = IcecastUrl::parse("icecast://:pw@10.0.0.1/a").unwrap();
        assert_eq!((u.port, u.user.as_str()), (DEFAULT_PORT, "source"));
        assert_eq!(u.session_name(), "default");
        let u = IcecastUrl::parse("icecast://source:pw@h:1/a?session=default").unwrap();
        assert_eq!(u.session, None);
        // A password holding '@' (the credentials end at the last one) and ':'.
        let u = IcecastUrl::parse("icecast://source:a@b:c@h:9/m").unwrap();
        assert_eq!((u.password(), u.host.as_str()), ("a@b:c", "h"));
        // IPv6.
        let u = IcecastUrl::parse("icecast://source:pw@[::1]:8001/m").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("[::1]", 8001));
        let u = IcecastUrl::parse("icecast://source:pw@[::1]/m").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("[::1]", DEFAULT_PORT));
    }

    #[test]
    fn the_password_is_never_displayed_or_debugged() {
        let u = IcecastUrl::parse("icecast://source:hunter2@h:8000/m?session=abc").unwrap();
        for shown in [u.to_string(), format!("{u:?}"), format!("{:?}", Some(&u))] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        assert_eq!(u.to_string(), "icecast://source@h:8000/m?session=abc");
    }

    #[test]
    fn bad_addresses_say_what_is_wrong() {
        use UrlError::*;
        let cases: &[(&str, UrlError)] = &[
            ("http://source:pw@h:8000/m", Scheme),
            ("", Scheme),
            ("icecast://h:8000/m", NoPassword),
            ("icecast://source@h:8000/m", NoPassword),
            ("icecast://source:@h:8000/m", NoPassword),
            ("icecast://source:pw@:8000/m", NoHost),
            ("icecast://source:pw@h:0/m", Port("0".into())),
            ("icecast://source:pw@h:99999/m", Port("99999".into())),
            ("icecast://source:pw@h:x/m", Port("x".into())),
            ("icecast://source:pw@h:8000", NoMount),
            ("icecast://source:pw@h:8000/", NoMount),
            ("icecast://source:pw@h:8000/a b", Mount("/a b".into())),
            ("icecast://source:pw@h:8000/../x", Mount("/../x".into())),
            (
                "icecast://source:pw@h:8000/m?session=a/b",
                Session("a/b".into()),
            ),
            (
                "icecast://source:pw@h:8000/m?bitrate=1",
                Option("bitrate=1".into()),
            ),
            ("icecast://source:p%zz@h:8000/m", Escape),
            ("icecast://source:p%4@h:8000/m", Escape),
        ];
        for (text, want) in cases {
            assert_eq!(IcecastUrl::parse(text).as_ref(), Err(want), "{text}");
        }
        // No message repeats the password it was given.
        let e = IcecastUrl::parse("icecast://source:hunter2@h:x/m").unwrap_err();
        assert!(!e.to_string().contains("hunter2"));
    }

    #[test]
    fn random_input_never_panics() {
        crate::fuzz::check("icecast url", 3000, |rng| {
            let mut bytes = crate::fuzz::random_bytes(rng, 40);
            let prefix = b"icecast://source:pw@h:8000/";
            if rand::Rng::gen_bool(rng, 0.5) {
                bytes.splice(0..0, prefix.iter().copied());
            }
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(u) = IcecastUrl::parse(&text) {
                assert!(u.mount.starts_with('/') && u.port > 0 && !u.host.is_empty());
            }
        });
    }
}
