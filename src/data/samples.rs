//! Training samples: labelled images, stored one per row, and the gathering of mini-batches
//! from them (with their one-hot targets).
//!
//! Book chapters: "The image as a vector" (pixels scaled into input values) and "Gradient
//! descent and training" (gathering a batch); "Making it fast" explains the storage (bytes,
//! one image per row) and the prefetching of the batch after next. Training
//! ([`crate::train`]) and evaluation read every image through here. Left out: reading the
//! files ([`crate::data::mnist`]) and changing images ([`crate::data::augment`]).

use crate::data::mnist::DataSet;
use crate::linalg::{map_into, prefetch, Matrix, Scalar, Vector};

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
        // Large pages for the copy, as for images read from a file (`formats::inflate`):
        // training reads them in shuffled order.
        let mut copy = Vec::with_capacity(pixels.len());
        crate::linalg::advise_large_pages(copy.spare_capacity_mut());
        copy.extend_from_slice(pixels);
        Self::from_bytes(copy, pixels_per_image, labels)
    }

    /// The samples of a data set read from IDX files ([`DataSet`]): its images, stored as
    /// bytes, and its labels. One call from MNIST's files to what [`crate::train::train`] reads.
    /// The set's pixels are moved, not copied: MNIST's 55 MB of images are held once.
    ///
    /// Book: "Gradient descent and training".
    ///
    /// # Panics
    /// If the set's pixels are not one image of its size per label.
    #[track_caller]
    pub fn from_dataset(set: DataSet) -> Self {
        let per_image = set.images.pixels_per_image();
        Self::from_bytes(set.images.pixels, per_image, set.labels)
    }

    /// [`Samples::from_pixels`], the pixels already owned.
    #[track_caller]
    fn from_bytes(pixels: Vec<u8>, per_image: usize, labels: Vec<u8>) -> Self {
        assert_eq!(
            pixels.len(),
            labels.len() * per_image,
            "Samples: {} bytes for {} images of {per_image} pixels",
            pixels.len(),
            labels.len(),
        );
        Samples {
            images: Images::Bytes { pixels, per_image },
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
            Images::Bytes { pixels, per_image } => map_into(
                &pixels[k * per_image..(k + 1) * per_image],
                out,
                pixel_value,
            ),
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
    /// [`Workspace::input_rows`]: crate::backprop::Workspace::input_rows
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
    /// waits: see the book's "Making it fast".) Prefetching changes no value.
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
    /// Mini-batch `i` of an epoch's `batches`, gathered as [`Samples::gather_rows`] does, while
    /// asking the CPU for the images of batch i + 2: they arrive while batch i computes. (The
    /// batch after next: far enough ahead to arrive in time, near enough to be still in cache.)
    ///
    /// Book: "Making it fast" (Training an epoch).
    ///
    /// # Panics
    /// As [`Samples::gather`], and if `i` is not below `batches.len()`.
    #[track_caller]
    pub fn gather_batch(
        &self,
        batches: &[&[usize]],
        i: usize,
        classes: usize,
        xt: &mut Matrix<T>,
        y: &mut Matrix<T>,
    ) {
        let ahead = batches.get(i + 2).copied().unwrap_or_default();
        self.gather_rows_prefetching(batches[i], ahead, classes, xt, y)
    }

    /// Asks the CPU to start fetching the images `indices` into its caches, and returns at
    /// once: a hint, with no effect on any result.
    ///
    /// Training calls it for the mini-batch after next, one image at a time while gathering
    /// the current one ([`Samples::gather_rows_prefetching`]). A shuffled batch reads its
    /// images from anywhere in the training set (39 MB of MNIST's bytes), so without the hint
    /// every image is a cache miss that [`Samples::gather_rows`] waits for; with it the images
    /// arrive while the arithmetic runs (measured in the book's "Making it fast"). They are
    /// asked into L2 (1 MiB on the machine the book measures), where two batches' images wait
    /// without pushing the weights and inputs the batch in between uses out of L1 (32 KiB).
    ///
    /// Book: "Making it fast" (Training an epoch).
    ///
    /// # Panics
    /// If an index is out of range.
    #[track_caller]
    pub fn prefetch(&self, indices: &[usize]) {
        for &k in indices {
            match &self.images {
                Images::Values(m) => prefetch(m.row(k)),
                Images::Bytes { pixels, per_image } => {
                    prefetch(&pixels[k * per_image..(k + 1) * per_image])
                }
            }
        }
    }
    // ANCHOR_END: prefetch
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
        // And as training gathers, batch by batch, with or without a batch after next.
        let batches = [&order[..], &[1], &[0, 2]];
        for i in [0, 2] {
            bytes.gather_batch(&batches, i, 3, &mut x2, &mut y2);
            bytes.gather_rows(batches[i], 3, &mut x1, &mut y1);
            assert_eq!((&x2, &y2), (&x1, &y1));
        }
    }

    /// Every byte, gathered through the loop compiled for this CPU, is its `pixel_value`.
    #[test]
    fn the_fast_loop_gives_each_byte_its_value() {
        let bytes: Vec<u8> = (0..=255).chain((0..=255).rev()).collect();
        let f32s = Samples::<f32>::from_pixels(&bytes, 256, vec![0, 1]);
        let f64s = Samples::<f64>::from_pixels(&bytes, 256, vec![0, 1]);
        for (k, image) in bytes.chunks(256).enumerate() {
            let (a, b) = (f32s.image(k), f64s.image(k));
            for (i, &p) in image.iter().enumerate() {
                assert_eq!(a[i].to_bits(), pixel_value::<f32>(p).to_bits(), "byte {p}");
                assert_eq!(b[i].to_bits(), pixel_value::<f64>(p).to_bits(), "byte {p}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "bytes for 2 images of 4 pixels")]
    fn from_pixels_checks_the_byte_count() {
        Samples::<f32>::from_pixels(&[0; 7], 4, vec![0, 1]);
    }
}
