//! The album artist read from each format's own tag, in files ffmpeg makes (its `album_artist`
//! metadata is written as ID3 TPE2, Vorbis ALBUMARTIST and MP4 aART) and in an APE tag lofty
//! writes ("Album Artist").
use super::*;
use lofty::config::WriteOptions;
use lofty::tag::{TagExt, TagType};
use std::process::Command;

/// A 0.3 s tone in `dir/name` (the format from the extension), tagged by ffmpeg.
fn ffmpeg_file(dir: &Path, name: &str, album_artist: Option<&str>) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut args: Vec<String> = [
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=0.3",
        "-metadata",
        "title=Second Song",
        "-metadata",
        "artist=Track Artist",
        "-metadata",
        "album=The Mix",
    ]
    .map(String::from)
    .into();
    if let Some(by) = album_artist {
        args.extend(["-metadata".into(), format!("album_artist={by}")]);
    }
    let out = Command::new("ffmpeg")
        .args(&args)
        .arg(&path)
        .output()
        .expect("ffmpeg is installed (scripts/install-test-deps.sh)");
    assert!(out.status.success(), "ffmpeg {name}: {out:?}");
    path
}

#[test]
fn the_album_artist_is_read_from_id3_vorbis_and_mp4_tags() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.mp3", "a.flac", "a.m4a", "a.ogg", "a.opus"] {
        let path = ffmpeg_file(dir.path(), name, Some("  DJ Night "));
        let tags = read_tags(&path);
        assert_eq!(
            (tags.artist.as_str(), tags.album.as_str()),
            ("Track Artist", "The Mix"),
            "{name}"
        );
        assert_eq!(tags.album_artist, "DJ Night", "{name}");
        assert_eq!(
            read_header(&path).tags,
            tags,
            "{name}: the first pass reads it too"
        );
    }
    for name in ["b.mp3", "b.flac", "b.m4a"] {
        let path = ffmpeg_file(dir.path(), name, None);
        assert_eq!(read_tags(&path).album_artist, "", "{name}: none tagged");
        assert_eq!(read_tags(&path).artist, "Track Artist", "{name}");
    }
}

#[test]
fn the_album_artist_is_read_from_an_ape_tag() {
    let dir = tempfile::tempdir().unwrap();
    let path = ffmpeg_file(dir.path(), "c.mp3", None);
    let mut tag = Tag::new(TagType::Ape);
    tag.set_title("Song".into());
    tag.set_artist("Track Artist".into());
    tag.insert_text(ItemKey::AlbumArtist, "Various Artists".into());
    tag.save_to_path(&path, WriteOptions::default()).unwrap();
    assert_eq!(read_tags(&path).album_artist, "Various Artists");
}
