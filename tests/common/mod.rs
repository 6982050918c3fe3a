//! Helpers shared by the test files: temporary folders, the MNIST folder, synthetic data,
//! the kernels to test, running the `scratchnet` binary, and (in `serve`) talking to a
//! running server. Included as `mod common;` by
//! both test binaries (`integration.rs` and `serial.rs`).

// Each test binary uses only some of these.
#![allow(dead_code)]

pub mod serve;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use scratchnet::convnet::{ConvNet, ConvNetConfig, Feature};
use scratchnet::data::samples::Samples;
use scratchnet::linalg::{Kernel, Matrix, Scalar};
use scratchnet::network::{Network, NetworkConfig};
use scratchnet::rng::Rng;

/// A fresh, empty folder under the system temp dir, named after `tag` and unique to this
/// call (tests run in parallel; a folder left by an earlier run of the same name is cleared).
pub fn temp_dir(tag: &str) -> PathBuf {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "scratchnet-test-{tag}-{}-{call}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The folder with the four MNIST files, from `MNIST_DIR` (the tests that call this are
/// `#[ignore = "needs MNIST …"]`).
///
/// # Panics
/// If `MNIST_DIR` is not set.
pub fn mnist_dir() -> PathBuf {
    let dir = std::env::var_os("MNIST_DIR").expect("set MNIST_DIR to the folder with MNIST");
    PathBuf::from(dir)
}

/// `n` random 784-pixel "images" (each pixel uniform in [0, 1)) with random labels 0–9:
/// nothing to learn, but the shapes and the work of MNIST.
pub fn random_images<T: Scalar>(n: usize, rng: &mut Rng) -> Samples<T> {
    let inputs = Matrix::from_fn(n, 784, |_, _| T::from_f64(rng.uniform()));
    let labels = (0..n).map(|_| rng.below(10) as u8).collect();
    Samples::new(inputs, labels)
}

/// A convolutional network of random weights (seeded by `seed`) from a layer list such as
/// `784,conv5x5x3,pool2,10`, built as `train --layers` builds one with the default
/// activations and cost.
pub fn convnet(layers: &str, seed: u64) -> ConvNet<f32> {
    let (mut sizes, mut features) = (Vec::new(), Vec::new());
    for token in layers.split(',') {
        match Feature::parse(token) {
            Some(feature) => features.push(feature),
            None => sizes.push(token.parse().expect("a size or a conv/pool layer")),
        }
    }
    let net = NetworkConfig {
        sizes,
        ..NetworkConfig::default()
    };
    let config = ConvNetConfig::from_layer_list(&features, &net).unwrap();
    ConvNet::build(&config, &mut Rng::new(seed)).unwrap()
}

/// Every weight, then every bias, as bits: equal exactly when two networks are bit-identical.
pub fn bits(net: &Network<f32>) -> Vec<u32> {
    let w = net.weights.iter().flat_map(|w| w.as_slice());
    let b = net.biases.iter().flat_map(|b| b.as_slice());
    w.chain(b).map(|x| x.to_bits()).collect()
}

/// The matrix-multiply kernels this CPU runs.
pub fn supported_kernels() -> Vec<Kernel> {
    Kernel::ALL
        .into_iter()
        .filter(|k| k.is_supported())
        .collect()
}

/// A command running the `scratchnet` binary that cargo built for these tests.
pub fn scratchnet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scratchnet"))
}

/// Bytes as text, invalid UTF-8 replaced.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts that a run of the binary exited with `code`, showing its output if not.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Cross-entropy of one image from the sigmoid output layer's z rather than from a = σ(z):
/// Σ y·softplus(−z) + (1 − y)·softplus(z), which is −[y ln a + (1 − y) ln(1 − a)] without
/// ln(1 − a) of a rounded a near 1 (whose rounding the difference quotient would turn into
/// gradient error), softplus(t) = ln(1 + eᵗ) computed as max(t, 0) + ln(1 + e^−|t|).
pub fn cross_entropy_from_z(z: &[f64], y: &[f64]) -> f64 {
    let softplus = |t: f64| t.max(0.0) + (-t.abs()).exp().ln_1p();
    z.iter()
        .zip(y)
        .map(|(&z, &y)| y * softplus(-z) + (1.0 - y) * softplus(z))
        .sum()
}

/// The names of the entries of `dir`, sorted: what a test expects to find there (and that
/// nothing else was left behind).
pub fn names_in(dir: &std::path::Path) -> Vec<String> {
    let names = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name());
    let mut names: Vec<String> = names.map(|n| n.to_string_lossy().into_owned()).collect();
    names.sort();
    names
}
