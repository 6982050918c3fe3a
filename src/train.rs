//! Mini-batch stochastic gradient descent, and measuring how well the network does.
//!
//! Book chapter: "Gradient descent and training". Each epoch shuffles the training images
//! afresh, cuts them into mini-batches, and for each batch moves every weight and bias a
//! step of size η down the gradient of the batch's mean cost: W ← W − η ∂C/∂W.
//!
//! The "Beyond the write-up" chapter adds options to [`TrainConfig`]: L2 weight decay,
//! momentum and Adam ([`crate::optimizer`]), dropout ([`crate::backprop::forward_batch_dropout`]),
//! shifted or distorted images ([`crate::data::augment`]), a learning-rate [`Schedule`], and early stopping.
//! Their defaults are off, and then [`train`] does exactly the write-up's arithmetic, bit for
//! bit (a test pins this against [`sgd_step`]). The images and their batches come from
//! [`Samples`] ([`crate::data::samples`]). The file reads top-down: [`train`], the loop over
//! epochs, first; then one epoch, one step, and the measures of how well the network does.

use crate::backprop::{
    backward_batch, backward_sgd, forward_batch, forward_batch_dropout, Workspace,
};
use crate::data::augment::Augment;
use crate::data::samples::Samples;
use crate::error::{Error, Result};
use crate::linalg::{alongside, leaves_a_core_free, Matrix, Scalar};
use crate::network::Network;
use crate::optimizer::{add_l2, l2_cost, Optimizer, OptimizerState};
use crate::rng::Rng;
use crate::schedule::Schedule;
use std::time::Instant;

/// Mini-batch training for up to `config.epochs` epochs, reporting after each.
///
/// With `config.patience > 0` and a validation set, training stops once that many epochs
/// pass without a better validation accuracy. With `config.keep_best` or a patience, `net`
/// is left with the weights of the best validation epoch, otherwise with the last epoch's
/// ([`kept_epoch`] says which). The reported training cost includes L2's (λ/2n) Σ w².
///
/// When a training step leaves a core free ([`crate::linalg::leaves_a_core_free`]: small
/// networks, the write-up's among them), each epoch is measured on a copy of its weights
/// while the next epoch trains ([`crate::linalg::alongside`]): the same weights and
/// reports, in the same order, sooner. A patience that runs out, or a divergence, is then
/// found one epoch later: that epoch's training is dropped and `rng` put back as it was
/// before it, so `rng` too ends the same either way (only `observer` has heard that epoch's
/// batches).
///
/// Book: "Gradient descent and training".
///
/// # Errors
/// [`Error::Invalid`] for an empty training set, and [`Error::Diverged`] as soon as an epoch
/// ends with a NaN or infinite training cost (the network is left as it was then; nothing is
/// saved here).
pub fn train<T: Scalar>(
    net: &mut Network<T>,
    train: &Samples<T>,
    validation: Option<&Samples<T>>,
    test: Option<&Samples<T>>,
    config: &TrainConfig,
    rng: &mut Rng,
    observer: &mut dyn Observer,
) -> Result<Vec<EpochReport>> {
    assert!(config.batch_size > 0, "batch size must be at least 1");
    check_not_empty(train)?;
    let mut ws = Workspace::new();
    let mut opt = OptimizerState::new(config.optimizer, net);
    let lambda_over_n = config.lambda / train.len().max(1) as f64;
    let one_epoch =
        |net: &mut Network<T>, rng: &mut Rng, eta, epoch, observer: &mut dyn Observer| {
            let (ws, opt) = (&mut ws, &mut opt);
            train_epoch_with(net, train, config, eta, epoch, rng, ws, opt, observer)
        };
    let measure = Measure {
        l2: |net: &Network<T>| l2_cost(net, lambda_over_n),
        evaluate,
        // Each layer's product of a training step: (batch × n_in) by (n_in × n_out).
        beside_training: leaves_a_core_free(
            net.sizes()
                .windows(2)
                .map(|pair| (config.batch_size, pair[0], pair[1])),
        ),
    };
    let sets = (train, validation, test);
    run_epochs(net, sets, config, (rng, observer), one_epoch, &measure)
}

/// The training, validation and test sets of a run (the last two may be absent).
pub(crate) type Sets<'a, T> = (
    &'a Samples<T>,
    Option<&'a Samples<T>>,
    Option<&'a Samples<T>>,
);

