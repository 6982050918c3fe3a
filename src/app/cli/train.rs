//! `scratchnet train`: the write-up's network, trained on MNIST end to end.
//!
//! Book chapter: "The command line". Loads (downloading first if needed) the 60,000 training
//! images, keeps the first 50,000 for training and the last 10,000 for validation as Nielsen
//! does (five sixths and one sixth of any other data set), reports the 10,000 test images
//! separately after every epoch, and saves the weights of the epoch with the best validation
//! accuracy at the end. The same `--seed` gives the same weights and the same lines (all but
//! the seconds) on the same machine. One parser ([`parse`]) reads every option, `--preset
//! NAME` among them: the preset (data, from [`crate::app::preset`]) is applied first, then the
//! other options in order, then one range check ([`check`]) refuses what cannot train,
//! whichever of the two it came from.
//!
//! Nothing is lost to a failed run: the output paths are checked before MNIST loads
//! ([`output::check_output`]); the model and the `--log` are written through
//! [`output::OutputFile`] and only replace their files when the run succeeds (a run that
//! diverges or does no better than chance writes neither); and the model is saved before the
//! log is put in place, so a log that fails costs only the log. Left out: resuming from a
//! saved model.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use super::{ensure_data, is_help, parse_value, refused, unknown_argument, Args};
use crate::activation::Activation;
use crate::app::preset::{preset, Settings, PRESETS};
use crate::convnet::{check_batch, parameter_shapes, Feature};
use crate::convtrain;
use crate::cost::{self, Cost};
use crate::data::augment::Augment;
use crate::data::classes::Classes;
use crate::data::mnist::Mnist;
use crate::data::samples::Samples;
use crate::data::shape::{Misfit, Shape};
use crate::formats::output::{self, OutputFile};
use crate::formats::saved::Model;
use crate::init::Init;
use crate::network::{self, Network, NetworkConfig};
use crate::optimizer::Optimizer;
use crate::rng::Rng;
use crate::schedule::Schedule;
use crate::train::{self, EpochReport, Observer, TrainConfig};
use crate::{Error, Result};

/// One line for the top-level help.
pub const SUMMARY: &str = "Train a network on MNIST and save it (the default command)";

/// The `--help` text.
// ANCHOR: usage
pub const USAGE: &str = "\
Train a network on MNIST and save it (the default command)

Usage: scratchnet train [OPTIONS]

Trains on the first 50,000 MNIST training images, validates on the last 10,000 and
tests on the 10,000 test images, printing one line per epoch. Downloads MNIST first
if the data folder lacks it. Saves the weights of the epoch with the best validation
accuracy (the earliest of equals), and nothing if the run diverges or ends no better
than chance: an existing model or log file is replaced only by a successful run.

Options:
      --data DIR        MNIST folder [default: $MNIST_DIR, else data/mnist]
      --layers LIST     Layers, input first: one input per pixel (784 for MNIST); then
                        any convolutions convKxKxM (M maps, K×K kernels, stride 1, no
                        padding) and max-poolings poolK (K×K windows, stride K); then
                        fully connected sizes, the last one output per class (10)
                        [default: 784,20,10,10; e.g. 784,conv5x5x20,pool2,100,10]
      --epochs N        Passes over the training images [default: 30]
      --batch N         Images per mini-batch [default: 10]
      --eta X           Learning rate η [default: 3.0]
      --seed N          Seed for the initial weights and the shuffling [default: 1]
      --preset NAME     Start from a named set-up (see `scratchnet presets`) [default: writeup]
      --activation F    Hidden and convolutional layers: sigmoid | tanh | relu |
                        leaky-relu | identity
      --output F        Output layer: sigmoid | softmax
      --cost C          quadratic | cross-entropy (sigmoid) | log-likelihood (softmax)
      --init I          normal N(0,1) | scaled N(0,1/n_in) | xavier | he
      --optimizer O     sgd | momentum | adam (--eta is the learning rate for all three)
      --lambda X        L2 regularisation λ [default: 0]
      --dropout P       Drop hidden neurons (with convolutions: the inputs of the fully
                        connected layers) with probability P in training [default: 0]
      --schedule S      constant | step | cosine [default: constant]
      --patience N      Stop after N epochs without a better validation accuracy
                        [default: 0, off]
      --augment A       Change each training image every epoch: none | shift (by a
                        random -2..2 pixels) | distort (also turned by up to 10 degrees
                        and resized by up to 10%, bilinear) [default: none]
      --threads N       Threads for matrix products, at most 256 [default: all cores]
      --out FILE        Where to save the model, a regular file [default: scratchnet-model.bin]
      --log FILE.csv    Also write one CSV row per epoch: epoch,train_cost,
                        validation_accuracy,test_accuracy,seconds,train_seconds,
                        eval_seconds (accuracies as fractions); put in place when the
                        run ends, after the model
  -h, --help            Print this help
";
// ANCHOR_END: usage

/// The header of the `--log` CSV file.
pub const CSV_HEADER: &str =
    "epoch,train_cost,validation_accuracy,test_accuracy,seconds,train_seconds,eval_seconds";

/// The most epochs `--epochs` may ask for: far more than any run needs (the write-up's is
/// 30), and few enough that their reports fit in memory.
pub const MAX_EPOCHS: usize = 100_000;

/// The most threads `--threads` may ask for: more than the cores of any machine this is
/// likely to run on, few enough that starting them all is cheap.
pub const MAX_THREADS: usize = 256;

/// How many of `n` training images train; the last sixth validate. For MNIST's 60,000 this is
/// Nielsen's split, 50,000 and 10,000.
pub fn images_for_training(n: usize) -> usize {
    n - n / 6
}

