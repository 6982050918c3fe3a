//! Data: MNIST's IDX files, the training samples built from them, augmentation, download.
//!
//! Everything between a file on disk and the matrices [`crate::train`] reads. May use the
//! teaching core ([`crate::linalg`], [`crate::rng`], [`crate::error`]) and [`crate::formats`]
//! (gzip, SHA-256); the teaching core uses only the training samples ([`samples`]) and
//! [`augment`] from here.

pub mod augment;
pub mod download;
pub mod mnist;
pub mod samples;