/// How [`run_epochs`] measures a network after each epoch.
pub(crate) struct Measure<L, E> {
    /// L2's term of the cost, (λ/2n) Σ w², for the network's weights.
    pub l2: L,
    /// The cost and accuracy of the network on a set of samples.
    pub evaluate: E,
    /// Measure each epoch while the next one trains ([`crate::linalg::alongside`]): worth it
    /// when training keeps to one core and a second is free.
    pub beside_training: bool,
}

/// The loop over epochs, for any kind of network (a [`crate::convnet::ConvNet`] too): for
/// each epoch, η from `config.schedule`, one epoch of training by `one_epoch` (which returns
/// the mean cost of its batches), the epoch's report ([`epoch_report`]: the training cost
/// plus `measure.l2` of the weights, the accuracies `measure.evaluate` finds), the observer,
/// and keeping the best epoch or stopping ([`Kept::record`]); at the end `net` holds the
/// kept epoch's weights ([`kept_epoch`]).
///
/// With `measure.beside_training`, epoch e is measured on a copy of its weights while epoch
/// e + 1 trains; its report then comes after e + 1's training. Nothing trained depends on a
/// report until patience stops the run (the extra epoch is then dropped for the kept one),
/// so the weights and reports are the same either way, and so is `rng` (put back as it was
/// before the dropped epoch); only the seconds differ.
///
/// # Errors
/// [`Error::Diverged`] as soon as an epoch ends with a NaN or infinite training cost (`net`
/// then holds that epoch's weights).
pub(crate) fn run_epochs<N, T, L, E>(
    net: &mut N,
    sets: Sets<'_, T>,
    config: &TrainConfig,
    (rng, observer): (&mut Rng, &mut dyn Observer),
    mut one_epoch: impl FnMut(&mut N, &mut Rng, f64, usize, &mut dyn Observer) -> f64,
    measure: &Measure<L, E>,
) -> Result<Vec<EpochReport>>
where
    N: Clone + Send,
    T: Scalar,
    L: Fn(&N) -> f64 + Sync,
    E: Fn(&N, &Samples<T>) -> Evaluation + Sync,
{
    let mut kept = Kept {
        reports: Vec::new(),
        best: None,
    };
    // Beside training: the last epoch's weights and training, not yet measured.
    let mut unmeasured: Option<(N, Trained)> = None;
    let mut run = || -> Result<()> {
        for epoch in 1..=config.epochs {
            let eta = config.schedule.eta(config.eta, epoch - 1, config.epochs);
            let mut train = |rng: &mut Rng| {
                let start = Instant::now();
                let batch_mean = one_epoch(net, rng, eta, epoch, observer);
                let train_seconds = start.elapsed().as_secs_f64();
                Trained {
                    epoch,
                    batch_mean,
                    train_seconds,
                }
            };
            if !measure.beside_training {
                let trained = train(rng);
                let report = epoch_report(net, trained, config, sets, measure);
                if kept.record(net, report, config, observer)? {
                    return Ok(());
                }
                continue;
            }
            // The last epoch's report comes after this epoch has drawn from `rng`: kept, to
            // put back if that report ends the run.
            let rng_before = rng.clone();
            let last = unmeasured.take();
            let (trained, measured) = alongside(
                || train(rng),
                move || last.map(|(w, t)| (epoch_report(&w, t, config, sets, measure), w)),
            );
            if let Some((report, weights)) = measured {
                let ended = kept.record_late(net, weights, report, config, observer);
                if !matches!(ended, Ok(false)) {
                    // The last epoch ended the run: this one is dropped, its draws too.
                    *rng = rng_before;
                    return ended.map(|_| ());
                }
            }
            unmeasured = Some((net.clone(), trained));
        }
        if let Some((weights, trained)) = unmeasured.take() {
            let report = epoch_report(&weights, trained, config, sets, measure);
            kept.record_late(net, weights, report, config, observer)?;
        }
        Ok(())
    };
    run()?;
    if let Some((_, best)) = kept.best {
        *net = best;
    }
    Ok(kept.reports)
}

/// An epoch's training, before it is measured.
#[derive(Clone, Copy)]
struct Trained {
    epoch: usize,
    /// The mean cost of its mini-batches, as they were trained.
    batch_mean: f64,
    train_seconds: f64,
}

