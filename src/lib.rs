//! scratchnet: a neural network that reads handwritten digits, written from scratch in Rust
//! with the standard library only, to be read beside its maths.
//!
//! # The crate map
//!
//! | module | what it holds | the write-up's equations |
//! |---|---|---|
//! | [`linalg`] | `Vector`, `Matrix`, `transpose`, `hadamard` (⊙), `outer`, matrix multiply | the notation |
//! | [`activation`] | σ and σ′; tanh, ReLU, leaky ReLU, identity, softmax | A = σ(Z) |
//! | [`network`] | layers, initialisation, the forward pass | Z = W·A + B |
//! | [`init`] | N(0, 1), N(0, 1/n_in), Xavier, He | — |
//! | [`cost`] | quadratic, cross-entropy, log-likelihood, and the output error each produces | C, Eq 1 |
//! | [`backprop`] | gradients for one image and for a mini-batch (with dropout) | Eqs 1–8 |
//! | [`train`] | mini-batch gradient descent, evaluation, early stopping | W ← W − η ∂C/∂W |
//! | [`optimizer`], [`schedule`], [`augment`] | momentum, Adam, L2; η schedules; shifted images | — |
//! | [`preset`] | named settings (`--preset`) and the options that override them | — |
//! | [`mnist`], [`inflate`], [`checksum`] | reading the IDX files, gzip included | — |
//! | [`download`], [`sha256`] | fetching MNIST and checking it | — |
//! | [`model`] | saving and loading trained networks | — |
//! | [`image`] | reading PGM and PNG pictures for `predict` | — |
//! | [`preprocess`] | preparing any picture as MNIST was (20×20 box, centre of mass) | — |
//! | [`png`], [`deflate`], [`svg`] | writing and reading PNG, a small compressor, SVG charts | — |
//! | [`visualize`] | pictures of the weights, templates, learning curve, mistakes | W⁴W³W² = W⁵ |
//! | [`serve`] | the draw-a-digit web page and its `std::net` HTTP server | the forward pass |
//! | [`cli`] | the `scratchnet` command line, one file per subcommand | — |
//! | [`rng`] | the one seeded random generator | — |
//! | [`error`] | the error type for files and input | — |
//!
//! The book (`book/`, read it with `mdbook serve book`) explains each module beside its maths,
//! one chapter per module, in the order above.
pub mod activation;
pub mod augment;
pub mod backprop;
pub mod checksum;
pub mod cli;
pub mod cost;
pub mod deflate;
pub mod download;
pub mod error;
pub mod image;
pub mod inflate;
pub mod init;
pub mod linalg;
pub mod mnist;
pub mod model;
pub mod network;
pub mod optimizer;
pub mod png;
pub mod preprocess;
pub mod preset;
pub mod rng;
pub mod schedule;
pub mod serve;
pub mod sha256;
pub mod svg;
pub mod train;
pub mod visualize;

pub use error::{Error, Result};
