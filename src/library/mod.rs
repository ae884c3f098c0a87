//! The music library: tracks on disk, their tags, and the synthetic demo library.
pub mod tags;
pub mod track;

pub use track::{Analysis, Tags, Track, TrackId};
