//! `scratchnet predict MODEL IMAGE [--show]`: which digit a saved model sees in a picture.
//!
//! Book chapters: "The forward pass" and "Looking inside". The picture is a PNG or PGM of any
//! size (see [`crate::formats::image::read_image`]); it is prepared the way MNIST's digits were
//! ([`crate::app::preprocess::prepare`]: polarity, 20×20 box, centre of mass) unless it is
//! already in MNIST's form, then fed to the network. The outputs are printed as a bar chart,
//! one line per class (the digits, or the names in `classes.txt` in the data folder); `--show`
//! also prints the 28×28 image the network was actually given. Left out: several digits per
//! picture, and pictures of another size than 28 × 28 for the network.

use std::path::PathBuf;

use super::eval::load_picture_model;
use super::{is_help, unknown_argument, Args};
use crate::app::preprocess::{ascii, prepare};
use crate::data::classes::Classes;
use crate::formats::image::{read_image, GreyImage};
use crate::{Error, Result};

/// One line for the top-level help.
pub const SUMMARY: &str = "Classify a picture of a digit (PNG or PGM, any size) with a saved model";

/// The `--help` text.
pub const USAGE: &str = "\
Classify a picture of a digit (PNG or PGM, any size) with a saved model

Usage: scratchnet predict MODEL IMAGE [--show] [--data DIR]

Prints the network's outputs as a bar chart and the class it predicts. IMAGE is
a PNG (8-bit grey, RGB or RGBA; 16-bit and palette too) or a PGM (P2/P5) of any
size. It is prepared as MNIST was: dark ink on light paper is inverted, the ink
is scaled to fit a 20×20 box keeping its shape, and centred by its centre of
mass in 28×28. A picture already in that form (28×28, black border, ink within
20×20, centre of mass within a pixel of the centre) is used as it is. When the
data folder holds a classes.txt (one name per line), the outputs are named by
it instead of digits.

Arguments:
  MODEL                 A model file saved by `scratchnet train`
  IMAGE                 A picture of one digit

Options:
      --show            Also print the 28×28 image the network was given
      --data DIR        Data folder, for its classes.txt [default: $MNIST_DIR,
                        else data/mnist]
  -h, --help            Print this help
";

/// What `scratchnet predict` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PredictArgs {
    /// The model file.
    pub model: PathBuf,
    /// The picture.
    pub image: PathBuf,
    /// `--show`: print the prepared 28×28 image.
    pub show: bool,
    /// `--data`: the data folder whose `classes.txt` names the outputs, if given.
    pub data: Option<PathBuf>,
}

/// Parses `scratchnet predict`'s arguments; `Ok(None)` means `--help` was asked for.
pub fn parse(args: Vec<String>) -> Result<Option<PredictArgs>> {
    let mut paths = Vec::new();
    let (mut show, mut data) = (false, None);
    let mut args = Args::new(args);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--show" => {
                args.no_value(&arg)?;
                show = true;
            }
            "--data" => data = Some(args.value(&arg)?.into()),
            a if is_help(a) => return Ok(None),
            a if a.starts_with('-') || paths.len() == 2 => return Err(unknown_argument(a)),
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    let [model, image]: [PathBuf; 2] = paths
        .try_into()
        .map_err(|_| Error::Usage("predict needs a MODEL and an IMAGE".into()))?;
    Ok(Some(PredictArgs {
        model,
        image,
        show,
        data,
    }))
}

/// `scratchnet predict ARGS`.
pub fn main(args: Vec<String>) -> Result<()> {
    super::run_parsed(parse(args)?, USAGE, run)
}

/// Reads the model and the picture, prepares it, and prints the outputs and the prediction.
pub fn run(a: &PredictArgs) -> Result<()> {
    let (net, classes) = load_picture_model(&a.model, a.data.as_deref())?;
    let image = read_image(&a.image)?;
    let prepared = prepare(&image.pixels, image.width, image.height)
        .map_err(|e| Error::Invalid(format!("{}: {e}", a.image.display())))?;
    if prepared.already_prepared {
        println!(
            "note: {} is already in MNIST's form (28×28, centred), so it was used as it is",
            a.image.display()
        );
    }
    if prepared.inverted {
        println!(
            "note: {} is dark ink on a light background, so it was inverted to MNIST's light \
             ink on a dark background",
            a.image.display()
        );
    }
    if a.show {
        println!(
            "the 28×28 image the network was given:\n{}",
            ascii(&prepared.pixels)
        );
    }
    let a_out = net.feedforward(prepared.input().as_slice());
    print!("{}", bar_chart(&a_out, &classes));
    let best = crate::linalg::argmax(&a_out);
    match classes.are_digits() {
        true => println!("prediction: {best}"),
        false => println!("prediction: {best} ({})", classes.name(best)),
    }
    Ok(())
}

/// One line per output: the class (digit, or number and name), value, and a bar of up to
/// 40 `#` (the largest marked `<`).
pub fn bar_chart(outputs: &[f32], classes: &Classes) -> String {
    let best = (0..outputs.len()).fold(0, |b, k| if outputs[k] > outputs[b] { k } else { b });
    let label = |k: usize| match classes.are_digits() {
        true => k.to_string(),
        false => format!("{k} {}", classes.name(k)),
    };
    let width = (0..outputs.len()).map(|k| label(k).chars().count()).max();
    let width = width.unwrap_or(1);
    let mut text = String::new();
    for (k, &value) in outputs.iter().enumerate() {
        let bar = "#".repeat((value.clamp(0.0, 1.0) * 40.0).round() as usize);
        let mark = if k == best { " <" } else { "" };
        text += &format!("{:<width$}  {value:.4}  {bar:<40}{mark}\n", label(k));
    }
    text
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
        assert_eq!(
            (a.model, a.image, a.show, a.data),
            ("m".into(), "i.pgm".into(), false, None)
        );
        let a = parse(vec!["m".into(), "--show".into(), "i.png".into()])
            .unwrap()
            .unwrap();
        assert!(a.show);
        let err = parse(vec!["m".into(), "i".into(), "--show=yes".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--show yes: expected no value (it is a switch)"
        );
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
    fn bar_chart_scales_to_40_and_marks_the_largest() {
        let text = bar_chart(&[0.5, 1.0, 0.0], &Classes::digits());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("0  0.5000  "), "{}", lines[0]);
        assert_eq!(lines[0].matches('#').count(), 20);
        assert_eq!(lines[1].matches('#').count(), 40);
        assert!(lines[1].ends_with(" <") && !lines[0].ends_with('<'));
        let named = Classes::parse(b"cat\ndog\nbird", "c").unwrap();
        let text = bar_chart(&[0.5, 1.0, 0.0], &named);
        assert!(text.starts_with("0 cat   0.5000  "), "{text}");
        assert!(text.contains("\n2 bird  0.0000  "), "{text}");
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
