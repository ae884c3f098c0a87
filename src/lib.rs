//! Drift: a self-hosted radio that mixes a music library into an endless, drifting MP3 stream.
//!
//! Data flows from `library` (scan files, read tags, run `analysis`) into `store` (SQLite);
//! the `station` scheduler picks tracks and the engine mixes them (decode → resample →
//! normalise → crossfade → encode, in `audio`) into frame-aligned MP3 chunks with stream
//! positions, which sessions put in a broadcast ring that `http` serves to listeners in the
//! wire format `framing` gives them (MP3, MP3 with ICY titles, fragmented MP4); `output` pushes
//! sessions to Icecast servers as a source, for stations bigger than one machine.
#![forbid(unsafe_code)]

pub mod analysis;
pub mod audio;
pub mod catalog;
pub mod cli;
pub mod commands;
pub mod config;
pub mod framing;
#[cfg(test)]
pub(crate) mod fuzz;
pub mod http;
pub mod library;
pub mod model;
pub mod output;
pub mod station;
pub mod store;
pub mod units;
