//! The music library: walking folders, tags, scanning into the store, the synthetic demo
//! library, and the catalog snapshot the engine plays from.
pub mod catalog;
pub mod demo;
pub mod measure;
mod progress;
pub mod scan;
pub mod tags;
pub mod track;
pub mod walk;

pub use catalog::Catalog;
pub use track::{Analysis, Tags, Track, TrackId};