/// Everything `scratchnet train` was asked to do.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainArgs {
    /// `--data`: the MNIST folder, if given.
    pub data: Option<PathBuf>,
    /// The network and training settings: the `--preset`'s, overridden by the other
    /// options (all but `--data`, `--threads`, `--out` and `--log`).
    pub settings: Settings,
    /// `--threads`.
    pub threads: usize,
    /// `--out`.
    pub out: PathBuf,
    /// `--log`.
    pub log: Option<PathBuf>,
}

impl Default for TrainArgs {
    /// The write-up's run: 784-20-10-10, 30 epochs, batches of 10, η = 3, seed 1, all cores.
    fn default() -> Self {
        TrainArgs {
            data: None,
            settings: Settings::default(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS)),
            out: PathBuf::from("scratchnet-model.bin"),
            log: None,
        }
    }
}

// ANCHOR: parse
/// Parses `scratchnet train`'s arguments; `Ok(None)` means `--help` was asked for.
///
/// The options are read first and applied after the preset, so each overrides `--preset
/// NAME` whether it stands before or after it. Book: "The command line".
///
/// # Errors
/// [`Error::Usage`] for an unknown option, a missing value, or a value [`check`] refuses.
pub fn parse(args: Vec<String>) -> Result<Option<TrainArgs>> {
    let mut options = Vec::new();
    let mut args = Args::new(args);
    while let Some(flag) = args.next() {
        let value = match flag.as_str() {
            f if is_help(f) => return Ok(None),
            f if expected(f).is_some() => args.value(f)?,
            other => return Err(unknown_argument(other)),
        };
        options.push((flag, value));
    }
    let mut parsed = TrainArgs {
        settings: chosen_preset(&options)?,
        ..TrainArgs::default()
    };
    for (flag, value) in &options {
        parsed.set(flag, value)?;
    }
    check(&parsed)?;
    Ok(Some(parsed))
}
// ANCHOR_END: parse

/// The settings of the last `--preset NAME`, else the write-up's.
fn chosen_preset(options: &[(String, String)]) -> Result<Settings> {
    let flag = "--preset";
    let name = options
        .iter()
        .rev()
        .find(|(f, _)| f == flag)
        .map_or("writeup", |(_, name)| name.as_str());
    preset(name).ok_or_else(|| refused(flag, name, &expected(flag).unwrap_or_default()))
}

/// What each of `train`'s options takes, as the message refusing a value says it; `None`
/// for a word that is not one of them. This is the list of `train`'s options.
fn expected(flag: &str) -> Option<String> {
    let one_of = |names: &[&str]| format!("one of {}", names.join(", "));
    Some(match flag {
        "--data" | "--out" | "--log" => "a path".into(),
        "--augment" => one_of(&Augment::ALL.map(Augment::name)),
        "--preset" => format!("{} (see `scratchnet presets`)", one_of(&PRESETS)),
        "--layers" => "sizes separated by commas, input first, e.g. 784,20,10,10, with any \
                       convolution (convKxKxM) and pooling (poolK) layers right after the \
                       input, e.g. 784,conv5x5x20,pool2,100,10"
            .into(),
        "--activation" => one_of(&Activation::HIDDEN.map(Activation::name)),
        "--output" => one_of(&["sigmoid", "softmax"]),
        "--cost" => one_of(&Cost::ALL.map(Cost::name)),
        "--init" => one_of(&Init::ALL.map(Init::name)),
        "--optimizer" => one_of(&Optimizer::ALL.map(Optimizer::name)),
        "--schedule" => one_of(&Schedule::ALL.map(Schedule::name)),
        "--epochs" => {
            format!("a whole number from 1 to {MAX_EPOCHS} (passes over the training images)")
        }
        "--batch" => "a whole number ≥ 1 (images per mini-batch)".into(),
        "--eta" => "a positive number (the learning rate η)".into(),
        "--lambda" => "a finite number ≥ 0 (the L2 regularisation λ)".into(),
        "--dropout" => "a probability p with 0 ≤ p < 1".into(),
        "--patience" => "a whole number of epochs (0 for no early stopping)".into(),
        "--seed" => "a whole number (the seed of the random generator)".into(),
        "--threads" => {
            format!("a whole number from 1 to {MAX_THREADS} (threads for matrix products)")
        }
        _ => return None,
    })
}

impl TrainArgs {
    /// Sets the option `flag` from its text `value`. `--preset` is skipped: [`parse`]
    /// applied it before every other option.
    fn set(&mut self, flag: &str, value: &str) -> Result<()> {
        let v = OptionValue {
            flag,
            text: value,
            expected: expected(flag).unwrap_or_default(),
        };
        let s = &mut self.settings;
        let t = &mut s.train;
        match flag {
            "--preset" => {}
            "--data" => self.data = Some(value.into()),
            "--out" => self.out = value.into(),
            "--log" => self.log = Some(value.into()),
            "--threads" => self.threads = v.number()?,
            "--seed" => s.seed = v.number()?,
            "--layers" => (s.net.sizes, s.features) = v.layer_list()?,
            "--activation" => s.net.hidden = v.named(Activation::from_name)?,
            "--output" => s.net.output = v.named(Activation::from_name)?,
            "--cost" => s.net.cost = v.named(Cost::from_name)?,
            "--init" => s.net.init = v.named(Init::from_name)?,
            "--optimizer" => t.optimizer = v.named(Optimizer::from_name)?,
            "--schedule" => t.schedule = v.named(Schedule::from_name)?,
            "--epochs" => t.epochs = v.number()?,
            "--batch" => t.batch_size = v.number()?,
            "--eta" => t.eta = v.number()?,
            "--lambda" => t.lambda = v.number()?,
            "--dropout" => t.dropout = v.number()?,
            "--patience" => t.patience = v.number()?,
            "--augment" => t.augment = v.named(Augment::from_name)?,
            other => return Err(unknown_argument(other)),
        }
        Ok(())
    }
}

