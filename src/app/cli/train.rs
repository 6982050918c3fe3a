//! `scratchnet train`: the write-up's network, trained on MNIST end to end.
//!
//! Book chapter: "Gradient descent and training". Loads (downloading first if needed) the
//! 60,000 training images, keeps the first 50,000 for training and the last 10,000 for
//! validation as Nielsen does, reports the 10,000 test images separately after every epoch,
//! and saves the model at the end. The same `--seed` gives the same weights and the same
//! lines (all but the seconds) on the same machine. `--preset NAME` and the options of the
//! "Beyond the write-up" chapter (activations, costs, initialisation, optimizers, L2,
//! dropout, schedules, early stopping, shifted images) are parsed by [`crate::app::preset`];
//! options given explicitly override the preset's. Left out: resuming from a saved model.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{ensure_data, is_help, parse_list, samples, unknown_argument, Args};
use crate::app::preset::{preset, Settings};
use crate::data::mnist::Mnist;
use crate::network::Network;
use crate::rng::Rng;
use crate::train::{self, EpochReport, Observer, Samples, TrainConfig};
use crate::{formats::model, Error, Result};

/// One line for the top-level help.
pub const SUMMARY: &str = "Train a network on MNIST and save it (the default command)";

/// The `--help` text.
// ANCHOR: usage
pub const USAGE: &str = "\
Train a network on MNIST and save it (the default command)

Usage: scratchnet train [OPTIONS]

Trains on the first 50,000 MNIST training images, validates on the last 10,000 and
tests on the 10,000 test images, printing one line per epoch. Downloads MNIST first
if the data folder lacks it.

Options:
      --data DIR        MNIST folder [default: $MNIST_DIR, else data/mnist]
      --layers LIST     Layer sizes, input first; must start with 784 and end with 10
                        [default: 784,20,10,10]
      --epochs N        Passes over the training images [default: 30]
      --batch N         Images per mini-batch [default: 10]
      --eta X           Learning rate η [default: 3.0]
      --seed N          Seed for the initial weights and the shuffling [default: 1]
      --preset NAME     Start from a named set-up (see `scratchnet presets`) [default: writeup]
      --activation F    Hidden layers: sigmoid | tanh | relu | leaky-relu | identity
      --output F        Output layer: sigmoid | softmax
      --cost C          quadratic | cross-entropy (sigmoid) | log-likelihood (softmax)
      --init I          normal N(0,1) | scaled N(0,1/n_in) | xavier | he
      --optimizer O     sgd | momentum | adam (--eta is the learning rate for all three)
      --lambda X        L2 regularisation λ [default: 0]
      --dropout P       Drop hidden neurons with probability P in training [default: 0]
      --schedule S      constant | step | cosine [default: constant]
      --patience N      Stop after N epochs without a better validation accuracy and keep
                        the best epoch's weights [default: 0, off]
      --augment         Shift each training image by a random -2..2 pixels every epoch
      --threads N       Threads for matrix products [default: all cores]
      --out FILE        Where to save the model [default: scratchnet-model.bin]
      --log FILE.csv    Also write one CSV row per epoch: epoch,train_cost,
                        validation_accuracy,test_accuracy,seconds (accuracies as fractions)
  -h, --help            Print this help
";
// ANCHOR_END: usage

/// The header of the `--log` CSV file.
pub const CSV_HEADER: &str = "epoch,train_cost,validation_accuracy,test_accuracy,seconds";

/// Pixels in an MNIST image, so the input layer's size.
pub const MNIST_PIXELS: usize = 28 * 28;
/// Digits, so the output layer's size.
pub const MNIST_CLASSES: usize = 10;
/// Training images kept for training; the rest of the 60,000 validate (Nielsen's split).
pub const TRAIN_IMAGES: usize = 50_000;

/// Everything `scratchnet train` was asked to do.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainArgs {
    /// `--data`: the MNIST folder, if given.
    pub data: Option<PathBuf>,
    /// The network and training settings: `--preset`, overridden by `--layers`,
    /// `--epochs`, `--batch`, `--eta`, `--seed` and the options of [`crate::app::preset`].
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
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            out: PathBuf::from("scratchnet-model.bin"),
            log: None,
        }
    }
}

