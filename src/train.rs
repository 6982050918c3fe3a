//! Mini-batch stochastic gradient descent, and measuring how well the network does.
//!
//! Book chapter: "Gradient descent and training". Each epoch shuffles the training images
//! afresh, cuts them into mini-batches, and for each batch moves every weight and bias a
//! step of size η down the gradient of the batch's mean cost: W ← W − η ∂C/∂W.
//!
//! The "Beyond the write-up" chapter adds options to [`TrainConfig`]: L2 weight decay,
//! momentum and Adam ([`crate::optimizer`]), dropout ([`crate::backprop::forward_batch_dropout`]),
//! shifted images ([`crate::data::augment`]), a learning-rate [`Schedule`], and early stopping.
//! Their defaults are off, and then [`train`] does exactly the write-up's arithmetic, bit for
//! bit (a test pins this against [`sgd_step`]).

use crate::backprop::{
    backward_batch, backward_sgd, forward_batch, forward_batch_dropout, Workspace,
};
use crate::data::augment::shift_rows;
use crate::error::{Error, Result};
use crate::linalg::{Matrix, Scalar, Vector};
use crate::network::Network;
use crate::optimizer::{add_l2, l2_cost, Optimizer, OptimizerState};
use crate::rng::Rng;
use crate::schedule::Schedule;
use std::time::Instant;

/// Labelled images, one image per row (so one image is contiguous in memory);
/// [`Samples::gather`] turns a set of them into a batch with one image per COLUMN.
///
/// Images made by [`Samples::from_pixels`] (MNIST's) are kept as the bytes they came in and
/// scaled to [0, 1] only when a batch is gathered: a quarter of the memory of `f32` values,
/// and a quarter of the memory traffic of every epoch (see "Making it fast").
#[derive(Clone, Debug)]
pub struct Samples<T> {
    images: Images<T>,
    /// (n): the digit shown in image k.
    pub labels: Vec<u8>,
}

/// How [`Samples`] stores its images: values as given, or 8-bit pixels.
#[derive(Clone, Debug)]
enum Images<T> {
    /// (n, pixels): image k's values are row k.
    Values(Matrix<T>),
    /// `n · per_image` bytes, image after image; byte p means [`pixel_value`]`(p)`.
    Bytes { pixels: Vec<u8>, per_image: usize },
}

// ANCHOR: from_pixels
/// The input-layer value of a pixel byte (0 = background, 255 = ink): p / 255, in [0, 1]
/// (computed as p × (1/255), so 255 gives exactly 1).
///
/// Book: "The image as a vector".
pub fn pixel_value<T: Scalar>(p: u8) -> T {
    T::from_f64(p as f64) * (T::ONE / T::from_f64(255.0))
}
// ANCHOR_END: from_pixels

/// `out[i] = pixel_value(bytes[i])` for a whole image: the loop every gathered image runs.
///
/// One loop, compiled twice: for AVX2 (eight pixels per instruction) when the CPU has it, and
/// for any CPU. Both do the same IEEE operations on every pixel, so the values are the same.
fn pixel_values<T: Scalar>(bytes: &[u8], out: &mut [T]) {
    #[inline(always)]
    fn each<T: Scalar>(bytes: &[u8], out: &mut [T]) {
        for (o, &p) in out.iter_mut().zip(bytes) {
            *o = pixel_value(p);
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        unsafe fn each_avx2<T: Scalar>(bytes: &[u8], out: &mut [T]) {
            each(bytes, out)
        }
        if is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { each_avx2(bytes, out) };
        }
    }
    each(bytes, out)
}

