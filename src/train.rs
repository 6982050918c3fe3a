//! Mini-batch stochastic gradient descent, and measuring how well the network does.
//!
//! Book chapter: "Gradient descent and training". Each epoch shuffles the training images
//! afresh, cuts them into mini-batches, and for each batch moves every weight and bias a
//! step of size η down the gradient of the batch's mean cost: W ← W − η ∂C/∂W. Left out
//! here: momentum, Adam, regularisation (see the "Beyond the write-up" chapter).

use crate::backprop::{backprop_batch, Workspace};
use crate::error::{Error, Result};
use crate::linalg::{Matrix, Scalar};
use crate::network::Network;
use crate::rng::Rng;
use std::time::Instant;

/// Labelled images, one image per ROW of `inputs` (so one image is contiguous in memory);
/// [`Samples::gather`] turns a set of rows into a batch with one image per COLUMN.
#[derive(Clone, Debug)]
pub struct Samples<T> {
    /// (n, pixels): image k's pixels, scaled to [0, 1], are row k.
    pub inputs: Matrix<T>,
    /// (n): the digit shown in image k.
    pub labels: Vec<u8>,
}

impl<T: Scalar> Samples<T> {
    /// Wraps `inputs` (one image per row) and their labels.
    ///
    /// # Panics
    /// If the number of rows and labels differ.
    #[track_caller]
    pub fn new(inputs: Matrix<T>, labels: Vec<u8>) -> Self {
        assert_eq!(
            inputs.rows(),
            labels.len(),
            "Samples::new: {} images but {} labels",
            inputs.rows(),
            labels.len()
        );
        Samples { inputs, labels }
    }

    // ANCHOR: from_pixels
    /// Scales raw 8-bit pixels (0 = background, 255 = ink) to [0, 1]: the input layer A¹.
    ///
    /// Book: "The image as a vector".
    ///
    /// `pixels`: (n · pixels_per_image) bytes, image after image.
    ///
    /// # Panics
    /// If `pixels.len() != labels.len() * pixels_per_image`.
    #[track_caller]
    pub fn from_pixels(pixels: &[u8], pixels_per_image: usize, labels: Vec<u8>) -> Self {
        let scale = T::ONE / T::from_f64(255.0);
        let data = pixels
            .iter()
            .map(|&p| T::from_f64(p as f64) * scale)
            .collect();
        Samples::new(
            Matrix::from_vec(labels.len(), pixels_per_image, data),
            labels,
        )
    }
    // ANCHOR_END: from_pixels

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    // ANCHOR: gather
    /// Copies the images `indices` into a batch: `x` becomes (pixels, batch) with image
    /// `indices[j]` in column j, and `y` (classes, batch) its one-hot targets.
    ///
    /// Book: "Gradient descent and training".
    ///
    /// # Panics
    /// If an index is out of range or a label is not below `classes`.
    #[track_caller]
    pub fn gather(&self, indices: &[usize], classes: usize, x: &mut Matrix<T>, y: &mut Matrix<T>) {
        let (batch, pixels) = (indices.len(), self.inputs.cols());
        x.resize(pixels, batch);
        y.resize(classes, batch);
        y.as_mut_slice().iter_mut().for_each(|v| *v = T::ZERO);
        let xs = x.as_mut_slice();
        for (j, &k) in indices.iter().enumerate() {
            for (p, &v) in self.inputs.row(k).iter().enumerate() {
                xs[p * batch + j] = v;
            }
            let label = self.labels[k] as usize;
            assert!(
                label < classes,
                "label {label} of image {k} is not below the {classes} outputs"
            );
            y[(label, j)] = T::ONE;
        }
    }
    // ANCHOR_END: gather
}

/// How a training run is set up (the write-up's defaults in [`TrainConfig::default`]).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Images per mini-batch.
    pub batch_size: usize,
    /// Learning rate η.
    pub eta: f64,
}

impl Default for TrainConfig {
    /// 30 epochs, mini-batches of 10, η = 3.0.
    fn default() -> Self {
        TrainConfig {
            epochs: 30,
            batch_size: 10,
            eta: 3.0,
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
    /// Wall-clock seconds for the epoch, evaluation included.
    pub seconds: f64,
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
        let n_in = samples.inputs.cols();
        samples.gather(chunk, classes, ws.input(n_in, chunk.len()), &mut y);
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

// ANCHOR: sgd_step
/// One step of gradient descent on one mini-batch: W ← W − η ∂C/∂W, B ← B − η ∂C/∂B,
/// with the gradient the batch mean of Eqs 5–6. `ws.a[0]` holds the batch X.
///
/// Book: "Gradient descent and training".
pub fn sgd_step<T: Scalar>(net: &mut Network<T>, y: &Matrix<T>, eta: T, ws: &mut Workspace<T>) {
    backprop_batch(net, y, ws);
    let grad = ws.grad.as_ref().expect("backprop_batch fills the gradient");
    for (w, nabla_w) in net.weights.iter_mut().zip(&grad.nabla_w) {
        w.add_scaled(-eta, nabla_w);
    }
    for (b, nabla_b) in net.biases.iter_mut().zip(&grad.nabla_b) {
        b.as_mut_slice()
            .iter_mut()
            .zip(nabla_b.as_slice())
            .for_each(|(b, &g)| *b -= eta * g);
    }
}
// ANCHOR_END: sgd_step

// ANCHOR: train_epoch
/// One epoch: shuffle, then one [`sgd_step`] per mini-batch, reusing `ws` throughout. The last batch is smaller when
/// the batch size does not divide the number of images.
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
    let classes = *net.sizes().last().unwrap();
    let n_in = net.sizes()[0];
    let mut order: Vec<usize> = (0..train.len()).collect();
    rng.shuffle(&mut order);
    let mut y = Matrix::zeros(0, 0);
    let eta = T::from_f64(config.eta);
    let total = order.len().div_ceil(config.batch_size);
    for (done, batch) in order.chunks(config.batch_size).enumerate() {
        train.gather(batch, classes, ws.input(n_in, batch.len()), &mut y);
        sgd_step(net, &y, eta, ws);
        observer.batch_done(epoch, done + 1, total);
    }
}
// ANCHOR_END: train_epoch

/// Mini-batch gradient descent for `config.epochs` epochs, reporting after each.
///
/// Book: "Gradient descent and training".
///
/// # Errors
/// [`Error::Diverged`] as soon as an epoch ends with a NaN or infinite training cost
/// (the network is left as it was then; nothing is saved here).
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
    let mut reports = Vec::with_capacity(config.epochs);
    let mut ws = Workspace::new();
    for epoch in 1..=config.epochs {
        let start = Instant::now();
        train_epoch(net, train, config, epoch, rng, &mut ws, observer);
        let train_cost = evaluate(net, train).cost;
        if !train_cost.is_finite() {
            return Err(Error::Diverged {
                epoch,
                eta: config.eta,
            });
        }
        let report = EpochReport {
            epoch,
            train_cost,
            validation_accuracy: validation.map(|v| evaluate(net, v).accuracy),
            test_accuracy: test.map(|t| evaluate(net, t).accuracy),
            seconds: start.elapsed().as_secs_f64(),
        };
        observer.epoch_done(&report);
        reports.push(report);
    }
    Ok(reports)
}
