//! Faults (issue 10) against a real `drift serve`: `kill -9` at random moments (`kill9`) and a
//! data dir on a full disk (`full_disk`). `support` holds what both need: a recording listener
//! and checks made on the store with plain SQL while no server runs.
#[path = "../common/mod.rs"]
mod common;
mod full_disk;
mod kill9;
mod support;