impl<T: Scalar> Samples<T> {
    /// Wraps `inputs` (one image per row, values used as they are) and their labels.
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
        Samples {
            images: Images::Values(inputs),
            labels,
        }
    }

    /// Raw 8-bit pixels (0 = background, 255 = ink), `pixels_per_image` per image, image
    /// after image, and their labels. Image k's input layer A¹ is [`pixel_value`] of each of
    /// its bytes (computed when a batch is gathered; the bytes are what is stored).
    ///
    /// Book: "The image as a vector".
    ///
    /// # Panics
    /// If `pixels.len() != labels.len() * pixels_per_image`.
    #[track_caller]
    pub fn from_pixels(pixels: &[u8], pixels_per_image: usize, labels: Vec<u8>) -> Self {
        assert_eq!(
            pixels.len(),
            labels.len() * pixels_per_image,
            "Samples::from_pixels: {} bytes for {} images of {} pixels",
            pixels.len(),
            labels.len(),
            pixels_per_image
        );
        Samples {
            images: Images::Bytes {
                pixels: pixels.to_vec(),
                per_image: pixels_per_image,
            },
            labels,
        }
    }

    /// Number of values (pixels) per image: the input layer's size.
    pub fn pixels_per_image(&self) -> usize {
        match &self.images {
            Images::Values(m) => m.cols(),
            Images::Bytes { per_image, .. } => *per_image,
        }
    }

    /// Image k as the input layer A¹ sees it, `(pixels)`.
    ///
    /// # Panics
    /// If `k` is out of range.
    #[track_caller]
    pub fn image(&self, k: usize) -> Vector<T> {
        let mut out = vec![T::ZERO; self.pixels_per_image()];
        self.copy_image(k, &mut out);
        Vector::from_vec(out)
    }

    /// Writes image k's input-layer values into `out` (`pixels_per_image` long).
    #[track_caller]
    fn copy_image(&self, k: usize, out: &mut [T]) {
        match &self.images {
            Images::Values(m) => out.copy_from_slice(m.row(k)),
            Images::Bytes { pixels, per_image } => {
                pixel_values(&pixels[k * per_image..(k + 1) * per_image], out)
            }
        }
    }

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
        let (batch, pixels) = (indices.len(), self.pixels_per_image());
        x.resize(pixels, batch);
        let xs = x.as_mut_slice();
        let mut image = vec![T::ZERO; pixels];
        for (j, &k) in indices.iter().enumerate() {
            self.copy_image(k, &mut image);
            for (p, &v) in image.iter().enumerate() {
                xs[p * batch + j] = v;
            }
        }
        self.targets(indices, classes, y);
    }

    /// `y` (classes, batch): column j is the one-hot target of image `indices[j]`.
    #[track_caller]
    fn targets(&self, indices: &[usize], classes: usize, y: &mut Matrix<T>) {
        y.resize(classes, indices.len());
        y.as_mut_slice().iter_mut().for_each(|v| *v = T::ZERO);
        for (j, &k) in indices.iter().enumerate() {
            let label = self.labels[k] as usize;
            assert!(
                label < classes,
                "label {label} of image {k} is not below the {classes} outputs"
            );
            y[(label, j)] = T::ONE;
        }
    }
    // ANCHOR_END: gather

    // ANCHOR: gather_rows
    /// [`Samples::gather`] with the batch stored transposed: `xt` becomes Xᵀ, (batch, pixels),
    /// image `indices[j]` in ROW j, as [`Workspace::input_rows`] wants it. Each image is one
    /// contiguous copy, where [`Samples::gather`] writes its pixels `batch` values apart.
    ///
    /// Book: "Making it fast" (Training an epoch).
    ///
    /// # Panics
    /// As [`Samples::gather`].
    #[track_caller]
    pub fn gather_rows(
        &self,
        indices: &[usize],
        classes: usize,
        xt: &mut Matrix<T>,
        y: &mut Matrix<T>,
    ) {
        self.gather_rows_prefetching(indices, &[], classes, xt, y)
    }

    /// [`Samples::gather_rows`], asking the CPU for the images `ahead` (a later batch) on the
    /// way: after copying image j it calls [`Samples::prefetch`] on `ahead[j]`, so the
    /// requests go out a few at a time while the copies run. (Made all at once, a batch's
    /// 130 cache lines queue behind the few misses a core can have outstanding, and the loop
    /// waits; measured on the write-up's epoch, 19 alternating rounds: median 63.8 → 61.1 ms,
    /// lower quartile 59.8 → 57.0.) Prefetching changes no value.
    ///
    /// # Panics
    /// As [`Samples::gather`], and if an index in `ahead` is out of range.
    #[track_caller]
    pub fn gather_rows_prefetching(
        &self,
        indices: &[usize],
        ahead: &[usize],
        classes: usize,
        xt: &mut Matrix<T>,
        y: &mut Matrix<T>,
    ) {
        xt.resize(indices.len(), self.pixels_per_image());
        for (j, &k) in indices.iter().enumerate() {
            self.copy_image(k, xt.row_mut(j));
            self.prefetch(ahead.get(j..=j).unwrap_or_default());
        }
        self.prefetch(ahead.get(indices.len()..).unwrap_or_default());
        self.targets(indices, classes, y);
    }
    // ANCHOR_END: gather_rows

    // ANCHOR: prefetch
    /// Asks the CPU to start fetching the images `indices` into its caches, and returns at
    /// once: a hint, with no effect on any result.
    ///
    /// Training calls it for the mini-batch after next, one image at a time while gathering
    /// the current one ([`Samples::gather_rows_prefetching`]). A
    /// shuffled batch reads its images from anywhere in the training set (39 MB of MNIST's
    /// bytes), so without the hint every image is a cache miss that
    /// [`Samples::gather_rows`] waits for; with it the images arrive while the arithmetic
    /// runs (measured on the write-up's epoch: 121 → 112 ms median, 109 → 97 ms fastest).
    ///
    /// Book: "Making it fast" (Training an epoch).
    pub fn prefetch(&self, indices: &[usize]) {
        #[cfg(target_arch = "x86_64")]
        for &k in indices {
            let (start, len) = self.image_storage(k);
            // Every 64-byte line the image touches, the last one included.
            let lines = (0..len).step_by(64).chain(len.checked_sub(1));
            for offset in lines {
                // SAFETY: a prefetch never faults and changes no value; `offset < len`, so
                // the address is inside the image.
                unsafe {
                    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                    _mm_prefetch::<_MM_HINT_T0>(start.add(offset).cast());
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = indices;
    }
    // ANCHOR_END: prefetch

    /// Where image k is stored, and how many bytes it takes, for [`Samples::prefetch`].
    #[cfg(target_arch = "x86_64")]
    fn image_storage(&self, k: usize) -> (*const u8, usize) {
        match &self.images {
            Images::Values(m) => {
                let row = m.row(k);
                (row.as_ptr().cast(), size_of_val(row))
            }
            Images::Bytes { pixels, per_image } => {
                let bytes = &pixels[k * per_image..(k + 1) * per_image];
                (bytes.as_ptr(), bytes.len())
            }
        }
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
    /// and keep the best epoch's weights (0 = off: run every epoch, keep the last).
    pub patience: usize,
    /// Shift every training image by a random −2..=2 pixels each epoch.
    pub augment: bool,
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
            augment: false,
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

// ANCHOR: sgd_step
/// One step of gradient descent on one mini-batch: W ← W − η ∂C/∂W, B ← B − η ∂C/∂B,
/// with the gradient the batch mean of Eqs 5–6. `ws` holds the batch X ([`Workspace::input`]
/// or [`Workspace::input_rows`]).
///
/// The forward pass, then [`backward_sgd`], which takes the step layer by layer as it goes
/// back: W ← W − (η/n) Δ (A^{l−1})ᵀ is one matrix product, so ∂C/∂W is never stored.
///
/// Book: "Gradient descent and training".
pub fn sgd_step<T: Scalar>(net: &mut Network<T>, y: &Matrix<T>, eta: T, ws: &mut Workspace<T>) {
    forward_batch(net, ws);
    backward_sgd(net, y, eta, T::ZERO, ws);
}
// ANCHOR_END: sgd_step

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

/// One epoch: shuffle, then for each mini-batch gather it (shifting the images when
/// `config.augment`), run it forward (with dropout if asked) and back, and step: plain SGD
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
        // Gather this batch, asking on the way for the images two batches ahead: they arrive
        // while this one computes.
        let ahead = batches.get(done + 2).copied().unwrap_or_default();
        let xt = ws.input_rows(n_in, batch.len());
        train.gather_rows_prefetching(batch, ahead, classes, xt, &mut y);
        if config.augment {
            shift_rows(&mut ws.a[0], rng);
        }
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
                add_l2(grad, net, lambda_over_n);
            }
            opt.step(net, grad, eta);
        }
        observer.batch_done(epoch, done + 1, total);
    }
    cost_sum / train.len().max(1) as f64
}
// ANCHOR_END: train_epoch

