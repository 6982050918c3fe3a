//! General matrix multiply, C ← αAB + βC, over strided views (the BLAS convention).
//!
//! Book chapter: "Making it fast". This file holds the *reference*: the textbook triple
//! loop, kept forever as the oracle every faster kernel is tested against. [`gemm`] is the
//! one entry point the rest of the crate calls; it dispatches to the fastest kernel this
//! machine supports.
//!
//! Layout: a [`MatRef`] says where element (i, j) lives, `data[i·row_stride + j·col_stride]`,
//! so a transpose is the same data with the two strides swapped: no copy. The output C is
//! always a dense row-major `m × n` slice.

use super::scalar::Scalar;

/// A read-only strided view of an `rows × cols` matrix: (i, j) is at
/// `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    /// The storage the view reads from.
    pub data: &'a [T],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance in `data` between (i, j) and (i + 1, j).
    pub row_stride: usize,
    /// Distance in `data` between (i, j) and (i, j + 1).
    pub col_stride: usize,
}

impl<'a, T: Scalar> MatRef<'a, T> {
    /// A dense row-major `rows × cols` view of `data`.
    ///
    /// # Panics
    /// If `data.len() != rows * cols`.
    #[track_caller]
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        assert_eq!(
            data.len(),
            rows * cols,
            "MatRef::row_major: {rows}×{cols} needs {} elements, got {}",
            rows * cols,
            data.len()
        );
        MatRef {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose: a `cols × rows` view of the same data (strides swapped, no copy).
    pub fn t(self) -> Self {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Element (i, j).
    #[inline(always)]
    pub fn at(&self, i: usize, j: usize) -> T {
        self.data[i * self.row_stride + j * self.col_stride]
    }
}

/// Checks the shapes of C ← αAB + βC: A is `m × k`, B is `k × n`, C holds `m × n`.
#[track_caller]
pub(crate) fn check_gemm_shapes<T>(a: &MatRef<'_, T>, b: &MatRef<'_, T>, c_len: usize) {
    if a.cols != b.rows {
        super::shape_mismatch("gemm (A·B)", (a.rows, a.cols), (b.rows, b.cols));
    }
    if c_len != a.rows * b.cols {
        panic!(
            "gemm: output holds {c_len} elements but A·B is {}×{} = {}",
            a.rows,
            b.cols,
            a.rows * b.cols
        );
    }
    for (name, v) in [("A", a), ("B", b)] {
        if v.rows > 0 && v.cols > 0 {
            let last = (v.rows - 1) * v.row_stride + (v.cols - 1) * v.col_stride;
            assert!(
                last < v.data.len(),
                "gemm: view {name} ({}×{}, strides {}, {}) reaches past its {} elements",
                v.rows,
                v.cols,
                v.row_stride,
                v.col_stride,
                v.data.len()
            );
        }
    }
}

// ANCHOR: textbook_gemm
/// The textbook triple loop: C ← αAB + βC, with `c_ij = β c_ij + α Σ_p a_ip b_pj`.
///
/// Book: "Matrices and vectors".
///
/// A is `m × k`, B is `k × n`, C is dense row-major `m × n`. When β = 0 the old C is
/// ignored (even if it holds NaN), as in BLAS.
///
/// # Panics
/// If `a.cols != b.rows` or `c.len() != m * n`.
#[track_caller]
pub fn gemm_naive<T: Scalar>(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, beta: T, c: &mut [T]) {
    check_gemm_shapes(&a, &b, c.len());
    let n = b.cols;
    for i in 0..a.rows {
        for j in 0..n {
            let mut sum = T::ZERO;
            for p in 0..a.cols {
                sum += a.at(i, p) * b.at(p, j);
            }
            let old = if beta == T::ZERO {
                T::ZERO
            } else {
                beta * c[i * n + j]
            };
            c[i * n + j] = old + alpha * sum;
        }
    }
}
// ANCHOR_END: textbook_gemm

/// C ← αAB + βC with the fastest kernel this machine supports.
///
/// Same contract as [`gemm_naive`], which it must agree with (up to rounding order). The
/// kernel is [`kernel_name`](super::kernel_name) (override with `SCRATCHNET_KERNEL`); large
/// products use [`threads`](super::threads) threads, with results bit-identical for any count.
///
/// # Panics
/// If `a.cols != b.rows` or `c.len() != m * n`.
#[track_caller]
pub fn gemm<T: Scalar>(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, beta: T, c: &mut [T]) {
    super::kernel::gemm_with(super::kernel::kernel(), alpha, a, b, beta, c)
}