/// The reports so far and, with `config.keep_best` or a patience, the best epoch's
/// validation accuracy and weights.
struct Kept<N> {
    reports: Vec<EpochReport>,
    best: Option<(f64, N)>,
}

impl<N: Clone> Kept<N> {
    /// Takes an epoch's `report` (of the weights `net`): tells the observer, keeps a copy of
    /// `net` when its validation accuracy is the best so far (with `config.keep_best` or a
    /// patience), and returns true when a patience has run out.
    ///
    /// # Errors
    /// The report's own error ([`Error::Diverged`]), before anything is kept.
    fn record(
        &mut self,
        net: &N,
        report: Result<EpochReport>,
        config: &TrainConfig,
        observer: &mut dyn Observer,
    ) -> Result<bool> {
        let report = report?;
        observer.epoch_done(&report);
        self.reports.push(report);
        let Some(accuracy) = self.reports.last().and_then(|r| r.validation_accuracy) else {
            return Ok(false);
        };
        let best = &mut self.best;
        if keeps_best(config) && best.as_ref().is_none_or(|(b, _)| accuracy > *b) {
            *best = Some((accuracy, net.clone()));
        }
        Ok(config.patience > 0 && epochs_since_best(&self.reports) >= config.patience)
    }

    /// [`Kept::record`] for a report measured one epoch late, on `weights` (a copy of that
    /// epoch's network): if the report is a divergence, `net` goes back to those weights, as
    /// if the run had stopped there.
    fn record_late(
        &mut self,
        net: &mut N,
        weights: N,
        report: Result<EpochReport>,
        config: &TrainConfig,
        observer: &mut dyn Observer,
    ) -> Result<bool> {
        let recorded = self.record(&weights, report, config, observer);
        if recorded.is_err() {
            *net = weights;
        }
        recorded
    }
}

/// Refuses an empty training set: with no images an epoch has no batch, and the "trained"
/// network would be the untrained one. [`crate::convtrain::train`] refuses it the same way.
///
/// # Errors
/// [`Error::Invalid`] saying there is nothing to train on.
pub(crate) fn check_not_empty<T: Scalar>(train: &Samples<T>) -> Result<()> {
    match train.is_empty() {
        true => Err(Error::Invalid(
            "there is nothing to train on: the training set has no images".into(),
        )),
        false => Ok(()),
    }
}

/// The report of the epoch `trained` left as `net`: its training cost (the mean of its
/// batches' costs or, with `config.evaluate_train`, the cost `measure.evaluate` finds on the
/// training set; plus L2's term) and the accuracy `measure.evaluate` finds on the validation
/// and test sets (those there are).
///
/// # Errors
/// [`Error::Diverged`] if the training cost is NaN or infinite (then no set is measured).
fn epoch_report<N, T: Scalar, L, E>(
    net: &N,
    trained: Trained,
    config: &TrainConfig,
    (train, validation, test): Sets<'_, T>,
    measure: &Measure<L, E>,
) -> Result<EpochReport>
where
    L: Fn(&N) -> f64,
    E: Fn(&N, &Samples<T>) -> Evaluation,
{
    let start = Instant::now();
    let data_cost = match config.evaluate_train {
        true => (measure.evaluate)(net, train).cost,
        false => trained.batch_mean,
    };
    let train_cost = data_cost + (measure.l2)(net);
    if !train_cost.is_finite() {
        return Err(Error::Diverged {
            epoch: trained.epoch,
            cost: train_cost,
            eta: config.eta,
            lambda: (config.lambda != 0.0).then_some(config.lambda),
        });
    }
    let accuracy = |set: &Samples<T>| (measure.evaluate)(net, set).accuracy;
    let (validation_accuracy, test_accuracy) = (validation.map(accuracy), test.map(accuracy));
    let eval_seconds = start.elapsed().as_secs_f64();
    Ok(EpochReport {
        epoch: trained.epoch,
        train_cost,
        validation_accuracy,
        test_accuracy,
        seconds: trained.train_seconds + eval_seconds,
        train_seconds: trained.train_seconds,
        eval_seconds,
    })
}

// ANCHOR: train_epoch
/// One epoch with a fresh optimizer state (see [`train_epoch_with`]) at `config.eta`.
///
/// Book: "Gradient descent and training".
pub fn train_epoch<T: Scalar>(
    net: &mut Network<T>,
    train: &Samples<T>,
    config: &TrainConfig,
    epoch: usize,
    rng: &mut Rng,
    ws: &mut Workspace<T>,
    observer: &mut dyn Observer,
) {
    let mut opt = OptimizerState::new(config.optimizer, net);
    let eta = config.eta;
    train_epoch_with(net, train, config, eta, epoch, rng, ws, &mut opt, observer);
}

