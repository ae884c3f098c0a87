//! The music library: walking folders, tags, scanning into the store and the synthetic demo
//! library. What it finds is published as a `Catalog` snapshot (see `crate::catalog`).
pub mod announce;
mod cover_probe;
pub mod demo;
pub mod measure;
pub mod plan;
mod progress;
pub mod scan;
pub mod service;
pub mod status;
pub mod tags;
pub mod walk;
pub mod watch;
pub mod workers;
