//! Training is reproducible on two threads: the same seed gives the same bits, and the same
//! bits as on one thread (gemm splits large products so every element sees the same
//! operations in the same order). The network is large enough that its products pass
//! `PARALLEL_MIN_WORK` and its hidden layer's σ passes `PARALLEL_MIN_ELEMENTS`, so both
//! really are split.

use crate::common::{bits, random_images};
use crate::serial;
use scratchnet::backprop::Workspace;
use scratchnet::linalg::{set_threads, PARALLEL_MIN_ELEMENTS, PARALLEL_MIN_WORK};
use scratchnet::network::Network;
use scratchnet::rng::Rng;
use scratchnet::train::{train_epoch, TrainConfig};

/// The parameters before and after two epochs on `threads` threads.
fn trained_bits(threads: usize) -> (Vec<u32>, Vec<u32>) {
    let mut rng = Rng::new(3);
    let data = random_images(300, &mut rng);
    let mut net: Network<f32> = Network::new(&[784, 400, 10], &mut rng);
    let config = TrainConfig {
        batch_size: 100,
        eta: 0.5,
        ..TrainConfig::default()
    };
    let before = bits(&net);
    set_threads(threads);
    let mut ws = Workspace::new();
    for epoch in 1..=2 {
        train_epoch(&mut net, &data, &config, epoch, &mut rng, &mut ws, &mut ());
    }
    set_threads(1);
    (before, bits(&net))
}

#[test]
fn two_threads_train_the_same_bits_as_one() {
    // The first layer's forward product, 400 × 784 × 100, is split across threads, and so
    // is σ over its 400 × 100 outputs.
    const WORK: usize = 400 * 784 * 100;
    const _: () = assert!(WORK >= PARALLEL_MIN_WORK);
    const _: () = assert!(400 * 100 >= PARALLEL_MIN_ELEMENTS);
    let _alone = serial();
    let one = trained_bits(1);
    let two = trained_bits(2);
    assert_eq!(two, trained_bits(2), "two threads, run twice");
    assert_eq!(one, two, "two threads against one");
    assert_eq!(one, trained_bits(3), "three threads against one");
    assert_ne!(one.0, one.1, "training changed the parameters");
}
