//! `Matrix<T>`: a dense row-major matrix, such as a layer's weights Wˡ or a batch of
//! activations (one column per image).

use super::gemm::{gemm, MatRef};
use super::{shape_mismatch, Scalar, Vector};
use std::ops::{Add, AddAssign, Index, IndexMut, Sub, SubAssign};

/// A dense `rows × cols` matrix stored row by row: (i, j) is `data[i * cols + j]`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Matrix<T> {
    rows: usize,
    cols: usize,
    data: Vec<T>,
}

impl<T: Scalar> Matrix<T> {
    /// The `rows × cols` zero matrix.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Matrix {
            rows,
            cols,
            data: vec![T::ZERO; rows * cols],
        }
    }

    /// Wraps row-major `data` as a `rows × cols` matrix.
    ///
    /// # Panics
    /// If `data.len() != rows * cols`.
    #[track_caller]
    pub fn from_vec(rows: usize, cols: usize, data: Vec<T>) -> Self {
        assert_eq!(
            data.len(),
            rows * cols,
            "Matrix::from_vec: {rows}×{cols} needs {} elements, got {}",
            rows * cols,
            data.len()
        );
        Matrix { rows, cols, data }
    }

    /// Element (i, j) is `f(i, j)`.
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let mut data = Vec::with_capacity(rows * cols);
        for i in 0..rows {
            for j in 0..cols {
                data.push(f(i, j));
            }
        }
        Matrix { rows, cols, data }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// (rows, cols).
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// The elements, row by row.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The elements, row by row, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// Gives back the row-major storage.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// Row `i` as a slice of `cols` elements.
    #[track_caller]
    pub fn row(&self, i: usize) -> &[T] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Row `i` as a mutable slice of `cols` elements.
    #[track_caller]
    pub fn row_mut(&mut self, i: usize) -> &mut [T] {
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Column `j` copied out as a vector of length `rows`.
    #[track_caller]
    pub fn column(&self, j: usize) -> Vector<T> {
        assert!(
            j < self.cols,
            "Matrix::column: column {j} out of range for {}×{}",
            self.rows,
            self.cols
        );
        Vector::from_fn(self.rows, |i| self.data[i * self.cols + j])
    }

    /// Overwrites column `j` with `v`.
    ///
    /// # Panics
    /// If `v.len() != rows` or `j >= cols`.
    #[track_caller]
    pub fn set_column(&mut self, j: usize, v: &Vector<T>) {
        if v.len() != self.rows || j >= self.cols {
            shape_mismatch("Matrix::set_column", self.shape(), (v.len(), 1));
        }
        for (i, &x) in v.as_slice().iter().enumerate() {
            self.data[i * self.cols + j] = x;
        }
    }

    /// A strided view for [`gemm`]; `.t()` on it is the transpose without a copy.
    pub fn view(&self) -> MatRef<'_, T> {
        MatRef::row_major(&self.data, self.rows, self.cols)
    }

    // ANCHOR: transpose
    /// Mᵀ: the `cols × rows` matrix with (i, j) = M(j, i).
    ///
    /// Book: "Matrices and vectors".
    pub fn transpose(&self) -> Self {
        Matrix::from_fn(self.cols, self.rows, |i, j| self.data[j * self.cols + i])
    }
    // ANCHOR_END: transpose

    /// Applies `f` to every element.
    pub fn map(&self, f: impl Fn(T) -> T) -> Self {
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(|&x| f(x)).collect(),
        }
    }

    /// M · s, every element scaled.
    pub fn scale(&self, s: T) -> Self {
        self.map(|x| x * s)
    }

    /// Element-wise product A ⊙ B (same shapes).
    ///
    /// Book: "Matrices and vectors", "Backpropagation".
    ///
    /// # Panics
    /// If the shapes differ.
    #[track_caller]
    pub fn hadamard(&self, other: &Self) -> Self {
        self.check_same_shape("Matrix::hadamard", other);
        let data = self
            .data
            .iter()
            .zip(&other.data)
            .map(|(&a, &b)| a * b)
            .collect();
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data,
        }
    }

    /// self ← self + α·other (the "axpy" of BLAS): L2's ∂C/∂W += (λ/n)·W is
    /// `nabla_w.add_scaled(lambda_over_n, &w)`, and a gradient step `w.add_scaled(-eta, &nabla_w)`.
    ///
    /// Book: "Gradient descent and training".
    ///
    /// # Panics
    /// If the shapes differ.
    #[track_caller]
    pub fn add_scaled(&mut self, alpha: T, other: &Self) {
        self.check_same_shape("Matrix::add_scaled", other);
        for (a, &b) in self.data.iter_mut().zip(&other.data) {
            *a += alpha * b;
        }
    }

    // ANCHOR: mul_vec
    /// Matrix × vector, M v: if M is `m × n` then `v` has length `n` and the result `m`.
    ///
    /// Book: "Matrices and vectors", "The forward pass".
    ///
    /// # Panics
    /// If `v.len() != cols`.
    #[track_caller]
    pub fn mul_vec(&self, v: &Vector<T>) -> Vector<T> {
        if v.len() != self.cols {
            shape_mismatch("Matrix::mul_vec", self.shape(), (v.len(), 1));
        }
        let x = v.as_slice();
        Vector::from_fn(self.rows, |i| {
            self.row(i)
                .iter()
                .zip(x)
                .fold(T::ZERO, |s, (&a, &b)| s + a * b)
        })
    }
    // ANCHOR_END: mul_vec

    // ANCHOR: t_mul_vec
    /// Transposed matrix × vector, Mᵀ v, without forming Mᵀ: if M is `m × n` then `v` has
    /// length `m` and the result `n`. (Eq 2 sends δ back through a layer this way.)
    ///
    /// Book: "Matrices and vectors", "Backpropagation".
    ///
    /// # Panics
    /// If `v.len() != rows`.
    #[track_caller]
    pub fn t_mul_vec(&self, v: &Vector<T>) -> Vector<T> {
        if v.len() != self.rows {
            shape_mismatch(
                "Matrix::t_mul_vec (Mᵀv)",
                (self.cols, self.rows),
                (v.len(), 1),
            );
        }
        let mut out = Vector::zeros(self.cols);
        for (i, &vi) in v.as_slice().iter().enumerate() {
            for (o, &m) in out.as_mut_slice().iter_mut().zip(self.row(i)) {
                *o += m * vi;
            }
        }
        out
    }
    // ANCHOR_END: t_mul_vec

    /// Matrix product AB: if A is `m × k` then B is `k × n` and the result `m × n`.
    ///
    /// Book: "Matrices and vectors".
    ///
    /// # Panics
    /// If `self.cols() != other.rows()`.
    #[track_caller]
    pub fn matmul(&self, other: &Self) -> Self {
        let mut out = Matrix::zeros(self.rows, other.cols);
        matmul_views_into(self.view(), other.view(), &mut out);
        out
    }

    /// out ← AB, reusing `out`'s storage (resized to `m × n`).
    ///
    /// # Panics
    /// If `self.cols() != other.rows()`.
    #[track_caller]
    pub fn matmul_into(&self, other: &Self, out: &mut Self) {
        matmul_views_into(self.view(), other.view(), out);
    }

    /// out ← AᵀB without forming Aᵀ: A is `k × m`, B is `k × n`, out is `m × n`.
    /// (The batched Eq 2: (Wˡ⁺¹)ᵀ Δˡ⁺¹.)
    ///
    /// Book: "Backpropagation".
    ///
    /// # Panics
    /// If `self.rows() != other.rows()`.
    #[track_caller]
    pub fn t_matmul_into(&self, other: &Self, out: &mut Self) {
        matmul_views_into(self.view().t(), other.view(), out);
    }

    /// out ← ABᵀ without forming Bᵀ: A is `m × k`, B is `n × k`, out is `m × n`.
    /// (The batched Eq 7: Δˡ (Aˡ⁻¹)ᵀ.)
    ///
    /// Book: "Backpropagation".
    ///
    /// # Panics
    /// If `self.cols() != other.cols()`.
    #[track_caller]
    pub fn matmul_t_into(&self, other: &Self, out: &mut Self) {
        matmul_views_into(self.view(), other.view().t(), out);
    }

    /// Adds `v` to every column: Z = WA + B with one bias vector B for the whole batch.
    ///
    /// Book: "The forward pass".
    ///
    /// # Panics
    /// If `v.len() != rows`.
    #[track_caller]
    pub fn add_to_columns(&mut self, v: &Vector<T>) {
        if v.len() != self.rows {
            shape_mismatch("Matrix::add_to_columns", self.shape(), (v.len(), 1));
        }
        for (i, &b) in v.as_slice().iter().enumerate() {
            self.row_mut(i).iter_mut().for_each(|z| *z += b);
        }
    }

    /// The sum of each row: a vector of length `rows` (Eq 6 sums δ over the batch this way).
    pub fn row_sums(&self) -> Vector<T> {
        Vector::from_fn(self.rows, |i| {
            self.row(i).iter().fold(T::ZERO, |s, &x| s + x)
        })
    }

    /// Resizes to `rows × cols`, reusing the allocation; contents become unspecified
    /// (zero where the matrix grew).
    pub fn resize(&mut self, rows: usize, cols: usize) {
        self.rows = rows;
        self.cols = cols;
        self.data.resize(rows * cols, T::ZERO);
    }

    #[track_caller]
    fn check_same_shape(&self, op: &str, other: &Self) {
        if self.shape() != other.shape() {
            shape_mismatch(op, self.shape(), other.shape());
        }
    }
}