/// One epoch: shuffle, then for each mini-batch gather it (changing the images as
/// `config.augment` says), run it forward (with dropout if asked) and back, and step: plain SGD
/// inside the backward pass ([`backward_sgd`], L2 as weight decay), momentum and Adam by
/// `opt` from the stored gradient (plus L2's λ/n·W). With the defaults this is one
/// [`sgd_step`] per batch.
/// Returns the mean cost of the mini-batches as they were trained.
#[allow(clippy::too_many_arguments)]
pub fn train_epoch_with<T: Scalar>(
    net: &mut Network<T>,
    train: &Samples<T>,
    config: &TrainConfig,
    eta: f64,
    epoch: usize,
    rng: &mut Rng,
    ws: &mut Workspace<T>,
    opt: &mut OptimizerState<T>,
    observer: &mut dyn Observer,
) -> f64 {
    let classes = *net.sizes().last().unwrap();
    let n_in = net.sizes()[0];
    let mut order: Vec<usize> = (0..train.len()).collect();
    rng.shuffle(&mut order);
    let mut y = Matrix::zeros(0, 0);
    let (eta, lambda_over_n) = (T::from_f64(eta), config.lambda / train.len() as f64);
    let total = order.len().div_ceil(config.batch_size);
    let mut cost_sum = 0.0;
    let batches: Vec<&[usize]> = order.chunks(config.batch_size).collect();
    for (done, &batch) in batches.iter().enumerate() {
        // X (stored one image per row) and Y for this batch.
        let xt = ws.input_rows(n_in, batch.len());
        train.gather_batch(&batches, done, classes, xt, &mut y);
        // `a[0]` holds the input batch, the write-up's A¹ (one image per row here).
        config.augment.rows(&mut ws.a[0], rng);
        if config.dropout > 0.0 {
            forward_batch_dropout(net, ws, config.dropout, rng);
        } else {
            forward_batch(net, ws);
        }
        if !config.evaluate_train {
            cost_sum += batch_cost(net, ws.output(), &y);
        }
        if opt.kind == Optimizer::Sgd {
            // Plain SGD takes its step inside the backward pass, L2 as weight decay:
            // W ← (1 − ηλ/n) W − η ∂C₀/∂W.
            let decay = eta * T::from_f64(lambda_over_n);
            backward_sgd(net, &y, eta, decay, ws);
        } else {
            backward_batch(net, &y, ws);
            let grad = ws.grad.as_mut().expect("backward_batch fills the gradient");
            if lambda_over_n > 0.0 {
                add_l2(grad, &net.weights, lambda_over_n);
            }
            opt.step(net, grad, eta);
        }
        observer.batch_done(epoch, done + 1, total);
    }
    cost_sum / train.len().max(1) as f64
}
// ANCHOR_END: train_epoch

// ANCHOR: sgd_step
/// One step of gradient descent on one mini-batch: W ← W − η ∂C/∂W, B ← B − η ∂C/∂B,
/// with the gradient the batch mean of Eqs 5–6. `ws` holds the batch X ([`Workspace::input`]
/// or [`Workspace::input_rows`]).
///
/// The forward pass, then [`backward_sgd`], which takes the step layer by layer as it goes
/// back: Wˡ ← Wˡ − (η/n) Δˡ (Aˡ⁻¹)ᵀ is one matrix product, so ∂C/∂W is never stored.
///
/// Book: "Gradient descent and training".
pub fn sgd_step<T: Scalar>(net: &mut Network<T>, y: &Matrix<T>, eta: T, ws: &mut Workspace<T>) {
    forward_batch(net, ws);
    backward_sgd(net, y, eta, T::ZERO, ws);
}
// ANCHOR_END: sgd_step

/// The summed cost Σ_k C_k of a batch's outputs `a` against targets `y`, both (n_L, batch).
fn batch_cost<T: Scalar>(net: &Network<T>, a: &Matrix<T>, y: &Matrix<T>) -> f64 {
    let (a, y) = (a.transpose(), y.transpose());
    (0..a.rows())
        .map(|k| net.cost.value(a.row(k), y.row(k)).to_f64())
        .sum()
}

