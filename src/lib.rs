//! scratchnet: a neural network that reads handwritten digits, from scratch, std only.
pub mod activation;
pub mod backprop;
pub mod checksum;
pub mod cli;
pub mod cost;
pub mod download;
pub mod error;
pub mod image;
pub mod inflate;
pub mod linalg;
pub mod mnist;
pub mod model;
pub mod network;
pub mod rng;
pub mod sha256;
pub mod train;

pub use error::{Error, Result};