/// out ← A·B for two views; out is resized to fit.
#[track_caller]
fn matmul_views_into<T: Scalar>(a: MatRef<'_, T>, b: MatRef<'_, T>, out: &mut Matrix<T>) {
    if a.cols != b.rows {
        shape_mismatch("Matrix product", (a.rows, a.cols), (b.rows, b.cols));
    }
    out.resize(a.rows, b.cols);
    gemm(T::ONE, a, b, T::ZERO, &mut out.data);
}

impl<T> Index<(usize, usize)> for Matrix<T> {
    type Output = T;
    #[track_caller]
    fn index(&self, (i, j): (usize, usize)) -> &T {
        assert!(
            i < self.rows && j < self.cols,
            "Matrix index ({i}, {j}) out of range for {}×{}",
            self.rows,
            self.cols
        );
        &self.data[i * self.cols + j]
    }
}

impl<T> IndexMut<(usize, usize)> for Matrix<T> {
    #[track_caller]
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut T {
        assert!(
            i < self.rows && j < self.cols,
            "Matrix index ({i}, {j}) out of range for {}×{}",
            self.rows,
            self.cols
        );
        &mut self.data[i * self.cols + j]
    }
}

impl<T: Scalar> Add for &Matrix<T> {
    type Output = Matrix<T>;
    /// A + B, element by element. Panics if the shapes differ.
    #[track_caller]
    fn add(self, other: &Matrix<T>) -> Matrix<T> {
        let mut out = self.clone();
        out += other;
        out
    }
}

