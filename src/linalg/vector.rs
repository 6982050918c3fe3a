//! `Vector<T>`: a column of numbers, such as one image's 784 pixels or one layer's activations.

use super::{shape_mismatch, Matrix, Scalar};
use std::ops::{Add, AddAssign, Index, IndexMut, Sub, SubAssign};

/// A column vector of length `n` (shape `n × 1`).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Vector<T> {
    data: Vec<T>,
}

impl<T: Scalar> Vector<T> {
    /// The zero vector of length `n`.
    pub fn zeros(n: usize) -> Self {
        Vector {
            data: vec![T::ZERO; n],
        }
    }

    /// Wraps `data` as a vector of length `data.len()`.
    pub fn from_vec(data: Vec<T>) -> Self {
        Vector { data }
    }

    /// Element `i` is `f(i)`.
    pub fn from_fn(n: usize, f: impl FnMut(usize) -> T) -> Self {
        Vector {
            data: (0..n).map(f).collect(),
        }
    }

    /// The one-hot vector of length `n` with a 1 at `index`: the target Y for a label.
    ///
    /// Book: "Cost".
    ///
    /// # Panics
    /// If `index >= n`.
    #[track_caller]
    pub fn one_hot(n: usize, index: usize) -> Self {
        assert!(
            index < n,
            "Vector::one_hot: index {index} out of range for length {n}"
        );
        let mut v = Self::zeros(n);
        v.data[index] = T::ONE;
        v
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the vector has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The elements as a slice.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The elements as a mutable slice.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// Gives back the storage.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// Applies `f` to every element: σ(z) for a whole layer is `z.map(sigmoid)`.
    pub fn map(&self, f: impl Fn(T) -> T) -> Self {
        Vector {
            data: self.data.iter().map(|&x| f(x)).collect(),
        }
    }

    /// self · s, every element scaled.
    pub fn scale(&self, s: T) -> Self {
        self.map(|x| x * s)
    }

    // ANCHOR: hadamard
    /// Element-wise product u ⊙ v.
    ///
    /// Book: "Matrices and vectors", "Backpropagation".
    ///
    /// # Panics
    /// If the lengths differ.
    #[track_caller]
    pub fn hadamard(&self, other: &Self) -> Self {
        self.check_same_len("Vector::hadamard", other);
        Vector {
            data: self
                .data
                .iter()
                .zip(&other.data)
                .map(|(&a, &b)| a * b)
                .collect(),
        }
    }
    // ANCHOR_END: hadamard

    /// Dot product uᵀv = Σ uᵢvᵢ.
    ///
    /// # Panics
    /// If the lengths differ.
    #[track_caller]
    pub fn dot(&self, other: &Self) -> T {
        self.check_same_len("Vector::dot", other);
        self.data
            .iter()
            .zip(&other.data)
            .fold(T::ZERO, |s, (&a, &b)| s + a * b)
    }

    /// ‖v‖² = Σ vᵢ².
    pub fn norm_squared(&self) -> T {
        self.dot(self)
    }

    // ANCHOR: outer
    /// Outer product u vᵀ: a `u.len() × v.len()` matrix with (i, j) = uᵢ vⱼ (Eq 7's shape).
    ///
    /// Book: "Matrices and vectors", "Backpropagation".
    pub fn outer(&self, v: &Self) -> Matrix<T> {
        Matrix::from_fn(self.len(), v.len(), |i, j| self.data[i] * v.data[j])
    }
    // ANCHOR_END: outer

    /// The index of the largest element (the first, on ties): the network's predicted digit.
    ///
    /// Book: "The forward pass".
    ///
    /// # Panics
    /// If the vector is empty.
    #[track_caller]
    pub fn argmax(&self) -> usize {
        assert!(!self.is_empty(), "Vector::argmax: empty vector");
        argmax(&self.data)
    }

    #[track_caller]
    fn check_same_len(&self, op: &str, other: &Self) {
        if self.len() != other.len() {
            shape_mismatch(op, (self.len(), 1), (other.len(), 1));
        }
    }
}

/// Index of the largest element of a non-empty slice (the first on ties; NaN never wins).
pub(crate) fn argmax<T: Scalar>(xs: &[T]) -> usize {
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate() {
        if x > xs[best] || xs[best].to_f64().is_nan() {
            best = i;
        }
    }
    best
}

impl<T> Index<usize> for Vector<T> {
    type Output = T;
    #[track_caller]
    fn index(&self, i: usize) -> &T {
        &self.data[i]
    }
}

impl<T> IndexMut<usize> for Vector<T> {
    #[track_caller]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.data[i]
    }
}

impl<T: Scalar> Add for &Vector<T> {
    type Output = Vector<T>;
    /// u + v, element by element. Panics if the lengths differ.
    #[track_caller]
    fn add(self, other: &Vector<T>) -> Vector<T> {
        self.check_same_len("Vector + Vector", other);
        Vector {
            data: self
                .data
                .iter()
                .zip(&other.data)
                .map(|(&a, &b)| a + b)
                .collect(),
        }
    }
}

