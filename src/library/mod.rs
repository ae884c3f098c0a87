//! The music library: tracks on disk, their tags, and the synthetic demo library.
mod progress;
pub mod scan;
pub mod tags;
pub mod track;
pub mod walk;

pub use track::{Analysis, Tags, Track, TrackId};
