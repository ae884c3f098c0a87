//! Bad library input never stops a scan and never costs the store what it knew: unreadable
//! files and folders (permissions), file names that are not UTF-8, symlink loops, and a
//! library folder that goes away (unmounted) in the middle of a scan.
mod common;

use common::write_tone;
use drift::library::scan::{scan, ScanError, ScanOptions};
use drift::store::Store;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn opts() -> ScanOptions {
    ScanOptions {
        progress: false,
        threads: 1,
    }
}

/// `drift scan` as a user without the right to read everything: the test's own user, or
/// `nobody` when the tests run as root (root reads every file whatever its mode).
fn drift_scan_unprivileged(lib: &Path, data: &Path) -> std::process::Output {
    let drift = env!("CARGO_BIN_EXE_drift");
    let root = std::env::var("USER").as_deref() == Ok("root")
        || Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut cmd = if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", drift]);
        c
    } else {
        Command::new(drift)
    };
    cmd.arg("scan")
        .arg("--library")
        .arg(lib)
        .arg("--data-dir")
        .arg(data)
        .env("DRIFT_LOG", "warn")
        .output()
        .expect("run drift scan")
}

#[test]
fn unreadable_files_and_folders_are_reported_and_the_rest_plays() {
    let dir = tempfile::tempdir().unwrap();
    chmod(dir.path(), 0o755);
    let lib = dir.path().join("music");
    std::fs::create_dir_all(lib.join("locked")).unwrap();
    write_tone(&lib.join("fine.wav"), 2.0, 220.0);
    write_tone(&lib.join("secret.wav"), 2.0, 330.0);
    write_tone(&lib.join("locked/inner.wav"), 2.0, 440.0);
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    chmod(&data, 0o777);
    chmod(&lib.join("secret.wav"), 0o000);
    chmod(&lib.join("locked"), 0o000);

    let out = drift_scan_unprivileged(&lib, &data);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 analysed"), "{stdout}");
    assert!(
        stdout.contains("secret.wav: cannot read the file") && stdout.contains("ermission denied"),
        "{stdout}"
    );
    assert!(
        stdout.contains("cannot read") && stdout.contains("locked"),
        "{stdout}"
    );
    chmod(&lib.join("locked"), 0o755);
    chmod(&lib.join("secret.wav"), 0o644);
    let store = Store::open(&data).unwrap();
    assert_eq!(store.tracks().unwrap().len(), 1);
}

#[test]
fn a_name_that_is_not_utf8_is_reported_and_a_symlink_loop_is_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("music");
    std::fs::create_dir_all(lib.join("a")).unwrap();
    write_tone(&lib.join("a/good.wav"), 2.0, 220.0);
    let latin1 = lib.join(std::ffi::OsStr::from_bytes(b"caf\xe9.wav"));
    write_tone(&latin1, 2.0, 330.0);
    std::os::unix::fs::symlink(&lib, lib.join("a/loop")).unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();

    let report = scan(std::slice::from_ref(&lib), &mut store, &opts()).unwrap();
    assert_eq!(
        (report.seen, report.analysed, report.failed),
        (2, 1, 1),
        "{report:?}"
    );
    let failures = store.failures().unwrap();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].1.contains("not valid UTF-8"), "{failures:?}");
    assert!(
        failures[0].0.to_string_lossy().contains("caf"),
        "{failures:?}"
    );

    let again = scan(std::slice::from_ref(&lib), &mut store, &opts()).unwrap();
    assert_eq!(
        (again.unchanged, again.failed, again.removed),
        (2, 0, 0),
        "{again:?}"
    );
    assert_eq!(store.tracks().unwrap().len(), 1);
}

#[test]
fn a_library_folder_that_goes_away_mid_scan_stops_it_and_the_store_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("mount");
    std::fs::create_dir_all(&lib).unwrap();
    let files = 24;
    for i in 0..files {
        write_tone(
            &lib.join(format!("t{i:02}.wav")),
            15.0,
            200.0 + 20.0 * i as f64,
        );
    }
    let data = dir.path().join("data");
    let mut store = Store::open(&data).unwrap();
    let watcher = Store::open(&data).unwrap();
    let lib_for_scan = lib.clone();
    let scanning = std::thread::spawn(move || {
        let result = scan(&[lib_for_scan], &mut store, &opts());
        (result, store)
    });
    // Unmount once a few files are in.
    let started = Instant::now();
    while watcher.file_counts().unwrap().analysed < 2 {
        assert!(started.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(20));
    }
    let away: PathBuf = dir.path().join("unmounted");
    std::fs::rename(&lib, &away).unwrap();
    let (result, mut store) = scanning.join().unwrap();
    assert!(
        matches!(result, Err(ScanError::Library { .. })),
        "{result:?}"
    );
    let counts = store.file_counts().unwrap();
    assert_eq!(
        counts.known, files,
        "no file was counted as deleted: {counts:?}"
    );
    assert!(counts.pending > 0 && counts.analysed >= 2, "{counts:?}");

    // A scan while it is away refuses to run, and changes nothing.
    assert!(scan(std::slice::from_ref(&lib), &mut store, &opts()).is_err());
    assert_eq!(store.file_counts().unwrap(), counts);

    // Mounted again: the scan goes on from where it stopped.
    std::fs::rename(&away, &lib).unwrap();
    let report = scan(std::slice::from_ref(&lib), &mut store, &opts()).unwrap();
    assert_eq!(
        report.analysed as u64 + counts.analysed,
        files,
        "{report:?}"
    );
    assert_eq!(report.removed, 0);
    assert_eq!(store.tracks().unwrap().len() as u64, files);
}