/// Runs every sample through the network (in batches of 1,000 columns) and scores it.
///
/// Book: "Gradient descent and training".
pub fn evaluate<T: Scalar>(net: &Network<T>, samples: &Samples<T>) -> Evaluation {
    const CHUNK: usize = 1000;
    let classes = *net.sizes().last().unwrap();
    let mut ws = Workspace::new();
    let mut y = Matrix::zeros(0, 0);
    let (mut cost, mut predictions) = (0.0, Vec::with_capacity(samples.len()));
    let indices: Vec<usize> = (0..samples.len()).collect();
    for chunk in indices.chunks(CHUNK) {
        let n_in = samples.pixels_per_image();
        samples.gather_rows(chunk, classes, ws.input_rows(n_in, chunk.len()), &mut y);
        crate::backprop::forward_batch(net, &mut ws);
        let (a, yt) = (ws.output().transpose(), y.transpose());
        for k in 0..chunk.len() {
            cost += net.cost.value(a.row(k), yt.row(k)).to_f64();
            predictions.push(crate::linalg::argmax(a.row(k)));
        }
    }
    let correct = predictions
        .iter()
        .zip(&samples.labels)
        .filter(|&(&p, &l)| p == l as usize)
        .count();
    let n = samples.len().max(1) as f64;
    Evaluation {
        cost: cost / n,
        accuracy: correct as f64 / n,
        predictions,
    }
}

/// How many epochs have passed since the best validation accuracy (the first of equals).
pub fn epochs_since_best(reports: &[EpochReport]) -> usize {
    match best_epoch(reports) {
        Some(best) => reports.len() - best,
        None => 0,
    }
}

/// The 1-based epoch with the highest validation accuracy (the earliest of equals), if any
/// epoch was validated: the "test accuracy at the best validation epoch" comes from it.
pub fn best_epoch(reports: &[EpochReport]) -> Option<usize> {
    let mut best: Option<(f64, usize)> = None;
    for r in reports {
        if let Some(v) = r.validation_accuracy {
            if best.is_none_or(|(b, _)| v > b) {
                best = Some((v, r.epoch));
            }
        }
    }
    best.map(|(_, e)| e)
}

/// True when [`train`] leaves the network with its best validation epoch's weights.
fn keeps_best(config: &TrainConfig) -> bool {
    config.keep_best || config.patience > 0
}

/// The epoch whose weights [`train`] left in the network, given its `reports`: the best
/// validation epoch ([`best_epoch`]) with `config.keep_best` or a patience, else (or when no
/// epoch was validated) the last. `None` when no epoch ran.
pub fn kept_epoch(reports: &[EpochReport], config: &TrainConfig) -> Option<usize> {
    let best = keeps_best(config).then(|| best_epoch(reports)).flatten();
    best.or(reports.last().map(|r| r.epoch))
}

/// How many times chance (1/classes) a network's validation accuracy must beat to count as
/// having learned. A network that has not learned answers (nearly) the same class for every
/// image, so it scores that class's share of the images: 1/classes when the classes are
/// balanced, 11.4% for MNIST's most common digit (1) against 10% chance. Half as much again as
/// chance, 15% for ten classes, clears that, while any run that learns at all is far above it
/// (the write-up's network passes 90% in its first epoch).
pub const CHANCE_MARGIN: f64 = 1.5;

/// Refuses a run whose kept weights ([`kept_epoch`]) classify no more than
/// [`CHANCE_MARGIN`]` / classes` of the validation images correctly: such a network guesses,
/// and saving it would replace a model with nothing. A run with no validation set passes.
///
/// Book: "Gradient descent and training".
///
/// # Errors
/// [`Error::DidNotLearn`] with the kept epoch, its accuracy, `classes` and η.
pub fn check_learned(reports: &[EpochReport], config: &TrainConfig, classes: usize) -> Result<()> {
    let Some(epoch) = kept_epoch(reports, config) else {
        return Ok(());
    };
    match reports[epoch - 1].validation_accuracy {
        Some(accuracy) if accuracy <= CHANCE_MARGIN / classes as f64 => Err(Error::DidNotLearn {
            epoch,
            accuracy,
            classes,
            eta: config.eta,
        }),
        _ => Ok(()),
    }
}

