//! Cost functions: how far the network's output Aᴸ is from the target Y.
//!
//! Book chapters: "Cost" (quadratic) and "Beyond the write-up" (cross-entropy,
//! log-likelihood). The write-up uses the quadratic cost (mean squared error),
//! C = (1/2n) Σₖ ‖Aᴸₖ − Yₖ‖². Each cost sits beside the output error δᴸ it produces
//! (Eq 1), since that is the only place backpropagation needs it. Cross-entropy with sigmoid
//! outputs, and log-likelihood with softmax, both give δᴸ = a − y: the σ′(Zᴸ) factor of
//! Eq 1, which makes a saturated wrong neuron learn slowly, cancels. [`validate`] refuses the
//! pairings whose δᴸ is not implemented here. Left out: costs for regression targets.

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::linalg::{Matrix, Scalar};

/// Which cost the network is trained to minimise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    /// C_x = ½ ‖a − y‖² for one image; averaged over n images.
    Quadratic,
    /// C_x = −Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)], for sigmoid outputs.
    CrossEntropy,
    /// C_x = −ln a_y (the output of the true digit), for softmax outputs.
    LogLikelihood,
}

/// Logs are taken of max(a, TINY), so a saturated output costs ~690, not +∞ or NaN.
const TINY: f64 = 1e-300;

/// ln(max(a, TINY)) in f64, whatever T is (f32 would clamp only at 1e-38).
fn ln_clamped<T: Scalar>(a: T) -> f64 {
    a.to_f64().max(TINY).ln()
}

// ANCHOR: cross_entropy
/// C_x = −Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)], in f64. A term whose weight y_j (or
/// 1 − y_j) is 0 is skipped, not computed as 0 · ln 0 = NaN.
fn cross_entropy<T: Scalar>(a: &[T], y: &[T]) -> f64 {
    a.iter().zip(y).fold(0.0, |c, (&aj, &yj)| {
        let (aj, yj) = (aj.to_f64(), yj.to_f64());
        let on = if yj > 0.0 { yj * ln_clamped(aj) } else { 0.0 };
        let off = if yj < 1.0 {
            (1.0 - yj) * ln_clamped(1.0 - aj)
        } else {
            0.0
        };
        c - on - off
    })
}

/// C_x = −Σ_j y_j ln a_j, which for a one-hot y is −ln a_y, in f64.
fn log_likelihood<T: Scalar>(a: &[T], y: &[T]) -> f64 {
    a.iter().zip(y).fold(0.0, |c, (&aj, &yj)| {
        let yj = yj.to_f64();
        if yj > 0.0 {
            c - yj * ln_clamped(aj)
        } else {
            c
        }
    })
}
// ANCHOR_END: cross_entropy

// ANCHOR: validate
/// Checks that the hidden activation, output activation and cost make sense together.
///
/// - softmax is not element-wise, so it may only be the output layer's activation;
/// - softmax goes with log-likelihood and log-likelihood with softmax (δᴸ = a − y needs
///   both; quadratic + softmax would need softmax's full Jacobian, which we do not build);
/// - cross-entropy treats every output as an independent probability in (0, 1), so it
///   needs sigmoid outputs;
/// - the output is sigmoid or softmax: ReLU, tanh or identity outputs are not in (0, 1).
///
/// # Errors
/// [`Error::Incompatible`] naming the refused choice and what would work instead.
pub fn validate(hidden: Activation, output: Activation, cost: Cost) -> Result<()> {
    use Activation::{Sigmoid, Softmax};
    let refuse = |setting, got, expected: &str| {
        Err(Error::Incompatible {
            setting,
            got,
            expected: expected.into(),
        })
    };
    if hidden == Softmax {
        return refuse(
            "activation",
            "softmax",
            "sigmoid, tanh, relu, leaky-relu or identity (softmax is for the output layer only)",
        );
    }
    match (output, cost) {
        (Sigmoid, Cost::Quadratic | Cost::CrossEntropy) | (Softmax, Cost::LogLikelihood) => Ok(()),
        (Softmax, _) => refuse("cost", cost.name(), "log-likelihood with a softmax output"),
        (Sigmoid, Cost::LogLikelihood) => refuse(
            "cost",
            "log-likelihood",
            "quadratic or cross-entropy with a sigmoid output (log-likelihood needs softmax \
             outputs, which sum to 1)",
        ),
        (other, _) => refuse(
            "output",
            other.name(),
            "sigmoid (with quadratic or cross-entropy) or softmax (with log-likelihood)",
        ),
    }
}
// ANCHOR_END: validate

impl Cost {
    /// All costs, in the order `--help` lists them.
    pub const ALL: [Cost; 3] = [Cost::Quadratic, Cost::CrossEntropy, Cost::LogLikelihood];

