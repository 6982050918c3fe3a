//! The options beyond the write-up, checked against independent oracles on small synthetic
//! data: the default configuration is the write-up bit for bit, identity hidden layers
//! collapse to one linear map, early stopping keeps the best weights, dropout masks have
//! the right values and are reproducible, every option is seeded.

use scratchnet::activation::Activation;
use scratchnet::backprop::{forward_batch_dropout, Workspace};
use scratchnet::cost::Cost;
use scratchnet::data::augment::Augment;
use scratchnet::data::samples::Samples;
use scratchnet::init::Init;
use scratchnet::linalg::{Matrix, Vector};
use scratchnet::network::{Network, NetworkConfig};
use scratchnet::optimizer::Optimizer;
use scratchnet::rng::Rng;
use scratchnet::schedule::Schedule;
use scratchnet::train::{evaluate, sgd_step, train, TrainConfig};

/// `n` random 4×4 "images" whose label is the brightest quadrant (0–3): learnable.
fn quadrants(n: usize, seed: u64) -> Samples<f32> {
    let mut rng = Rng::new(seed);
    let inputs = Matrix::from_fn(n, 16, |_, _| rng.uniform() as f32);
    let labels = (0..n)
        .map(|k| {
            let quadrant = |q: usize| -> f32 {
                (0..16)
                    .filter(|p| (p / 8) * 2 + (p % 4) / 2 == q)
                    .map(|p| inputs[(k, p)])
                    .sum()
            };
            (0..4)
                .max_by(|&a, &b| quadrant(a).total_cmp(&quadrant(b)))
                .unwrap() as u8
        })
        .collect();
    Samples::new(inputs, labels)
}

/// The write-up's training loop written out with nothing but `sgd_step`: the reference
/// path the refactored `train` must match bit for bit under the default configuration.
fn reference_writeup(
    net: &mut Network<f32>,
    data: &Samples<f32>,
    config: &TrainConfig,
    rng: &mut Rng,
) {
    let mut ws = Workspace::new();
    let mut y = Matrix::zeros(0, 0);
    for _ in 0..config.epochs {
        let mut order: Vec<usize> = (0..data.len()).collect();
        rng.shuffle(&mut order);
        for batch in order.chunks(config.batch_size) {
            data.gather_rows(batch, 4, ws.input_rows(16, batch.len()), &mut y);
            sgd_step(net, &y, config.eta as f32, &mut ws);
        }
    }
}

#[test]
fn default_config_reproduces_the_writeup_bit_for_bit() {
    let data = quadrants(203, 1);
    let config = TrainConfig {
        epochs: 3,
        ..TrainConfig::default()
    };
    let (mut rng_a, mut rng_b) = (Rng::new(42), Rng::new(42));
    let mut a: Network<f32> = Network::new(&[16, 6, 5, 4], &mut rng_a);
    let config_b = NetworkConfig {
        sizes: vec![16, 6, 5, 4],
        hidden: Activation::Sigmoid,
        output: Activation::Sigmoid,
        cost: Cost::Quadratic,
        init: Init::Normal,
    };
    let init = Network::build(&config_b, &mut rng_b);
    assert_eq!(
        a, init,
        "Init::Normal must draw exactly what Network::new draws"
    );
    let mut b = init;
    train(&mut a, &data, None, None, &config, &mut rng_a, &mut ()).unwrap();
    reference_writeup(&mut b, &data, &config, &mut rng_b);
    assert_eq!(a, b);
    assert_ne!(
        a,
        Network::new(&[16, 6, 5, 4], &mut Rng::new(42)),
        "training moved nothing"
    );
}

#[test]
fn identity_hidden_layers_collapse_to_one_linear_map() {
    // A = σ(W⁴(W³(W²x + b²) + b³) + b⁴) = σ(W_eff x + b_eff) with W_eff = W⁴W³W² and
    // b_eff = W⁴(W³b² + b³) + b⁴: three layers, one map.
    let mut rng = Rng::new(7);
    let mut net: Network<f64> = Network::new(&[12, 7, 5, 3], &mut rng);
    net.hidden = Activation::Identity;
    let (w, b) = (&net.weights, &net.biases);
    let w_eff = w[2].matmul(&w[1]).matmul(&w[0]);
    let b_eff = &w[2].mul_vec(&(&w[1].mul_vec(&b[0]) + &b[1])) + &b[2];
    for _ in 0..5 {
        let x = Vector::from_fn(12, |_| rng.uniform());
        let out = net.feedforward(&x);
        let single = (&w_eff.mul_vec(&x) + &b_eff).map(|z| 1.0 / (1.0 + (-z).exp()));
        for i in 0..3 {
            assert!(
                (out[i] - single[i]).abs() < 1e-12,
                "{} vs {}",
                out[i],
                single[i]
            );
        }
    }
}