// ANCHOR: parse
/// Parses `scratchnet train`'s arguments; `Ok(None)` means `--help` was asked for.
///
/// Book: "The command line".
///
/// # Errors
/// [`Error::Usage`] for an unknown flag, a missing value, or a value out of range.
pub fn parse(args: Vec<String>) -> Result<Option<TrainArgs>> {
    let mut parsed = TrainArgs {
        settings: preset(&preset_name(&args)?)?,
        ..TrainArgs::default()
    };
    let mut args = Args::new(args);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--preset" => drop(args.value(&arg)?), // applied first, by `preset_name`
            "--augment" => {
                args.no_value(&arg)?;
                parsed.settings.train.augment = true;
            }
            "--data" => parsed.data = Some(args.value(&arg)?.into()),
            "--layers" => parsed.settings.sizes = parse_list(&arg, &args.value(&arg)?)?,
            "--epochs" => parsed.settings.train.epochs = args.parse(&arg)?,
            "--batch" => parsed.settings.train.batch_size = args.parse(&arg)?,
            "--eta" => parsed.settings.train.eta = args.parse(&arg)?,
            "--seed" => parsed.settings.seed = args.parse(&arg)?,
            "--threads" => parsed.threads = args.parse(&arg)?,
            "--out" => parsed.out = args.value(&arg)?.into(),
            "--log" => parsed.log = Some(args.value(&arg)?.into()),
            a if is_help(a) => return Ok(None),
            f if Settings::knows(f) => parsed.settings.set(f, &args.value(f)?)?,
            other => return Err(unknown_argument(other)),
        }
    }
    validate(&parsed)?;
    parsed.settings.check().map_err(|e| match e {
        Error::Invalid(message) => Error::Usage(message),
        Error::Incompatible { .. } => Error::Usage(e.to_string()),
        other => other,
    })?;
    Ok(Some(parsed))
}
// ANCHOR_END: parse

/// The value of the last `--preset NAME` (or `--preset=NAME`), else `writeup`.
fn preset_name(args: &[String]) -> Result<String> {
    let mut name = "writeup".to_string();
    for (i, arg) in args.iter().enumerate() {
        if let Some(value) = arg.strip_prefix("--preset=") {
            name = value.to_string();
        } else if arg == "--preset" {
            let value = args.get(i + 1);
            name = value
                .ok_or_else(|| Error::Usage("--preset needs a value".into()))?
                .clone();
        }
    }
    Ok(name)
}

/// Checks the values that parse but cannot work.
fn validate(a: &TrainArgs) -> Result<()> {
    let bad = |message: String| Err(Error::Usage(message));
    let layers = &a.settings.sizes;
    if layers.len() < 2 {
        return bad(format!(
            "--layers needs at least two sizes, input and output (e.g. 784,20,10,10); got {}",
            layers.len()
        ));
    }
    if layers.contains(&0) {
        return bad("--layers: every layer needs at least one neuron".into());
    }
    if layers[0] != MNIST_PIXELS {
        return bad(format!(
            "--layers must start with {MNIST_PIXELS}, one input per pixel of a 28×28 MNIST \
             image; got {}",
            layers[0]
        ));
    }
    if layers[layers.len() - 1] != MNIST_CLASSES {
        return bad(format!(
            "--layers must end with {MNIST_CLASSES}, one output per digit; got {}",
            layers[layers.len() - 1]
        ));
    }
    if a.settings.train.epochs == 0 {
        return bad("--epochs must be at least 1".into());
    }
    if a.settings.train.batch_size == 0 {
        return bad("--batch must be at least 1".into());
    }
    if !(a.settings.train.eta.is_finite() && a.settings.train.eta > 0.0) {
        return bad(format!(
            "--eta must be a positive number (the write-up uses 3.0); got {}",
            a.settings.train.eta
        ));
    }
    if a.threads == 0 {
        return bad("--threads must be at least 1".into());
    }
    Ok(())
}

/// `scratchnet train ARGS`.
pub fn main(args: Vec<String>) -> Result<()> {
    super::run_parsed(parse(args)?, USAGE, run)
}

