//! Training is reproducible on two threads: the same seed gives the same bits, and the same
//! bits as on one thread (gemm splits large products so every element sees the same
//! operations in the same order). The network is large enough that its products pass
//! `PARALLEL_MIN_WORK` and its hidden layer's σ passes `PARALLEL_MIN_ELEMENTS`, so both
//! really are split. And a network small enough to train on one thread is measured on a
//! second, beside the next epoch's training, with the same weights, reports and ending.

use crate::common::{bits, random_images};
use crate::serial;
use scratchnet::backprop::Workspace;
use scratchnet::linalg::{
    for_each_row_sum, leaves_a_core_free, set_threads, zip_blocks, zip_map_in_place, Matrix,
    PARALLEL_MIN_ELEMENTS, PARALLEL_MIN_WORK,
};
use scratchnet::network::Network;
use scratchnet::optimizer::Optimizer;
use scratchnet::rng::Rng;
use scratchnet::train::{train_epoch, TrainConfig};

/// The parameters before and after `epochs` epochs on `threads` threads, with `optimizer`
/// (at learning rate `eta`) and `dropout`.
fn trained_bits_with(
    threads: usize,
    epochs: usize,
    optimizer: Optimizer,
    eta: f64,
    dropout: f64,
) -> (Vec<u32>, Vec<u32>) {
    let mut rng = Rng::new(3);
    let data = random_images(300, &mut rng);
    let mut net: Network<f32> = Network::new(&[784, 400, 10], &mut rng);
    let config = TrainConfig {
        batch_size: 100,
        eta,
        optimizer,
        dropout,
        ..TrainConfig::default()
    };
    let before = bits(&net);
    set_threads(threads);
    let mut ws = Workspace::new();
    for epoch in 1..=epochs {
        train_epoch(&mut net, &data, &config, epoch, &mut rng, &mut ws, &mut ());
    }
    set_threads(1);
    (before, bits(&net))
}

