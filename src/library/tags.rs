//! Reading a file's tags (title, artist, album, album artist, disc and track number), its
//! stated duration and embedded cover art with lofty, with fallbacks so that every playable
//! file has something to show. Never fails, never panics. Pictures are read only by
//! [`cover_art`]: a 50 MB cover costs nothing elsewhere.
use super::cover_probe::has_embedded_picture;
use crate::model::Tags;
use crate::units::Frames;
use lofty::config::ParseOptions;
use lofty::file::{AudioFile, TaggedFile, TaggedFileExt};
use lofty::picture::{Picture, PictureType};
use lofty::probe::Probe;
use lofty::tag::{Accessor, ItemKey, ItemValue, Tag};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// Shown when a file has no artist tag.
pub const UNKNOWN_ARTIST: &str = "Unknown artist";
/// Shown when a file has no title tag and no usable file name.
pub const UNKNOWN_TITLE: &str = "Untitled";

/// The file's tags, with fallbacks: a missing title is the file's stem ("01 Intro" for
/// `01 Intro.mp3`), a missing artist is [`UNKNOWN_ARTIST`], a missing album or album artist is
/// empty (the track's album is then by its own artist). The album does not fall back to the
/// folder name: folders are often "Downloads" or "Music", which would be shown as if it were
/// an album. A file lofty cannot read gets all fallbacks.
pub fn read_tags(path: &Path) -> Tags {
    tags_of(path, read_file(path, Read::Tags).as_ref())
}

/// What a cheap first look at a file (headers and tags, no decoding) tells.
#[derive(Clone, Debug, PartialEq)]
pub struct FileHeader {
    /// As [`read_tags`] gives them, fallbacks included.
    pub tags: Tags,
    /// The length the headers state, in 44.1 kHz frames (rounded to the nearest), if any.
    pub duration: Option<Frames>,
    /// Whether the file embeds a picture ([`cover_art`] would return one).
    pub has_cover: bool,
}

/// Tags, stated duration and whether there is a cover, without decoding audio or reading the
/// picture: the scanner's first pass over every file.
pub fn read_header(path: &Path) -> FileHeader {
    let file = read_file(path, Read::TagsAndProperties);
    let duration = file.as_ref().and_then(|f| {
        let d = f.properties().duration();
        (!d.is_zero()).then(|| Frames::from_secs(d.as_secs_f64()))
    });
    FileHeader {
        tags: tags_of(path, file.as_ref()),
        duration,
        has_cover: has_embedded_picture(path),
    }
}

/// The tags of a parsed file (or of none), with the fallbacks of [`read_tags`].
fn tags_of(path: &Path, file: Option<&TaggedFile>) -> Tags {
    let found = file
        .map(|file| {
            let pick = |get: fn(&Tag) -> Option<String>| all_tags(file).find_map(get);
            (
                pick(|t| t.title().map(|s| s.into_owned())),
                pick(|t| t.artist().map(|s| s.into_owned())),
                pick(|t| t.album().map(|s| s.into_owned())),
                // ID3 TPE2, MP4 aART, Vorbis ALBUMARTIST, APE "Album Artist".
                pick(|t| t.get_string(&ItemKey::AlbumArtist).map(str::to_string)),
                all_tags(file).find_map(|t| position(t, ItemKey::DiscNumber)),
                all_tags(file).find_map(|t| position(t, ItemKey::TrackNumber)),
            )
        })
        .unwrap_or_default();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().trim().to_string())
        .filter(|s| !s.is_empty());
    Tags {
        title: clean(found.0)
            .or(stem)
            .unwrap_or_else(|| UNKNOWN_TITLE.into()),
        artist: clean(found.1).unwrap_or_else(|| UNKNOWN_ARTIST.into()),
        album: clean(found.2).unwrap_or_default(),
        album_artist: clean(found.3).unwrap_or_default(),
        disc: found.4,
        number: found.5,
    }
}

/// A disc or track number: the item's text ("3", "3/12", " 03 ") read up to a slash; `None`
/// when missing, zero or not a number.
fn position(tag: &Tag, key: ItemKey) -> Option<u32> {
    let text = tag.get_string(&key)?;
    let head = text.split('/').next()?.trim();
    head.parse::<u32>().ok().filter(|n| *n > 0)
}

/// The first embedded picture (front cover preferred) as (MIME type, bytes), if any.
pub fn cover_art(path: &Path) -> Option<(String, Vec<u8>)> {
    let file = read_file(path, Read::Pictures)?;
    // APE tags keep pictures as binary items, which lofty's generic tag does not list as
    // pictures: convert those too.
    let ape: Vec<Picture> = all_tags(&file)
        .flat_map(|t| t.items())
        .filter_map(|item| match (item.key(), item.value()) {
            (ItemKey::Unknown(key), ItemValue::Binary(bytes)) if is_ape_picture_key(key) => {
                Picture::from_ape_bytes(key, bytes).ok()
            }
            _ => None,
        })
        .collect();
    let pictures = || all_tags(&file).flat_map(|t| t.pictures()).chain(&ape);
    let picture = pictures()
        .find(|p| p.pic_type() == PictureType::CoverFront)
        .or_else(|| pictures().next())?;
    if picture.data().is_empty() {
        return None;
    }
    let mime = picture
        .mime_type()
        .map(|m| m.as_str().to_string())
        .filter(|m| m.contains('/'))
        .unwrap_or_else(|| sniff_mime(picture.data()).to_string());
    Some((mime, picture.data().to_vec()))
}