/// One option's text and what the option expects, so that every way of reading it refuses
/// a bad value in the same words.
struct OptionValue<'a> {
    flag: &'a str,
    text: &'a str,
    expected: String,
}

impl OptionValue<'_> {
    /// The text as a number.
    fn number<N: FromStr>(&self) -> Result<N> {
        parse_value(self.flag, self.text, &self.expected)
    }

    /// The text as one of a set of names (`relu`, `adam`, …).
    fn named<E>(&self, from_name: fn(&str) -> Option<E>) -> Result<E> {
        from_name(self.text).ok_or_else(|| self.refused())
    }

    /// The text as a layer list, `784,20,10,10` or `784,conv5x5x20,pool2,100,10` (spaces
    /// allowed): the sizes of the input and of the fully connected layers, and the
    /// convolution and pooling layers, which stand between the input and the first fully
    /// connected layer.
    fn layer_list(&self) -> Result<(Vec<usize>, Vec<Feature>)> {
        let (mut sizes, mut features) = (Vec::new(), Vec::new());
        for token in self.text.split(',').map(str::trim) {
            match (token.parse(), Feature::parse(token)) {
                (Ok(n), _) => sizes.push(n),
                (_, Some(f)) if sizes.len() == 1 => features.push(f),
                _ => return Err(self.refused()),
            }
        }
        Ok((sizes, features))
    }

    fn refused(&self) -> Error {
        refused(self.flag, self.text, &self.expected)
    }
}

// ANCHOR: check
/// The one range check: refuses settings that parse but cannot train, whether a preset or an
/// option set them. A value is refused in the same words as one that does not parse.
///
/// # Errors
/// [`Error::Usage`] naming the first option out of range.
pub fn check(a: &TrainArgs) -> Result<()> {
    check_layers(&a.settings)?;
    let t = &a.settings.train;
    let in_range = [
        (
            "--epochs",
            t.epochs.to_string(),
            (1..=MAX_EPOCHS).contains(&t.epochs),
        ),
        ("--batch", t.batch_size.to_string(), t.batch_size >= 1),
        ("--eta", t.eta.to_string(), t.eta > 0.0 && t.eta.is_finite()),
        (
            "--lambda",
            t.lambda.to_string(),
            t.lambda >= 0.0 && t.lambda.is_finite(),
        ),
        (
            "--dropout",
            t.dropout.to_string(),
            0.0 <= t.dropout && t.dropout < 1.0,
        ),
        (
            "--threads",
            a.threads.to_string(),
            (1..=MAX_THREADS).contains(&a.threads),
        ),
    ];
    if let Some((flag, value, _)) = in_range.into_iter().find(|(_, _, ok)| !ok) {
        return Err(refused(flag, &value, &expected(flag).unwrap_or_default()));
    }
    check_outputs_differ(a)?;
    let s = &a.settings;
    cost::validate(s.net.hidden, s.net.output, s.net.cost).map_err(|err| match err {
        // A setting's name is its option's (`scratchnet presets` prints `cost=quadratic`).
        Error::Incompatible {
            setting,
            got,
            expected,
        } => refused(&format!("--{setting}"), got, &expected),
        other => other,
    })
}
// ANCHOR_END: check

/// Refuses `--log` naming the model's file, under any name: one would overwrite the other.
fn check_outputs_differ(a: &TrainArgs) -> Result<()> {
    match &a.log {
        Some(log) if output::same_file(log, &a.out) => {
            let expected = format!("a file other than the model's (--out {})", a.out.display());
            Err(refused("--log", &log.display().to_string(), &expected))
        }
        _ => Ok(()),
    }
}

/// Refuses layer sizes no network can have: fewer than two, an empty layer, beyond
/// [`network::check_sizes`]' limits, or convolutions and pooling that do not fit the maps
/// they are given ([`parameter_shapes`]). Whether they fit the data is
/// [`check_layers_fit`]'s question, once the data is read.
fn check_layers(settings: &Settings) -> Result<()> {
    let sizes = &settings.net.sizes;
    let refuse = |expected: &str| Err(refused("--layers", &settings.layers_text(), expected));
    let expected = if sizes.len() < 2 {
        "at least two sizes, input and output (e.g. 784,20,10,10)".to_string()
    } else if sizes.contains(&0) {
        "at least one neuron in every layer".to_string()
    } else if !settings.features.is_empty() {
        // The first fully connected layer reads the last pooled maps, not the input: the
        // network's own checks count its weights.
        return check_features(settings).or_else(|why| refuse(&why));
    } else {
        match network::check_sizes(sizes) {
            Err(Error::TooLarge { what, limit, .. }) => format!("at most {limit} {what}"),
            other => return other,
        }
    };
    refuse(&expected)
}

