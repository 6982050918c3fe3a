//! Data: IDX files (MNIST's, or another data set's in the same form), the names of their
//! classes, whether a network fits them, the training samples built from them,
//! augmentation, download.
//!
//! Everything between a file on disk and the matrices [`crate::train`] reads. May use the
//! teaching core ([`crate::linalg`], [`crate::rng`], [`crate::error`], [`crate::network`]'s
//! limits) and [`crate::formats`] (gzip, SHA-256, reading files); the teaching core uses only
//! the training samples ([`samples`]) and [`augment`] from here.

pub mod augment;
pub mod classes;
pub mod download;
pub mod mnist;
pub mod samples;
pub mod shape;
