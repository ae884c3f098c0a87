//! The station: picking tracks, mixing them in real time, and pacing the mix.
pub mod admission;
pub mod broadcast;
pub mod clock;
pub mod deck;
pub mod directions;
pub mod engine;
pub mod events;
pub mod journey;
pub mod plan_queue;
pub mod registry;
pub mod render;
pub mod report;
pub mod scheduler;
pub mod session;
pub mod transition;
pub mod variety;
pub mod walk;
