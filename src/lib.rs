//! scratchnet: a neural network that reads handwritten digits, written from scratch in Rust
//! with the standard library only, to be read beside its maths.
//!
//! # The crate map, in reading order
//!
//! The top of the crate is the write-up's path, from the notation to the training loop; read
//! it in this order, beside the book's chapters of the same names. The three folders below it
//! hold the machinery, each behind a short doc comment saying what lives there.
//!
//! | module | what it holds | the write-up's equations | book chapter |
//! |---|---|---|---|
//! | [`linalg`] | `Vector`, `Matrix`, `transpose`, `hadamard` (⊙), `outer`, matrix multiply; the fast kernels behind them | the notation | Matrices and vectors; Making it fast |
//! | [`activation`] | σ and σ′; tanh, ReLU, leaky ReLU, identity, softmax | A = σ(Z) | Activation |
//! | [`init`] | N(0, 1), N(0, 1/n_in), Xavier, He | — | The forward pass |
//! | [`network`] | layers and the forward pass | Z = W·A + B | The forward pass |
//! | [`cost`] | quadratic, cross-entropy, log-likelihood, and the output error each gives | C, Eq 1 | Cost |
//! | [`backprop`] | gradients for one image and for a mini-batch (with dropout) | Eqs 1–8 | Backpropagation |
//! | [`optimizer`], [`schedule`] | SGD, momentum, Adam, L2; η schedules | W ← W − η ∂C/∂W | Beyond the write-up |
//! | [`train`] | mini-batch gradient descent, evaluation, early stopping | W ← W − η ∂C/∂W | Gradient descent and training |
//! | [`conv`] | convolution and max-pooling: one image by direct loops, a batch lowered to matrix products | Eqs 9–13 | Convolutional networks |
//! | [`convnet`], [`convtrain`] | a network as a list of layers (convolution, pooling, fully connected): its passes, gradients and SGD step; training (SGD, momentum, Adam) and evaluation | Eqs 1–13 | Convolutional networks |
//! | [`rng`], [`error`] | the one seeded generator; the one error type | — | Reproducibility and testing; Errors |
//! | [`data`] | MNIST's IDX files (or another data set in their form), its shape and class names, training samples, shifted images, download | — | Reading MNIST; The image as a vector |
//! | [`formats`] | gzip/zlib, CRC-32, SHA-256, PNG, PGM, SVG, model files; reading inputs up to a limit, writing outputs as regular files only | — | Reading MNIST; Looking inside; Model files |
//! | [`app`] | the command line, presets, the draw-a-digit server, pictures | — | The command line; Looking inside |
//!
//! Arrows run one way: [`app`] uses everything; [`data`] and [`formats`] use the teaching
//! core; the teaching core uses [`linalg`], [`rng`], [`error`] and the training samples of
//! [`data`]. The book's introduction draws the map, and the one way data flows from an IDX
//! file to a trained model.
// Unsafe is checked, not only commented: every unsafe operation sits in its own `unsafe`
// block with a `// SAFETY:` line saying why it holds, and every `unsafe fn` states its
// contract under `# Safety`. Valgrind runs the kernels in CI (.ci/run).
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

pub mod linalg;

pub mod activation;
pub mod backprop;
pub mod conv;
pub mod convnet;
pub mod convtrain;
pub mod cost;
pub mod init;
pub mod network;
pub mod optimizer;
pub mod schedule;
pub mod train;

pub mod error;
pub mod rng;

pub mod app;
pub mod data;
pub mod formats;

pub use error::{Error, Result};
