//! File formats, written from scratch: gzip and zlib, CRC-32 and Adler-32, SHA-256, PNG, PGM,
//! SVG, and the model files (version 1 in [`model`], version 2 in [`convmodel`], either one
//! loaded as a [`saved::Model`]). Every input file is read through [`read`]: a regular file,
//! up to a limit; every output file is written through [`output`]: only ever as a regular file.
//!
//! Each format is a module that turns bytes into values and back, and returns
//! [`crate::Error`] for bad input. They use nothing of the network but [`crate::linalg`],
//! [`crate::network`] and [`crate::convnet`] (the model files), so they can be read in any
//! order.

pub mod checksum;
pub mod convmodel;
pub mod deflate;
pub mod image;
pub mod inflate;
pub mod model;
#[cfg(test)]
pub(crate) mod mutate;
pub mod output;
pub mod png;
pub mod read;
pub mod saved;
pub mod sha256;
pub mod svg;
