//! scratchnet: a neural network that reads handwritten digits, from scratch, std only.
pub mod activation;
pub mod backprop;
pub mod cost;
pub mod error;
pub mod linalg;
pub mod network;
pub mod rng;
pub mod train;

pub use error::{Error, Result};
