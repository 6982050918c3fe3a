//! The epoch benchmarks' data and networks: seeded random images the size of MNIST's, so
//! nothing needs downloading (the work per image does not depend on the pixel values).

use scratchnet::data::samples::Samples;
use scratchnet::rng::Rng;

/// The write-up's network (sigmoid, quadratic cost) and its mini-batch size.
pub const WRITEUP: (&[usize], usize) = (&[784, 20, 10, 10], 10);
/// The large network, with the same choices (sigmoid everywhere, quadratic cost, N(0, 1)
/// weights), and its mini-batch size.
pub const LARGE: (&[usize], usize) = (&[784, 800, 800, 10], 100);

/// `n` seeded random 784-pixel images (bytes, stored as MNIST's are) with random labels 0–9.
pub fn synthetic(n: usize, seed: u64) -> Samples<f32> {
    let mut rng = Rng::new(seed);
    let pixels: Vec<u8> = (0..n * 784).map(|_| rng.below(256) as u8).collect();
    let labels = (0..n).map(|_| rng.below(10) as u8).collect();
    Samples::from_pixels(&pixels, 784, labels)
}
