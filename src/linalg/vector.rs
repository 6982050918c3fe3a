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