impl<T: Scalar> Sub for &Matrix<T> {
    type Output = Matrix<T>;
    /// A − B, element by element. Panics if the shapes differ.
    #[track_caller]
    fn sub(self, other: &Matrix<T>) -> Matrix<T> {
        let mut out = self.clone();
        out -= other;
        out
    }
}

impl<T: Scalar> AddAssign<&Matrix<T>> for Matrix<T> {
    #[track_caller]
    fn add_assign(&mut self, other: &Matrix<T>) {
        self.check_same_shape("Matrix + Matrix", other);
        self.data
            .iter_mut()
            .zip(&other.data)
            .for_each(|(a, &b)| *a += b);
    }
}

impl<T: Scalar> SubAssign<&Matrix<T>> for Matrix<T> {
    #[track_caller]
    fn sub_assign(&mut self, other: &Matrix<T>) {
        self.check_same_shape("Matrix - Matrix", other);
        self.data
            .iter_mut()
            .zip(&other.data)
            .for_each(|(a, &b)| *a -= b);
    }
}

#[cfg(test)]
mod tests {
    //! Hand-worked cases: small integers, so every result is exact in f64 and the expected
    //! values in the comments can be checked with pencil and paper.

    use super::*;

    /// M = [1 2 3]
    ///     [4 5 6]   (2×3)
    fn m() -> Matrix<f64> {
        Matrix::from_vec(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    }

    fn v(xs: &[f64]) -> Vector<f64> {
        Vector::from_vec(xs.to_vec())
    }

    #[test]
    fn transpose_swaps_rows_and_columns() {
        // Mᵀ = [1 4]
        //      [2 5]
        //      [3 6]   (3×2), and (Mᵀ)ᵀ = M.
        let t = m().transpose();
        assert_eq!(t.shape(), (3, 2));
        assert_eq!(t.as_slice(), &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(t[(2, 0)], m()[(0, 2)]);
        assert_eq!(t.transpose(), m());
    }

    #[test]
    fn hadamard_multiplies_element_by_element() {
        // [1 2 3] ⊙ [ 7  8  9] = [ 7 16 27]
        // [4 5 6]   [10 11 12]   [40 55 72]
        let n = Matrix::from_vec(2, 3, vec![7.0, 8.0, 9.0, 10.0, 11.0, 12.0]);
        let h = m().hadamard(&n);
        assert_eq!(h.shape(), (2, 3));
        assert_eq!(h.as_slice(), &[7.0, 16.0, 27.0, 40.0, 55.0, 72.0]);
    }

    #[test]
    fn matrix_times_vector() {
        // M [1 2 3]ᵀ = [1·1 + 2·2 + 3·3, 4·1 + 5·2 + 6·3]ᵀ = [14 32]ᵀ
        assert_eq!(m().mul_vec(&v(&[1.0, 2.0, 3.0])), v(&[14.0, 32.0]));
    }

    #[test]
    fn transposed_matrix_times_vector() {
        // Mᵀ [1 2]ᵀ = [1·1 + 4·2, 2·1 + 5·2, 3·1 + 6·2]ᵀ = [9 12 15]ᵀ, the same as
        // forming Mᵀ first.
        let u = v(&[1.0, 2.0]);
        assert_eq!(m().t_mul_vec(&u), v(&[9.0, 12.0, 15.0]));
        assert_eq!(m().t_mul_vec(&u), m().transpose().mul_vec(&u));
    }

    #[test]
    fn bias_is_added_to_every_column() {
        // Z = M + [10 20]ᵀ added to each of the three columns:
        // [1+10 2+10 3+10]   [11 12 13]
        // [4+20 5+20 6+20] = [24 25 26]
        let mut z = m();
        z.add_to_columns(&v(&[10.0, 20.0]));
        assert_eq!(z.as_slice(), &[11.0, 12.0, 13.0, 24.0, 25.0, 26.0]);
    }

    #[test]
    fn row_sums_add_across_each_row() {
        // [1 + 2 + 3, 4 + 5 + 6]ᵀ = [6 15]ᵀ
        assert_eq!(m().row_sums(), v(&[6.0, 15.0]));
    }

    #[test]
    fn products_with_and_without_transposes() {
        // M Mᵀ = [1+4+9     4+10+18 ]   [14 32]
        //        [4+10+18  16+25+36 ] = [32 77]
        assert_eq!(
            m().matmul(&m().transpose()).as_slice(),
            &[14.0, 32.0, 32.0, 77.0]
        );
        // Mᵀ B with B = [1 2; 3 4]: [1·1+4·3  1·2+4·4; 2·1+5·3  2·2+5·4; 3·1+6·3  3·2+6·4]
        //                         = [13 18; 17 24; 21 30]   (3×2)
        let b = Matrix::from_vec(2, 2, vec![1.0, 2.0, 3.0, 4.0]);
        let mut out = Matrix::zeros(0, 0);
        m().t_matmul_into(&b, &mut out);
        assert_eq!(out.shape(), (3, 2));
        assert_eq!(out.as_slice(), &[13.0, 18.0, 17.0, 24.0, 21.0, 30.0]);
        // M Cᵀ with C = [1 0 1; 0 1 0]: [1+3  2; 4+6  5] = [4 2; 10 5]   (2×2)
        let c = Matrix::from_vec(2, 3, vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
        m().matmul_t_into(&c, &mut out);
        assert_eq!(out.shape(), (2, 2));
        assert_eq!(out.as_slice(), &[4.0, 2.0, 10.0, 5.0]);
    }

    #[test]
    fn sums_differences_and_scaled_updates() {
        // N = [7 8 9; 10 11 12]. M + N = [8 10 12; 14 16 18], N − M = [6 6 6; 6 6 6],
        // M + 2N = [15 18 21; 24 27 30], M·0.5 = [0.5 1 1.5; 2 2.5 3].
        let n = Matrix::from_vec(2, 3, vec![7.0, 8.0, 9.0, 10.0, 11.0, 12.0]);
        assert_eq!((&m() + &n).as_slice(), &[8.0, 10.0, 12.0, 14.0, 16.0, 18.0]);
        assert_eq!((&n - &m()).as_slice(), &[6.0; 6]);
        let mut w = m();
        w.add_scaled(2.0, &n);
        assert_eq!(w.as_slice(), &[15.0, 18.0, 21.0, 24.0, 27.0, 30.0]);
        assert_eq!(m().scale(0.5).as_slice(), &[0.5, 1.0, 1.5, 2.0, 2.5, 3.0]);
    }

    #[test]
    fn columns_are_read_and_written() {
        // Column 1 of M is [2 5]ᵀ; writing [7 8]ᵀ there gives [1 7 3; 4 8 6].
        let mut a = m();
        assert_eq!(a.column(1), v(&[2.0, 5.0]));
        a.set_column(1, &v(&[7.0, 8.0]));
        assert_eq!(a.as_slice(), &[1.0, 7.0, 3.0, 4.0, 8.0, 6.0]);
    }

    #[test]
    #[should_panic(expected = "Matrix::mul_vec: shape mismatch: left is 2×3, right is 2×1")]
    fn matrix_times_vector_of_wrong_length_names_both_shapes() {
        m().mul_vec(&v(&[1.0, 2.0]));
    }

    #[test]
    #[should_panic(expected = "Matrix::t_mul_vec (Mᵀv): shape mismatch: left is 3×2, right is 3×1")]
    fn transposed_times_vector_of_wrong_length_names_both_shapes() {
        // Mᵀ is 3×2, so it needs a vector of length 2.
        m().t_mul_vec(&v(&[1.0, 2.0, 3.0]));
    }

    #[test]
    #[should_panic(expected = "Matrix::hadamard: shape mismatch: left is 2×3, right is 3×2")]
    fn hadamard_of_different_shapes_names_both() {
        m().hadamard(&m().transpose());
    }

    #[test]
    #[should_panic(expected = "Matrix::add_to_columns: shape mismatch: left is 2×3, right is 3×1")]
    fn bias_of_wrong_length_names_both_shapes() {
        m().add_to_columns(&v(&[1.0, 2.0, 3.0]));
    }

    #[test]
    #[should_panic(expected = "Matrix product: shape mismatch: left is 2×3, right is 2×3")]
    fn product_of_incompatible_shapes_names_both() {
        m().matmul(&m());
    }

    #[test]
    #[should_panic(expected = "Matrix + Matrix: shape mismatch: left is 2×3, right is 3×2")]
    fn sum_of_different_shapes_names_both() {
        let _ = &m() + &m().transpose();
    }

    #[test]
    #[should_panic(expected = "Matrix::from_vec: 2×3 needs 6 elements, got 5")]
    fn from_vec_of_wrong_length_says_how_many() {
        Matrix::from_vec(2, 3, vec![0.0f64; 5]);
    }

    #[test]
    #[should_panic(expected = "Matrix index (2, 0) out of range for 2×3")]
    fn index_out_of_range_names_the_shape() {
        let _ = m()[(2, 0)];
    }
}