#[test]
fn early_stopping_keeps_the_best_validation_weights() {
    let (data, validation) = (quadrants(300, 2), quadrants(200, 3));
    let config = TrainConfig {
        epochs: 40,
        eta: 8.0, // large on purpose, so validation accuracy wobbles and can get worse
        patience: 3,
        ..TrainConfig::default()
    };
    let mut rng = Rng::new(5);
    let mut net: Network<f32> = Network::new(&[16, 8, 4], &mut rng);
    let reports = train(
        &mut net,
        &data,
        Some(&validation),
        None,
        &config,
        &mut rng,
        &mut (),
    )
    .unwrap();
    let best = reports
        .iter()
        .map(|r| r.validation_accuracy.unwrap())
        .fold(0.0, f64::max);
    assert_eq!(evaluate(&net, &validation).accuracy, best);
    let best_at = reports
        .iter()
        .position(|r| r.validation_accuracy == Some(best))
        .unwrap();
    assert!(reports.len() <= best_at + 1 + 3, "ran past the patience");
}

#[test]
fn dropout_masks_are_zero_or_inverse_keep_and_seeded() {
    let net: Network<f64> = Network::new(&[10, 200, 3], &mut Rng::new(1));
    let masks = |seed| {
        let mut ws = Workspace::new();
        *ws.input(10, 50) = Matrix::from_fn(10, 50, |i, j| (i + j) as f64 / 60.0);
        forward_batch_dropout(&net, &mut ws, 0.3, &mut Rng::new(seed));
        ws.masks
    };
    let m = masks(9);
    assert_eq!(m, masks(9));
    assert_ne!(m, masks(10));
    assert_eq!(
        (m[0].rows(), m[2].rows()),
        (0, 0),
        "input and output are never dropped"
    );
    let cells = m[1].as_slice();
    assert!(cells
        .iter()
        .all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-15));
    // 10,000 Bernoulli(0.3) draws: mean 3,000, standard deviation ≈ 46.
    let dropped = cells.iter().filter(|&&v| v == 0.0).count();
    assert!((2_800..3_200).contains(&dropped), "{dropped} dropped");
}

#[test]
fn every_option_together_is_reproducible_and_learns() {
    let (data, validation) = (quadrants(400, 4), quadrants(200, 5));
    for optimizer in Optimizer::ALL {
        let config = TrainConfig {
            epochs: 8,
            batch_size: 20,
            eta: if optimizer == Optimizer::Adam {
                0.01
            } else {
                0.1
            },
            lambda: 0.5,
            optimizer,
            dropout: 0.1,
            schedule: Schedule::Cosine,
            patience: 5,
            keep_best: true,
            // Shifting a 4×4 image by up to 2 pixels moves its bright quadrant: no labels
            // would survive. Shifts are checked in `augment`'s own tests.
            augment: Augment::None,
            evaluate_train: false,
        };
        let run = || {
            let mut rng = Rng::new(11);
            let shape = NetworkConfig {
                sizes: vec![16, 32, 4],
                hidden: Activation::Relu,
                output: Activation::Softmax,
                cost: Cost::LogLikelihood,
                init: Init::He,
            };
            let mut net: Network<f32> = Network::build(&shape, &mut rng);
            let reports = train(
                &mut net,
                &data,
                Some(&validation),
                None,
                &config,
                &mut rng,
                &mut (),
            );
            (net, reports.unwrap())
        };
        let (a, reports) = run();
        assert_eq!(a, run().0, "{optimizer:?} is not reproducible");
        let best = reports
            .iter()
            .filter_map(|r| r.validation_accuracy)
            .fold(0.0, f64::max);
        // Four classes: chance is 25%.
        assert!(best > 0.4, "{optimizer:?}: best validation accuracy {best}");
    }
}

#[test]
fn dropout_only_in_training_no_stale_masks_afterwards() {
    // A workspace that has just done a dropout step must give the plain gradient next time.
    use scratchnet::backprop::{backprop_batch, backprop_batch_dropout};
    let mut rng = Rng::new(3);
    let net: Network<f64> = Network::new(&[6, 9, 4], &mut rng);
    let x = Matrix::from_fn(6, 5, |_, _| rng.uniform());
    let y = Matrix::from_fn(4, 5, |i, j| if i == j % 4 { 1.0 } else { 0.0 });
    let gradient = |ws: &mut Workspace<f64>| {
        *ws.input(6, 5) = x.clone();
        backprop_batch(&net, &y, ws);
        ws.grad.clone().unwrap()
    };
    let fresh = gradient(&mut Workspace::new());
    let mut used = Workspace::new();
    *used.input(6, 5) = x.clone();
    backprop_batch_dropout(&net, &y, &mut used, 0.5, &mut Rng::new(1));
    assert_ne!(used.grad.clone().unwrap(), fresh, "dropout changed nothing");
    assert_eq!(gradient(&mut used), fresh);
    // And evaluating (after that dropout step) drops nothing: it predicts what the plain
    // one-image forward pass predicts.
    let samples = Samples::new(x.transpose(), vec![0, 1, 2, 3, 0]);
    let expected: Vec<usize> = (0..5).map(|k| net.predict(&x.column(k))).collect();
    assert_eq!(evaluate(&net, &samples).predictions, expected);
}
