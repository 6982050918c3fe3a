//! Convolution lowered to matrix multiply: [`im2col`] copies every k × k patch of a batch of
//! feature maps into one column of a matrix, so that a whole convolutional layer, for every
//! image of the batch at once, is one product with the kernel matrix; [`col2im`] sends a
//! matrix of the same shape back onto the maps it came from (its adjoint, for the backward
//! pass).
//!
//! Book chapter: "Convolutional networks" (section "The fast version"). [`crate::conv`] holds
//! both versions of a convolutional layer: the direct loops, one image at a time, and the
//! batched passes that call these and [`gemm`](super::gemm()); the tests prove the two equal.
//!
//! Layout. A batch of feature maps is a `Matrix` with one image per COLUMN, as every batch in
//! the crate is: row (c, y, x) = (c·rows + y)·cols + x holds value (c, y, x) of every image.
//! So a dense layer reads a stack of maps as the vector it is, with no copy. The patch matrix
//! `cols` has one row per kernel entry (c, p, q) = (c·k + p)·k + q, the order of a kernel
//! matrix's row, and one column per output position and image, (y, x, n) =
//! (y·ow + x)·batch + n: the order of the product's output, so that K · cols is the next
//! batch of maps, (maps, oh, ow) by images, in the layout above with nothing moved. And since
//! the images are the innermost index of both, every copy here is a run of `ow · batch`
//! contiguous values.
//!
//! Left out: strides other than 1, padding, dilation.

use super::{for_each_row_block, Matrix, Scalar};

/// The shape of one image's stack of feature maps: `maps` maps of `rows × cols` values,
/// stored map after map, each row by row, so value (c, y, x) is at (c·rows + y)·cols + x.
/// An input image is one map (1, 28, 28); a fully connected layer of n neurons is n maps of
/// 1 × 1.
///
/// Book: "Convolutional networks".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapShape {
    /// Number of feature maps (channels).
    pub maps: usize,
    /// Rows of each map.
    pub rows: usize,
    /// Columns of each map.
    pub cols: usize,
}

impl MapShape {
    /// `maps` maps of `rows × cols`.
    pub fn new(maps: usize, rows: usize, cols: usize) -> Self {
        MapShape { maps, rows, cols }
    }

    /// The number of values, maps · rows · cols.
    pub fn len(self) -> usize {
        self.maps * self.rows * self.cols
    }

    /// True when there are no values. (Asked before sizes are checked, so it multiplies
    /// nothing: a shape read from a file may be too large for its product to fit a usize.)
    pub fn is_empty(self) -> bool {
        self.maps == 0 || self.rows == 0 || self.cols == 0
    }

    /// Where value (c, y, x) is stored: (c·rows + y)·cols + x.
    #[inline]
    pub fn index(self, c: usize, y: usize, x: usize) -> usize {
        (c * self.rows + y) * self.cols + x
    }

    /// The shape after a k × k convolution (stride 1, no padding) with `maps` kernels per
    /// input map: (maps, rows − k + 1, cols − k + 1).
    ///
    /// # Panics
    /// If k is 0 or larger than a map.
    #[track_caller]
    pub fn after_conv(self, k: usize, maps: usize) -> Self {
        assert!(
            k >= 1 && k <= self.rows && k <= self.cols,
            "a {k}×{k} kernel does not fit in {}×{} maps",
            self.rows,
            self.cols
        );
        MapShape::new(maps, self.rows - k + 1, self.cols - k + 1)
    }

    /// The shape after k × k max-pooling with stride k: (maps, ⌊rows/k⌋, ⌊cols/k⌋). Rows and
    /// columns left over at the bottom and right are dropped, as Nielsen's `network3.py` does.
    ///
    /// # Panics
    /// If k is 0 or larger than a map.
    #[track_caller]
    pub fn after_pool(self, k: usize) -> Self {
        assert!(
            k >= 1 && k <= self.rows && k <= self.cols,
            "a {k}×{k} pool does not fit in {}×{} maps",
            self.rows,
            self.cols
        );
        MapShape::new(self.maps, self.rows / k, self.cols / k)
    }
}

