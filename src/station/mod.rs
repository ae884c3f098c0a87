//! The station: picking tracks, mixing them in real time, and pacing the mix.
pub mod clock;
pub mod deck;
pub mod engine;
pub mod scheduler;