/// Trains as `a` says, printing one line per epoch, then saves the model.
///
/// # Errors
/// Missing data that cannot be downloaded, unreadable data, an unwritable `--out` or
/// `--log`, and [`Error::Diverged`] (in which case nothing is saved).
pub fn run(a: &TrainArgs) -> Result<()> {
    set_threads(a.threads);
    check_writable(&a.out)?;
    let mut log = a.log.as_deref().map(CsvLog::create).transpose()?;
    let dir = ensure_data(a.data.as_deref())?;
    let mnist = Mnist::load(&dir)?;
    let split = TRAIN_IMAGES.min(mnist.train.len());
    let (train_set, validation_set) = mnist.train.split_at(split);
    let (train_set, validation_set, test_set) = (
        samples(&train_set),
        samples(&validation_set),
        samples(&mnist.test),
    );
    println!(
        "{}",
        header_line(a, &dir, [&train_set, &validation_set, &test_set])
    );
    let mut observer = Progress::new(a.settings.train.epochs, log.as_mut());
    let start = Instant::now();
    let (net, reports) = train_with_settings(
        &a.settings,
        &train_set,
        Some(&validation_set),
        Some(&test_set),
        &mut observer,
    )?;
    println!("{}", summary_line(&reports, start.elapsed()));
    if let Some(log) = log {
        log.finish()?;
    }
    model::save(&net, &a.out)?;
    println!("saved the model to {}", a.out.display());
    Ok(())
}

/// Applies `--threads` to the matrix-multiply kernel.
fn set_threads(threads: usize) {
    crate::linalg::set_threads(threads);
}

/// Fails early, before hours of training, if the model's folder does not exist.
fn check_writable(out: &Path) -> Result<()> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(Error::Invalid(format!(
            "cannot save the model to {}: the folder {} does not exist",
            out.display(),
            parent.display()
        )));
    }
    Ok(())
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
        sizes: layers.to_vec(),
        train: config.clone(),
        seed,
        ..Settings::default()
    };
    train_with_settings(&settings, train_set, validation, test, observer)
}

/// Builds the network `settings` describe (activations, cost, initialisation) from its
/// seed and trains it with its [`TrainConfig`]; [`train_network`] for the write-up's
/// sigmoid, quadratic cost and N(0, 1) weights.
pub fn train_with_settings(
    settings: &Settings,
    train_set: &Samples<f32>,
    validation: Option<&Samples<f32>>,
    test: Option<&Samples<f32>>,
    observer: &mut dyn Observer,
) -> Result<(Network<f32>, Vec<EpochReport>)> {
    let mut rng = Rng::new(settings.seed);
    let mut net = settings.network(&mut rng);
    let config = &settings.train;
    let reports = train::train(
        &mut net, train_set, validation, test, config, &mut rng, observer,
    )?;
    Ok((net, reports))
}

