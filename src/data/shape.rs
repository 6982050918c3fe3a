//! Does a network fit a data set? One input per pixel, one output per class.
//!
//! Book chapter: "Reading MNIST". A network reads an image as one column of rows × cols
//! values (784 for MNIST's 28 × 28) and answers with one output per class (10 for the
//! digits), so a model trained on one data set cannot read another of a different shape:
//! [`Shape::check_network`] says so in words before anything runs, where the maths would
//! otherwise stop on a shape mismatch. Left out: resizing images to fit a network.

use crate::data::classes::Classes;
use crate::data::mnist::{Images, Mnist};
use crate::network::check_sizes;
use crate::{Error, Result};

/// Which end of a network does not fit a data set ([`Shape::misfit`]), with its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misfit {
    /// The input layer's size, which is not the images' pixel count.
    Inputs(usize),
    /// The output layer's size, which is not the number of classes.
    Outputs(usize),
}

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

    /// The shape of a whole data set, as training needs it: the training and test images
    /// must be of one size, and every label of both sets must name one of `classes`.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the two sets' images differ in size; what
    /// [`Classes::check_labels`] refuses.
    pub fn of_data(data: &Mnist, classes: &Classes) -> Result<Shape> {
        let (train, test) = (&data.train.images, &data.test.images);
        if (train.rows, train.cols) != (test.rows, test.cols) {
            return Err(Error::Invalid(format!(
                "the training images are {} × {} but the test images {} × {}: a network \
                 reads images of one size",
                train.rows, train.cols, test.rows, test.cols
            )));
        }
        classes.check_labels(&data.train.labels, "the training labels")?;
        classes.check_labels(&data.test.labels, "the test labels")?;
        Ok(Shape::of(train, classes))
    }

    /// Pixels per image, rows × cols: the input layer's size.
    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// Which end of a network with layer `sizes` (input first, at least two) does not fit
    /// this data, if one does not: the input layer must have one neuron per pixel, the
    /// output layer one per class.
    pub fn misfit(&self, sizes: &[usize]) -> Option<Misfit> {
        let (inputs, outputs) = (sizes[0], sizes[sizes.len() - 1]);
        if inputs != self.pixels() {
            Some(Misfit::Inputs(inputs))
        } else if outputs != self.classes {
            Some(Misfit::Outputs(outputs))
        } else {
            None
        }
    }

    /// Checks layer sizes (input first) against the crate's limits
    /// ([`crate::network::check_sizes`]), then that they fit the data ([`Shape::misfit`]).
    /// `what` names the network in the message ("the model m.bin").
    ///
    /// # Errors
    /// What [`check_sizes`] refuses, and [`Error::Invalid`] saying which end does not fit.
    pub fn check_network(&self, sizes: &[usize], what: &str) -> Result<()> {
        check_sizes(sizes)?;
        let (rows, cols, pixels) = (self.rows, self.cols, self.pixels());
        let message = match self.misfit(sizes) {
            None => return Ok(()),
            Some(Misfit::Inputs(inputs)) => format!(
                "{what} takes {inputs} inputs, but the images are {rows} × {cols} = {pixels} \
                 pixels: a network has one input per pixel, so it reads only images of the \
                 size it was trained on"
            ),
            Some(Misfit::Outputs(outputs)) => format!(
                "{what} has {outputs} outputs, but the data has {} classes: a network has one \
                 output per class",
                self.classes
            ),
        };
        Err(Error::Invalid(message))
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

    #[test]
    fn training_and_test_images_must_be_of_one_size() {
        let images = |rows, cols| Images {
            count: 1,
            rows,
            cols,
            pixels: vec![0; rows * cols],
        };
        let set = |rows, cols, label| {
            crate::data::mnist::DataSet::new(images(rows, cols), vec![label]).unwrap()
        };
        let digits = Classes::digits();
        let same = Mnist {
            train: set(2, 3, 7),
            test: set(2, 3, 1),
        };
        assert_eq!(Shape::of_data(&same, &digits).unwrap().pixels(), 6);
        let differ = Mnist {
            train: set(2, 3, 7),
            test: set(3, 2, 1),
        };
        let err = Shape::of_data(&differ, &digits).unwrap_err();
        assert!(
            err.to_string().contains("2 × 3 but the test images 3 × 2"),
            "{err}"
        );
        let two = Classes::parse(b"a\nb", "c").unwrap();
        assert!(
            Shape::of_data(&same, &two).is_err(),
            "label 7 names no class of two"
        );
    }
}