/// Checks that the convolution and pooling layers fit the maps they are given, and every
/// size against the limits a [`crate::convnet::ConvNet`] has (its mini-batches' patch
/// matrices included), saying what does not.
fn check_features(settings: &Settings) -> std::result::Result<(), String> {
    let square = "a square number of inputs before convolutions (one map of n × n pixels, \
                  784 = 28 × 28)";
    let config = settings.conv_config().map_err(|_| square.to_string())?;
    let checked = parameter_shapes(config.input, &config.layers)
        .and_then(|_| check_batch(config.input, &config.layers, settings.train.batch_size));
    match checked {
        Ok(()) => Ok(()),
        Err(Error::TooLarge { what, limit, .. }) => Err(format!("at most {limit} {what}")),
        Err(err) => Err(format!("layers that fit their input ({err})")),
    }
}

/// Refuses layer sizes that do not fit the data: the input layer is one neuron per pixel
/// (784 for MNIST's 28×28 images), the output layer one per class (its 10 digits).
fn check_layers_fit(settings: &Settings, shape: &Shape, classes: &Classes) -> Result<()> {
    let (rows, cols, pixels) = (shape.rows, shape.cols, shape.pixels());
    let expected = match shape.misfit(&settings.net.sizes) {
        // Convolutions read the input as one square map: the images must be that square.
        None if !settings.features.is_empty() && rows != cols => {
            format!("no convolutions for images of {rows}×{cols} pixels (they need square ones)")
        }
        None => return Ok(()),
        Some(Misfit::Inputs(_)) => {
            format!("{pixels} first, one input per pixel of a {rows}×{cols} image")
        }
        Some(Misfit::Outputs(_)) => {
            format!("{} last, one output per {}", shape.classes, classes.noun())
        }
    };
    Err(refused("--layers", &settings.layers_text(), &expected))
}

/// `scratchnet train ARGS`.
pub fn main(args: Vec<String>) -> Result<()> {
    super::run_parsed(parse(args)?, USAGE, run)
}

/// Trains as `a` says, printing one line per epoch, then saves the model.
///
/// # Errors
/// An output path that is not a regular file or not writable (before anything else), missing
/// data that cannot be downloaded, unreadable data, an empty training set, and
/// [`Error::Diverged`] or [`Error::DidNotLearn`] (in which cases nothing is saved).
pub fn run(a: &TrainArgs) -> Result<()> {
    output::check_output(&a.out)?;
    let mut log = a.log.as_deref().map(CsvLog::create).transpose()?;
    set_threads(a.threads);
    let dir = ensure_data(a.data.as_deref())?;
    let mnist = Mnist::load(&dir)?;
    let classes = Classes::load(&dir)?;
    let shape = Shape::of_data(&mnist, &classes)?;
    check_layers_fit(&a.settings, &shape, &classes)?;
    if a.settings.train.augment != Augment::None {
        shape.check_augment()?;
    }
    let training = images_for_training(mnist.train.len());
    let (train_set, validation_set) = mnist.train.split_at(training);
    let (train_set, validation_set, test_set) = (
        Samples::from_dataset(train_set),
        Samples::from_dataset(validation_set),
        Samples::from_dataset(mnist.test),
    );
    println!(
        "{}",
        header_line(a, &dir, [&train_set, &validation_set, &test_set])
    );
    let mut settings = a.settings.clone();
    settings.train.keep_best = true;
    let mut observer = Progress::new(settings.train.epochs, log.as_mut());
    let start = Instant::now();
    let (net, reports) = train_with_settings(
        &settings,
        &train_set,
        non_empty(&validation_set),
        non_empty(&test_set),
        &mut observer,
    )?;
    println!("{}", summary_line(&reports, start.elapsed()));
    let [_, classes] = net.inputs_and_outputs();
    train::check_learned(&reports, &settings.train, classes)?;
    let kept = train::kept_epoch(&reports, &settings.train).expect("at least one epoch ran");
    save_outputs(&net, &reports[kept - 1], &a.out, log)
}

/// Saves the model, says which epoch's weights it holds, then puts the log in place: the
/// model first, so that a log that cannot be written (a full disk) never costs it.
fn save_outputs(net: &Model, kept: &EpochReport, out: &Path, log: Option<CsvLog>) -> Result<()> {
    net.save(out)?;
    println!("{}", saved_line(kept, out));
    log.map_or(Ok(()), CsvLog::finish)
}

/// `Some(set)` unless it holds no images, so an empty set reports no accuracy rather than 0%.
fn non_empty(set: &Samples<f32>) -> Option<&Samples<f32>> {
    (!set.is_empty()).then_some(set)
}

/// Applies `--threads` to the matrix-multiply kernel.
fn set_threads(threads: usize) {
    crate::linalg::set_threads(threads);
}

/// Builds the network from `seed` and trains it; the library half of `scratchnet train`.
///
/// The one [`Rng`] seeded with `seed` draws the initial weights, then shuffles every epoch,
/// so equal seeds give bit-identical networks and reports (all but `seconds`).
pub fn train_network(
    layers: &[usize],
    config: &TrainConfig,
    seed: u64,
    train_set: &Samples<f32>,
    validation: Option<&Samples<f32>>,
    test: Option<&Samples<f32>>,
    observer: &mut dyn Observer,
) -> Result<(Network<f32>, Vec<EpochReport>)> {
    let settings = Settings {
        net: NetworkConfig {
            sizes: layers.to_vec(),
            ..NetworkConfig::default()
        },
        features: Vec::new(),
        train: config.clone(),
        seed,
    };
    match train_with_settings(&settings, train_set, validation, test, observer)? {
        (Model::Dense(net), reports) => Ok((net, reports)),
        (Model::Conv(_), _) => unreachable!("no features, so a fully connected network"),
    }
}

