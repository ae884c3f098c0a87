//! The data every layer shares: what a track is (identity, tags, analysis) and what it sounds
//! like (features). Plain types at the bottom of the crate, so `analysis`, `store`, `library`
//! and `station` all import them from here and never from each other.
pub mod ends;
pub mod features;
pub mod mark;
pub mod track;

pub use ends::{BeatGrid, Ends};
pub use features::{Features, Mode};
pub use mark::Mark;
pub use track::{Analysis, Tags, Track, TrackId, TAGS_VERSION};