/// How a training run is set up (the write-up's defaults in [`TrainConfig::default`]).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Passes over the training set (at most: early stopping may end sooner).
    pub epochs: usize,
    /// Images per mini-batch.
    pub batch_size: usize,
    /// Learning rate η, for every optimizer (the starting value under a schedule).
    pub eta: f64,
    /// L2 regularisation λ: the cost gains (λ/2n) Σ w², n the training set's size.
    pub lambda: f64,
    /// The update rule.
    pub optimizer: Optimizer,
    /// Dropout probability p for hidden neurons in training (0 = off).
    pub dropout: f64,
    /// How η changes over the epochs.
    pub schedule: Schedule,
    /// Early stopping: stop after this many epochs without a better validation accuracy,
    /// and keep the best epoch's weights (0 = off: run every epoch).
    pub patience: usize,
    /// Leave the network with the weights of the epoch with the best validation accuracy
    /// rather than the last epoch's (a patience does this too).
    pub keep_best: bool,
    /// How every training image is changed each epoch: not at all, shifted, or distorted.
    pub augment: Augment,
    /// Report the cost over the whole training set after each epoch (an extra forward pass
    /// over it). When false, the reported cost is the mean over the epoch's mini-batches,
    /// measured as they were trained (cheaper, a little stale, with dropout's noise).
    pub evaluate_train: bool,
}

impl Default for TrainConfig {
    /// The write-up: 30 epochs, mini-batches of 10, η = 3.0, plain SGD, nothing else.
    fn default() -> Self {
        TrainConfig {
            epochs: 30,
            batch_size: 10,
            eta: 3.0,
            lambda: 0.0,
            optimizer: Optimizer::Sgd,
            dropout: 0.0,
            schedule: Schedule::Constant,
            patience: 0,
            keep_best: false,
            augment: Augment::None,
            evaluate_train: true,
        }
    }
}

/// What one epoch achieved.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean cost over the training set after the epoch, C = (1/2n) Σ‖a − y‖².
    pub train_cost: f64,
    /// Fraction of validation images classified correctly, if there is a validation set.
    pub validation_accuracy: Option<f64>,
    /// Fraction of test images classified correctly, if there is a test set.
    pub test_accuracy: Option<f64>,
    /// Wall-clock seconds for the epoch, evaluation included: `train_seconds + eval_seconds`
    /// (more than the epoch adds to the run's time when it is measured beside the next
    /// epoch's training, see [`train`]).
    pub seconds: f64,
    /// Wall-clock seconds of the epoch's mini-batches.
    pub train_seconds: f64,
    /// Wall-clock seconds of measuring the cost and the accuracies after them (beside the
    /// next epoch's training when that leaves a core free, see [`train`]).
    pub eval_seconds: f64,
}

/// Hears about training as it happens (progress bars, logs). Both methods default to nothing.
pub trait Observer {
    /// `done` of `total` mini-batches of epoch `epoch` are finished.
    fn batch_done(&mut self, _epoch: usize, _done: usize, _total: usize) {}
    /// Epoch `report.epoch` is finished.
    fn epoch_done(&mut self, _report: &EpochReport) {}
}

/// An observer that ignores everything.
impl Observer for () {}

/// How well a network does on a set of samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean cost, (1/n) Σ_k C_k.
    pub cost: f64,
    /// The predicted digit (argmax of the output) for every sample, in order.
    pub predictions: Vec<usize>,
    /// Fraction predicted correctly.
    pub accuracy: f64,
}