/// [`trained_bits_with`] two epochs of plain SGD at η = 0.5, no dropout.
fn trained_bits(threads: usize) -> (Vec<u32>, Vec<u32>) {
    trained_bits_with(threads, 2, Optimizer::Sgd, 0.5, 0.0)
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

#[test]
fn optimizer_steps_and_dropout_split_across_threads_keep_the_bits() {
    // Momentum's and Adam's steps over the first layer's 313,600 weights, and the dropout
    // mask's Δ ⊙ mask over 400 × 100 values, are split on two threads.
    const _: () = assert!(784 * 400 >= PARALLEL_MIN_ELEMENTS);
    let _alone = serial();
    for (optimizer, eta, dropout) in [
        (Optimizer::Momentum, 0.1, 0.0),
        (Optimizer::Adam, 0.001, 0.3),
    ] {
        let one = trained_bits_with(1, 1, optimizer, eta, dropout);
        assert_ne!(one.0, one.1, "{optimizer:?} changed the parameters");
        let two = trained_bits_with(2, 1, optimizer, eta, dropout);
        assert_eq!(one, two, "{optimizer:?}, two threads against one");
    }
}

/// The element-wise helpers split across threads give a plain loop's bits, on 1, 2, 3 and 5
/// threads: lengths on both sides of `PARALLEL_MIN_ELEMENTS` and not a multiple of any
/// thread count, every position visited once; row sums of fewer rows than threads, of rows
/// not a multiple of 8, and of no columns. (The library's own tests run on one thread.)
#[test]
fn element_wise_splits_give_a_plain_loops_bits() {
    let _alone = serial();
    let value = |i: usize| (i as f32 * 0.731).sin();
    let half = PARALLEL_MIN_ELEMENTS / 4;
    for threads in [1, 2, 3, 5] {
        set_threads(threads);
        for len in [0, 7, half - 1, half + 1, PARALLEL_MIN_ELEMENTS + 3, 100_003] {
            let g: Vec<f32> = (0..len).map(value).collect();
            let (mut theta, mut m, mut visits) =
                (vec![1.0f32; len], vec![0.0; len], vec![0.0; len]);
            // Three changed slices and g: split from PARALLEL_MIN_ELEMENTS positions on.
            zip_blocks([&mut theta, &mut m, &mut visits], &g, |[th, m, v], g| {
                for (((th, m), v), &g) in th.iter_mut().zip(m).zip(v).zip(g) {
                    (*th, *m, *v) = (*th - 0.5 * g, g * g, *v + 1.0);
                }
            });
            let mut x = g.clone();
            zip_map_in_place(&mut x, &g, |a, b| a * b + 1.0);
            for i in 0..len {
                let want = [1.0 - 0.5 * g[i], g[i] * g[i], 1.0, g[i] * g[i] + 1.0];
                let got = [theta[i], m[i], visits[i], x[i]];
                let (got, want) = (got.map(f32::to_bits), want.map(f32::to_bits));
                assert_eq!(got, want, "position {i} of {len}, {threads} threads");
            }
        }
        for (rows, cols) in [(1, 50_000), (3, 20_000), (17, 3_000), (801, 100), (4, 0)] {
            let m = Matrix::from_fn(rows, cols, |i, k| value(i * 31 + k * 7) * 1e3);
            let mut sums = vec![f32::NAN; rows];
            for_each_row_sum(m.view(), &mut sums, |s, sum| *s = sum);
            for (i, s) in sums.iter().enumerate() {
                let plain = m.row(i).iter().fold(0.0f32, |acc, &v| acc + v);
                let case = (i, rows, cols, threads);
                assert_eq!(
                    s.to_bits(),
                    plain.to_bits(),
                    "row, rows, cols, threads: {case:?}"
                );
            }
        }
    }
    set_threads(1);
}

/// What a run reports to its observer, in order, seconds left out.
#[derive(Default)]
struct Heard(Vec<(usize, u64, Option<f64>, Option<f64>)>);

impl scratchnet::train::Observer for Heard {
    fn epoch_done(&mut self, r: &scratchnet::train::EpochReport) {
        let cost = r.train_cost.to_bits();
        self.0
            .push((r.epoch, cost, r.validation_accuracy, r.test_accuracy));
    }
}

#[test]
fn measuring_beside_training_changes_no_weight_report_or_stop() {
    use scratchnet::train::train;
    let _alone = serial();
    let mut rng = Rng::new(2);
    let (data, validation, test) = (
        random_images(300, &mut rng),
        random_images(200, &mut rng),
        random_images(100, &mut rng),
    );
    // With two threads a network this small trains on one and is measured on the other,
    // each epoch beside the next one's training; with one, after it. Patience stops the
    // wobbling run early, and η = 10³⁰⁰ makes the second diverge at once.
    let stopping = TrainConfig {
        epochs: 40,
        eta: 8.0,
        patience: 3,
        ..TrainConfig::default()
    };
    let diverging = TrainConfig {
        eta: 1e300,
        ..stopping.clone()
    };
    set_threads(2);
    let free = |products: &[(usize, usize, usize)]| leaves_a_core_free(products.iter().copied());
    // The write-up's step (batch 10) leaves a core free; 784-800-800-10's (batch 100) splits.
    let (small, large) = (
        free(&[(10, 784, 20), (10, 20, 10)]),
        free(&[(100, 784, 800)]),
    );
    set_threads(1);
    assert_eq!((small, large, free(&[(10, 784, 20)])), (true, false, false));
    // 784-100-10 at batch 10: products unsplit, but Adam's step over its 78,400 weights splits.
    set_threads(2);
    let weights_split = free(&[(10, 784, 100)]);
    set_threads(1);
    assert!(
        !weights_split,
        "784 × 100 weights are above PARALLEL_MIN_ELEMENTS"
    );
    for (config, stops) in [(stopping, true), (diverging, false)] {
        let run = |threads| {
            set_threads(threads);
            let mut rng = Rng::new(5);
            let mut net: Network<f32> = Network::new(&[784, 8, 10], &mut rng);
            let mut heard = Heard::default();
            let sets = (Some(&validation), Some(&test));
            let result = train(
                &mut net, &data, sets.0, sets.1, &config, &mut rng, &mut heard,
            );
            set_threads(1);
            let ended = result
                .map(|reports| reports.len())
                .map_err(|e| e.to_string());
            (bits(&net), heard.0, ended)
        };
        let (one, beside) = (run(1), run(2));
        assert_eq!(one.0, beside.0, "eta {:e}: weights", config.eta);
        assert_eq!(one.1, beside.1, "eta {:e}: reports", config.eta);
        assert_eq!(one.2, beside.2, "eta {:e}: how the run ended", config.eta);
        match stops {
            true => assert!(matches!(one.2, Ok(n) if n < 40), "{:?}", one.2),
            false => assert!(one.2.is_err(), "{:?}", one.2),
        }
    }
}
