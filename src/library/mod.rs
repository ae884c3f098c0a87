//! The music library: walking folders, tags, scanning into the store, the synthetic demo
//! library, and the catalog snapshot the engine plays from.
pub mod catalog;
mod cover_probe;
pub mod demo;
mod progress;
pub mod scan;
pub mod tags;
pub mod track;
pub mod walk;

pub use catalog::Catalog;
pub use track::{Analysis, Tags, Track, TrackId};