// ANCHOR: im2col
/// The patch matrix of a batch: `cols`((c, p, q), (y, x, n)) = image n's value (c, y + p,
/// x + q), so that row j of the kernel matrix times column (y, x, n) is Σ_c Σ_p Σ_q
/// K_{j,c}(p, q) · a_c(y + p, x + q), the convolution at (y, x) of image n.
///
/// Book: "Convolutional networks" (The fast version).
///
/// `a`: (shape.len(), batch); `cols`: resized to (shape.maps · k · k, oh · ow · batch), where
/// (oh, ow) = (rows − k + 1, cols − k + 1).
///
/// # Panics
/// If `a` does not have `shape.len()` rows, or the kernel does not fit.
#[track_caller]
pub fn im2col<T: Scalar>(a: &Matrix<T>, shape: MapShape, k: usize, cols: &mut Matrix<T>) {
    check_rows("im2col", a, shape);
    let batch = a.cols();
    let out = shape.after_conv(k, 1);
    let run = out.cols * batch; // one row of output positions, for every image: (x, n)
    cols.resize(shape.maps * k * k, out.rows * run);
    let a = a.as_slice();
    // Each row (c, p, q) of the patch matrix is filled on its own, so the rows can be split
    // between threads: the copies are the same on any number of them.
    let row_len = out.rows * run;
    if row_len == 0 {
        return; // no images: nothing to copy
    }
    for_each_row_block(cols.as_mut_slice(), row_len, &|first, rows| {
        let range = first..first + rows.len() / row_len;
        for_each_run(shape, k, batch, range, |from, to| {
            rows[to..to + run].copy_from_slice(&a[from..from + run])
        });
    });
}

/// Calls `f(at_a, at_row)` for every run of `ow · batch` values [`im2col`] copies into the
/// patch matrix's rows `rows` (numbered (c·k + p)·k + q): for kernel entry (c, p, q) and
/// output row y, the values (c, y + p, q .. q + ow) of every image, which are contiguous (the
/// images are the innermost index), from index `at_a` of the batch of maps to index `at_row`
/// of those rows (counted from the first of them), column (y, 0, 0).
fn for_each_run(
    shape: MapShape,
    k: usize,
    batch: usize,
    rows: std::ops::Range<usize>,
    mut f: impl FnMut(usize, usize),
) {
    let out = shape.after_conv(k, 1);
    let run = out.cols * batch;
    for (i, r) in rows.enumerate() {
        let (c, p, q) = (r / (k * k), r / k % k, r % k);
        for y in 0..out.rows {
            f(shape.index(c, y + p, q) * batch, (i * out.rows + y) * run);
        }
    }
}
// ANCHOR_END: im2col

// ANCHOR: col2im
/// The adjoint of [`im2col`]: `da` ← 0, then every entry of `dcols` is added back onto the
/// value it was copied from, `da`(c, y + p, x + q; n) += `dcols`((c, p, q), (y, x, n)). A
/// value that sat in several patches collects the sum of all of them: the sum over kernel
/// offsets of Eq 13.
///
/// Book: "Convolutional networks" (The fast version).
///
/// `dcols`: (shape.maps · k · k, oh · ow · batch); `da`: resized to (shape.len(), batch).
///
/// # Panics
/// If `dcols` is not that shape.
#[track_caller]
pub fn col2im<T: Scalar>(
    dcols: &Matrix<T>,
    shape: MapShape,
    k: usize,
    batch: usize,
    da: &mut Matrix<T>,
) {
    let out = shape.after_conv(k, 1);
    let run = out.cols * batch;
    if dcols.shape() != (shape.maps * k * k, out.rows * run) {
        super::shape_mismatch(
            "col2im",
            dcols.shape(),
            (shape.maps * k * k, out.rows * run),
        );
    }
    da.resize(shape.len(), batch);
    da.as_mut_slice().fill(T::ZERO);
    let dcols = dcols.as_slice();
    // Map c of `da` collects only from the rows (c, ·, ·) of `dcols`, so the maps can be
    // split between threads, each summed in the same order on any number of them.
    let (map_len, rows_per_map) = (shape.rows * shape.cols * batch, k * k);
    if map_len == 0 {
        return; // no images: nothing to sum
    }
    for_each_row_block(da.as_mut_slice(), map_len, &|first_map, maps| {
        let first_row = first_map * rows_per_map;
        let rows = first_row..first_row + maps.len() / map_len * rows_per_map;
        let offset = first_map * map_len;
        let from_first = first_row * out.rows * run;
        for_each_run(shape, k, batch, rows, |to, from| {
            let sources = &dcols[from_first + from..from_first + from + run];
            let to = to - offset;
            for (d, &s) in maps[to..to + run].iter_mut().zip(sources) {
                *d += s;
            }
        });
    });
}
// ANCHOR_END: col2im

