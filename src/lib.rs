//! Drift: a self-hosted radio that mixes a music library into an endless, drifting MP3 stream.
//!
//! Data flows from `library` (scan files, read tags, run `analysis`) into `store` (SQLite);
//! the `station` scheduler picks tracks and the engine mixes them (decode → resample →
//! normalise → crossfade → encode, in `audio`) into frame-aligned MP3 chunks with stream
//! positions, which the server broadcasts to listeners.
#![forbid(unsafe_code)]

pub mod analysis;
pub mod audio;
pub mod library;
pub mod store;
pub mod units;
