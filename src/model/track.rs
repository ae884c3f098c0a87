//! What Drift knows about one track: its identity, tags and analysis. Plain data shared by the
//! scanner, the store and the engine.
use crate::units::{Db, Frames};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Stable identity of a track: a hash of the file's content, so a rename is not a new track.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrackId(pub String);

impl std::fmt::Display for TrackId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which tags the scanner reads, as a version stored with each track: raised whenever
/// [`Tags`] gains a field, so tracks whose tags an older Drift read have them read again by the
/// next scan (cheap: the audio is not analysed again). 1: the album artist.
pub const TAGS_VERSION: i64 = 1;

/// Tags as shown to listeners; missing ones are filled from the file name by the scanner.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tags {
    pub title: String,
    pub artist: String,
    pub album: String,
    /// Who the whole album is by (ID3 TPE2, MP4 aART, Vorbis ALBUMARTIST), when the tags say:
    /// a compilation's "Various Artists", a DJ mix's DJ. Empty when they do not.
    #[serde(default)]
    pub album_artist: String,
    /// Disc number within the album (1 when the tags do not say).
    #[serde(default)]
    pub disc: Option<u32>,
    /// Track number on its disc.
    #[serde(default)]
    pub number: Option<u32>,
}

/// Results of analysing the decoded audio (44.1 kHz stereo).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub duration: Frames,
    /// Integrated loudness, EBU R128, in LUFS.
    pub loudness: Db,
    /// True peak in dBTP.
    pub true_peak: Db,
    /// Loudness range in LU.
    pub loudness_range: f64,
    /// Where audible content starts.
    pub cue_in: Frames,
    /// Where audible content ends.
    pub cue_out: Frames,
    /// What the track sounds like (tempo, brightness, key …); `None` until analysed for them.
    #[serde(default)]
    pub features: Option<crate::model::Features>,
    /// Intro and ending as transitions need them; `None` until measured (the engine then
    /// treats the track as full level from cue-in to cue-out).
    #[serde(default)]
    pub ends: Option<crate::model::Ends>,
    /// The beat grid, when the track has a confident beat.
    #[serde(default)]
    pub beats: Option<crate::model::BeatGrid>,
}

impl Analysis {
    /// The audible part's length.
    pub fn playable(&self) -> Frames {
        self.cue_out.saturating_sub(self.cue_in)
    }

    /// The measured ends, or full level from cue-in to cue-out when not measured.
    pub fn ends(&self) -> crate::model::Ends {
        self.ends
            .unwrap_or_else(|| crate::model::Ends::flat(self.cue_in, self.cue_out))
    }
}

/// A scanned, analysed, playable track.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Track {
    pub id: TrackId,
    pub path: PathBuf,
    pub tags: Tags,
    pub analysis: Analysis,
}

impl Track {
    /// "Artist - Title", the form ICY metadata and logs use.
    pub fn display_name(&self) -> String {
        if self.tags.artist.is_empty() {
            self.tags.title.clone()
        } else {
            format!("{} - {}", self.tags.artist, self.tags.title)
        }
    }

    /// Who the track is by, case-folded; `None` with no artist tag (the artist spacing of the
    /// drift then does not apply to it).
    pub fn artist_key(&self) -> Option<String> {
        let a = self.tags.artist.trim();
        (!a.is_empty()).then(|| a.to_lowercase())
    }

    /// Who the track's album is by: its album artist when tagged, else its own artist. A
    /// compilation or a DJ mix whose tracks each have their own artist is one album by it.
    pub fn album_artist(&self) -> &str {
        match self.tags.album_artist.trim() {
            "" => self.tags.artist.trim(),
            by => by,
        }
    }

    /// Which album the track is on: its album name with its [album artist](Self::album_artist),
    /// case-folded; `None` with no album tag.
    pub fn album_key(&self) -> Option<String> {
        let album = self.tags.album.trim();
        (!album.is_empty())
            .then(|| format!("{}\u{1f}{}", self.album_artist(), album).to_lowercase())
    }

    /// True when this track comes straight after `prev` on the same album disc (so the two
    /// join gaplessly).
    pub fn follows_on_album(&self, prev: &Track) -> bool {
        let (Some(n), Some(p)) = (self.tags.number, prev.tags.number) else {
            return false;
        };
        self.album_key().is_some()
            && self.album_key() == prev.album_key()
            && self.tags.disc.unwrap_or(1) == prev.tags.disc.unwrap_or(1)
            && n == p + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generated track (see `catalog::synthetic`) with these tags.
    fn track(artist: &str, album_artist: &str, album: &str, number: u32) -> Track {
        let mut t = (*crate::catalog::synthetic::synthetic_catalog(1, 0).tracks()[0]).clone();
        t.id = TrackId(format!("{artist}-{number}"));
        t.tags = Tags {
            title: format!("Track {number}"),
            artist: artist.into(),
            album: album.into(),
            album_artist: album_artist.into(),
            disc: None,
            number: Some(number),
        };
        t
    }

    #[test]
    fn a_compilation_with_an_artist_per_track_is_one_album() {
        let one = track("Singer", "Various Artists", "Summer Hits", 1);
        let two = track("Band", " various artists ", "summer hits ", 2);
        assert_eq!(one.album_key(), two.album_key());
        assert_eq!(one.album_artist(), "Various Artists");
        assert!(two.follows_on_album(&one), "a compilation joins gaplessly");
        assert!(!one.follows_on_album(&two), "but only in order");
        // A DJ mix: the DJ is the album artist, every track has its producer.
        let a = track("Producer A", "DJ Night", "Live at the Club", 7);
        let b = track("Producer B", "DJ Night", "Live at the Club", 8);
        assert!(b.follows_on_album(&a));
        // Without an album artist, the track artists still split it (nothing says it is one).
        let a = track("Producer A", "", "Live at the Club", 7);
        let b = track("Producer B", "  ", "Live at the Club", 8);
        assert_ne!(a.album_key(), b.album_key());
        assert!(!b.follows_on_album(&a));
    }

    #[test]
    fn albums_of_one_name_by_different_album_artists_stay_apart() {
        let abba = track("ABBA", "ABBA", "Greatest Hits", 1);
        let queen = track("Queen", "Queen", "Greatest Hits", 2);
        assert_ne!(abba.album_key(), queen.album_key());
        assert!(!queen.follows_on_album(&abba));
        // The same track artist on two compilations of one name by different compilers.
        let first = track("Singer", "Various Artists", "Now", 1);
        let second = track("Singer", "DJ Night", "Now", 2);
        assert_ne!(first.album_key(), second.album_key());
        assert!(!second.follows_on_album(&first));
        // An album artist equal to the track artist is the album of that artist, tagged or not.
        let tagged = track("Queen", "Queen", "Live", 1);
        let untagged = track("QUEEN", "", "Live", 2);
        assert_eq!(tagged.album_key(), untagged.album_key());
        assert_eq!(untagged.album_artist(), "QUEEN");
        // No album tag: no album, whoever it is by.
        assert_eq!(track("Queen", "Queen", " ", 1).album_key(), None);
    }
}
