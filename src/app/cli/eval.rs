//! `scratchnet eval MODEL`: a saved model's test accuracy and confusion matrix.
//!
//! Book chapter: "Gradient descent and training". The confusion matrix counts, for every
//! true digit (row), how often each digit was predicted (column): the diagonal is what the
//! network gets right, and the largest number off it is its favourite mistake. Left out:
//! evaluating on the training or validation images.

use std::path::PathBuf;

use super::{ensure_data, is_help, unknown_argument, Args};
use crate::data::mnist::Mnist;
use crate::data::samples::Samples;
use crate::network::Network;
use crate::train::evaluate;
use crate::{formats::model, Error, Result};

/// One line for the top-level help.
pub const SUMMARY: &str = "Test a saved model on the 10,000 MNIST test images";

/// The `--help` text.
pub const USAGE: &str = "\
Test a saved model on the 10,000 MNIST test images

Usage: scratchnet eval MODEL [OPTIONS]

Prints the test accuracy and the 10×10 confusion matrix (rows: true digit,
columns: predicted digit). Downloads MNIST first if the data folder lacks it.

Arguments:
  MODEL                 A model file saved by `scratchnet train`

Options:
      --data DIR        MNIST folder [default: $MNIST_DIR, else data/mnist]
  -h, --help            Print this help
";

/// What `scratchnet eval` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalArgs {
    /// The model file.
    pub model: PathBuf,
    /// `--data`: the MNIST folder, if given.
    pub data: Option<PathBuf>,
}

/// Parses `scratchnet eval`'s arguments; `Ok(None)` means `--help` was asked for.
pub fn parse(args: Vec<String>) -> Result<Option<EvalArgs>> {
    let (mut model, mut data) = (None, None);
    let mut args = Args::new(args);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--data" => data = Some(args.value(&arg)?.into()),
            a if is_help(a) => return Ok(None),
            a if a.starts_with('-') => return Err(unknown_argument(a)),
            _ if model.is_none() => model = Some(PathBuf::from(arg)),
            other => return Err(unknown_argument(other)),
        }
    }
    let model = model.ok_or_else(|| Error::Usage("eval needs a MODEL file".into()))?;
    Ok(Some(EvalArgs { model, data }))
}

/// `scratchnet eval ARGS`.
pub fn main(args: Vec<String>) -> Result<()> {
    super::run_parsed(parse(args)?, USAGE, run)
}

/// Loads the model and the test images, and prints accuracy and confusion matrix.
pub fn run(a: &EvalArgs) -> Result<()> {
    let net = load_mnist_model(&a.model)?;
    let dir = ensure_data(a.data.as_deref())?;
    let test = Samples::from_dataset(&Mnist::load(&dir)?.test);
    let result = evaluate(&net, &test);
    let correct = (result.accuracy * test.len() as f64).round() as usize;
    println!(
        "test accuracy: {:.2}% ({correct} of {} images)\n",
        100.0 * result.accuracy,
        test.len()
    );
    let classes = *net.sizes().last().unwrap();
    print!(
        "{}",
        confusion_table(&result.confusion(&test.labels, classes))
    );
    Ok(())
}

/// Loads a model and checks it takes 28×28 images; warns about non-finite parameters.
pub fn load_mnist_model(path: &std::path::Path) -> Result<Network<f32>> {
    let net = model::load(path)?;
    let sizes = net.sizes();
    if sizes[0] != super::train::MNIST_PIXELS {
        return Err(Error::Invalid(format!(
            "{} takes {} inputs, but MNIST images have 28×28 = 784 pixels",
            path.display(),
            sizes[0]
        )));
    }
    let bad = model::non_finite_parameters(&net);
    if bad > 0 {
        eprintln!(
            "warning: {} holds {bad} NaN or infinite parameters; its outputs may be meaningless",
            path.display()
        );
    }
    Ok(net)
}

/// The confusion matrix `m[true][predicted]` as an aligned table with a header row.
pub fn confusion_table(m: &[Vec<usize>]) -> String {
    let widest = m.iter().flatten().max().copied().unwrap_or(0);
    let width = widest.to_string().len().max(m.len().to_string().len()) + 1;
    let mut text = String::from("rows: true digit, columns: predicted digit\n\n");
    text += &format!("{:>5}", "");
    for j in 0..m.len() {
        text += &format!("{j:>width$}");
    }
    text += "\n";
    for (i, row) in m.iter().enumerate() {
        text += &format!("{i:>5}");
        for count in row {
            text += &format!("{count:>width$}");
        }
        text += "\n";
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_is_required_and_data_optional() {
        let a = parse(vec!["m.bin".into(), "--data".into(), "d".into()])
            .unwrap()
            .unwrap();
        assert_eq!(a.model, PathBuf::from("m.bin"));
        assert_eq!(a.data, Some(PathBuf::from("d")));
        assert!(matches!(parse(vec![]), Err(Error::Usage(_))));
        assert!(matches!(
            parse(vec!["a".into(), "b".into()]),
            Err(Error::Usage(_))
        ));
        assert_eq!(parse(vec!["--help".into()]).unwrap(), None);
    }

    #[test]
    fn confusion_table_is_aligned() {
        let m = vec![vec![980, 0, 5], vec![1, 1130, 4], vec![12, 3, 1017]];
        let table = confusion_table(&m);
        let lines: Vec<&str> = table.lines().skip(2).collect();
        assert_eq!(lines[0], "         0    1    2");
        assert_eq!(lines[1], "    0  980    0    5");
        assert_eq!(lines[2], "    1    1 1130    4");
        assert!(lines.iter().all(|l| l.len() == lines[0].len()));
    }
}
