//! `scratchnet visualize MODEL [--log FILE.csv] [--out DIR]`: pictures of what a saved model
//! learned (see [`crate::app::visualize`]).
//!
//! Book chapters: "Looking inside", and for convolutional models "Convolutional networks".
//! Left out: choosing which pictures to draw (it draws all), and which test image's feature
//! maps (the first).

use std::path::PathBuf;

use super::eval::{check_fits, load_model, test_data};
use super::{is_help, unknown_argument, Args};
use crate::app::visualize::{chunks_drawn, write_all, MAX_CHUNKS};
use crate::data::shape::Shape;
use crate::formats::read::read_limited;
use crate::formats::saved::Model;
use crate::{Error, Result};

/// The longest training log read: 16 MiB (a log line per epoch is about 60 bytes).
pub const MAX_LOG_BYTES: u64 = 16 << 20;

/// One line for the top-level help.
pub const SUMMARY: &str =
    "Draw what a saved model learned: weights, feature maps, curves, mistakes";

/// The `--help` text.
pub const USAGE: &str = "\
Draw what a saved model learned: weights, feature maps, curves, mistakes

Usage: scratchnet visualize MODEL [--log FILE.csv] [--out DIR] [--data DIR]

Writes into DIR (default: pictures/):
  chunks.png          each first-hidden-layer neuron's 784 weights as a 28×28 heat map
                      (red pushes the neuron on, blue off, white is zero); the first
                      400 neurons of a wider layer
  templates.png       each output's input-space template, the product of the weight
                      matrices (two or more weight layers only)
For a convolutional model (784,conv5x5x20,pool2,100,10), instead of those two:
  kernels.png         the first convolutional layer's k×k kernels, one heat map each
                      (red: ink there turns the map on, blue: off)
  feature-maps.png    the first test image, then every conv and pool layer's maps of it
                      (white: the layer's smallest value, black: its largest)
For every model:
  learning-curve.svg  cost and accuracy per epoch, from the --log of `scratchnet train`
  confusion.svg       true class × predicted class on the test images (the digits
                      for MNIST, else named by classes.txt in the data folder)
  mistakes.png        the first 60 test images it gets wrong: true>predicted confidence%

Arguments:
  MODEL                 A model file saved by `scratchnet train`

Options:
      --log FILE.csv    The training log written by `scratchnet train --log`
      --out DIR         Where to write the pictures [default: pictures]
      --data DIR        MNIST folder [default: $MNIST_DIR, else data/mnist]
  -h, --help            Print this help
";

/// What `scratchnet visualize` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisualizeArgs {
    /// The model file.
    pub model: PathBuf,
    /// `--log`.
    pub log: Option<PathBuf>,
    /// `--out`.
    pub out: PathBuf,
    /// `--data`.
    pub data: Option<PathBuf>,
}

/// Parses `scratchnet visualize`'s arguments; `Ok(None)` means `--help` was asked for.
pub fn parse(args: Vec<String>) -> Result<Option<VisualizeArgs>> {
    let (mut model, mut log, mut out, mut data) = (None, None, PathBuf::from("pictures"), None);
    let mut args = Args::new(args);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--log" => log = Some(args.value(&arg)?.into()),
            "--out" => out = args.value(&arg)?.into(),
            "--data" => data = Some(args.value(&arg)?.into()),
            a if is_help(a) => return Ok(None),
            a if a.starts_with('-') => return Err(unknown_argument(a)),
            _ if model.is_none() => model = Some(PathBuf::from(arg)),
            other => return Err(unknown_argument(other)),
        }
    }
    let model = model.ok_or_else(|| Error::Usage("visualize needs a MODEL file".into()))?;
    Ok(Some(VisualizeArgs {
        model,
        log,
        out,
        data,
    }))
}

/// `scratchnet visualize ARGS`.
pub fn main(args: Vec<String>) -> Result<()> {
    super::run_parsed(parse(args)?, USAGE, run)
}

/// Loads the model, the test set and the log, and writes the pictures.
pub fn run(a: &VisualizeArgs) -> Result<()> {
    let model = load_model(&a.model)?;
    let log = match &a.log {
        Some(path) => {
            let bytes = read_limited(path, MAX_LOG_BYTES, "bytes in a training log")?;
            let text = String::from_utf8(bytes)
                .map_err(|_| Error::corrupt(path.display().to_string(), "it is not UTF-8 text"))?;
            Some(text)
        }
        None => None,
    };
    let (test, classes) = test_data(a.data.as_deref())?;
    check_fits(&model, &Shape::of(&test.images, &classes), &a.model)?;
    if let Model::Dense(net) = &model {
        if chunks_drawn(net) < net.sizes()[1] {
            println!(
                "note: the first hidden layer has {} neurons; chunks.png shows the first \
                 {MAX_CHUNKS}",
                net.sizes()[1]
            );
        }
    }
    for path in write_all(&model, &test, &classes, log.as_deref(), &a.out)? {
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        println!("wrote {} ({:.1} KB)", path.display(), size as f64 / 1000.0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags_and_needs_a_model() {
        let a = parse(vec![
            "m.bin".into(),
            "--log=l.csv".into(),
            "--out".into(),
            "d".into(),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(a.model, PathBuf::from("m.bin"));
        assert_eq!(a.log, Some(PathBuf::from("l.csv")));
        assert_eq!(a.out, PathBuf::from("d"));
        assert!(matches!(parse(vec![]), Err(Error::Usage(_))));
        assert!(matches!(
            parse(vec!["m".into(), "--bogus".into()]),
            Err(Error::Usage(_))
        ));
    }
}
