//! Cost functions: how far the network's output A^L is from the target Y.
//!
//! Book chapter: "Cost". The write-up uses the quadratic cost (mean squared error),
//! C = (1/2n) Σₖ ‖A^L_k − Y_k‖². Each cost sits beside the output error δ^L it produces
//! (Eq 1), since that is the only place backpropagation needs it.

use crate::activation::Activation;
use crate::linalg::{Matrix, Scalar};

/// Which cost the network is trained to minimise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    /// C_x = ½ ‖a − y‖² for one image; averaged over n images.
    Quadratic,
}

impl Cost {
    /// All costs, in the order `--help` lists them.
    pub const ALL: [Cost; 1] = [Cost::Quadratic];

    // ANCHOR: quadratic
    /// The cost of one image, C_x = ½ ‖a − y‖² (quadratic).
    ///
    /// Book: "Cost".
    ///
    /// `a` and `y` have the output layer's length `n_L`.
    ///
    /// # Panics
    /// If the lengths differ.
    #[track_caller]
    pub fn value<T: Scalar>(self, a: &[T], y: &[T]) -> T {
        assert_eq!(
            a.len(),
            y.len(),
            "Cost::value: output has {} entries, target {}",
            a.len(),
            y.len()
        );
        match self {
            Cost::Quadratic => {
                let half = T::from_f64(0.5);
                a.iter()
                    .zip(y)
                    .fold(T::ZERO, |s, (&ai, &yi)| s + half * (ai - yi) * (ai - yi))
            }
        }
    }
    // ANCHOR_END: quadratic

    // ANCHOR: output_delta
    /// Eq 1 for one element of the output layer: δ^L = ∂C/∂a ⊙ σ′(z^L), with ∂C/∂a = a − y
    /// for the quadratic cost. `a` is the output, `y` the target, and `act_prime` = σ′(z^L).
    ///
    /// Book: "Cost", "Backpropagation".
    #[inline]
    pub fn output_delta<T: Scalar>(self, a: T, y: T, act_prime: T) -> T {
        match self {
            Cost::Quadratic => (a - y) * act_prime,
        }
    }
    // ANCHOR_END: output_delta

    /// Eq 1 for a whole batch: Δ^L = (A^L − Y) ⊙ σ′(Z^L), with σ′ computed from A^L.
    ///
    /// Book: "Backpropagation".
    ///
    /// `a`, `y` and `delta` are `(n_L, batch)`; `delta` is resized to fit.
    ///
    /// # Panics
    /// If `a` and `y` have different shapes.
    #[track_caller]
    pub fn output_delta_batch<T: Scalar>(
        self,
        output: Activation,
        a: &Matrix<T>,
        y: &Matrix<T>,
        delta: &mut Matrix<T>,
    ) {
        assert_eq!(
            a.shape(),
            y.shape(),
            "Cost::output_delta_batch: output {:?} vs target {:?}",
            a.shape(),
            y.shape()
        );
        delta.resize(a.rows(), a.cols());
        let cells = delta
            .as_mut_slice()
            .iter_mut()
            .zip(a.as_slice().iter().zip(y.as_slice()));
        for (d, (&ai, &yi)) in cells {
            *d = self.output_delta(ai, yi, output.derivative_from_output(ai));
        }
    }

    /// The name used on the command line and in model files.
    pub fn name(self) -> &'static str {
        match self {
            Cost::Quadratic => "quadratic",
        }
    }

    /// The cost called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadratic_worked_by_hand() {
        // ½((0.5 − 0)² + (0.25 − 1)²) = ½(0.25 + 0.5625) = 0.40625
        assert_eq!(Cost::Quadratic.value(&[0.5f64, 0.25], &[0.0, 1.0]), 0.40625);
        assert_eq!(Cost::Quadratic.value(&[0.3f64, 0.7], &[0.3, 0.7]), 0.0);
    }

    #[test]
    fn names_round_trip() {
        for c in Cost::ALL {
            assert_eq!(Cost::from_name(c.name()), Some(c));
        }
    }
}