impl<T: Scalar> Sub for &Vector<T> {
    type Output = Vector<T>;
    /// u − v, element by element. Panics if the lengths differ.
    #[track_caller]
    fn sub(self, other: &Vector<T>) -> Vector<T> {
        self.check_same_len("Vector - Vector", other);
        Vector {
            data: self
                .data
                .iter()
                .zip(&other.data)
                .map(|(&a, &b)| a - b)
                .collect(),
        }
    }
}

impl<T: Scalar> AddAssign<&Vector<T>> for Vector<T> {
    #[track_caller]
    fn add_assign(&mut self, other: &Vector<T>) {
        self.check_same_len("Vector += Vector", other);
        self.data
            .iter_mut()
            .zip(&other.data)
            .for_each(|(a, &b)| *a += b);
    }
}

impl<T: Scalar> SubAssign<&Vector<T>> for Vector<T> {
    #[track_caller]
    fn sub_assign(&mut self, other: &Vector<T>) {
        self.check_same_len("Vector -= Vector", other);
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

    fn v(xs: &[f64]) -> Vector<f64> {
        Vector::from_vec(xs.to_vec())
    }

    #[test]
    fn hadamard_multiplies_element_by_element() {
        // [1 2 3] ⊙ [4 5 6] = [4 10 18]
        assert_eq!(
            v(&[1.0, 2.0, 3.0]).hadamard(&v(&[4.0, 5.0, 6.0])),
            v(&[4.0, 10.0, 18.0])
        );
    }

    #[test]
    fn outer_product_is_column_times_row() {
        // [1 2 3]ᵀ [4 5] = [ 4  5]
        //                  [ 8 10]
        //                  [12 15]   (3×2: Eq 7's shape, n_out × n_in)
        let o = v(&[1.0, 2.0, 3.0]).outer(&v(&[4.0, 5.0]));
        assert_eq!(o.shape(), (3, 2));
        assert_eq!(o.as_slice(), &[4.0, 5.0, 8.0, 10.0, 12.0, 15.0]);
    }

    #[test]
    fn dot_and_squared_norm() {
        // [1 2 3]·[4 5 6] = 4 + 10 + 18 = 32; ‖[1 2 3]‖² = 1 + 4 + 9 = 14.
        let u = v(&[1.0, 2.0, 3.0]);
        assert_eq!(u.dot(&v(&[4.0, 5.0, 6.0])), 32.0);
        assert_eq!(u.norm_squared(), 14.0);
    }

    #[test]
    fn sums_differences_and_scaling() {
        // [1 2 3] + [4 5 6] = [5 7 9]; [4 5 6] − [1 2 3] = [3 3 3]; [1 2 3]·2 = [2 4 6].
        let (u, w) = (v(&[1.0, 2.0, 3.0]), v(&[4.0, 5.0, 6.0]));
        assert_eq!(&u + &w, v(&[5.0, 7.0, 9.0]));
        assert_eq!(&w - &u, v(&[3.0, 3.0, 3.0]));
        assert_eq!(u.scale(2.0), v(&[2.0, 4.0, 6.0]));
        let mut acc = u.clone();
        acc += &w;
        acc -= &u;
        assert_eq!(acc, w);
    }

    #[test]
    fn one_hot_and_argmax() {
        // The target for label 2 of 4 is [0 0 1 0], and its argmax is 2 again.
        let y = Vector::<f64>::one_hot(4, 2);
        assert_eq!(y, v(&[0.0, 0.0, 1.0, 0.0]));
        assert_eq!(y.argmax(), 2);
        // Ties go to the first; NaN never wins.
        assert_eq!(v(&[1.0, 3.0, 3.0, 2.0]).argmax(), 1);
        assert_eq!(v(&[f64::NAN, 1.0, 0.0]).argmax(), 1);
        assert_eq!(v(&[1.0, f64::NAN, 0.0]).argmax(), 0);
    }

    #[test]
    #[should_panic(expected = "Vector::hadamard: shape mismatch: left is 3×1, right is 2×1")]
    fn hadamard_of_different_lengths_names_both_shapes() {
        v(&[1.0, 2.0, 3.0]).hadamard(&v(&[1.0, 2.0]));
    }

    #[test]
    #[should_panic(expected = "Vector::dot: shape mismatch: left is 2×1, right is 3×1")]
    fn dot_of_different_lengths_names_both_shapes() {
        v(&[1.0, 2.0]).dot(&v(&[1.0, 2.0, 3.0]));
    }

    #[test]
    #[should_panic(expected = "Vector + Vector: shape mismatch: left is 3×1, right is 2×1")]
    fn sum_of_different_lengths_names_both_shapes() {
        let _ = &v(&[1.0, 2.0, 3.0]) + &v(&[1.0, 2.0]);
    }

    #[test]
    #[should_panic(expected = "Vector::one_hot: index 4 out of range for length 4")]
    fn one_hot_out_of_range_says_so() {
        Vector::<f64>::one_hot(4, 4);
    }
}
