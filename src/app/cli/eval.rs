//! `scratchnet eval MODEL`: a saved model's test accuracy and confusion matrix.
//!
//! Book chapter: "Gradient descent and training". The confusion matrix counts, for every
//! true class (row), how often each class was predicted (column): the diagonal is what the
//! network gets right, and the largest number off it is its favourite mistake. The test set
//! is MNIST's, or another data set's in the same form in the data folder, its classes named
//! by a `classes.txt` there ([`Classes`]). Also home to what `predict`, `visualize` and
//! `serve` share: loading a model that fits the data ([`load_model`]) and reading the test
//! set alone ([`test_data`]). Left out: evaluating on the training or validation images.

use std::path::{Path, PathBuf};

use super::{is_help, unknown_argument, Args};
use crate::app::preprocess::SIDE;
use crate::data::classes::Classes;
use crate::data::download::ensure;
use crate::data::mnist::{data_dir, load_split, DataSet, Split};
use crate::data::samples::Samples;
use crate::data::shape::Shape;
use crate::formats::saved::{self, Model};
use crate::linalg::MapShape;
use crate::train::Evaluation;
use crate::{Error, Result};

/// One line for the top-level help.
pub const SUMMARY: &str = "Test a saved model on the test images (MNIST's 10,000)";

/// The `--help` text.
pub const USAGE: &str = "\
Test a saved model on the test images (MNIST's 10,000)

Usage: scratchnet eval MODEL [OPTIONS]

Prints the test accuracy and the confusion matrix (rows: true class, columns:
predicted class; for MNIST the classes are the digits). Downloads MNIST's two
test files first if the data folder lacks them; a folder holding another data
set in MNIST's form (t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte) is used as
it is, its classes named by a classes.txt beside them (one name per line).

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
    let net = load_model(&a.model)?;
    let (test, classes) = test_data(a.data.as_deref())?;
    check_fits(&net, &Shape::of(&test.images, &classes), &a.model)?;
    let test = Samples::from_dataset(test);
    let result = evaluate(&net, &test);
    let correct = (result.accuracy * test.len() as f64).round() as usize;
    println!(
        "test accuracy: {:.2}% ({correct} of {} images)\n",
        100.0 * result.accuracy,
        test.len()
    );
    let confusion = result.confusion(&test.labels, classes.len());
    print!("{}", confusion_table(&confusion, &classes));
    Ok(())
}

/// The test set in the data folder (`--data`, else `MNIST_DIR`, else `data/mnist`) and the
/// names of its classes: MNIST's two test files are downloaded first when either is missing
/// (never the training files, and never over a file already there).
pub fn test_data(flag: Option<&Path>) -> Result<(DataSet, Classes)> {
    let dir = data_dir(flag);
    ensure(&dir, &[Split::Test], &mut |line| eprintln!("{line}"))?;
    let test = load_split(&dir, Split::Test)?;
    let classes = Classes::load(&dir)?;
    let what = format!("the test labels in {}", dir.display());
    classes.check_labels(&test.labels, &what)?;
    Ok((test, classes))
}

/// Every sample's output, scored: [`crate::train::evaluate`] or
/// [`crate::convtrain::evaluate`], as the model is.
pub fn evaluate(model: &Model, samples: &Samples<f32>) -> Evaluation {
    match model {
        Model::Dense(net) => crate::train::evaluate(net, samples),
        Model::Conv(net) => crate::convtrain::evaluate(net, samples),
    }
}

/// Loads a model of either kind (its layers within the crate's limits, see
/// [`saved::load_model`]); warns about non-finite parameters. Whether it fits the data is
/// [`check_fits`].
pub fn load_model(path: &Path) -> Result<Model> {
    let net = saved::load_model(path)?;
    let bad = saved::non_finite_parameters(&net);
    if bad > 0 {
        eprintln!(
            "warning: {} holds {bad} NaN or infinite parameters; its outputs may be meaningless",
            path.display()
        );
    }
    Ok(net)
}