/// What to parse besides the text tags.
#[derive(Clone, Copy, PartialEq)]
enum Read {
    Tags,
    /// Also the audio properties (duration), which may mean reading a few frames.
    TagsAndProperties,
    /// Also the pictures, whatever their size.
    Pictures,
}

/// Whether an APE item key names a picture ("Cover Art (Front)" and its kin).
fn is_ape_picture_key(key: &str) -> bool {
    key.get(..9)
        .is_some_and(|k| k.eq_ignore_ascii_case("cover art"))
}

/// Parses the file's tags, and what `what` asks for. The file type is guessed from the content
/// first, so a FLAC named `.mp3` still has its tags read. lofty is run under `catch_unwind`
/// because it parses untrusted bytes: a bug there must cost one file's tags, not the scan.
fn read_file(path: &Path, what: Read) -> Option<TaggedFile> {
    let options = ParseOptions::new()
        .read_properties(what == Read::TagsAndProperties)
        .read_cover_art(what == Read::Pictures);
    let read = || -> lofty::error::Result<TaggedFile> {
        Probe::open(path)?
            .options(options)
            .guess_file_type()?
            .read()
    };
    match catch_unwind(AssertUnwindSafe(read)) {
        Ok(Ok(file)) => Some(file),
        Ok(Err(e)) => {
            tracing::debug!(path = %path.display(), error = %e, "no readable tags");
            None
        }
        Err(_) => {
            tracing::warn!(path = %path.display(), "tag reader panicked; using fallback tags");
            None
        }
    }
}

/// The primary tag first (the format's native one), then any others (e.g. ID3v1 beside ID3v2).
fn all_tags(file: &TaggedFile) -> impl Iterator<Item = &Tag> {
    let primary = file.primary_tag();
    primary.into_iter().chain(
        file.tags()
            .iter()
            .filter(move |t| Some(t.tag_type()) != primary.map(|p| p.tag_type())),
    )
}

/// A tag value worth showing: trimmed, not empty.
fn clean(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The MIME type of common image data, for pictures stored without one.
fn sniff_mime(data: &[u8]) -> &'static str {
    match data {
        [0x89, b'P', b'N', b'G', ..] => "image/png",
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [b'G', b'I', b'F', b'8', ..] => "image/gif",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lofty::config::WriteOptions;
    use lofty::picture::MimeType;
    use lofty::tag::{TagExt, TagType};

    fn write_wav(path: &Path) {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..8820 {
            w.write_sample((i % 100) as i16).unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    fn untagged_and_unreadable_files_get_fallbacks() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("01 Morning Walk.wav");
        write_wav(&wav);
        let expected = Tags {
            title: "01 Morning Walk".into(),
            artist: UNKNOWN_ARTIST.into(),
            album: String::new(),
            album_artist: String::new(),
            disc: None,
            number: None,
        };
        assert_eq!(read_tags(&wav), expected);
        assert_eq!(cover_art(&wav), None);

        let junk = dir.path().join("junk.mp3");
        std::fs::write(&junk, b"ID3\x04\x00\x00\xff\xff\xff\xffnot really").unwrap();
        assert_eq!(read_tags(&junk).title, "junk");
        let missing = dir.path().join("gone.flac");
        assert_eq!(read_tags(&missing).artist, UNKNOWN_ARTIST);
        assert_eq!(read_tags(Path::new("")).title, UNKNOWN_TITLE);
    }

    #[test]
    fn tags_and_cover_art_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("file name.wav");
        write_wav(&wav);
        let mut tag = Tag::new(TagType::Id3v2);
        tag.set_title("  Real Title ".into());
        tag.set_artist("Someone".into());
        tag.set_album("An Album".into());
        tag.insert_text(ItemKey::TrackNumber, "3/12".into());
        tag.insert_text(ItemKey::DiscNumber, "2".into());
        let png = b"\x89PNG\r\n\x1a\nfake image bytes".to_vec();
        tag.push_picture(Picture::new_unchecked(
            PictureType::CoverFront,
            Some(MimeType::Png),
            None,
            png.clone(),
        ));
        tag.save_to_path(&wav, WriteOptions::default()).unwrap();
        let tags = read_tags(&wav);
        assert_eq!(tags.title, "Real Title");
        assert_eq!(tags.artist, "Someone");
        assert_eq!(tags.album, "An Album");
        assert_eq!((tags.disc, tags.number), (Some(2), Some(3)));
        assert_eq!(cover_art(&wav), Some(("image/png".to_string(), png)));
    }

    #[test]
    fn numbers_are_read_up_to_a_slash_and_bad_ones_are_none() {
        let mut tag = Tag::new(TagType::Id3v2);
        for (text, want) in [
            ("3/12", Some(3)),
            (" 07 ", Some(7)),
            ("x", None),
            ("0", None),
            ("", None),
        ] {
            tag.insert_text(ItemKey::TrackNumber, text.into());
            assert_eq!(position(&tag, ItemKey::TrackNumber), want, "{text:?}");
        }
        assert_eq!(position(&tag, ItemKey::DiscNumber), None);
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("untagged.wav");
        write_wav(&wav);
        assert_eq!((read_tags(&wav).disc, read_tags(&wav).number), (None, None));
    }

    #[test]
    fn picture_types_are_sniffed() {
        assert_eq!(sniff_mime(&[0xFF, 0xD8, 0xFF, 0xE0]), "image/jpeg");
        assert_eq!(sniff_mime(b"hello"), "application/octet-stream");
    }
}

#[cfg(test)]
#[path = "tags_album_artist_tests.rs"]
mod album_artist_tests;