impl Evaluation {
    /// The confusion matrix: `m[true][predicted]` counts, `classes × classes`.
    pub fn confusion(&self, labels: &[u8], classes: usize) -> Vec<Vec<usize>> {
        let mut m = vec![vec![0; classes]; classes];
        for (&truth, &guess) in labels.iter().zip(&self.predictions) {
            m[truth as usize][guess] += 1;
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(epoch: usize, validation: Option<f64>) -> EpochReport {
        EpochReport {
            epoch,
            train_cost: 0.1,
            validation_accuracy: validation,
            test_accuracy: None,
            seconds: 1.0,
            train_seconds: 0.75,
            eval_seconds: 0.25,
        }
    }

    #[test]
    fn the_kept_epoch_is_the_best_validated_one_when_asked_else_the_last() {
        let reports = [
            report(1, Some(0.5)),
            report(2, Some(0.7)),
            report(3, Some(0.6)),
        ];
        let last = TrainConfig::default();
        let best = TrainConfig {
            keep_best: true,
            ..TrainConfig::default()
        };
        let patient = TrainConfig {
            patience: 2,
            ..TrainConfig::default()
        };
        assert_eq!(kept_epoch(&reports, &last), Some(3));
        assert_eq!(kept_epoch(&reports, &best), Some(2));
        assert_eq!(kept_epoch(&reports, &patient), Some(2));
        assert_eq!(
            kept_epoch(&[report(1, None), report(2, None)], &best),
            Some(2)
        );
        assert_eq!(kept_epoch(&[], &best), None);
    }

    #[test]
    fn a_run_no_better_than_chance_did_not_learn() {
        let config = TrainConfig {
            keep_best: true,
            ..TrainConfig::default()
        };
        // Ten classes: chance is 10%, the line 15%.
        let guessing = [report(1, Some(0.12)), report(2, Some(0.15))];
        match check_learned(&guessing, &config, 10) {
            Err(Error::DidNotLearn {
                epoch: 2,
                accuracy,
                classes: 10,
                eta,
            }) => assert_eq!((accuracy, eta), (0.15, 3.0)),
            other => panic!("expected DidNotLearn, got {other:?}"),
        }
        assert!(check_learned(&[report(1, Some(0.151))], &config, 10).is_ok());
        assert!(check_learned(&[report(1, Some(0.6))], &config, 2).is_err());
        assert!(
            check_learned(&[report(1, None)], &config, 10).is_ok(),
            "nothing to judge"
        );
    }

    #[test]
    fn an_empty_training_set_is_an_error_not_an_untrained_network() {
        let empty = Samples::new(Matrix::<f64>::zeros(0, 4), Vec::new());
        let mut net: Network<f64> = Network::new(&[4, 2], &mut Rng::new(1));
        let config = TrainConfig::default();
        let err = train(
            &mut net,
            &empty,
            None,
            None,
            &config,
            &mut Rng::new(2),
            &mut (),
        );
        assert!(matches!(err, Err(Error::Invalid(_))), "{err:?}");
    }

    /// An epoch's report without its seconds, which measuring beside training changes.
    type Heard = (usize, u64, Option<f64>, Option<f64>);

    fn heard(r: &EpochReport) -> Heard {
        let cost = r.train_cost.to_bits();
        (r.epoch, cost, r.validation_accuracy, r.test_accuracy)
    }

    impl Observer for Vec<Heard> {
        fn epoch_done(&mut self, report: &EpochReport) {
            self.push(heard(report));
        }
    }

    /// [`run_epochs`] on a stand-in network whose "weights" count its epochs: after epoch e
    /// it scores `accuracy[(e − 1) % len]` (a little less on the test set, a little more on
    /// the training set) and its cost is NaN at epoch `diverges`. Returns the weights left,
    /// what the observer heard, and the reports or the error.
    fn scripted_run(
        config: &TrainConfig,
        validated: bool,
        accuracy: &[f64],
        diverges: Option<usize>,
        beside_training: bool,
    ) -> (usize, Vec<Heard>, std::result::Result<Vec<Heard>, String>) {
        let set = |n: usize| Samples::new(Matrix::<f32>::zeros(n, 1), vec![0; n]);
        let (train, validation, test) = (set(3), set(2), set(1));
        let measure = Measure {
            l2: |n: &usize| if Some(*n) == diverges { f64::NAN } else { 0.0 },
            evaluate: |n: &usize, s: &Samples<f32>| Evaluation {
                cost: 1.0 / (*n + s.len()) as f64,
                // Epoch n's entry (n ≥ 1; before the first epoch, the last entry).
                accuracy: accuracy[(*n + accuracy.len() - 1) % accuracy.len()]
                    - 0.001 * (2.0 - s.len() as f64),
                predictions: Vec::new(),
            },
            beside_training,
        };
        let one_epoch = |n: &mut usize, rng: &mut Rng, _eta, _epoch, _: &mut dyn Observer| {
            *n += 1;
            0.25 * *n as f64 + rng.uniform() * 1e-3
        };
        let sets = (&train, validated.then_some(&validation), Some(&test));
        let (mut net, mut observer, mut rng) = (0, Vec::new(), Rng::new(7));
        let state = (&mut rng, &mut observer as &mut dyn Observer);
        let result = run_epochs(&mut net, sets, config, state, one_epoch, &measure);
        // The caller's generator ends where measuring after each epoch leaves it.
        observer.push((0, rng.next_u64(), None, None));
        let result = result.map(|reports| {
            assert_eq!(kept_epoch(&reports, config), Some(net).filter(|&n| n > 0));
            reports.iter().map(heard).collect()
        });
        (net, observer, result.map_err(|e| e.to_string()))
    }

    /// Every ending of a run, measured after each epoch and beside the next one's training:
    /// patience running out early or at the last epoch, a divergence at the first, second or
    /// last, with and without a validation set, `keep_best`, `evaluate_train`.
    #[test]
    fn measuring_beside_training_ends_every_run_as_measuring_after_it() {
        let tables: [&[f64]; 4] = [
            &[0.5, 0.7, 0.6, 0.6, 0.6],
            &[0.5],
            &[0.1, 0.2, 0.3, 0.4, 0.5],
            &[0.9, 0.8, 0.9, 0.95, 0.7],
        ];
        for epochs in 0..=5 {
            for (patience, keep_best, evaluate_train) in
                (0..=3).flat_map(|p| [(p, false, false), (p, true, false), (p, false, true)])
            {
                let config = TrainConfig {
                    epochs,
                    patience,
                    keep_best,
                    evaluate_train,
                    ..TrainConfig::default()
                };
                for diverges in [None, Some(1), Some(2), Some(epochs)] {
                    for (table, validated) in tables.iter().flat_map(|t| [(t, true), (t, false)]) {
                        let run =
                            |beside| scripted_run(&config, validated, table, diverges, beside);
                        let (after, beside) = (run(false), run(true));
                        let case = format!("{config:?} {diverges:?} {table:?} {validated}");
                        assert_eq!(after, beside, "{case}");
                    }
                }
            }
        }
    }

    /// An SGD epoch with L2 (the step fused into the backward pass, L2 as gemm's β) against
    /// the same epoch written out the textbook way: gradient, plus (λ/n)W, times η, subtracted.
    #[test]
    fn an_sgd_epoch_with_l2_is_the_textbook_epoch() {
        let mut rng = Rng::new(3);
        let inputs = Matrix::from_fn(12, 4, |_, _| rng.uniform());
        let samples = Samples::new(inputs, (0..12).map(|k| (k % 2) as u8).collect());
        let config = TrainConfig {
            batch_size: 5, // batches of 5, 5 and 2
            eta: 0.3,
            lambda: 0.5,
            ..TrainConfig::default()
        };
        let start: Network<f64> = Network::new(&[4, 3, 2], &mut Rng::new(4));
        let mut fused = start.clone();
        let mut ws = Workspace::new();
        train_epoch(
            &mut fused,
            &samples,
            &config,
            1,
            &mut Rng::new(5),
            &mut ws,
            &mut (),
        );

        let mut textbook = start.clone();
        let mut order: Vec<usize> = (0..12).collect();
        Rng::new(5).shuffle(&mut order);
        let (eta, lambda_over_n) = (0.3, 0.5 / 12.0);
        let mut y = Matrix::zeros(0, 0);
        for batch in order.chunks(5) {
            samples.gather_rows(batch, 2, ws.input_rows(4, batch.len()), &mut y);
            forward_batch(&textbook, &mut ws);
            backward_batch(&textbook, &y, &mut ws);
            let grad = ws.grad.as_ref().unwrap();
            for (w, g) in textbook.weights.iter_mut().zip(&grad.nabla_w) {
                for (w, &g) in w.as_mut_slice().iter_mut().zip(g.as_slice()) {
                    *w -= eta * (g + lambda_over_n * *w);
                }
            }
            for (b, g) in textbook.biases.iter_mut().zip(&grad.nabla_b) {
                for (b, &g) in b.as_mut_slice().iter_mut().zip(g.as_slice()) {
                    *b -= eta * g;
                }
            }
        }
        assert_ne!(
            fused.weights[0], start.weights[0],
            "the epoch changed nothing"
        );
        for (f, t) in fused.weights.iter().zip(&textbook.weights) {
            for (a, b) in f.as_slice().iter().zip(t.as_slice()) {
                assert!((a - b).abs() < 1e-13, "fused {a} vs textbook {b}");
            }
        }
        for (f, t) in fused.biases.iter().zip(&textbook.biases) {
            for (a, b) in f.as_slice().iter().zip(t.as_slice()) {
                assert!((a - b).abs() < 1e-13, "fused {a} vs textbook {b}");
            }
        }
    }
}
