//! `scratchnet predict MODEL IMAGE`: which digit a saved model sees in a picture.
//!
//! Book chapter: "The forward pass". The picture must be a 28×28 PGM (see
//! [`crate::image`]). MNIST digits are light ink (255) on a dark background (0), while a
//! drawn or scanned digit is usually dark ink on white: when the picture's mean brightness
//! is above half, it is inverted first, and the output says so. Left out: PNG, resizing and
//! centring the digit (a later file adds them).

use std::path::PathBuf;

use super::eval::load_mnist_model;
use super::{is_help, unknown_argument, Args};
use crate::image::{read_pgm, GreyImage};
use crate::linalg::Vector;
use crate::{Error, Result};

/// One line for the top-level help.
pub const SUMMARY: &str = "Classify a 28×28 PGM picture with a saved model";

/// The `--help` text.
pub const USAGE: &str = "\
Classify a 28×28 PGM picture with a saved model

Usage: scratchnet predict MODEL IMAGE

Prints the network's ten outputs and the digit it predicts. IMAGE is a 28×28
greyscale PGM (P2 or P5). MNIST digits are light on dark; a picture whose mean
brightness is above half (dark ink on white) is inverted first, and the output
says so.

Arguments:
  MODEL                 A model file saved by `scratchnet train`
  IMAGE                 A 28×28 PGM picture of one digit

Options:
  -h, --help            Print this help
";

/// What `scratchnet predict` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PredictArgs {
    /// The model file.
    pub model: PathBuf,
    /// The picture.
    pub image: PathBuf,
}

/// Parses `scratchnet predict`'s arguments; `Ok(None)` means `--help` was asked for.
pub fn parse(args: Vec<String>) -> Result<Option<PredictArgs>> {
    let mut paths = Vec::new();
    let mut args = Args::new(args);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            a if is_help(a) => return Ok(None),
            a if a.starts_with('-') || paths.len() == 2 => return Err(unknown_argument(a)),
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    let [model, image]: [PathBuf; 2] = paths
        .try_into()
        .map_err(|_| Error::Usage("predict needs a MODEL and an IMAGE".into()))?;
    Ok(Some(PredictArgs { model, image }))
}

/// `scratchnet predict ARGS`.
pub fn main(args: Vec<String>) -> Result<()> {
    match parse(args)? {
        Some(a) => run(&a),
        None => {
            print!("{USAGE}");
            Ok(())
        }
    }
}

/// Reads the model and the picture, and prints the outputs and the prediction.
pub fn run(a: &PredictArgs) -> Result<()> {
    let net = load_mnist_model(&a.model)?;
    let bytes = std::fs::read(&a.image).map_err(|e| Error::io(&a.image, e))?;
    let mut image = read_pgm(&bytes).map_err(|e| match e {
        Error::Corrupt { reason, .. } => Error::corrupt(a.image.display().to_string(), reason),
        other => other,
    })?;
    if (image.width, image.height) != (28, 28) {
        return Err(Error::Invalid(format!(
            "{} is {}×{} pixels; predict needs a 28×28 image like MNIST's (resize it first)",
            a.image.display(),
            image.width,
            image.height
        )));
    }
    if to_mnist_polarity(&mut image) {
        println!(
            "note: {} is mostly bright (dark ink on a light background), so it was inverted \
             to MNIST's light ink on a dark background",
            a.image.display()
        );
    }
    let x = Vector::from_fn(image.pixels.len(), |i| image.pixels[i] as f32 / 255.0);
    let a_out = net.feedforward(&x);
    for (digit, &value) in a_out.as_slice().iter().enumerate() {
        let bar = "#".repeat((value.clamp(0.0, 1.0) * 40.0).round() as usize);
        println!("{digit}  {value:.4}  {bar}");
    }
    println!("prediction: {}", a_out.argmax());
    Ok(())
}

/// Inverts `image` if its mean brightness is above half; returns whether it did.
pub fn to_mnist_polarity(image: &mut GreyImage) -> bool {
    let bright = image.mean() > 127.5;
    if bright {
        image.invert();
    }
    bright
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_exactly_two_paths() {
        let a = parse(vec!["m".into(), "i.pgm".into()]).unwrap().unwrap();
        assert_eq!((a.model, a.image), ("m".into(), "i.pgm".into()));
        for bad in [
            vec![],
            vec!["m".to_string()],
            vec!["m".into(), "i".into(), "x".into()],
        ] {
            assert!(matches!(parse(bad), Err(Error::Usage(_))));
        }
        assert!(matches!(parse(vec!["--x".into()]), Err(Error::Usage(_))));
    }

    #[test]
    fn bright_pictures_are_inverted_dark_ones_kept() {
        let mut white = GreyImage {
            width: 2,
            height: 1,
            pixels: vec![250, 20],
        };
        assert!(to_mnist_polarity(&mut white));
        assert_eq!(white.pixels, vec![5, 235]);
        let mut dark = GreyImage {
            width: 2,
            height: 1,
            pixels: vec![0, 200],
        };
        assert!(!to_mnist_polarity(&mut dark));
        assert_eq!(dark.pixels, vec![0, 200]);
    }
}
