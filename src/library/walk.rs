//! Finding the audio files under the library folders and taking their size and mtime, which is
//! what tells an unchanged file from a changed one. A file is audio by its extension, or, when
//! it has none or one we do not know, by its first bytes; formats Drift cannot decode are found
//! too, so the scan reports them instead of ignoring them.
use crate::audio::sniff::{
    extension, sniff, DECODABLE_EXTENSIONS, SNIFF_BYTES, UNDECODABLE_EXTENSIONS,
};
use crate::store::FileStat;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};
use walkdir::{DirEntry, WalkDir};

/// File extensions (lower case) of the formats Drift decodes. Audio it recognises but cannot
/// decode ([`UNDECODABLE_EXTENSIONS`]) is found as well, and reported with its reason.
pub const AUDIO_EXTENSIONS: &[&str] = DECODABLE_EXTENSIONS;

/// Extensions (lower case) of files that are certainly not audio: pictures, text, playlists,
/// cue sheets, rip logs, checksums, documents, archives and video. They are skipped without
/// being opened; a file with any other unknown extension, or none, is sniffed.
pub const NOT_AUDIO_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "bmp", "webp", "tif", "tiff", "heic", "svg", "ico", "txt", "md",
    "nfo", "log", "cue", "m3u", "m3u8", "pls", "xspf", "wpl", "pdf", "doc", "docx", "rtf", "html",
    "htm", "xml", "json", "db", "ini", "sfv", "md5", "sha1", "sha256", "ffp", "accurip", "toc",
    "lrc", "srt", "url", "lnk", "exe", "zip", "rar", "7z", "gz", "tar", "iso", "torrent", "mkv",
    "avi", "mov", "wmv", "flv", "mpg", "mpeg", "m4v", "ds_store",
];

/// Whether the path has the extension of an audio format (decodable or not), in any case.
pub fn is_audio(path: &Path) -> bool {
    extension(path).is_some_and(|e| {
        AUDIO_EXTENSIONS.contains(&e.as_str())
            || UNDECODABLE_EXTENSIONS.iter().any(|(u, _)| *u == e)
    })
}

/// Whether the path's extension says it is not audio, so it need not be opened.
pub fn is_not_audio(path: &Path) -> bool {
    extension(path).is_some_and(|e| NOT_AUDIO_EXTENSIONS.contains(&e.as_str()))
}

/// Whether a file with no telling extension starts like audio. Unreadable files are not.
fn sniffs_as_audio(path: &Path) -> bool {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    match std::fs::File::open(path).and_then(|f| f.take(SNIFF_BYTES as u64).read_to_end(&mut head))
    {
        Ok(_) => sniff(&head).is_some(),
        Err(e) => {
            tracing::warn!("cannot read {}: {e}", path.display());
            false
        }
    }
}

/// Whether the walk lists the file: an audio extension, or no known extension and audio bytes.
fn wanted(path: &Path) -> bool {
    is_audio(path) || (!is_not_audio(path) && sniffs_as_audio(path))
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
        if !entry.file_type().is_file() || !wanted(entry.path()) {
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
        assert!(is_audio(Path::new("x.opus")) && is_audio(Path::new("x.AIFF")));
        assert!(
            is_audio(Path::new("x.wma")),
            "undecodable audio is still audio"
        );
        assert!(is_not_audio(Path::new("Cover.JPG")) && !is_not_audio(Path::new("x")));
    }

    #[test]
    fn files_without_a_telling_extension_are_sniffed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // An MP3 frame header (128 kb/s, 44.1 kHz: 417 bytes) twice, under odd names.
        let mut mp3 = Vec::new();
        for _ in 0..2 {
            mp3.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
            mp3.resize(mp3.len() + 413, 0);
        }
        std::fs::write(root.join("track01"), &mp3).unwrap();
        std::fs::write(root.join("track02.bak"), b"fLaC\0\0\0\x22").unwrap();
        std::fs::write(root.join("readme"), b"plain text").unwrap();
        // Named like a picture: skipped unopened, even though it is audio inside.
        std::fs::write(root.join("cover.jpg"), &mp3).unwrap();
        let mut found = Found::default();
        walk(root, &mut found);
        let names: Vec<_> = found
            .files
            .keys()
            .map(|p| p.file_name().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["track01", "track02.bak"]);
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
