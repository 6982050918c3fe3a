//! Training a [`ConvNet`] by mini-batch gradient descent, and measuring how well it does.
//!
//! Book chapter: "Convolutional networks". The loop over epochs is [`crate::train`]'s own;
//! one epoch is the same as there (shuffle, cut into mini-batches, one step of
//! W ← W − η ∂C/∂W per batch) with the batched passes of [`crate::convnet`], and the same
//! settings, reports and observer: [`TrainConfig`],
//! [`EpochReport`], [`Observer`], [`Evaluation`]. Every random choice comes from the one
//! [`Rng`], and every product gives the same bits on any number of threads, so a seed fixes
//! a run.
//!
//! It honours every setting of [`TrainConfig`]: `lambda` is L2 on every weight, kernels
//! included, as in Nielsen's `network3.py` (weight decay for SGD, added to the gradient for
//! momentum and Adam, as [`crate::train`] does); `dropout` is on the inputs of fully connected
//! layers ([`forward_batch_dropout`]); `patience` and `keep_best` leave the network with its
//! best validation epoch's weights.

use crate::convnet::{
    backward_batch, check_batch, eval_chunk, forward_batch, forward_batch_dropout, sgd_step,
    ConvNet, ConvWorkspace,
};
use crate::cost::Cost;
use crate::data::samples::Samples;
use crate::error::Result;
use crate::linalg::{argmax, Matrix, Scalar};
use crate::optimizer::{add_l2, Optimizer, OptimizerState};
use crate::rng::Rng;
use crate::train::{
    check_not_empty, run_epochs, EpochReport, Evaluation, Measure, Observer, TrainConfig,
};

// ANCHOR: train
/// Mini-batch training for `config.epochs` epochs, reporting after each (validation and test
/// accuracy when those sets are given). The reported training cost includes L2's
/// (λ/2n) Σ w². With `config.keep_best` or a patience, `net` is left with its best
/// validation epoch's weights, as [`crate::train::train`] leaves a `Network`.
///
/// Book: "Convolutional networks".
///
/// # Errors
/// [`crate::Error::Invalid`] for an empty training set; [`crate::Error::TooLarge`] for a
/// mini-batch whose patch matrices pass [`crate::convnet::MAX_BATCH_PATCH_VALUES`];
/// [`crate::Error::Diverged`] as soon as an epoch ends with a NaN or infinite training cost.
pub fn train<T: Scalar>(
    net: &mut ConvNet<T>,
    train: &Samples<T>,
    validation: Option<&Samples<T>>,
    test: Option<&Samples<T>>,
    config: &TrainConfig,
    rng: &mut Rng,
    observer: &mut dyn Observer,
) -> Result<Vec<EpochReport>> {
    assert!(config.batch_size > 0, "batch size must be at least 1");
    check_not_empty(train)?;
    check_batch(net.input(), net.layers(), config.batch_size)?;
    let mut ws = ConvWorkspace::new();
    let mut opt = OptimizerState::for_parameters(config.optimizer, &net.weights, &net.biases);
    let lambda_over_n = config.lambda / train.len().max(1) as f64;
    let one_epoch =
        |net: &mut ConvNet<T>, rng: &mut Rng, eta, epoch, observer: &mut dyn Observer| {
            let state = (&mut ws, &mut opt);
            train_epoch(net, train, config, (eta, epoch), rng, state, observer)
        };
    // Training uses every core for its products: measuring beside it would only compete.
    let measure = Measure {
        l2: |net: &ConvNet<T>| l2_cost(net, lambda_over_n),
        evaluate,
        beside_training: false,
    };
    let sets = (train, validation, test);
    run_epochs(net, sets, config, (rng, observer), one_epoch, &measure)
}

