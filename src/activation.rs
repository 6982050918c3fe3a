//! Activation functions, each beside its derivative: σ and σ′.
//!
//! Book chapter: "Activation". The write-up puts σ on every layer, hidden and output; without
//! it the layers would multiply into one linear map (W⁴W³W² = W⁵), and depth would buy
//! nothing. Left out here: anything that is not applied element by element.

use crate::linalg::{Matrix, Scalar};

/// Which non-linearity a layer applies to its weighted input z.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// The logistic sigmoid σ(z) = 1 / (1 + e⁻ᶻ), squashing z into (0, 1).
    Sigmoid,
}

// ANCHOR: sigmoid
/// σ(z) = 1 / (1 + e⁻ᶻ).
///
/// Book: "Activation".
///
/// For very negative z, e⁻ᶻ overflows to +∞ and σ(z) becomes exactly 0: no NaN.
#[inline]
pub fn sigmoid<T: Scalar>(z: T) -> T {
    T::ONE / (T::ONE + (-z).exp())
}

/// σ′(z) = σ(z)(1 − σ(z)).
///
/// Book: "Activation", "Backpropagation".
#[inline]
pub fn sigmoid_prime<T: Scalar>(z: T) -> T {
    let s = sigmoid(z);
    s * (T::ONE - s)
}
// ANCHOR_END: sigmoid

impl Activation {
    /// All activations, in the order `--help` lists them.
    pub const ALL: [Activation; 1] = [Activation::Sigmoid];

    /// a = f(z) for one element.
    #[inline]
    pub fn apply<T: Scalar>(self, z: T) -> T {
        match self {
            Activation::Sigmoid => sigmoid(z),
        }
    }

    /// f′(z) for one element.
    #[inline]
    pub fn derivative<T: Scalar>(self, z: T) -> T {
        match self {
            Activation::Sigmoid => sigmoid_prime(z),
        }
    }

    /// f′(z) written in terms of the output a = f(z): for σ, σ′(z) = a(1 − a).
    ///
    /// Book: "Backpropagation".
    ///
    /// The batched backward pass uses this so it needs to keep only A, not Z, and computes
    /// no second exponential.
    #[inline]
    pub fn derivative_from_output<T: Scalar>(self, a: T) -> T {
        match self {
            Activation::Sigmoid => a * (T::ONE - a),
        }
    }

    /// Applies the activation to a whole layer in place: column j of `z` is image j.
    pub fn apply_in_place<T: Scalar>(self, z: &mut Matrix<T>) {
        z.as_mut_slice()
            .iter_mut()
            .for_each(|x| *x = self.apply(*x));
    }

    /// The name used on the command line and in model files.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
        }
    }

    /// The activation called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_values_worked_by_hand() {
        // σ(0) = 1/2; σ(ln 3) = 1/(1 + 1/3) = 3/4; σ′(0) = 1/2 · 1/2.
        assert_eq!(sigmoid(0.0f64), 0.5);
        assert!((sigmoid(3.0f64.ln()) - 0.75).abs() < 1e-15);
        assert_eq!(sigmoid_prime(0.0f64), 0.25);
    }

    #[test]
    fn sigmoid_saturates_without_nan() {
        assert_eq!(sigmoid(-1000.0f32), 0.0);
        assert_eq!(sigmoid(1000.0f32), 1.0);
        assert_eq!(sigmoid_prime(-1000.0f32), 0.0);
    }

    #[test]
    fn derivative_matches_finite_difference_and_output_form() {
        for act in Activation::ALL {
            for &z in &[-3.0f64, -0.5, 0.1, 2.0] {
                let h = 1e-6;
                let numeric = (act.apply(z + h) - act.apply(z - h)) / (2.0 * h);
                assert!((act.derivative(z) - numeric).abs() < 1e-8, "{act:?} at {z}");
                let from_output = act.derivative_from_output(act.apply(z));
                assert!((act.derivative(z) - from_output).abs() < 1e-15);
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for act in Activation::ALL {
            assert_eq!(Activation::from_name(act.name()), Some(act));
        }
        assert_eq!(Activation::from_name("swish"), None);
    }
}
