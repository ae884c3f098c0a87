//! Finding the audio files under the library folders and taking their size and mtime, which is
//! what tells an unchanged file from a changed one.
use crate::store::FileStat;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};
use walkdir::{DirEntry, WalkDir};

/// File extensions (lower case) the scanner considers audio; others are ignored silently.
pub const AUDIO_EXTENSIONS: &[&str] = &["mp3", "flac", "wav", "ogg", "oga", "m4a", "mp4", "aac"];

/// Whether the path has one of the [`AUDIO_EXTENSIONS`], in any case.
pub fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| e.eq_ignore_ascii_case(a)))
}

/// What one walk found.
#[derive(Debug, Default)]
pub struct Found {
    /// Audio files by path (sorted, each once even if the library folders overlap).
    pub files: BTreeMap<PathBuf, FileStat>,
    /// Audio files whose path is not UTF-8, which the store cannot key; reported, not stored.
    pub unnamable: Vec<PathBuf>,
    /// Folders (or files) that could not be read: what was under them last time is not
    /// counted as deleted (a folder that is unmounted or unreadable for a moment comes back).
    pub unreadable: Vec<PathBuf>,
}

/// Walks `root` (an existing folder), adding its audio files to `found`. Symbolic links are
/// followed (music folders are often linked in) and walkdir refuses to loop through them.
/// Hidden files and folders (a leading `.`, such as macOS `._x.mp3` resource forks) are
/// skipped. A folder or file that cannot be read is logged and skipped; note that its files
/// then count as gone for this scan.
pub fn walk(root: &Path, found: &mut Found) {
    let entries = WalkDir::new(root)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e));
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().unwrap_or(root);
                tracing::warn!("cannot read {}: {e}", path.display());
                found.unreadable.push(path.to_path_buf());
                continue;
            }
        };
        if !entry.file_type().is_file() || !is_audio(entry.path()) {
            continue;
        }
        let path = entry.path().to_path_buf();
        if path.to_str().is_none() {
            found.unnamable.push(path);
            continue;
        }
        match entry.metadata() {
            Ok(meta) => {
                let stat = FileStat {
                    path: path.clone(),
                    size: meta.len(),
                    mtime_ns: meta.modified().map_or(0, unix_nanos),
                };
                found.files.insert(path, stat);
            }
            Err(e) => {
                tracing::warn!("cannot read {}: {e}", path.display());
                found.unreadable.push(path);
            }
        }
    }
}

fn is_hidden(entry: &DirEntry) -> bool {
    entry
        .file_name()
        .to_str()
        .is_some_and(|n| n.starts_with('.'))
}

/// Nanoseconds since the Unix epoch (negative before it), saturating at the `i64` range.
fn unix_nanos(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_extensions_match_in_any_case() {
        assert!(is_audio(Path::new("a/B.FLAC")));
        assert!(is_audio(Path::new("x.Oga")));
        assert!(!is_audio(Path::new("cover.jpg")));
        assert!(!is_audio(Path::new("mp3")));
    }

    #[test]
    fn walk_finds_audio_skips_hidden_and_survives_symlink_loops() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.join(".hidden")).unwrap();
        for f in [
            "a/one.mp3",
            "a/b/two.WAV",
            "a/notes.txt",
            ".hidden/x.mp3",
            "a/._y.mp3",
        ] {
            std::fs::write(root.join(f), b"x").unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("a"), root.join("a/b/loop")).unwrap();
        let mut found = Found::default();
        walk(root, &mut found);
        let names: Vec<_> = found
            .files
            .keys()
            .map(|p| p.strip_prefix(root).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            names,
            vec![PathBuf::from("a/b/two.WAV"), PathBuf::from("a/one.mp3")]
        );
        assert_eq!(found.files[&root.join("a/one.mp3")].size, 1);
        assert!(found.files[&root.join("a/one.mp3")].mtime_ns > 0);
    }
}
