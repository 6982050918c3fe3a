//! Does a network fit a data set? One input per pixel, one output per class.
//!
//! Book chapter: "Reading MNIST". A network reads an image as one column of rows × cols
//! values (784 for MNIST's 28 × 28) and answers with one output per class (10 for the
//! digits), so a model trained on one data set cannot read another of a different shape:
//! [`Shape::check_network`] says so in words before anything runs, where the maths would
//! otherwise stop on a shape mismatch. Left out: resizing images to fit a network.

use crate::data::classes::Classes;
use crate::data::mnist::Images;
use crate::network::check_sizes;
use crate::{Error, Result};

/// What a network must match to read a data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Pixel rows per image (28 for MNIST).
    pub rows: usize,
    /// Pixel columns per image (28 for MNIST).
    pub cols: usize,
    /// Number of classes: the output layer's size (10 for MNIST).
    pub classes: usize,
}

impl Shape {
    /// MNIST's: 28 × 28 images of the ten digits.
    pub const MNIST: Shape = Shape {
        rows: 28,
        cols: 28,
        classes: 10,
    };

    /// The shape of `images` labelled with `classes`.
    pub fn of(images: &Images, classes: &Classes) -> Shape {
        Shape {
            rows: images.rows,
            cols: images.cols,
            classes: classes.len(),
        }
    }

    /// Pixels per image, rows × cols: the input layer's size.
    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// Checks layer sizes (input first) against the crate's limits
    /// ([`crate::network::check_sizes`]), then that the input layer has one neuron per pixel
    /// and the output layer one per class. `what` names the network in the message ("the
    /// model m.bin", "--layers").
    ///
    /// # Errors
    /// What [`check_sizes`] refuses, and [`Error::Invalid`] saying which end does not fit.
    pub fn check_network(&self, sizes: &[usize], what: &str) -> Result<()> {
        check_sizes(sizes)?;
        let (inputs, outputs) = (sizes[0], sizes[sizes.len() - 1]);
        if inputs != self.pixels() {
            return Err(Error::Invalid(format!(
                "{what} takes {inputs} inputs, but the images are {} × {} = {} pixels: a \
                 network has one input per pixel, so it reads only images of the size it \
                 was trained on",
                self.rows,
                self.cols,
                self.pixels()
            )));
        }
        if outputs != self.classes {
            return Err(Error::Invalid(format!(
                "{what} has {outputs} outputs, but the data has {} classes: a network has \
                 one output per class",
                self.classes
            )));
        }
        Ok(())
    }

    /// Checks that the images can be shifted by [`crate::data::augment`], which moves square
    /// images only.
    ///
    /// # Errors
    /// [`Error::Invalid`] for images that are not square.
    pub fn check_augment(&self) -> Result<()> {
        if self.rows != self.cols {
            return Err(Error::Invalid(format!(
                "augmenting shifts square images only, and these are {} × {}",
                self.rows, self.cols
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_fits_by_its_two_ends() {
        let shape = Shape::MNIST;
        assert!(shape.check_network(&[784, 20, 10, 10], "m").is_ok());
        let err = shape.check_network(&[1024, 20, 10], "m").unwrap_err();
        assert!(err.to_string().contains("28 × 28 = 784 pixels"), "{err}");
        let err = shape
            .check_network(&[784, 20, 12], "the model m.bin")
            .unwrap_err();
        assert!(err
            .to_string()
            .starts_with("the model m.bin has 12 outputs, but the data has 10 classes"));
        // A huge layer is refused by the limits, before anything else.
        assert!(matches!(
            shape.check_network(&[784, 1 << 30, 10], "m"),
            Err(Error::TooLarge { .. })
        ));
        let other = Shape {
            rows: 32,
            cols: 24,
            classes: 3,
        };
        assert!(other.check_network(&[768, 5, 3], "m").is_ok());
        assert!(other.check_augment().is_err() && shape.check_augment().is_ok());
    }
}
