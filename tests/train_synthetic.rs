//! Learning end to end on a problem small enough to run in a second: 4×4 "images" of four
//! classes, each class lighting a different quadrant, drawn by a seeded generator.

use crate::common::bits;
use scratchnet::app::cli::train::train_network;
use scratchnet::data::samples::Samples;
use scratchnet::linalg::Matrix;
use scratchnet::network::Network;
use scratchnet::rng::Rng;
use scratchnet::train::{evaluate, EpochReport, TrainConfig};
use scratchnet::Error;

/// `n` images: class c = quadrant c (top left, top right, bottom left, bottom right) is
/// bright (0.6 … 1.0), the rest dim (0 … 0.4). Separable by a single linear layer.
fn quadrants(n: usize, rng: &mut Rng) -> Samples<f32> {
    let labels: Vec<u8> = (0..n).map(|_| rng.below(4) as u8).collect();
    let inputs = Matrix::from_fn(n, 16, |k, p| {
        let (row, col) = (p / 4, p % 4);
        let quadrant = (row / 2) * 2 + col / 2;
        let lit = quadrant == labels[k] as usize;
        let noise = 0.4 * rng.uniform() as f32;
        if lit {
            0.6 + noise
        } else {
            noise
        }
    });
    Samples::new(inputs, labels)
}

fn config() -> TrainConfig {
    TrainConfig {
        epochs: 15,
        batch_size: 10,
        eta: 3.0,
        ..TrainConfig::default()
    }
}

fn run(seed: u64) -> (Network<f32>, Vec<EpochReport>) {
    let mut data_rng = Rng::new(100);
    let (train, test) = (quadrants(400, &mut data_rng), quadrants(200, &mut data_rng));
    train_network(
        &[16, 8, 4],
        &config(),
        seed,
        &train,
        None,
        Some(&test),
        &mut (),
    )
    .unwrap()
}

#[test]
fn quadrants_are_learned_and_the_cost_falls() {
    let (net, reports) = run(1);
    let last = reports.last().unwrap();
    assert!(last.test_accuracy.unwrap() >= 0.95, "{reports:?}");
    assert!(last.train_cost < reports[0].train_cost, "{reports:?}");
    // The untrained network, from the same seed, is near chance.
    let untrained: Network<f32> = Network::new(&[16, 8, 4], &mut Rng::new(1));
    let test = quadrants(200, &mut Rng::new(7));
    assert!(evaluate(&untrained, &test).accuracy < 0.6);
    assert!(evaluate(&net, &test).accuracy >= 0.95);
}

#[test]
fn same_seed_same_bits_and_same_reports() {
    let (net_a, reports_a) = run(42);
    let (net_b, reports_b) = run(42);
    assert_eq!(bits(&net_a), bits(&net_b));
    let strip = |r: &[EpochReport]| -> Vec<(usize, u64, Option<u64>)> {
        r.iter()
            .map(|r| {
                (
                    r.epoch,
                    r.train_cost.to_bits(),
                    r.test_accuracy.map(f64::to_bits),
                )
            })
            .collect()
    };
    assert_eq!(strip(&reports_a), strip(&reports_b));
    let (net_c, _) = run(43);
    assert_ne!(
        bits(&net_a),
        bits(&net_c),
        "a different seed gives different weights"
    );
}

#[test]
fn an_absurd_learning_rate_diverges_with_an_error_naming_the_epoch() {
    let train = quadrants(100, &mut Rng::new(3));
    // η = 10³⁰⁰ is infinite in f32: the first step turns the weights into ±∞ and NaN.
    let config = TrainConfig {
        epochs: 3,
        batch_size: 10,
        eta: 1e300,
        ..TrainConfig::default()
    };
    let err = train_network(&[16, 8, 4], &config, 1, &train, None, None, &mut ()).unwrap_err();
    assert!(
        matches!(err, Error::Diverged { epoch: 1, cost, eta, lambda: None }
            if !cost.is_finite() && eta == 1e300),
        "{err:?}"
    );
}