/// The summed cost Σ_k C_k of a batch's outputs `a` against targets `y`, both (n_L, batch).
fn batch_cost<T: Scalar>(net: &Network<T>, a: &Matrix<T>, y: &Matrix<T>) -> f64 {
    let (a, y) = (a.transpose(), y.transpose());
    (0..a.rows())
        .map(|k| net.cost.value(a.row(k), y.row(k)).to_f64())
        .sum()
}

/// Mini-batch training for up to `config.epochs` epochs, reporting after each.
///
/// With `config.patience > 0` and a validation set, training stops once that many epochs
/// pass without a better validation accuracy, and `net` is left with the weights of the
/// best epoch. The reported training cost includes L2's (λ/2n) Σ w².
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
    let mut reports: Vec<EpochReport> = Vec::with_capacity(config.epochs);
    let mut ws = Workspace::new();
    let mut opt = OptimizerState::new(config.optimizer, net);
    let lambda_over_n = config.lambda / train.len().max(1) as f64;
    let mut best: Option<(f64, Network<T>)> = None;
    for epoch in 1..=config.epochs {
        let start = Instant::now();
        let eta = config.schedule.eta(config.eta, epoch - 1, config.epochs);
        let (ws, opt) = (&mut ws, &mut opt);
        let batch_mean = train_epoch_with(net, train, config, eta, epoch, rng, ws, opt, observer);
        let data_cost = match config.evaluate_train {
            true => evaluate(net, train).cost,
            false => batch_mean,
        };
        let train_cost = data_cost + l2_cost(net, lambda_over_n);
        if !train_cost.is_finite() {
            return Err(Error::Diverged {
                epoch,
                cost: train_cost,
                eta: config.eta,
                lambda: (config.lambda != 0.0).then_some(config.lambda),
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
        let accuracy = report.validation_accuracy;
        reports.push(report);
        if config.patience == 0 {
            continue;
        }
        let Some(accuracy) = accuracy else { continue };
        if best.as_ref().is_none_or(|(b, _)| accuracy > *b) {
            best = Some((accuracy, net.clone()));
        }
        if epochs_since_best(&reports) >= config.patience {
            break;
        }
    }
    if let Some((_, best_net)) = best {
        *net = best_net;
    }
    Ok(reports)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Three 4-pixel images as bytes, and the same images as the values they stand for.
    fn both_ways() -> (Samples<f32>, Samples<f32>) {
        let pixels: Vec<u8> = vec![0, 255, 128, 7, 1, 2, 3, 4, 250, 0, 0, 9];
        let labels = vec![1, 0, 2];
        let values = Matrix::from_fn(3, 4, |k, p| pixels[4 * k + p] as f32 * (1.0 / 255.0));
        (
            Samples::from_pixels(&pixels, 4, labels.clone()),
            Samples::new(values, labels),
        )
    }

    #[test]
    fn bytes_stand_for_their_value_over_255() {
        let (bytes, _) = both_ways();
        assert_eq!(bytes.pixels_per_image(), 4);
        let scale = 1.0f32 / 255.0;
        assert_eq!(
            bytes.image(0).as_slice(),
            &[0.0, 1.0, 128.0 * scale, 7.0 * scale]
        );
        assert_eq!(pixel_value::<f64>(51), 51.0 * (1.0 / 255.0));
    }

    #[test]
    fn bytes_and_values_gather_the_same_batches() {
        let (bytes, values) = both_ways();
        let order = [2, 0, 2, 1];
        let (mut x1, mut y1, mut x2, mut y2) = (
            Matrix::zeros(0, 0),
            Matrix::zeros(0, 0),
            Matrix::zeros(0, 0),
            Matrix::zeros(0, 0),
        );
        bytes.gather_rows(&order, 3, &mut x1, &mut y1);
        values.gather_rows(&order, 3, &mut x2, &mut y2);
        assert_eq!((&x1, &y1), (&x2, &y2));
        assert_eq!(x1.row(1), bytes.image(0).as_slice());
        bytes.gather(&order, 3, &mut x2, &mut y2);
        assert_eq!(x2, x1.transpose());
        assert_eq!(y2, y1);
        // A hint only: the stored images are unchanged by it.
        bytes.prefetch(&order);
        values.prefetch(&order);
        assert_eq!(bytes.image(2), values.image(2));
        // Gathering while prefetching a shorter, a longer or no later batch: the same batch.
        for ahead in [&[1][..], &[0, 1, 2, 0, 1, 2], &[]] {
            bytes.gather_rows_prefetching(&order, ahead, 3, &mut x2, &mut y2);
            assert_eq!((&x2, &y2), (&x1, &y1));
        }
    }

    #[test]
    fn the_fast_loop_gives_each_byte_its_value() {
        let bytes: Vec<u8> = (0..=255).chain((0..=255).rev()).collect();
        let (mut f32s, mut f64s) = (vec![0.0f32; bytes.len()], vec![0.0f64; bytes.len()]);
        pixel_values(&bytes, &mut f32s);
        pixel_values(&bytes, &mut f64s);
        for ((&p, &a), &b) in bytes.iter().zip(&f32s).zip(&f64s) {
            assert_eq!(a.to_bits(), pixel_value::<f32>(p).to_bits(), "byte {p}");
            assert_eq!(b.to_bits(), pixel_value::<f64>(p).to_bits(), "byte {p}");
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

    #[test]
    #[should_panic(expected = "bytes for 2 images of 4 pixels")]
    fn from_pixels_checks_the_byte_count() {
        Samples::<f32>::from_pixels(&[0; 7], 4, vec![0, 1]);
    }
}