/// Builds the network `settings` describe (layers, activations, cost, initialisation) from
/// its seed and trains it with its [`TrainConfig`]: by [`train::train`], or
/// [`convtrain::train`] when it has convolutions. [`train_network`] for the write-up's
/// sigmoid, quadratic cost and N(0, 1) weights.
///
/// # Errors
/// What [`Settings::model`] and the training loops refuse.
pub fn train_with_settings(
    settings: &Settings,
    train_set: &Samples<f32>,
    validation: Option<&Samples<f32>>,
    test: Option<&Samples<f32>>,
    observer: &mut dyn Observer,
) -> Result<(Model, Vec<EpochReport>)> {
    let mut rng = Rng::new(settings.seed);
    let mut model = settings.model(&mut rng)?;
    let (config, rng) = (&settings.train, &mut rng);
    let reports = match &mut model {
        Model::Dense(net) => train::train(net, train_set, validation, test, config, rng, observer),
        Model::Conv(net) => {
            convtrain::train(net, train_set, validation, test, config, rng, observer)
        }
    }?;
    Ok((model, reports))
}

/// `best validation 97.72% at epoch 11 (test 97.55% then); 30 epochs in 1.6 minutes`
/// (in seconds under a minute, where minutes would read 0.0).
pub fn summary_line(reports: &[EpochReport], elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let took = match seconds < 60.0 {
        true => format!("{seconds:.1} s"),
        false => format!("{:.1} minutes", seconds / 60.0),
    };
    let n = reports.len();
    let epochs = format!("{n} epoch{} in {took}", if n == 1 { "" } else { "s" });
    let Some(best) = train::best_epoch(reports) else {
        return epochs;
    };
    let r = &reports[best - 1];
    format!(
        "best validation {} at epoch {best} (test {} then); {epochs}",
        percent(r.validation_accuracy),
        percent(r.test_accuracy),
    )
}

/// `saved the weights of epoch 11 (validation 97.72%, test 97.55%) to m.bin`: which epoch's
/// weights the model file holds, and how they scored, so that `eval` of it gives that test
/// accuracy.
pub fn saved_line(kept: &EpochReport, out: &Path) -> String {
    format!(
        "saved the weights of epoch {} (validation {}, test {}) to {}",
        kept.epoch,
        percent(kept.validation_accuracy),
        percent(kept.test_accuracy),
        out.display()
    )
}

/// An accuracy as a percentage with two decimals, `-` when there is none.
fn percent(accuracy: Option<f64>) -> String {
    accuracy.map_or("-".to_string(), |x| format!("{:.2}%", 100.0 * x))
}

/// The line printed before training starts.
fn header_line(a: &TrainArgs, dir: &Path, sets: [&Samples<f32>; 3]) -> String {
    format!(
        "training on {} images from {}, validating on {}, testing on {}, {} thread{}: {}",
        sets[0].len(),
        dir.display(),
        sets[1].len(),
        sets[2].len(),
        a.threads,
        if a.threads == 1 { "" } else { "s" },
        a.settings.describe()
    )
}

/// `epoch  3/30  cost 0.01234  validation 93.12%  test 92.88%  2.1 s training, 2.1 s evaluating`
/// (times under a second in milliseconds: the write-up's epoch trains in about 50).
pub fn epoch_line(r: &EpochReport, epochs: usize) -> String {
    let width = epochs.to_string().len();
    format!(
        "epoch {:>width$}/{epochs}  cost {:.5}  validation {}  test {}  \
         {} training, {} evaluating",
        r.epoch,
        r.train_cost,
        percent(r.validation_accuracy),
        percent(r.test_accuracy),
        duration(r.train_seconds),
        duration(r.eval_seconds)
    )
}

/// A time for the epoch line: `2.1 s`, or `48 ms` under a second (where tenths of a second
/// would print the write-up's whole epoch as `0.0 s`).
fn duration(seconds: f64) -> String {
    match seconds < 0.9995 {
        true => format!("{:.0} ms", seconds * 1e3),
        false => format!("{seconds:.1} s"),
    }
}

/// One `--log` row (see [`CSV_HEADER`]); accuracies as fractions, empty when absent.
pub fn csv_line(r: &EpochReport) -> String {
    let fraction = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
    format!(
        "{},{},{},{},{:.3},{:.3},{:.3}",
        r.epoch,
        r.train_cost,
        fraction(r.validation_accuracy),
        fraction(r.test_accuracy),
        r.seconds,
        r.train_seconds,
        r.eval_seconds
    )
}

/// The `--log` file, written row by row to a temporary file beside it (watch that one during
/// a long run) and put in place by [`CsvLog::finish`]; an existing log is never truncated.
struct CsvLog {
    file: OutputFile,
    error: Option<std::io::Error>,
}

impl CsvLog {
    fn create(path: &Path) -> Result<CsvLog> {
        let mut log = CsvLog {
            file: OutputFile::create(path)?,
            error: None,
        };
        log.write(CSV_HEADER);
        Ok(log)
    }

    /// Writes a row; the first error is kept for [`CsvLog::finish`] rather than stopping
    /// training halfway.
    fn write(&mut self, line: &str) {
        if self.error.is_none() {
            self.error = writeln!(self.file, "{line}").err();
        }
    }

    /// Puts the log in place, or reports the first error writing it (the old log stays).
    fn finish(self) -> Result<()> {
        match self.error {
            Some(e) => Err(Error::io(self.file.target(), e)),
            None => self.file.commit(),
        }
    }
}

/// Prints the epoch lines, draws the progress bar on a terminal, and feeds the log.
struct Progress<'a> {
    epochs: usize,
    terminal: bool,
    last_draw: Option<Instant>,
    log: Option<&'a mut CsvLog>,
}