/// `best validation 97.72% at epoch 11 (test 97.55% then); 30 epochs in 1.6 minutes`.
/// With early stopping the saved model is that best epoch's; otherwise the last epoch's.
pub fn summary_line(reports: &[EpochReport], elapsed: Duration) -> String {
    let minutes = elapsed.as_secs_f64() / 60.0;
    let n = reports.len();
    let epochs = format!(
        "{n} epoch{} in {minutes:.1} minutes",
        if n == 1 { "" } else { "s" }
    );
    let Some(best) = train::best_epoch(reports) else {
        return epochs;
    };
    let r = &reports[best - 1];
    let percent = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{:.2}%", 100.0 * x));
    format!(
        "best validation {} at epoch {best} (test {} then); {epochs}",
        percent(r.validation_accuracy),
        percent(r.test_accuracy),
    )
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

/// `epoch  3/30  cost 0.01234  validation 93.12%  test 92.88%  4.2 s`.
pub fn epoch_line(r: &EpochReport, epochs: usize) -> String {
    let percent = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{:.2}%", 100.0 * x));
    let width = epochs.to_string().len();
    format!(
        "epoch {:>width$}/{epochs}  cost {:.5}  validation {}  test {}  {:.1} s",
        r.epoch,
        r.train_cost,
        percent(r.validation_accuracy),
        percent(r.test_accuracy),
        r.seconds
    )
}

/// One `--log` row (see [`CSV_HEADER`]); accuracies as fractions, empty when absent.
pub fn csv_line(r: &EpochReport) -> String {
    let fraction = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
    format!(
        "{},{},{},{},{:.3}",
        r.epoch,
        r.train_cost,
        fraction(r.validation_accuracy),
        fraction(r.test_accuracy),
        r.seconds
    )
}

/// The `--log` file, written row by row so a long run can be watched.
struct CsvLog {
    path: PathBuf,
    file: BufWriter<File>,
    error: Option<std::io::Error>,
}

impl CsvLog {
    fn create(path: &Path) -> Result<CsvLog> {
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let mut log = CsvLog {
            path: path.to_path_buf(),
            file: BufWriter::new(file),
            error: None,
        };
        log.write(CSV_HEADER);
        Ok(log)
    }

    /// Writes a row; the first error is kept for [`CsvLog::finish`] rather than stopping
    /// training halfway.
    fn write(&mut self, line: &str) {
        if self.error.is_none() {
            let result = writeln!(self.file, "{line}").and_then(|_| self.file.flush());
            self.error = result.err();
        }
    }

    fn finish(mut self) -> Result<()> {
        let flushed = self.file.flush();
        match self.error.take().map_or(flushed, Err) {
            Ok(()) => Ok(()),
            Err(e) => Err(Error::io(&self.path, e)),
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
        };
        let minute = Duration::from_secs(60);
        assert_eq!(
            summary_line(&[report(1, 0.5)], minute),
            "best validation 50.00% at epoch 1 (test 90.00% then); 1 epoch in 1.0 minutes"
        );
        let two = [report(1, 0.5), report(2, 0.25)];
        assert!(summary_line(&two, minute)
            .ends_with("at epoch 1 (test 90.00% then); 2 epochs in 1.0 minutes"));
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
        assert_eq!(a.settings.sizes, vec![784, 20, 10, 10]);
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
        assert_eq!(a.settings.sizes, vec![784, 30, 10]);
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
    fn presets_and_their_overrides() {
        let a = parse_strs(&["--eta=0.1", "--preset", "nielsen-ch3", "--augment"])
            .unwrap()
            .unwrap();
        assert_eq!(a.settings.sizes, vec![784, 100, 10]);
        assert_eq!((a.settings.train.eta, a.settings.train.lambda), (0.1, 5.0));
        assert!(a.settings.train.augment);
        let message = usage_message(&["--output", "softmax"]);
        assert!(message.contains("log-likelihood"), "{message}");
        assert!(usage_message(&["--preset", "huge"]).contains("nielsen-ch3"));
    }

    #[test]
    fn help_is_not_an_error() {
        assert_eq!(parse_strs(&["--epochs", "3", "-h"]).unwrap(), None);
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        let cases: [(&[&str], &str); 10] = [
            (&["--layers", "784"], "at least two"),
            (&["--layers", "100,10"], "must start with 784"),
            (&["--layers", "784,20,9"], "must end with 10"),
            (&["--layers", "784,0,10"], "at least one neuron"),
            (&["--epochs", "0"], "--epochs must be at least 1"),
            (&["--batch", "0"], "--batch must be at least 1"),
            (&["--eta", "-1"], "--eta must be a positive"),
            (&["--eta", "NaN"], "--eta must be a positive"),
            (&["--epochs", "many"], "invalid value 'many' for --epochs"),
            (&["--fast"], "unknown option '--fast'"),
        ];
        for (args, expected) in cases {
            let message = usage_message(args);
            assert!(message.contains(expected), "{args:?}: {message}");
        }
        assert_eq!(usage_message(&["--seed"]), "--seed needs a value");
    }

    #[test]
    fn lines_and_csv_rows() {
        let r = EpochReport {
            epoch: 3,
            train_cost: 0.125,
            validation_accuracy: Some(0.9312),
            test_accuracy: None,
            seconds: 4.21,
        };
        assert_eq!(
            epoch_line(&r, 30),
            "epoch  3/30  cost 0.12500  validation 93.12%  test -  4.2 s"
        );
        assert_eq!(csv_line(&r), "3,0.125,0.9312,,4.210");
        assert_eq!(
            CSV_HEADER.split(',').count(),
            csv_line(&r).split(',').count()
        );
    }
}
