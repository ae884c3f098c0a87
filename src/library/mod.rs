//! The music library: walking folders, tags, scanning into the store and the synthetic demo
//! library. What it finds is published as a `Catalog` snapshot (see `crate::catalog`).
pub mod demo;
mod progress;
pub mod scan;
pub mod tags;
pub mod walk;
