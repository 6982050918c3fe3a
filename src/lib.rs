//! scratchnet: a neural network that reads handwritten digits, from scratch, std only.
pub mod checksum;
pub mod download;
pub mod error;
pub mod inflate;
pub mod linalg;
pub mod mnist;
pub mod rng;
pub mod sha256;

pub use error::{Error, Result};