/// Checks that the model loaded from `path` reads data of `shape`: one input per pixel, one
/// output per class ([`Shape::check_network`]), and for a convolutional model an input of
/// one map the images' rows × columns.
pub fn check_fits(net: &Model, shape: &Shape, path: &Path) -> Result<()> {
    let what = format!("the model {}", path.display());
    shape.check_network(&net.inputs_and_outputs(), &what)?;
    match net {
        // Its convolutions slide over one map of the images' rows and columns, not only over
        // as many values.
        Model::Conv(net) if net.input() != MapShape::new(1, shape.rows, shape.cols) => {
            let input = net.input();
            Err(Error::Invalid(format!(
                "{what} reads {} map(s) of {} × {} values, but the images are one map of \
                 {} × {} pixels",
                input.maps, input.rows, input.cols, shape.rows, shape.cols
            )))
        }
        _ => Ok(()),
    }
}

/// The model at `model` and the class names of the data folder `data` ([`data_dir`]'s
/// choice), checked to read pictures as `predict` and `serve` prepare them: 28 × 28, one
/// output per class.
///
/// # Errors
/// What [`Classes::load`], [`load_model`] and [`check_fits`] refuse.
pub fn load_picture_model(model: &Path, data: Option<&Path>) -> Result<(Model, Classes)> {
    let classes = Classes::load(&data_dir(data))?;
    let shape = Shape {
        rows: SIDE,
        cols: SIDE,
        classes: classes.len(),
    };
    let net = load_model(model)?;
    check_fits(&net, &shape, model)?;
    Ok((net, classes))
}

/// The confusion matrix `m[true][predicted]` as an aligned table with a header row, after a
/// line naming the classes when they are not digits.
pub fn confusion_table(m: &[Vec<usize>], classes: &Classes) -> String {
    let widest = m.iter().flatten().max().copied().unwrap_or(0);
    let width = widest.to_string().len().max(m.len().to_string().len()) + 1;
    let noun = classes.noun();
    let mut text = String::new();
    if !classes.are_digits() {
        let names: Vec<String> = (0..m.len())
            .map(|k| format!("{k} {}", classes.name(k)))
            .collect();
        text += &format!("classes: {}\n", names.join(", "));
    }
    text += &format!("rows: true {noun}, columns: predicted {noun}\n\n");
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
    fn a_convolutional_model_must_read_the_images_as_one_map_of_their_size() {
        use crate::activation::Activation;
        use crate::convnet::{ConvNet, ConvNetConfig, Layer};
        let model = |input| {
            let config = ConvNetConfig {
                input,
                layers: vec![
                    Layer::Conv {
                        k: 3,
                        maps: 2,
                        activation: Activation::Relu,
                    },
                    Layer::Dense {
                        neurons: 10,
                        activation: Activation::Softmax,
                    },
                ],
                cost: crate::cost::Cost::LogLikelihood,
                init: crate::init::Init::Scaled,
            };
            Model::Conv(ConvNet::build(&config, &mut crate::rng::Rng::new(1)).unwrap())
        };
        let shape = Shape {
            rows: 28,
            cols: 28,
            classes: 10,
        };
        let path = Path::new("m.bin");
        assert!(check_fits(&model(MapShape::new(1, 28, 28)), &shape, path).is_ok());
        // The same 784 values as four 14 × 14 maps.
        let err = check_fits(&model(MapShape::new(4, 14, 14)), &shape, path).unwrap_err();
        assert!(
            err.to_string().contains("reads 4 map(s) of 14 × 14"),
            "{err}"
        );
    }

    #[test]
    fn confusion_table_is_aligned() {
        let m = vec![vec![980, 0, 5], vec![1, 1130, 4], vec![12, 3, 1017]];
        let table = confusion_table(&m, &Classes::digits());
        assert!(table.starts_with("rows: true digit, columns: predicted digit\n"));
        let lines: Vec<&str> = table.lines().skip(2).collect();
        assert_eq!(lines[0], "         0    1    2");
        assert_eq!(lines[1], "    0  980    0    5");
        assert_eq!(lines[2], "    1    1 1130    4");
        assert!(lines.iter().all(|l| l.len() == lines[0].len()));
        let named = Classes::parse(b"cat\ndog\nbird", "c").unwrap();
        let table = confusion_table(&m, &named);
        assert!(table.starts_with("classes: 0 cat, 1 dog, 2 bird\nrows: true class,"));
        assert!(!table.contains("digit"), "{table}");
    }
}
