//! The integration tests, as one test binary: each module below is one file of `tests/`,
//! testing the library or the `scratchnet` binary from the outside. One binary instead of one
//! per file, because every test binary links the whole library again (see `autotests` in
//! Cargo.toml). Tests that need the process to themselves are in `serial.rs`.
//!
//! Run one file's tests with a filter: `cargo test --release --test integration cli::`.
//! Tests marked `#[ignore = "needs …"]` need MNIST (`MNIST_DIR`) or an outside tool; CI
//! runs them with `-- --ignored`.

mod common;

mod beyond;
mod cli;
mod download;
mod gemm_kernels;
mod gradient_check;
mod gradient_check_all;
mod handmade;
mod mnist_end_to_end;
mod mnist_files;
mod serve;
mod train_synthetic;
mod visualize_mnist;