/// One epoch at learning rate `eta` (epoch number `epoch`, for the observer): shuffle, then
/// for each mini-batch gather it (changing the images as `config.augment` says), run it forward
/// (with dropout when `config.dropout` > 0) and back, and take a step: SGD with L2 as weight
/// decay, or `opt`'s rule with L2's (λ/n) W added to the gradient.
/// Returns the mean cost of the batches as they were trained (0 when
/// `config.evaluate_train`, which measures it afresh instead).
///
/// Book: "Convolutional networks".
pub fn train_epoch<T: Scalar>(
    net: &mut ConvNet<T>,
    train: &Samples<T>,
    config: &TrainConfig,
    (eta, epoch): (f64, usize),
    rng: &mut Rng,
    (ws, opt): (&mut ConvWorkspace<T>, &mut OptimizerState<T>),
    observer: &mut dyn Observer,
) -> f64 {
    let classes = net.outputs();
    let mut order: Vec<usize> = (0..train.len()).collect();
    rng.shuffle(&mut order);
    let lambda_over_n = config.lambda / train.len().max(1) as f64;
    let decay = T::from_f64(eta * lambda_over_n); // ηλ/n
    let eta = T::from_f64(eta);
    let total = order.len().div_ceil(config.batch_size);
    let (mut y, mut cost_sum) = (Matrix::zeros(0, 0), 0.0);
    for (done, batch) in order.chunks(config.batch_size).enumerate() {
        train.gather(batch, classes, ws.input(), &mut y);
        config.augment.columns(ws.input(), rng);
        if config.dropout > 0.0 {
            forward_batch_dropout(net, ws, config.dropout, rng);
        } else {
            forward_batch(net, ws);
        }
        if !config.evaluate_train {
            cost_sum += batch_cost(net.cost, ws.output(), &y);
        }
        backward_batch(net, &y, ws);
        let grad = ws.grad.as_mut().expect("backward_batch fills it");
        if opt.kind == Optimizer::Sgd {
            sgd_step(net, grad, eta, decay);
        } else {
            if lambda_over_n > 0.0 {
                add_l2(grad, &net.weights, lambda_over_n);
            }
            opt.step_parameters(&mut net.weights, &mut net.biases, grad, eta);
        }
        observer.batch_done(epoch, done + 1, total);
    }
    cost_sum / train.len().max(1) as f64
}
// ANCHOR_END: train

/// Runs every sample through the network ([`eval_chunk`] columns at a time, which keeps the
/// patch matrices to a few megabytes) and scores it.
///
/// Book: "Convolutional networks".
pub fn evaluate<T: Scalar>(net: &ConvNet<T>, samples: &Samples<T>) -> Evaluation {
    let mut ws = ConvWorkspace::new();
    let mut y = Matrix::zeros(0, 0);
    let (mut cost, mut predictions) = (0.0, Vec::with_capacity(samples.len()));
    let indices: Vec<usize> = (0..samples.len()).collect();
    for chunk in indices.chunks(eval_chunk(net)) {
        samples.gather(chunk, net.outputs(), ws.input(), &mut y);
        forward_batch(net, &mut ws);
        cost += batch_cost(net.cost, ws.output(), &y);
        let a = ws.output().transpose();
        predictions.extend((0..chunk.len()).map(|k| argmax(a.row(k))));
    }
    let labels = samples.labels.iter();
    let correct = labels.zip(&predictions).filter(|&(&l, &p)| p == l as usize);
    let n = samples.len().max(1) as f64;
    Evaluation {
        cost: cost / n,
        accuracy: correct.count() as f64 / n,
        predictions,
    }
}

/// The summed cost Σ_k C_k of a batch's outputs `a` against targets `y`, both
/// (classes, batch).
fn batch_cost<T: Scalar>(cost: Cost, a: &Matrix<T>, y: &Matrix<T>) -> f64 {
    let (a, y) = (a.transpose(), y.transpose());
    (0..a.rows())
        .map(|k| cost.value(a.row(k), y.row(k)).to_f64())
        .sum()
}

/// The L2 term of the cost, (λ/2n) Σ w² over every weight (kernels included; not biases).
pub fn l2_cost<T: Scalar>(net: &ConvNet<T>, lambda_over_n: f64) -> f64 {
    let weights = net.weights.iter().flat_map(|w| w.as_slice());
    0.5 * lambda_over_n * weights.map(|&w| w.to_f64() * w.to_f64()).sum::<f64>()
}
