//! Test support: Debian's icecast2 on a free loopback port with a generated config in a temp
//! dir (as `nobody` when the tests run as root: Icecast refuses to run as root), which a test
//! can kill and start again on the same port.
#![allow(dead_code)]
#[path = "icecast_config.rs"]
mod config;

use config::icecast_config;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Icecast {
    pub port: u16,
    pub password: String,
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Icecast {
    /// Starts icecast2 in `dir` and waits until it accepts connections. Panics with a clear
    /// message when icecast2 is not installed (`make deps` installs it).
    pub fn start(dir: &Path) -> Icecast {
        assert!(
            Path::new("/usr/bin/icecast2").exists(),
            "these tests need Debian's icecast2 (/usr/bin/icecast2): run `make deps` or \
             `apt-get install icecast2`"
        );
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let password = format!("pw{}", rand_suffix());
        let config = dir.join("icecast.xml");
        std::fs::write(&config, icecast_config(port, 50, &password, dir, "")).unwrap();
        let mut ice = Icecast {
            port,
            password,
            config,
            log: dir.join("icecast.log"),
            child: None,
        };
        ice.launch();
        ice
    }

    fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new("/usr/bin/icecast2")
            .arg("-c")
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start icecast2");
        self.child = Some(child);
        let started = Instant::now();
        while TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_err() {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("icecast2 exited ({status}):\n{}", self.log_text());
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "icecast2 did not listen within 20 s:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `kill -9` (a crash, or the machine going away).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A new icecast2 on the same port and config.
    pub fn restart(&mut self) {
        self.kill();
        // The port is free once the old process is gone; a moment for the kernel.
        std::thread::sleep(Duration::from_millis(200));
        self.launch();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// A source address for `mount` with this server's password.
    pub fn source(&self, mount: &str) -> String {
        format!(
            "icecast://source:{}@127.0.0.1:{}{mount}",
            self.password, self.port
        )
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Icecast {
    fn drop(&mut self) {
        self.kill();
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    h.finish() % 1_000_000
}
