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

/// Tags as shown to listeners; missing ones are filled from the file name by the scanner.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tags {
    pub title: String,
    pub artist: String,
    pub album: String,
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

    /// Which album the track is on: its album name with its artist, case-folded; `None` with no
    /// album tag. (Compilations whose artists differ per track are separate albums here.)
    pub fn album_key(&self) -> Option<String> {
        let album = self.tags.album.trim();
        (!album.is_empty())
            .then(|| format!("{}\u{1f}{}", self.tags.artist.trim(), album).to_lowercase())
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