    // ANCHOR: quadratic
    /// The cost of one image, C_x = ½ ‖a − y‖² (quadratic); the write-up's
    /// C = (1/2n) Σₖ ‖Aᴸₖ − Yₖ‖² is its mean over n images.
    ///
    /// Book: "Cost".
    ///
    /// `a` (the output Aᴸ) and `y` have the output layer's length `n_L`.
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
            Cost::CrossEntropy => T::from_f64(cross_entropy(a, y)),
            Cost::LogLikelihood => T::from_f64(log_likelihood(a, y)),
        }
    }
    // ANCHOR_END: quadratic

    // ANCHOR: output_delta
    /// Eq 1 for one element of the output layer, δᴸ = ∂C/∂Aᴸ ⊙ f′(Zᴸ), with f′ written from
    /// the output a = f(z) (see [`Activation::derivative_from_output`]):
    ///
    /// - quadratic: ∂C/∂a = a − y, so δᴸ = (Aᴸ − Y) ⊙ σ′(Zᴸ) — the write-up's Eq 1 (which
    ///   writes δᴸ as a row, the transpose; one element is the same either way);
    /// - cross-entropy with sigmoid: ∂C/∂a = (a − y)/(a(1 − a)) and σ′ = a(1 − a) cancel:
    ///   δᴸ = a − y;
    /// - log-likelihood with softmax: the softmax Jacobian times −1/a_y also gives a − y.
    ///
    /// The pairing must have passed [`validate`].
    ///
    /// Book: "Cost", "Backpropagation", "Beyond the write-up".
    #[inline]
    pub fn output_delta<T: Scalar>(self, output: Activation, a: T, y: T) -> T {
        match self {
            Cost::Quadratic => (a - y) * output.derivative_from_output(a),
            Cost::CrossEntropy | Cost::LogLikelihood => a - y,
        }
    }
    // ANCHOR_END: output_delta

    /// Eq 1 for a whole batch, one column per image: Δᴸ = (Aᴸ − Y) ⊙ σ′(Zᴸ), with σ′
    /// computed from Aᴸ, and a subnormal δ stored as zero ([`Scalar::flush_subnormal`]).
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
            *d = self.output_delta(output, ai, yi).flush_subnormal();
        }
    }

    /// The name used on the command line and in model files.
    pub fn name(self) -> &'static str {
        match self {
            Cost::Quadratic => "quadratic",
            Cost::CrossEntropy => "cross-entropy",
            Cost::LogLikelihood => "log-likelihood",
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
    fn cross_entropy_and_log_likelihood_worked_by_hand() {
        // −[ln 0.8 + ln(1 − 0.4)] and −ln 0.8.
        let ce = Cost::CrossEntropy.value(&[0.8f64, 0.4], &[1.0, 0.0]);
        assert!((ce - -(0.8f64.ln() + 0.6f64.ln())).abs() < 1e-15);
        let ll = Cost::LogLikelihood.value(&[0.8f64, 0.2], &[1.0, 0.0]);
        assert!((ll - -(0.8f64.ln())).abs() < 1e-15);
        // Saturated and wrong: large but finite.
        let c = Cost::CrossEntropy.value(&[0.0f32, 1.0], &[1.0, 0.0]);
        assert!(c.is_finite() && c > 1000.0);
    }

    #[test]
    fn subnormal_output_errors_are_stored_as_zero() {
        // Quadratic with sigmoid: δ = (a − y)·a(1 − a). For a = 1e-20 and y = 3e-20 that is
        // −2e-20 · 1e-20 = −2e-40, a subnormal f32, stored as −0; for a = 0.5 and y = 1 it is
        // −0.125, kept.
        let a = Matrix::from_vec(1, 2, vec![1e-20f32, 0.5]);
        let y = Matrix::from_vec(1, 2, vec![3e-20f32, 1.0]);
        let raw = Cost::Quadratic.output_delta(Activation::Sigmoid, 1e-20f32, 3e-20);
        assert!(raw != 0.0 && raw.abs() < f32::MIN_POSITIVE, "{raw:e}");
        let mut delta = Matrix::zeros(0, 0);
        Cost::Quadratic.output_delta_batch(Activation::Sigmoid, &a, &y, &mut delta);
        assert_eq!(delta.as_slice()[0].to_bits(), (-0.0f32).to_bits());
        assert_eq!(delta.as_slice()[1], -0.125);
    }

    #[test]
    fn validate_accepts_the_sensible_pairings_only() {
        use Activation::*;
        for hidden in Activation::HIDDEN {
            assert!(validate(hidden, Sigmoid, Cost::Quadratic).is_ok());
            assert!(validate(hidden, Sigmoid, Cost::CrossEntropy).is_ok());
            assert!(validate(hidden, Softmax, Cost::LogLikelihood).is_ok());
            assert!(validate(hidden, Softmax, Cost::Quadratic).is_err());
            assert!(validate(hidden, Softmax, Cost::CrossEntropy).is_err());
            assert!(validate(hidden, Sigmoid, Cost::LogLikelihood).is_err());
            assert!(validate(hidden, Relu, Cost::Quadratic).is_err());
        }
        assert!(validate(Softmax, Softmax, Cost::LogLikelihood).is_err());
    }

    #[test]
    fn names_round_trip() {
        for c in Cost::ALL {
            assert_eq!(Cost::from_name(c.name()), Some(c));
        }
    }
}
