//! Albums as the library's tags make them: tracks sharing an album key (album and album artist,
//! else track artist, case-folded: a compilation is one album), in disc and track-number order
//! (tracks without a number after the numbered ones of their disc, by title). Pure; derived
//! from a catalog snapshot on demand.
use super::Catalog;
use crate::model::{Track, TrackId};
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
pub struct Album {
    /// Stable across restarts and rescans: a hash of the album key (hex, 16 characters).
    pub id: String,
    pub title: String,
    /// Who the album is by: its album artist where tagged ("Various Artists"), else the artist
    /// of its tracks.
    pub artist: String,
    /// In playing order.
    pub tracks: Vec<TrackId>,
    /// Audible length of all its tracks (s).
    pub duration: f64,
}

/// The id of the album a track is on, if it has an album tag.
pub fn album_id(track: &Track) -> Option<String> {
    let key = track.album_key()?;
    Some(blake3::hash(key.as_bytes()).to_hex()[..16].to_string())
}

/// The playing order of an album's tracks: disc (none counts as 1), then track number
/// (numbered first), then title, then id.
fn order(a: &Track, b: &Track) -> std::cmp::Ordering {
    let key = |t: &Track| {
        (
            t.tags.disc.unwrap_or(1),
            t.tags.number.is_none(),
            t.tags.number.unwrap_or(0),
            t.tags.title.to_lowercase(),
        )
    };
    key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id))
}

/// Every album of the catalog, by artist then title (case-folded).
pub fn albums(catalog: &Catalog) -> Vec<Album> {
    let mut groups: HashMap<String, Vec<&Track>> = HashMap::new();
    for t in catalog.tracks() {
        if let Some(id) = album_id(t) {
            groups.entry(id).or_default().push(t);
        }
    }
    let mut out: Vec<Album> = groups
        .into_iter()
        .map(|(id, mut tracks)| {
            tracks.sort_by(|a, b| order(a, b));
            Album {
                id,
                title: tracks[0].tags.album.trim().to_string(),
                artist: tracks[0].album_artist().to_string(),
                duration: tracks.iter().map(|t| t.analysis.playable().secs()).sum(),
                tracks: tracks.iter().map(|t| t.id.clone()).collect(),
            }
        })
        .collect();
    out.sort_by_cached_key(|a| {
        (
            a.artist.to_lowercase(),
            a.title.to_lowercase(),
            a.id.clone(),
        )
    });
    out
}

/// The album with this id, if the catalog has it.
pub fn album(catalog: &Catalog, id: &str) -> Option<Album> {
    albums(catalog).into_iter().find(|a| a.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::synthetic::synthetic_catalog;

    fn tagged(
        album: &str,
        artist: &str,
        disc: Option<u32>,
        number: Option<u32>,
        title: &str,
    ) -> Track {
        let mut t = (*synthetic_catalog(1, 0).tracks()[0]).clone();
        t.id = TrackId(format!("{album}-{title}"));
        t.tags.album = album.into();
        t.tags.artist = artist.into();
        t.tags.disc = disc;
        t.tags.number = number;
        t.tags.title = title.into();
        t
    }

    #[test]
    fn albums_play_in_disc_and_number_order_then_by_title() {
        let cat = Catalog::new(vec![
            tagged("Live", "Band", Some(2), Some(1), "d2 one"),
            tagged("Live", "Band", Some(1), Some(10), "d1 ten"),
            tagged("Live", "Band", None, Some(2), "d1 two"),
            tagged("live ", "BAND", Some(1), None, "b no number"),
            tagged("Live", "Band", Some(1), None, "a no number"),
            tagged("Live", "Other", Some(1), Some(1), "other artist"),
            tagged("", "Band", Some(1), Some(1), "single"),
        ]);
        let all = albums(&cat);
        assert_eq!(all.len(), 2, "{all:?}");
        let live = all.iter().find(|a| a.artist == "Band").unwrap();
        let titles: Vec<String> = live
            .tracks
            .iter()
            .map(|id| cat.get(id).unwrap().tags.title.clone())
            .collect();
        assert_eq!(
            titles,
            ["d1 two", "d1 ten", "a no number", "b no number", "d2 one"]
        );
        assert_eq!(live.duration, 5.0 * 180.0);
        assert_eq!(album(&cat, &live.id).unwrap().tracks, live.tracks);
        assert_eq!(live.id.len(), 16);
        assert!(album(&cat, "nope").is_none());
    }

    #[test]
    fn a_compilation_is_one_album_by_its_album_artist() {
        let by = |mut t: Track, album_artist: &str| {
            t.tags.album_artist = album_artist.into();
            t
        };
        let cat = Catalog::new(vec![
            by(
                tagged("Hits", "Singer", None, Some(2), "two"),
                "Various Artists",
            ),
            by(
                tagged("Hits", "Band", None, Some(1), "one"),
                "various artists",
            ),
            by(
                tagged("Hits", "Duo", None, Some(3), "three"),
                "Various Artists ",
            ),
            // Another album of the same name, by its own artist.
            tagged("Hits", "Band", None, Some(1), "band's own"),
        ]);
        let all = albums(&cat);
        assert_eq!(all.len(), 2, "{all:?}");
        let various = all.iter().find(|a| a.tracks.len() == 3).unwrap();
        assert_eq!(various.artist.to_lowercase(), "various artists");
        let titles: Vec<&str> = various
            .tracks
            .iter()
            .map(|id| cat.get(id).unwrap().tags.title.as_str())
            .collect();
        assert_eq!(titles, ["one", "two", "three"]);
        let band = all.iter().find(|a| a.tracks.len() == 1).unwrap();
        assert_eq!(
            (band.artist.as_str(), band.title.as_str()),
            ("Band", "Hits")
        );
    }
}
