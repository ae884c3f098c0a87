//! "Save": the last seconds of a session as MP3 frames, with a file name from its tracks.
use super::{Clip, Session};
use crate::station::broadcast::frame_pos;
use crate::units::{Frames, StreamPos};

impl Session {
    /// The last `length` of audio before the play point (whole frames, as much as is held),
    /// or `None` when nothing has played yet.
    pub fn clip(&self, length: Frames) -> Option<Clip> {
        let catalog = self.inner.catalog();
        let st = self.inner.lock();
        let end = st.play_pos(self.inner.clock.now());
        let (first, frames) = st.ring.last(length, end);
        if frames.is_empty() {
            return None;
        }
        let start = frame_pos(first);
        let starts: Vec<StreamPos> = st.timeline.iter().map(|(p, _)| *p).collect();
        let names: Vec<String> = st
            .timeline
            .iter()
            .enumerate()
            // Tracks audible somewhere in [start, end).
            .filter(|(i, (p, _))| *p < end && starts.get(i + 1).is_none_or(|q| *q > start))
            .filter_map(|(_, (_, id))| catalog.get(id).map(|t| t.display_name()))
            .collect();
        Some(Clip {
            frames,
            file_name: file_name(&names),
        })
    }
}

/// A file name from the tracks in a saved clip, safe for any file system.
fn file_name(names: &[String]) -> String {
    let joined = if names.is_empty() {
        "Drift".to_string()
    } else {
        names.join(" + ")
    };
    let clean: String = joined
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " -_+.,()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    format!("{}.mp3", clean.trim())
}
