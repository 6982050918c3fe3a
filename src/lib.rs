//! scratchnet: a neural network that reads handwritten digits, from scratch, std only.
pub mod error;
pub mod linalg;
pub mod rng;

pub use error::{Error, Result};
