//! The music library: tracks on disk, their tags, and the synthetic demo library.
pub mod catalog;
pub mod track;

pub use catalog::Catalog;
pub use track::{Analysis, Tags, Track, TrackId};