/// Panics unless `a` has one row per value of `shape`.
#[track_caller]
fn check_rows<T: Scalar>(op: &str, a: &Matrix<T>, shape: MapShape) {
    if a.rows() != shape.len() {
        super::shape_mismatch(op, a.shape(), (shape.len(), a.cols()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_of_a_3x3_image_worked_by_hand() {
        // One 3×3 map, values 1..9, two images (the second is 10× the first); 2×2 patches:
        // the four patches of image 0 are [1 2 4 5], [2 3 5 6], [4 5 7 8], [5 6 8 9].
        let shape = MapShape::new(1, 3, 3);
        let a = Matrix::from_fn(9, 2, |i, n| ((i + 1) * if n == 0 { 1 } else { 10 }) as f64);
        let mut cols = Matrix::zeros(0, 0);
        im2col(&a, shape, 2, &mut cols);
        assert_eq!(cols.shape(), (4, 8));
        // Columns in the order (y, x, n): (0,0,0), (0,0,1), (0,1,0), (0,1,1), (1,0,0), ….
        assert_eq!(cols.row(0), &[1.0, 10.0, 2.0, 20.0, 4.0, 40.0, 5.0, 50.0]);
        assert_eq!(cols.row(3), &[5.0, 50.0, 6.0, 60.0, 8.0, 80.0, 9.0, 90.0]);
        let first_patch: Vec<f64> = (0..4).map(|r| cols[(r, 0)]).collect();
        assert_eq!(first_patch, [1.0, 2.0, 4.0, 5.0]);
    }

    /// ⟨im2col(a), d⟩ = ⟨a, col2im(d)⟩ for every a and d: col2im is im2col's transpose.
    /// With small integers every sum is exact, so the two sides agree exactly.
    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        let (shape, k, batch) = (MapShape::new(2, 5, 4), 3, 3);
        let a = Matrix::from_fn(shape.len(), batch, |i, n| {
            ((i * 7 + n * 3) % 11) as f64 - 5.0
        });
        let mut cols = Matrix::zeros(0, 0);
        im2col(&a, shape, k, &mut cols);
        let d = Matrix::from_fn(cols.rows(), cols.cols(), |i, j| {
            ((i * 5 + j) % 7) as f64 - 3.0
        });
        let mut da = Matrix::zeros(0, 0);
        col2im(&d, shape, k, batch, &mut da);
        let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>();
        assert_eq!(
            dot(cols.as_slice(), d.as_slice()),
            dot(a.as_slice(), da.as_slice())
        );
        // The top-left value of image 0 sits in one patch only, as entry (0, 0, 0) of column 0.
        assert_eq!(da[(0, 0)], d[(0, 0)]);
    }

    #[test]
    fn an_empty_batch_has_no_patches() {
        let (shape, k) = (MapShape::new(2, 5, 5), 3);
        let (mut cols, mut da) = (Matrix::<f32>::zeros(0, 0), Matrix::zeros(0, 0));
        im2col(&Matrix::zeros(shape.len(), 0), shape, k, &mut cols);
        assert_eq!(cols.shape(), (18, 0));
        col2im(&cols, shape, k, 0, &mut da);
        assert_eq!(da.shape(), (50, 0));
    }

    /// Large enough to be split between threads: the same patches and sums on one and two.
    #[test]
    fn two_threads_copy_and_sum_as_one_does() {
        let (shape, k, batch) = (MapShape::new(4, 20, 18), 5, 30);
        let a = Matrix::from_fn(shape.len(), batch, |i, n| ((i * 13 + n * 7) % 17) as f32);
        let d = |rows, cols| Matrix::from_fn(rows, cols, |i, j| ((i * 3 + j * 5) % 11) as f32);
        let run = |threads| {
            crate::linalg::set_threads(threads);
            let (mut cols, mut da) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
            im2col(&a, shape, k, &mut cols);
            let dcols = d(cols.rows(), cols.cols());
            col2im(&dcols, shape, k, batch, &mut da);
            crate::linalg::set_threads(1);
            (cols, da)
        };
        let (one, two) = (run(1), run(2));
        let split = crate::linalg::PARALLEL_MIN_ELEMENTS;
        assert!(one.0.rows() * one.0.cols() >= split && shape.len() * batch >= split);
        assert_eq!(one, two);
    }

    #[test]
    fn shapes_after_conv_and_pool() {
        let input = MapShape::new(1, 28, 28);
        assert_eq!(input.after_conv(5, 20), MapShape::new(20, 24, 24));
        assert_eq!(
            input.after_conv(5, 20).after_pool(2),
            MapShape::new(20, 12, 12)
        );
        assert_eq!(MapShape::new(3, 7, 5).after_pool(2), MapShape::new(3, 3, 2));
        assert_eq!(MapShape::new(2, 3, 4).index(1, 2, 3), 23);
    }

    #[test]
    #[should_panic(expected = "a 6×6 kernel does not fit in 5×5 maps")]
    fn a_kernel_larger_than_the_map_panics() {
        MapShape::new(1, 5, 5).after_conv(6, 1);
    }
}