impl<'a> Progress<'a> {
    /// Redraw at most this often: 20 times a second.
    const REDRAW: Duration = Duration::from_millis(50);

    fn new(epochs: usize, log: Option<&'a mut CsvLog>) -> Self {
        Progress {
            epochs,
            terminal: std::io::stderr().is_terminal(),
            last_draw: None,
            log,
        }
    }
}

impl Observer for Progress<'_> {
    fn batch_done(&mut self, epoch: usize, done: usize, total: usize) {
        let last = done == total;
        let due = match self.last_draw {
            Some(t) => last || t.elapsed() >= Self::REDRAW,
            None => true,
        };
        if !self.terminal || !due {
            return;
        }
        self.last_draw = Some(Instant::now());
        const WIDTH: usize = 40;
        let filled = WIDTH * done / total.max(1);
        eprint!(
            "\repoch {epoch}/{} [{}{}] {done}/{total} batches{}",
            self.epochs,
            "#".repeat(filled),
            ".".repeat(WIDTH - filled),
            if last { ", evaluating" } else { "" }
        );
    }

    fn epoch_done(&mut self, report: &EpochReport) {
        if self.terminal {
            eprint!("\r\x1b[2K"); // erase the bar before the line replaces it
            self.last_draw = None;
        }
        println!("{}", epoch_line(report, self.epochs));
        if let Some(log) = self.log.as_mut() {
            log.write(&csv_line(report));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line_names_the_best_epoch_and_counts_epochs_in_english() {
        let report = |epoch, validation| EpochReport {
            epoch,
            train_cost: 0.1,
            validation_accuracy: Some(validation),
            test_accuracy: Some(0.9),
            seconds: 1.0,
            train_seconds: 0.75,
            eval_seconds: 0.25,
        };
        let minute = Duration::from_secs(60);
        assert_eq!(
            summary_line(&[report(1, 0.5)], minute),
            "best validation 50.00% at epoch 1 (test 90.00% then); 1 epoch in 1.0 minutes"
        );
        let two = [report(1, 0.5), report(2, 0.25)];
        assert!(summary_line(&two, minute)
            .ends_with("at epoch 1 (test 90.00% then); 2 epochs in 1.0 minutes"));
        let seconds = Duration::from_millis(4_450);
        assert!(summary_line(&two, seconds).ends_with("2 epochs in 4.5 s"));
    }

    fn parse_strs(args: &[&str]) -> Result<Option<TrainArgs>> {
        parse(args.iter().map(|s| s.to_string()).collect())
    }

    fn usage_message(args: &[&str]) -> String {
        match parse_strs(args) {
            Err(Error::Usage(message)) => message,
            other => panic!("{args:?}: expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn no_arguments_are_the_write_ups_defaults() {
        let a = parse_strs(&[]).unwrap().unwrap();
        assert_eq!(a.settings.net.sizes, vec![784, 20, 10, 10]);
        assert_eq!(
            (
                a.settings.train.epochs,
                a.settings.train.batch_size,
                a.settings.train.eta
            ),
            (30, 10, 3.0)
        );
        assert_eq!(a.settings.seed, 1);
        assert!(a.threads >= 1);
    }

    #[test]
    fn layer_lists_with_convolutions_are_read_and_checked() {
        let parsed = parse_strs(&["--layers", "784, conv5x5x20, pool2, 100, 10"])
            .unwrap()
            .unwrap();
        let s = &parsed.settings;
        assert_eq!(s.net.sizes, [784, 100, 10]);
        let (conv, pool) = (Feature::Conv { k: 5, maps: 20 }, Feature::Pool { k: 2 });
        assert_eq!(s.features, [conv, pool]);
        assert_eq!(s.layers_text(), "784,conv5x5x20,pool2,100,10");
        let refused = [
            (
                "784,conv5x5x20,100,pool2,10",
                "with any convolution (convKxKxM)",
            ),
            ("784,conv5x4x20,10", "with any convolution (convKxKxM)"),
            ("784,pool,10", "with any convolution (convKxKxM)"),
            ("785,conv5x5x20,10", "expected a square number of inputs"),
            (
                "784,conv30x30x2,10",
                "a 30×30 window does not fit in 28×28 maps",
            ),
            (
                "784,conv3x3x4000,10",
                "at most 1048576 values out of layer 1",
            ),
            (
                "784,conv1x1x1300,conv14x14x1,10",
                "at most 4194304 patch values per image of layer 2",
            ),
        ];
        // The first fully connected layer reads 36 pooled values, not the 784 inputs.
        assert!(parse_strs(&["--layers", "784,conv5x5x1,pool4,350000,10"]).is_ok());
        let list = "784,conv1x1x500,conv3x3x1,10"; // 3,042,000 patch values an image
        let batch = usage_message(&["--layers", list, "--batch", "100"]);
        assert!(
            batch.contains("patch values in a mini-batch of 100"),
            "{batch}"
        );
        assert!(parse_strs(&["--layers", list, "--batch", "10"]).is_ok());
        for (list, says) in refused {
            let message = usage_message(&["--layers", list]);
            assert!(
                message.starts_with(&format!("--layers {list}: expected")),
                "{message}"
            );
            assert!(message.contains(says), "{list}: {message}");
        }
    }

    #[test]
    fn every_flag_is_read() {
        let a = parse_strs(&[
            "--data",
            "d",
            "--layers",
            "784,30,10",
            "--epochs",
            "2",
            "--batch",
            "5",
            "--eta",
            "0.5",
            "--seed",
            "9",
            "--threads",
            "3",
            "--out",
            "m.bin",
            "--log=l.csv",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(a.data, Some(PathBuf::from("d")));
        assert_eq!(a.settings.net.sizes, vec![784, 30, 10]);
        assert_eq!(
            (
                a.settings.train.epochs,
                a.settings.train.batch_size,
                a.settings.train.eta
            ),
            (2, 5, 0.5)
        );
        assert_eq!((a.settings.seed, a.threads), (9, 3));
        assert_eq!(a.out, PathBuf::from("m.bin"));
        assert_eq!(a.log, Some(PathBuf::from("l.csv")));
    }

    #[test]
    fn options_override_the_preset_before_or_after_it() {
        let a = parse_strs(&[
            "--eta=0.1",
            "--preset",
            "nielsen-ch3",
            "--layers",
            "784,50,10",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(a.settings.net.sizes, vec![784, 50, 10]);
        assert_eq!((a.settings.train.eta, a.settings.train.lambda), (0.1, 5.0));
        let a = parse_strs(&[
            "--augment",
            "distort",
            "--preset",
            "best-mlp",
            "--preset=nielsen-ch1",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(a.settings.train.augment, Augment::Distort);
        assert_eq!(
            a.settings.net.sizes,
            vec![784, 30, 10],
            "the last --preset wins"
        );
    }

    #[test]
    fn every_preset_passes_the_range_check_unchanged() {
        for name in PRESETS {
            let a = parse_strs(&["--preset", name]).unwrap().unwrap();
            assert_eq!(a.settings, preset(name).unwrap(), "{name}");
        }
    }

    #[test]
    fn help_is_not_an_error() {
        assert_eq!(parse_strs(&["--epochs", "3", "-h"]).unwrap(), None);
    }

    /// `scratchnet presets` prints each setting as `key=value`, `key` the option that sets
    /// it: given back as `--key value`, the listing is the preset (all but `evaluate_train`,
    /// which no option sets).
    #[test]
    fn every_preset_s_listing_parses_back_to_the_preset() {
        for name in PRESETS {
            let settings = preset(name).unwrap();
            let described = settings.describe();
            let args = described.split(' ').flat_map(|pair| {
                let (key, value) = pair.split_once('=').expect("key=value");
                [format!("--{key}"), value.to_string()]
            });
            let parsed = parse(args.collect()).unwrap().unwrap().settings;
            let train = TrainConfig {
                evaluate_train: parsed.train.evaluate_train,
                ..settings.train.clone()
            };
            assert_eq!(
                parsed,
                Settings { train, ..settings },
                "{name}: {described}"
            );
        }
    }

    #[test]
    fn every_refused_value_reads_the_same() {
        let cases: [(&[&str], &str); 30] = [
            (
                &["--eta", "abc"],
                "--eta abc: expected a positive number (the learning rate η)",
            ),
            (
                &["--eta", "-1"],
                "--eta -1: expected a positive number (the learning rate η)",
            ),
            (
                &["--eta", "NaN"],
                "--eta NaN: expected a positive number (the learning rate η)",
            ),
            (
                &["--lambda=-1"],
                "--lambda -1: expected a finite number ≥ 0 (the L2 regularisation λ)",
            ),
            (
                &["--lambda", "inf"],
                "--lambda inf: expected a finite number ≥ 0 (the L2 regularisation λ)",
            ),
            (
                &["--lambda", "nan"],
                "--lambda NaN: expected a finite number ≥ 0 (the L2 regularisation λ)",
            ),
            (
                &["--epochs", "0"],
                "--epochs 0: expected a whole number from 1 to 100000 (passes over the training images)",
            ),
            (
                &["--epochs", "-1"],
                "--epochs -1: expected a whole number from 1 to 100000 (passes over the training images)",
            ),
            (
                &["--epochs", "100000000000"],
                "--epochs 100000000000: expected a whole number from 1 to 100000 (passes over the \
                 training images)",
            ),
            (
                &["--batch", "0"],
                "--batch 0: expected a whole number ≥ 1 (images per mini-batch)",
            ),
            (
                &["--threads", "0"],
                "--threads 0: expected a whole number from 1 to 256 (threads for matrix products)",
            ),
            (
                &["--threads", "100000"],
                "--threads 100000: expected a whole number from 1 to 256 (threads for matrix \
                 products)",
            ),
            (
                &["--layers", "784,100000000,10"],
                "--layers 784,100000000,10: expected at most 1048576 neurons in layer 2",
            ),
            (
                &["--layers", "784,18446744073709551615,10"],
                "--layers 784,18446744073709551615,10: expected at most 1048576 neurons in \
                 layer 2",
            ),
            (
                &["--layers", "784,100000,10000,10"],
                "--layers 784,100000,10000,10: expected at most 268435456 weights and biases",
            ),
            (
                &["--log", "./m.bin", "--out", "m.bin"],
                "--log ./m.bin: expected a file other than the model's (--out m.bin)",
            ),
            (
                &["--seed", "x"],
                "--seed x: expected a whole number (the seed of the random generator)",
            ),
            (
                &["--patience", "-2"],
                "--patience -2: expected a whole number of epochs (0 for no early stopping)",
            ),
            (
                &["--dropout", "1.0"],
                "--dropout 1: expected a probability p with 0 ≤ p < 1",
            ),
            (
                &["--layers", "784,,10"],
                "--layers 784,,10: expected sizes separated by commas, input first, \
                 e.g. 784,20,10,10, with any convolution (convKxKxM) and pooling (poolK) \
                 layers right after the input, e.g. 784,conv5x5x20,pool2,100,10",
            ),
            (
                &["--layers", "784"],
                "--layers 784: expected at least two sizes, input and output \
                 (e.g. 784,20,10,10)",
            ),
            (
                &["--layers", "784,0,10"],
                "--layers 784,0,10: expected at least one neuron in every layer",
            ),
            (
                &["--init", "zeros"],
                "--init zeros: expected one of normal, scaled, xavier, he",
            ),
            (
                &["--activation", "softmax"],
                "--activation softmax: expected sigmoid, tanh, relu, leaky-relu or identity \
                 (softmax is for the output layer only)",
            ),
            (
                &["--output", "softmax"],
                "--cost quadratic: expected log-likelihood with a softmax output",
            ),
            (
                &["--output", "relu"],
                "--output relu: expected sigmoid (with quadratic or cross-entropy) or softmax \
                 (with log-likelihood)",
            ),
            (
                &["--preset", "huge"],
                "--preset huge: expected one of writeup, nielsen-ch1, nielsen-ch3, best-mlp, \
                 best-mlp-augmented, nielsen-ch6, best-cnn (see `scratchnet presets`)",
            ),
            (
                &["--augment=yes"],
                "--augment yes: expected one of none, shift, distort",
            ),
            (&["--augment"], "--augment needs a value"),
            (&["--augment", "--epochs", "3"], "--augment needs a value"),
        ];
        for (args, expected) in cases {
            assert_eq!(usage_message(args), expected, "{args:?}");
        }
    }

    #[test]
    fn more_layers_than_a_model_file_holds_are_refused() {
        let mut sizes = vec!["784"; 1];
        sizes.extend(vec!["3"; crate::network::MAX_LAYERS - 1]);
        sizes.push("10");
        let too_many = sizes.join(",");
        let message = usage_message(&["--layers", &too_many]);
        assert!(
            message.ends_with(": expected at most 1024 layers"),
            "{message}"
        );
        sizes.remove(1);
        assert!(parse_strs(&["--layers", &sizes.join(",")]).is_ok());
    }

    #[test]
    fn the_default_thread_count_is_within_the_limit() {
        let threads = TrainArgs::default().threads;
        assert!((1..=MAX_THREADS).contains(&threads), "{threads}");
    }

    #[test]
    fn nielsens_split_and_a_sixth_of_any_other_set() {
        assert_eq!(images_for_training(60_000), 50_000);
        assert_eq!(images_for_training(600), 500);
        assert_eq!((images_for_training(1), images_for_training(0)), (1, 0));
    }

    /// A log that cannot be put in place (here: a folder appeared at its path during the
    /// run) fails the run, but only after the model was saved. (Before, the log was finished
    /// first and its error returned before the save.)
    #[test]
    fn a_failing_log_never_costs_the_model() {
        let dir = std::env::temp_dir().join(format!("scratchnet-cli-log-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (out, log_path) = (dir.join("m.bin"), dir.join("log.csv"));
        let mut log = CsvLog::create(&log_path).unwrap();
        log.write("1,0.5,0.9,0.9,1.000");
        std::fs::create_dir(&log_path).unwrap();
        let net: Network<f32> = Network::new(&[4, 3], &mut Rng::new(1));
        let report = EpochReport {
            epoch: 1,
            train_cost: 0.5,
            validation_accuracy: Some(0.9),
            test_accuracy: Some(0.9),
            seconds: 1.0,
            train_seconds: 0.75,
            eval_seconds: 0.25,
        };
        let err = save_outputs(&Model::Dense(net), &report, &out, Some(log)).unwrap_err();
        assert!(err.to_string().contains("log.csv: is a folder"), "{err}");
        let saved = crate::formats::model::load(&out).unwrap();
        assert_eq!(saved.sizes(), [4, 3]);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["log.csv", "m.bin"], "no temporary file is left");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_saved_line_names_the_epoch_and_its_accuracies() {
        let kept = EpochReport {
            epoch: 11,
            train_cost: 0.1,
            validation_accuracy: Some(0.9772),
            test_accuracy: None,
            seconds: 1.0,
            train_seconds: 0.75,
            eval_seconds: 0.25,
        };
        assert_eq!(
            saved_line(&kept, Path::new("m.bin")),
            "saved the weights of epoch 11 (validation 97.72%, test -) to m.bin"
        );
    }

    #[test]
    fn unknown_options_and_missing_values() {
        assert_eq!(usage_message(&["--fast"]), "unknown option '--fast'");
        assert_eq!(usage_message(&["--seed"]), "--seed needs a value");
        assert_eq!(usage_message(&["--preset"]), "--preset needs a value");
    }

    #[test]
    fn lines_and_csv_rows() {
        let r = EpochReport {
            epoch: 3,
            train_cost: 0.125,
            validation_accuracy: Some(0.9312),
            test_accuracy: None,
            seconds: 4.21,
            train_seconds: 3.0,
            eval_seconds: 1.21,
        };
        assert_eq!(
            epoch_line(&r, 30),
            "epoch  3/30  cost 0.12500  validation 93.12%  test -  3.0 s training, 1.2 s evaluating"
        );
        assert_eq!(csv_line(&r), "3,0.125,0.9312,,4.210,3.000,1.210");
        let quick = EpochReport {
            train_seconds: 0.0484,
            eval_seconds: 0.9996,
            ..r
        };
        assert!(
            epoch_line(&quick, 30).ends_with("  48 ms training, 1.0 s evaluating"),
            "{}",
            epoch_line(&quick, 30)
        );
        assert_eq!(
            CSV_HEADER.split(',').count(),
            csv_line(&r).split(',').count()
        );
    }
}
