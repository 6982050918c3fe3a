//! The applications built on the network: the `scratchnet` command line, its presets, the
//! draw-a-digit server, the pictures of what a network learned, and picture preparation.
//!
//! May use every other part of the crate; nothing outside `app` uses it (but `main.rs`).

pub mod cli;
pub mod preprocess;
pub mod preset;
pub mod serve;
pub mod visualize;
